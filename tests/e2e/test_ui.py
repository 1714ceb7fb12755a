"""The toolbar popup and the options page (issue 6), used as a person would, in real
headless Chromium with the real extension and the real host installed by
`codecatch install` (tests/conftest.py).

The popup is opened as an ordinary tab at its chrome-extension:// URL; `?tab=ID`
tells it which tab it stands over (a real popup takes the active tab).
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite import browser as mockbrowser
from codecatch.mocksite.panel import AUTH_FIELD_ID, SAVE_BUTTON_ID, SIGNIN_LINK_ID
from codecatch.mocksite.signin import new_code

from .scenarios import issued_for, wait_for

pytestmark = pytest.mark.browser

BASE = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/extension"
POPUP = f"{BASE}/popup/popup.html"
OPTIONS = f"{BASE}/options/options.html"
TEAMS = "12128f48-ec9e-42f0-b203-ea49fb6af367"


def open_popup(context, over=None):
    """The popup page; `over` is the page it stands over (its 'this tab')."""
    page = context.new_page()
    url = POPUP
    if over is not None:
        page.goto(POPUP)
        url += f"?tab={tab_id(page, over.url)}"
    page.goto(url)
    expect(page.locator("#host-status")).to_contain_text("Connected to the codecatch host", timeout=10_000)
    return page


def test_connected_with_nothing_caught_reads_ready(chromium_context):
    popup = open_popup(chromium_context)
    expect(popup.locator("#state")).to_have_text("ready")  # not "waiting" beside "Connected"
    expect(popup.locator("#host-fix")).to_be_hidden()
    expect(popup.locator("#host-browser-says")).to_be_hidden()


def tab_id(ext_page, url):
    ids = ext_page.evaluate("(u) => chrome.tabs.query({}).then((t) => t.filter((x) => x.url === u).map((x) => x.id))", url)
    assert len(ids) == 1, f"expected one tab at {url}, found {ids}"
    return ids[0]


def panel_and_unrelated_signin(context, site, panel_host="panel.test"):
    """A panel page and a Confirm-My-Sign-In page for its sign-in that the panel did not
    open (as if typed into a new tab). The sign-in tab is created first: Chromium makes
    a new tab's opener the tab that was active when it was created."""
    signin = context.new_page()
    panel = context.new_page()
    panel.goto(site.panel_url(panel_host, outcome="cmsi"))
    state = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")
    signin.goto(panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-url"))
    return panel, signin, state


def field(page, element_id=AUTH_FIELD_ID):
    return page.evaluate("(id) => document.getElementById(id).value", element_id)


def clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def filled_panel(context, site):
    """A panel whose sign-in ended in Microsoft's 302 and whose field was filled, with the
    clipboard open to the test: (panel page, issued code)."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel = context.new_page()
    panel.goto(site.panel_url("panel.test", outcome="302"))
    state = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")
    panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
    issued = issued_for(site, state)
    assert wait_for(lambda: field(panel) == issued.https_url, 10.0)
    return panel, issued


def copy_when_no_panel(context, site):
    """The options page with "copy the https URL when no panel is tied to the sign-in"
    on, then a sign-in no panel is tied to: (options page, issued code)."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    options = context.new_page()
    options.goto(OPTIONS)
    expect(options.locator("#config-status")).to_contain_text("saved in the codecatch host", timeout=10_000)
    options.get_by_label("Copy the https URL to the clipboard when no panel is tied to the sign-in").check()
    expect(options.locator("#config-status")).to_have_text("Saved.")
    _panel, signin, state = panel_and_unrelated_signin(context, site)
    signin.click("#idSIButton9", no_wait_after=True)
    return options, issued_for(site, state)


def status(ext_page):
    return ext_page.evaluate("chrome.runtime.sendMessage({type: 'status'})")


def config_file(env):
    return Path(env["CODECATCH_CONFIG_DIR"]) / "config.json"


# ---- the popup ---------------------------------------------------------------------------


def test_paste_console_line_and_copy_url(chromium_context):
    chromium_context.grant_permissions(["clipboard-read", "clipboard-write"])
    popup = open_popup(chromium_context)
    code = new_code()  # shaped like Microsoft's: a pasted code must be (issue 13)
    uri = f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={code}&state=st8&session_state=s55"
    line = f"Failed to launch '{uri}' because the scheme does not have a registered handler."

    popup.get_by_role("textbox", name="Paste a console line, URI or page source").fill(line)
    popup.get_by_role("button", name="Read").click()
    pasted = popup.locator("#pasted")
    expect(pasted).to_be_visible()
    expect(popup.locator("#pasted-app")).to_have_text(f"Teams PowerShell ({TEAMS})")
    expect(popup.locator("#pasted-code")).to_contain_text(code[:6] + "…")
    assert code not in popup.locator("body").inner_text(), "the popup shows the whole code"
    expect(popup.locator("#action-result")).to_have_text("Found an authorization code.")
    expect(popup.locator("#no-capture")).to_be_hidden()  # not "No code caught" above it

    pasted.get_by_role("button", name="Copy URL").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the URL.")
    https_url = "https://" + uri[len("ms-appx-web://"):]
    assert popup.evaluate("navigator.clipboard.readText()") == https_url  # byte for byte

    pasted.get_by_role("button", name="Copy code").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the code.")
    assert popup.evaluate("navigator.clipboard.readText()") == code


def test_paste_error_shows_aadsts_and_hint(chromium_context):
    popup = open_popup(chromium_context)
    uri = (f"ms-appx-web://microsoft.aad.brokerplugin/{TEAMS}?error=access_denied"
           "&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.&state=x")
    popup.get_by_role("textbox", name="Paste a console line, URI or page source").fill(uri)
    popup.keyboard.press("Control+Enter")  # the keyboard path
    expect(popup.locator("#pasted-error")).to_contain_text("AADSTS65004")
    expect(popup.locator("#pasted-hint")).not_to_be_empty()
    expect(popup.locator("#pasted").get_by_role("button", name="Copy URL")).to_be_hidden()


def test_paste_of_an_error_pages_text_and_of_a_cut_code(chromium_context):
    """What admins really paste (issue 13): the text of Microsoft's error page, with no
    address in it, is explained; a code cut with '...' is refused, never offered."""
    popup = open_popup(chromium_context)
    box = popup.get_by_role("textbox", name="Paste a console line, URI or page source")
    box.fill("Sorry, but we're having trouble signing you in.\n\nAADSTS50011: The redirect URI "
             "'ms-appx-web://microsoft.aad.brokerplugin/12128f48-ec9e-42f0-b203-ea49fb6af367' specified in the "
             "request does not match the redirect URIs configured for the application.\n"
             "Request Id: 0b6b6a2a-1c3e-4b8e-9f1a-6e0f1c0c2d00 Correlation Id: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f "
             "Timestamp: 2026-12-04T10:11:12Z")
    popup.get_by_role("button", name="Read").click()
    expect(popup.locator("#pasted-error")).to_contain_text("AADSTS50011")
    expect(popup.locator("#pasted-hint")).to_contain_text("redirect URI does not match")
    expect(popup.locator("#pasted").get_by_role("button", name="Copy URL")).to_be_hidden()
    box.fill(f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?code=0.AXkAbcdefghijklmnop...&state=s")
    popup.get_by_role("button", name="Read").click()
    expect(popup.locator("#action-result")).to_have_class("problem")
    expect(popup.locator("#action-result")).to_contain_text("shortened")
    expect(popup.locator("#pasted")).to_be_hidden()


def test_paste_garbage_gets_the_hosts_message(chromium_context):
    popup = open_popup(chromium_context)
    popup.get_by_role("textbox", name="Paste a console line, URI or page source").fill("javascript:alert(1)?code=abc")
    popup.get_by_role("button", name="Read").click()
    expect(popup.locator("#action-result")).to_have_class("problem")
    expect(popup.locator("#action-result")).not_to_be_empty()
    expect(popup.locator("#pasted")).to_be_hidden()


def test_latest_capture_countdown_copy_and_clear(chromium_context, site):
    panel, issued = filled_panel(chromium_context, site)

    popup = open_popup(chromium_context, over=panel)
    capture = popup.locator("#capture")
    expect(capture).to_be_visible()
    expect(popup.locator("#capture-app")).to_have_text(f"Teams PowerShell ({TEAMS})")
    expect(popup.locator("#capture-signin")).to_have_text("login.microsoftonline.com (public cloud)")
    expect(popup.locator("#capture-code")).to_contain_text(issued.code[:6] + "…")
    assert issued.code not in popup.locator("body").inner_text()
    expect(popup.locator("#state")).to_have_text("OK · filled")
    first = popup.locator("#capture-expiry").inner_text()
    assert first.startswith("9 min") and first.endswith("left"), first
    expect(popup.locator("#capture-expiry")).not_to_have_text(first, timeout=3000)  # it counts down

    capture.get_by_role("button", name="Copy URL").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the URL.")
    assert popup.evaluate("navigator.clipboard.readText()") == issued.https_url
    capture.get_by_role("button", name="Copy code").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the code.")
    assert popup.evaluate("navigator.clipboard.readText()") == issued.code
    expect(popup.locator("#recent li")).to_have_count(1)
    assert issued.code[:8] not in popup.locator("#recent").inner_text()

    capture.get_by_role("button", name="Clear").click()
    expect(capture).to_be_hidden()
    expect(popup.get_by_text("No code caught in this browser session yet.")).to_be_visible()


def test_error_capture_shows_aadsts(chromium_context, site):
    panel = chromium_context.new_page()
    panel.goto(site.panel_url("panel.test", outcome="error"))
    panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
    popup = open_popup(chromium_context, over=panel)
    expect(popup.locator("#capture-error")).to_contain_text("AADSTS65004", timeout=10_000)
    expect(popup.locator("#capture-hint")).not_to_be_empty()
    expect(popup.locator("#state")).to_have_text("ERR · error")
    expect(popup.locator("#capture").get_by_role("button", name="Copy URL")).to_be_hidden()
    expect(popup.locator("#capture").get_by_role("button", name="Clear")).to_be_visible()
    assert field(panel) == ""


def test_arm_tab_then_next_capture_fills_it(chromium_context, site):
    panel = chromium_context.new_page()
    panel.goto(site.panel_url("panel.test", outcome="cmsi"))
    state = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")
    popup = open_popup(chromium_context, over=panel)
    popup.get_by_role("button", name="Arm this tab").click()
    expect(popup.locator("#armed-line")).to_contain_text("Armed: this tab takes the next sign-in you start, once (9 min")
    expect(popup.get_by_role("button", name="Disarm")).to_be_visible()

    # The user starts the sign-in after arming, in a tab of their own (not opened by the
    # panel); it ends on Confirm-My-Sign-In.
    signin = chromium_context.new_page()
    signin.goto(panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-url"))
    signin.click("#idSIButton9", no_wait_after=True)
    issued = issued_for(site, state)
    assert wait_for(lambda: field(panel) == issued.https_url, 10.0), field(panel)
    latest = status(popup)["latest"]
    assert latest["fill_reason"] == "armed" and latest["outcome"] == "filled", latest
    # An armed tab takes one sign-in: the arming ended with the fill.
    assert wait_for(lambda: status(popup)["armed"] is None, 5.0), status(popup)["armed"]


def test_fill_into_panel_from_popup(chromium_context, site):
    """A code with no panel tied to it waits in the popup; Fill into panel puts it in."""
    panel, signin, state = panel_and_unrelated_signin(chromium_context, site)
    signin.click("#idSIButton9", no_wait_after=True)
    issued = issued_for(site, state)

    popup = open_popup(chromium_context, over=panel)
    expect(popup.locator("#state")).to_have_text("CODE · captured", timeout=10_000)
    assert field(panel) == ""
    popup.locator("#capture").get_by_role("button", name="Fill into panel").click()
    assert wait_for(lambda: field(panel) == issued.https_url, 5.0)
    expect(popup.locator("#state")).to_have_text("OK · filled")


def test_fill_here_fills_the_focused_field(chromium_context, site):
    """The context menu's and the keyboard command's action: the focused field wins."""
    panel, signin, state = panel_and_unrelated_signin(chromium_context, site)
    signin.click("#idSIButton9", no_wait_after=True)
    issued = issued_for(site, state)
    popup = open_popup(chromium_context)
    expect(popup.locator("#state")).to_have_text("CODE · captured", timeout=10_000)

    panel.focus("#ctl00_MainContent_txtUserName")
    worker = next(w for w in chromium_context.service_workers if CHROMIUM_EXTENSION_ID in w.url)
    reply = worker.evaluate("(id) => globalThis.codecatch.fillHere(id)", tab_id(popup, panel.url))
    assert reply["ok"], reply
    assert field(panel, "ctl00_MainContent_txtUserName") == issued.https_url
    assert field(panel) == ""
    assert panel.evaluate("document.querySelectorAll('[data-codecatch-fill]').length") == 0


def test_popup_is_keyboard_navigable_and_labelled(chromium_context):
    popup = open_popup(chromium_context)
    for name in ("Arm this tab", "Always for this site", "Read"):
        expect(popup.get_by_role("button", name=name)).to_be_visible()
    expect(popup.get_by_role("status").first).to_be_attached()
    popup.get_by_role("textbox", name="Paste a console line, URI or page source").focus()
    popup.keyboard.press("Tab")
    assert popup.evaluate("document.activeElement.textContent") == "Read"


# ---- the options page --------------------------------------------------------------------


def test_options_add_panel_reaches_the_host(chromium_context, site, browser_env):
    options = chromium_context.new_page()
    options.goto(OPTIONS)
    expect(options.locator("#config-status")).to_contain_text("saved in the codecatch host", timeout=10_000)
    expect(options.get_by_text("No panels yet.")).to_be_visible()

    form = options.locator("#add-panel")
    form.get_by_label("Origin").fill("https://panel2.test")
    form.get_by_label("Field selector").fill(f"#{AUTH_FIELD_ID}")
    form.get_by_label("Value to fill").select_option("code")
    form.get_by_label("Save button (pressed after the fill)").fill(f"#{SAVE_BUTTON_ID}")
    form.get_by_role("button", name="Add panel").click()
    expect(options.locator("#config-status")).to_have_text("Saved.")
    saved = json.loads(config_file(browser_env).read_text())
    assert saved["panels"] == [{"origin": "https://panel2.test", "selector": f"#{AUTH_FIELD_ID}", "value": "code",
                                "save": f"#{SAVE_BUTTON_ID}"}]
    row = options.locator("#panels tbody tr", has_text="https://panel2.test")
    expect(row.get_by_label("Save button selector for panel2.test")).to_have_value(f"#{SAVE_BUTTON_ID}")
    expect(row.locator("td.permission")).to_contain_text("granted")  # the test copy grants panel2.test
    expect(row.get_by_role("button", name="Grant permission for panel2.test")).to_be_hidden()

    # An origin the extension may not touch yet: saved, shown as not granted.
    form.get_by_label("Origin").fill("https://other-panel.example")
    form.get_by_role("button", name="Add panel").click()
    expect(options.locator("#panels tbody tr")).to_have_count(2)
    other = options.locator("#panels tbody tr", has_text="other-panel.example")
    expect(other.locator("td.permission")).to_contain_text("not granted")
    expect(other.get_by_role("button", name="Grant permission for other-panel.example")).to_be_visible()

    options.get_by_label("Close the sign-in tab after filling").check()
    expect(options.locator("#config-status")).to_have_text("Saved.")
    options.get_by_label("Show a notification for each capture").uncheck()
    wait_for(lambda: json.loads(config_file(browser_env).read_text())["notifications"] is False, 5.0)
    saved = json.loads(config_file(browser_env).read_text())
    assert saved["close_signin_tab"] is True and saved["notifications"] is False
    assert [p["origin"] for p in saved["panels"]] == ["https://panel2.test", "https://other-panel.example"]

    # The host acts on it: panel2.test now receives the bare code, and is saved.
    panel = chromium_context.new_page()
    panel.goto(site.panel_url("panel2.test", outcome="302", save="after_input"))
    state = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")
    panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
    issued = issued_for(site, state)
    assert wait_for(lambda: field(panel) == issued.code, 10.0), field(panel)
    assert wait_for(lambda: site.saves_for_state(state), 10.0), "the save button was not pressed"
    assert [x.value for x in site.saves_for_state(state)] == [issued.code]

    # A bad rule is refused by the host and nothing changes on disk.
    other.get_by_role("button", name="Remove other-panel.example").click()
    expect(options.locator("#panels tbody tr")).to_have_count(1)
    assert [p["origin"] for p in json.loads(config_file(browser_env).read_text())["panels"]] == ["https://panel2.test"]

    # Emptied in its row, the save rule is off again.
    row.get_by_label("Save button selector for panel2.test").fill("")
    row.get_by_label("Save button selector for panel2.test").press("Tab")
    assert wait_for(lambda: json.loads(config_file(browser_env).read_text())["panels"][0]["save"] is None, 5.0)
    expect(row.get_by_label("Save button selector for panel2.test")).to_have_value("")


# ---- no host -------------------------------------------------------------------------------


@pytest.fixture
def context_without_host(chromium_executable, tmp_path, extension_dir, mock_site, browser_env):
    """The extension loaded in a profile where `codecatch install` never ran."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "no-host-profile"
    profile.mkdir()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), **mockbrowser.launch_options(mock_site, extension_dir, chromium_executable, env=browser_env))
        try:
            yield context
        finally:
            context.close()


def test_options_warns_about_a_plain_http_panel(chromium_context):
    options = chromium_context.new_page()
    options.goto(OPTIONS)
    expect(options.locator("#config-status")).to_contain_text("saved in the codecatch host", timeout=10_000)
    form = options.locator("#add-panel")
    form.get_by_label("Origin").fill("http://plain-panel.example")
    form.get_by_role("button", name="Add panel").click()
    expect(options.locator("#config-status")).to_contain_text(
        "http://plain-panel.example is plain http: the code (a credential) would cross the network unencrypted")
    expect(options.locator("tr[data-origin='http://plain-panel.example'] .warning")).to_have_text(
        "plain http: the code would cross the network unencrypted")
    expect(options.locator("tr[data-origin='https://panel.test'] .warning")).to_have_count(0)


def test_host_missing_message(context_without_host):
    popup = context_without_host.new_page()
    popup.goto(POPUP)
    status_line = popup.locator("#host-status")
    expect(status_line).to_contain_text("native host is not installed", timeout=10_000)
    assert "`" not in popup.locator("header").inner_text()
    expect(status_line).to_have_class("problem")
    # The browser's own words, which docs/install.md's troubleshooting is keyed by.
    expect(popup.locator("#host-browser-says")).to_have_text(
        "The browser says: “Specified native messaging host not found.”")
    # The commands for this browser; this profile was started with --user-data-dir,
    # which the extension cannot see, so that case is offered as the second step.
    steps = popup.locator("#host-fix-steps code")
    expect(steps).to_have_text(["codecatch install --browser chromium",
                                "codecatch install --browser chromium --user-data-dir DIR"])
    expect(popup.locator("#state")).to_have_text("! · host missing")
    expect(popup.get_by_role("button", name="Retry")).to_be_visible()

    options = context_without_host.new_page()
    options.goto(OPTIONS)
    expect(options.locator("#config-status")).to_contain_text("unavailable", timeout=10_000)
    expect(options.locator("#config-status")).to_contain_text("codecatch install")


def test_copy_when_no_panel(chromium_context, site):
    """Options: 'copy the https URL when no panel is tied to the sign-in' puts the URL
    on the clipboard by itself (an offscreen document in Chromium)."""
    options, issued = copy_when_no_panel(chromium_context, site)
    assert wait_for(lambda: clipboard(options) == issued.https_url, 10.0), clipboard(options)[:40]

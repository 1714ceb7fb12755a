"""What codecatch copies is cleared when its code expires, only if the clipboard still
holds it (issue 15), in real headless Chromium with the real extension and the real
host, whose clock runs behind the browser's so that a code expires seconds after it is
caught (late_host.py). No timed assertion: each waits for its condition, bounded."""

import hashlib
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from codecatch.mocksite import browser as mockbrowser
from codecatch.mocksite.panel import SIGNIN_LINK_ID
from codecatch.mocksite.signin import new_code
from codecatch.redirect import CODE_LIFETIME_S

from .late_host import EXPIRES_IN_S, use_late_host
from .scenarios import issued_for, wait_for
from .test_ui import TEAMS, clipboard, copy_when_no_panel, filled_panel, open_popup

pytestmark = pytest.mark.browser

DEADLINE_S = EXPIRES_IN_S + 45  # the alarm fires within a second of its time (unpacked)


@pytest.fixture
def chromium_profile(tmp_path, browser_env):
    """The profile of tests/conftest.py, its host installed by `codecatch install`, then
    pointed at the late host."""
    profile = tmp_path / "profile"
    use_late_host(mockbrowser.install_host(profile, browser_env, browser="chromium"), tmp_path)
    return profile


def pending(page):
    """The record of what to clear (storage.session), or None."""
    return page.evaluate("chrome.storage.session.get('clipboard').then((s) => s.clipboard ?? null)")


def copied_when_no_panel(context, site):
    """The options page, 'copy when no panel' on, and a sign-in no panel is tied to:
    returns (options page, issued code) once its URL is on the clipboard."""
    options, issued = copy_when_no_panel(context, site)
    assert wait_for(lambda: clipboard(options) == issued.https_url, 10.0), clipboard(options)[:40]
    return options, issued


def test_a_url_copied_when_no_panel_is_cleared_when_its_code_expires(chromium_context, site):
    options, issued = copied_when_no_panel(chromium_context, site)
    record = pending(options)
    assert set(record) == {"sha256", "clear_at"}, record  # a hash and a time, never the text
    assert issued.code not in str(record)
    assert wait_for(lambda: clipboard(options) == "", DEADLINE_S), clipboard(options)[:40]
    assert pending(options) is None


def test_what_the_user_copied_since_is_left_alone(chromium_context, site):
    options, _issued = copied_when_no_panel(chromium_context, site)
    mine = "the user's own text, copied after codecatch's"
    # Written before the clear's time, so the clear reads it (the alarm fires after that time).
    before = options.evaluate("""async (mine) => {
        await navigator.clipboard.writeText(mine);
        const { clipboard } = await chrome.storage.session.get('clipboard');
        return Date.now() < clipboard.clear_at;
    }""", mine)
    assert before, "the code expired before the test copied its own text: the host answered too late"
    assert wait_for(lambda: pending(options) is None, DEADLINE_S), "the clear never ran"
    assert clipboard(options) == mine


def test_a_code_copied_by_hand_in_the_popup_is_cleared_when_it_expires(chromium_context, site):
    panel, issued = filled_panel(chromium_context, site)

    popup = open_popup(chromium_context, over=panel)
    popup.locator("#capture").get_by_role("button", name="Copy code").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the code.")
    assert clipboard(popup) == issued.code
    assert wait_for(lambda: clipboard(popup) == "", DEADLINE_S), "the copied code is still on the clipboard"



def test_a_pasted_code_copied_by_hand_is_remembered_for_clearing(chromium_context):
    """The popup's paste box: its Copy code registers the code's hash, to clear ten
    minutes later (a pasted code's age is unknown: its whole lifetime from the copy)."""
    chromium_context.grant_permissions(["clipboard-read", "clipboard-write"])
    popup = open_popup(chromium_context)
    code = new_code()
    uri = f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={code}&state=st9"
    popup.get_by_role("textbox", name="Paste a console line, URI or page source").fill(uri)
    popup.get_by_role("button", name="Read").click()
    expect(popup.locator("#action-result")).to_have_text("Found an authorization code.")
    copied_at = popup.evaluate("Date.now()")
    popup.locator("#pasted").get_by_role("button", name="Copy code").click()
    expect(popup.locator("#action-result")).to_have_text("Copied the code.")
    assert clipboard(popup) == code
    record = pending(popup)
    assert record["sha256"] == hashlib.sha256(code.encode()).hexdigest()
    assert copied_at + CODE_LIFETIME_S * 1000 <= record["clear_at"] <= popup.evaluate("Date.now()") + CODE_LIFETIME_S * 1000


# ---- Firefox: the background page reads and clears the clipboard itself ----------------------


@pytest.fixture
def late_firefox(firefox_executable, extension_dir, mock_site, browser_env, tmp_path):
    """Firefox with the extension, the late host, and 'copy when no panel' on."""
    from .firefox_driver import FirefoxDriver, install_host_firefox, launch_firefox

    use_late_host(install_host_firefox(browser_env, mockbrowser.codecatch_command()), tmp_path)
    config = Path(browser_env["CODECATCH_CONFIG_DIR"]) / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"version": 1, "panels": [], "copy_when_no_panel": True}))
    with launch_firefox(firefox_executable, extension_dir, mock_site.hostnames, browser_env,
                        log_path=tmp_path / "geckodriver.log") as (wd, _addon_id):
        driver = FirefoxDriver(wd, extension_dir)
        assert wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 10.0)
        yield driver


def in_extension_page(driver, body, *args):
    """Run `body` (async, its result returned) in the add-on's own page."""
    driver.extension_status()  # opens the page once
    current = driver.wd.current_window_handle
    driver.wd.switch_to.window(driver._status_handle)
    try:
        return driver.wd.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"(async () => {{ {body} }})(...arguments).then(done, (e) => done('error: ' + e));", *args)
    finally:
        driver.wd.switch_to.window(current)


def firefox_clipboard(driver):
    return in_extension_page(driver, "return navigator.clipboard.readText();")


def test_firefox_clears_at_expiry_and_leaves_the_users_copy_alone(late_firefox, site):
    driver = late_firefox
    issued = []
    for _ in range(2):
        panel = driver.open_panel(site.panel_url("panel.test", with_port=True, outcome="cmsi"))
        state = driver.link_state(panel)
        url = driver.js(panel, f"return document.getElementById('{SIGNIN_LINK_ID}').dataset.url")
        driver.click_continue(driver.open_page(url))  # a sign-in no panel is tied to
        issued.append(issued_for(site, state))
        assert wait_for(lambda: firefox_clipboard(driver) == issued[-1].https_url, 10.0), firefox_clipboard(driver)[:40]
        if len(issued) == 1:
            assert wait_for(lambda: firefox_clipboard(driver) == "", DEADLINE_S), "not cleared at expiry"
    mine = "the user's own text, copied after codecatch's"
    before = in_extension_page(driver, """
        await navigator.clipboard.writeText(arguments[0]);
        const { clipboard } = await browser.storage.session.get('clipboard');
        return Date.now() < clipboard.clear_at;""", mine)
    assert before is True, before
    assert wait_for(lambda: in_extension_page(
        driver, "return (await browser.storage.session.get('clipboard')).clipboard ?? null;") is None,
        DEADLINE_S), "the clear never ran"
    assert firefox_clipboard(driver) == mine

"""Screenshots of the toolbar popup and the options page for the README, taken from
the real extension in real (headless) Chromium against the built-in mock sign-in, with
the real host installed by `codecatch install` into a throwaway profile.

    python3 docs/make_screenshots.py [--out docs/screenshots] [--browser /usr/bin/chromium]

Writes one picture per state of the popup: popup-ready.png (connected, nothing caught),
popup-armed.png, popup-captured.png (and -dark), popup-filled.png, popup-error.png,
popup-unverified.png, popup-pasted.png and popup-host-missing.png; and options.png.
Only 127.0.0.1 is contacted.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite import MockSite
from codecatch.mocksite import browser as mockbrowser
from codecatch.mocksite.panel import CLIENTS, SIGNIN_LINK_ID

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from codes import entra_code  # a code shaped like Microsoft's, which a paste must be

BASE = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/extension"
POPUP_SIZE = {"width": 400, "height": 300}  # the page grows to its content (full_page)


def shoot_popup(context, path, over=None, dark=False, wait_text="Connected"):
    page = context.new_page()
    page.set_viewport_size(POPUP_SIZE)
    page.emulate_media(color_scheme="dark" if dark else "light")
    query = ""
    if over is not None:
        page.goto(f"{BASE}/popup/popup.html")
        tab = page.evaluate("(u) => chrome.tabs.query({}).then((t) => t.find((x) => x.url === u).id)", over.url)
        query = f"?tab={tab}"
    page.goto(f"{BASE}/popup/popup.html{query}")
    expect(page.locator("#host-status")).to_contain_text(wait_text, timeout=10_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.close()


def wait_state(context, text):
    page = context.new_page()
    page.goto(f"{BASE}/popup/popup.html")
    expect(page.locator("#state")).to_contain_text(text, timeout=10_000)
    page.close()


def wait_status(context, predicate, what):
    page = context.new_page()
    page.goto(f"{BASE}/popup/popup.html")
    deadline = 100
    while deadline:
        if predicate(page.evaluate("chrome.runtime.sendMessage({type: 'status'})")):
            break
        page.wait_for_timeout(100)
        deadline -= 1
    else:
        raise RuntimeError(f"the extension never reached: {what}")
    page.close()


def ask(context, message):
    page = context.new_page()
    page.goto(f"{BASE}/popup/popup.html")
    reply = page.evaluate("(m) => chrome.runtime.sendMessage(m)", message)
    page.close()
    return reply


def tab_of(context, page):
    ext = context.new_page()
    ext.goto(f"{BASE}/popup/popup.html")
    tab = ext.evaluate("(u) => chrome.tabs.query({}).then((t) => t.find((x) => x.url === u).id)", page.url)
    ext.close()
    return tab


def clear(context):
    page = context.new_page()
    page.goto(f"{BASE}/popup/popup.html")
    page.evaluate("chrome.runtime.sendMessage({type: 'clear'})")
    page.close()


def with_host(pw, site, ext, executable, env, profile, out):
    mockbrowser.install_host(profile, env, browser="chromium")
    context = pw.chromium.launch_persistent_context(
        str(profile), **mockbrowser.launch_options(site, ext, executable, env=env))
    try:
        # Connected, nothing caught yet; then the panel tab armed for the next sign-in.
        signin = context.new_page()  # first, so the panel is not its opener
        panel = context.new_page()
        panel.goto(site.panel_url("panel.test", outcome="cmsi", client="exchange"))
        panel.bring_to_front()
        shoot_popup(context, out / "popup-ready.png", over=panel)
        assert ask(context, {"type": "arm", "tab_id": tab_of(context, panel)})["ok"]
        shoot_popup(context, out / "popup-armed.png", over=panel)
        ask(context, {"type": "disarm"})

        # A code caught from a sign-in the panel did not open: it waits in the popup.
        signin.goto(panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-url"))
        signin.click("#idSIButton9", no_wait_after=True)
        wait_state(context, "captured")
        panel.bring_to_front()
        shoot_popup(context, out / "popup-captured.png", over=panel)
        shoot_popup(context, out / "popup-captured-dark.png", over=panel, dark=True)

        # The panel's own sign-in: filled.
        clear(context)
        panel.goto(site.panel_url("panel.test", outcome="302"))
        panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
        wait_status(context, lambda s: (s.get("latest") or {}).get("outcome") == "filled", "a filled capture")
        panel.bring_to_front()
        shoot_popup(context, out / "popup-filled.png", over=panel)

        # An error response (AADSTS65004, consent declined).
        clear(context)
        panel.goto(site.panel_url("panel.test", outcome="error"))
        panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
        wait_state(context, "error")
        shoot_popup(context, out / "popup-error.png", over=panel)

        # An unverified redirect: a page moved a window that showed Microsoft's sign-in
        # (its opener, from a popup of its own) to a redirect carrying its own code.
        clear(context)
        evil = context.new_page()
        evil.goto(site.url("evil.test", "/tools"))
        with context.expect_page() as info:
            evil.evaluate("() => { window.open('/tools', 'helper', 'width=500,height=500'); null; }")
        helper = info.value
        helper.wait_for_load_state("load")
        _, client_id, redirect_uri = CLIENTS["teams"]
        evil.evaluate("(u) => { location.href = u; null; }", site.url(
            "login.microsoftonline.com", "/common/oauth2/v2.0/authorize", client_id=client_id,
            response_type="code", redirect_uri=redirect_uri, state="s", mock_outcome="cmsi"))
        evil.wait_for_selector("#idSIButton9")
        helper.evaluate("(u) => { opener.location.replace(u); null; }",
                        "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
                        "?code=0.AXkAinjectedByAPage&state=x&session_state=y")
        wait_status(context, lambda s: s.get("unverified"), "an unverified capture")
        panel.bring_to_front()
        shoot_popup(context, out / "popup-unverified.png", over=panel)
        for page in (helper, evil):
            page.close()

        # A console line pasted into the popup and read by the host.
        page = context.new_page()
        page.set_viewport_size(POPUP_SIZE)
        page.goto(f"{BASE}/popup/popup.html")
        expect(page.locator("#host-status")).to_contain_text("Connected", timeout=10_000)
        page.locator("#paste-text").fill(
            "Failed to launch 'ms-appx-web://Microsoft.AAD.BrokerPlugin/fb78d390-0c51-40cd-8e17-fdbfab77341b"
            f"?code={entra_code('pastedFromTheConsole')}&state=s1&session_state=ss' because the scheme does not "
            "have a registered handler.")
        page.get_by_role("button", name="Read").click()
        expect(page.locator("#pasted")).to_be_visible()
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "popup-pasted.png"), full_page=True)
        page.close()

        # The options page with one granted panel and one waiting for permission.
        options = context.new_page()
        options.set_viewport_size({"width": 820, "height": 400})
        options.goto(f"{BASE}/options/options.html")
        expect(options.locator("#config-status")).to_contain_text("saved", timeout=10_000)
        form = options.locator("#add-panel")
        for origin, selector, value, save in (
                ("https://panel.test", "#ctl00_MainContent_txtAuthCode", "url", "#ctl00_MainContent_btnSave"),
                ("https://panel.example.com", "", "code", "")):
            form.get_by_label("Origin").fill(origin)
            form.get_by_label("Field selector").fill(selector)
            form.get_by_label("Value to fill").select_option(value)
            form.get_by_label("Save button (pressed after the fill)").fill(save)
            form.get_by_role("button", name="Add panel").click()
            expect(options.locator("#panels tbody tr", has_text=origin)).to_be_visible()
        options.get_by_label("Close the sign-in tab after filling").check()
        expect(options.locator("#config-status")).to_have_text("Saved.")
        options.locator("#config-path").evaluate("(el) => { el.textContent = el.textContent.replace(/: .*\\//, ': ~/.config/codecatch/'); }")
        options.wait_for_timeout(300)
        options.screenshot(path=str(out / "options.png"), full_page=True)
    finally:
        context.close()


def without_host(pw, site, ext, executable, env, profile, out):
    profile.mkdir(parents=True)
    context = pw.chromium.launch_persistent_context(
        str(profile), **mockbrowser.launch_options(site, ext, executable, env=env))
    try:
        shoot_popup(context, out / "popup-host-missing.png", wait_text="not installed")
    finally:
        context.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    parser.add_argument("--browser", default=None, help="a Chromium-family executable")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    _, _, executable = mockbrowser.find_chromium_family(args.browser)
    repo = mockbrowser.repo_root()
    with tempfile.TemporaryDirectory(prefix="codecatch-shots-") as tmp, MockSite() as site, sync_playwright() as pw:
        tmp = Path(tmp)
        ext = mockbrowser.prepare_extension(repo, tmp / "ext")
        env = mockbrowser.isolated_env(tmp / "env")
        with_host(pw, site, ext, executable, env, tmp / "profile", args.out)
        without_host(pw, site, ext, executable, env, tmp / "bare-profile", args.out)
    for name in sorted(args.out.glob("*.png")):
        print(name)


if __name__ == "__main__":
    main()

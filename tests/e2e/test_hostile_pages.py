"""Hostile pages in real Chromium: what a web page can do to a sign-in window it opened
must never reach a panel the user armed."""

import json
import time

import pytest

from codecatch.mocksite.panel import SIGNIN_LINK_ID

pytestmark = pytest.mark.browser

EVIL_CODE = "0.AXkAEVILcodeFromAPageThatOpenedTheSignIn_0123456789"
EVIL_URI = ("ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
            f"?code={EVIL_CODE}&state=evil&session_state=x")


def ask(driver, message):
    driver.extension_status()  # opens the extension page the messages are sent from
    return driver._status_page.evaluate("(m) => chrome.runtime.sendMessage(m)", message)


def tab_id(driver, url_pattern):
    driver.extension_status()
    return driver._status_page.evaluate(
        "(p) => chrome.tabs.query({url: p}).then((t) => t[0].id)", url_pattern)


@pytest.mark.parametrize("target", [
    EVIL_URI,
    f"https://login.microsoftonline.com/common/oauth2/nativeclient?code={EVIL_CODE}&state=evil",
])
def test_a_page_cannot_steer_a_signin_window_into_an_armed_panel(chromium_driver, site, target):
    d = chromium_driver
    panel = d.open_panel(site.panel_url("panel.test", outcome="cmsi"))
    signin_url = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-url")
    assert ask(d, {"type": "arm", "tab_id": tab_id(d, "https://panel.test/*")})["ok"]

    # A page elsewhere opens a real sign-in window, then navigates it to a redirect of
    # its own (an opener may navigate the window it opened).
    evil = d.context.new_page()
    evil.goto("https://evil.test/tools", wait_until="load")
    with d.context.expect_page(timeout=10_000) as info:
        evil.evaluate("(u) => { window.__w = window.open(u); null; }", signin_url)
    signin = info.value
    signin.wait_for_selector("#idSIButton9", timeout=10_000)
    evil.evaluate("(u) => { window.__w.location = u; null; }", target)

    time.sleep(2.0)  # the capture channels answer in well under a second
    assert d.field_value(panel) == "", "a page steered its own code into the armed panel"
    status = d.extension_status()
    filled = [c for c in status["captures"] if c.get("outcome") == "filled"]
    assert filled == [], json.dumps(status)
    # Kept for the user to judge, marked with who opened the sign-in.
    kept = [c for c in status["captures"] if c.get("opener_origin")]
    assert kept and all(c["opener_origin"].startswith("https://evil.test") and c["opener_by_page"] for c in kept), kept
    # The panel stays armed for the user's own next sign-in.
    assert status["armed"]["tab_id"] == tab_id(d, "https://panel.test/*")

"""Hostile pages in real Chromium: what a web page can do to a sign-in window it opened
must never reach a panel the user armed."""

import json
import time

import pytest

from codecatch.mocksite.panel import SIGNIN_LINK_ID
from codes import entra_code

pytestmark = pytest.mark.browser

EVIL_CODE = entra_code("EVILcodeFromAPageThatOpenedTheSignIn_0123456789")  # shaped like a real code: only provenance stops it
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
    kept = [c for c in status["captures"] + status["unverified"] if c.get("opener_origin")]
    assert kept and all(c["opener_origin"].startswith("https://evil.test") and c["opener_by_page"] for c in kept), kept
    # The panel stays armed for the user's own next sign-in.
    assert status["armed"]["tab_id"] == tab_id(d, "https://panel.test/*")
    # And the keyboard shortcut (or the context menu), which fills the latest code
    # without showing it, leaves this one to the popup.
    worker = next(w for w in d.context.service_workers if "chrome-extension://" in w.url)
    panel.focus("#ctl00_MainContent_txtAuthCode")
    reply = worker.evaluate("(id) => globalThis.codecatch.fillHere(id)", tab_id(d, "https://panel.test/*"))
    assert reply["ok"] is False and "evil.test" in reply["message"], reply
    assert d.field_value(panel) == ""


# A page that frames a sign-in page, waits for it to load, then navigates that frame to
# a redirect of its own: the browser still reports the frame's URL as the sign-in
# page's (webNavigation cannot say who started a navigation).
FRAME_AND_STEER = """([frameSrc, target]) => new Promise((done) => {
  const frame = document.createElement('iframe');
  frame.src = frameSrc;
  frame.onload = () => { frame.onload = null; setTimeout(() => { frame.src = target; done(null); }, 300); };
  document.body.appendChild(frame);
})"""


@pytest.mark.parametrize("target", [
    EVIL_URI,
    f"https://login.microsoftonline.com/common/oauth2/nativeclient?code={EVIL_CODE}&state=evil",
], ids=["custom-scheme", "nativeclient"])
@pytest.mark.parametrize("how", ["armed", "opener"])
def test_a_framed_signin_page_steered_by_its_parent_fills_nothing(chromium_driver, site, target, how):
    d = chromium_driver
    panel = d.open_panel(site.panel_url("panel.test", outcome="cmsi"))
    if how == "armed":
        # The user armed the panel, then opened a page of their own in another tab.
        assert ask(d, {"type": "arm", "tab_id": tab_id(d, "https://panel.test/*")})["ok"]
        evil = d.context.new_page()
        evil.goto("https://evil.test/tools", wait_until="load")
    else:
        # The panel opened the page (any outbound link): the panel is its opener.
        with d.context.expect_page(timeout=10_000) as info:
            panel.evaluate("() => { window.open('https://evil.test/tools'); null; }")
        evil = info.value
        evil.wait_for_load_state("load")
    evil.evaluate(FRAME_AND_STEER, ["https://login.microsoftonline.com/common/oauth2/v2.0/authorize", target])

    time.sleep(2.0)  # the capture channels answer in well under a second
    assert d.field_value(panel) == "", "a page steered its own code into the panel through a frame"
    status = d.extension_status()
    assert not [c for c in status["captures"] if EVIL_CODE[:12] in json.dumps(c)], status["captures"]
    assert status["captures"] == [] or all(c.get("outcome") != "filled" for c in status["captures"])
    # Seen, and refused for the right reason (not merely missed).
    assert any(i["reason"] == "framed_signin" and i["page_host"] == "login.microsoftonline.com"
               for i in status["ignored"]), status["ignored"]

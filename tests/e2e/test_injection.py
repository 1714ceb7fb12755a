"""Auth-code injection (RFC 9700 section 4.5), in real Chromium and real Firefox: a page
that holds a reference to a window can move that window, and the browser's
webNavigation events then still name the Microsoft page the window showed. None of
these routes may get the page's own code into a panel; and a legitimate sign-in right
after each attack must still fill, so an extension that simply stopped filling fails.

Each route plays the attack against the real extension and host, with the panel rule's
save button on for panel.test (issue 16: an unproven capture is neither filled nor
saved), then the shared `fill_then_save` scenario (scenarios.py) in the same browser:
a legitimate sign-in fills and saves.
"""

import json
import time

import pytest

from codecatch.mocksite.panel import AUTH_FIELD_ID, CLIENTS, SAVE_BUTTON_ID

from .scenarios import BY_NAME, QUIET_S, add_save_rule, run, wait_for
from codes import entra_code

pytestmark = pytest.mark.browser

EVIL_CODE = entra_code("EVILcodeInjectedByAPageThatHoldsTheWindow_0123456789")  # shaped like a real code: only provenance stops it
_, CLIENT_ID, REDIRECT_URI = CLIENTS["teams"]
EVIL_URI = f"{REDIRECT_URI}?code={EVIL_CODE}&state=evil&session_state=x"


@pytest.fixture(params=["chromium", "firefox"])
def driver(request, site, browser_env):
    d = request.getfixturevalue(f"{request.param}_driver")
    add_save_rule(d, site, browser_env)  # `codecatch panel add https://panel.test --save #…`
    d.env = browser_env  # for the legitimate sign-in after the attack (scenarios.run)
    return d


def url(d, site, host, path, **query):
    return site.url(host, path, with_port=d.needs_port, **query)


def signin_page(d, site):
    """A real (mock) Microsoft page that stays open: Confirm My Sign-In."""
    return url(d, site, "login.microsoftonline.com", "/common/oauth2/v2.0/authorize",
               client_id=CLIENT_ID, response_type="code", redirect_uri=REDIRECT_URI,
               state="attacker-started", mock_outcome="cmsi")


def evil_target(d, site, kind):
    if kind == "custom-scheme":
        return EVIL_URI
    return url(d, site, "login.microsoftonline.com", "/common/oauth2/nativeclient",
               code=EVIL_CODE, state="evil")


def assert_nothing_filled(d, site, *panels, listed=False):
    """Nothing reached a panel, and no panel's save button was pressed. With `listed`, the attacker's redirect was seen and is
    listed as unverified, naming the sign-in page and who was involved."""
    time.sleep(QUIET_S)  # the capture channels answer in well under a second
    status = d.extension_status()
    if listed:
        unverified = status.get("unverified") or []
        assert any(u["page_host"] == "login.microsoftonline.com" and u["verified"] is False
                   and (u.get("opener_origin") or u.get("flow_via") or u.get("opener_by_page") is False)
                   for u in unverified), json.dumps(status)[:2000]
    for panel in panels:
        assert d.field_value(panel) == "", (
            "a page got its own code filled into a panel:\n" + json.dumps(status)[:2000])
        assert not [e for e in d.page_events(panel) if e.get("type") == "click" and e.get("target") == SAVE_BUTTON_ID], (
            "the panel's save button was pressed")
    assert site.saves == [], "a panel's save button posted"
    assert [c for c in status["captures"] if c.get("outcome") == "filled"] == [], json.dumps(status)[:2000]
    assert not any(c.get("verified") for c in status["captures"]), status["captures"]
    return status


def assert_the_popup_keeps_it_apart(d, status, panel_tab):
    """The unverified capture: listed in the popup with a warning in front of Copy; never
    filled by the keyboard shortcut or the context menu (a blind fill), nor copied
    without that confirmation."""
    (meta,) = [u for u in status["unverified"] if u["page_host"] == "login.microsoftonline.com"]
    blind = d.send_message({"type": "fill", "tab_id": panel_tab, "blind": True})
    assert blind["ok"] is False and "unverified" in blind["message"], blind
    by_hand = d.send_message({"type": "fill", "capture_id": meta["capture_id"], "tab_id": panel_tab})
    assert by_hand["ok"] is False, by_hand
    assert d.send_message({"type": "copy", "capture_id": meta["capture_id"]})["ok"] is False
    copied = d.send_message({"type": "copy", "capture_id": meta["capture_id"], "unverified": True})
    assert copied["ok"] is True and EVIL_CODE in copied["text"]
    # The popup page (the drivers ask for status from it) shows it apart, warning first.
    page = d._status_page if d.name == "chromium" else d._status_handle
    shown = wait_for(lambda: d.js(page, """
        const s = document.getElementById('unverified-section');
        return s && !s.hidden ? s.innerText : null;"""), 5.0)
    assert shown and "Unverified" in shown and "login.microsoftonline.com" in shown, shown
    d.js(page, "document.querySelector('#unverified button').click(); return null;")
    warned = d.js(page, "return [...document.querySelectorAll('#unverified p.problem')].some((p) => !p.hidden);")
    assert warned, "the warning did not come before the copy"


def assert_a_legitimate_signin_still_fills(d, site):
    """...and saves: the save rule was on during the attack."""
    site.reset()
    run(d, site, BY_NAME["fill_then_save"], env=d.env)


def user_opened_evil_tab(d, site):
    """The admin visits a page of the attacker's, in a tab of their own."""
    return d.open_page(url(d, site, "evil.test", "/tools"))


def panel_opened_evil_tab(d, site, panel):
    """The panel opened the attacker's page (any outbound link): the panel is its opener."""
    tools = url(d, site, "evil.test", "/tools")
    evil = d.js_opening(panel, "window.open(arguments[0]); return null;", tools)
    d.wait_url(evil, tools)  # loaded: not the new window's initial about:blank
    return evil


def open_helper(d, site, evil):
    """A second window of the attacker's, opened by its page (a popup)."""
    helper = d.js_opening(evil, "window.open('/tools', 'helper', 'width=500,height=500'); return null;")
    d.wait_url(helper, url(d, site, "evil.test", "/tools"))
    return helper


# -- route 1: steering a window whose current document is a Microsoft sign-in page ------

@pytest.mark.parametrize("kind", ["custom-scheme", "nativeclient"])
@pytest.mark.parametrize("how", ["armed", "opener"])
def test_a_page_steering_its_opener_on_a_signin_page_fills_nothing(driver, site, how, kind):
    """The attacker's tab goes to a Microsoft sign-in page; a popup it opened first then
    moves it (`opener.location`) to a redirect carrying the attacker's code."""
    d = driver
    panel = d.open_panel(url(d, site, "panel.test", "/CP/O365/TenantEdit.aspx", outcome="302"))
    if how == "armed":
        assert d.send_message({"type": "arm", "tab_id": d.tab_id("https://panel.test")})["ok"]
        evil = user_opened_evil_tab(d, site)
    else:
        evil = panel_opened_evil_tab(d, site, panel)
    helper = open_helper(d, site, evil)
    d.js(evil, "location.href = arguments[0]; return null;", signin_page(d, site))
    d.wait_selector(evil, "#idSIButton9")
    refused = d.js(helper, "try { opener.location.replace(arguments[0]); return null; }"
                           " catch (e) { return String(e); }", evil_target(d, site, kind))
    # Firefox itself may refuse a popup moving its cross-origin opener (SecurityError:
    # Property access denied); Chromium lets it through.
    assert refused is None or d.name == "firefox", refused

    listed = refused is None and kind == "custom-scheme"
    status = assert_nothing_filled(d, site, panel, listed=listed)
    if how == "armed":
        assert status["armed"] and status["armed"]["tab_id"] == d.tab_id(url(d, site, "panel.test", "/"))
    if listed:
        assert_the_popup_keeps_it_apart(d, status, d.tab_id(url(d, site, "panel.test", "/")))
    assert_a_legitimate_signin_still_fills(d, site)


# -- route 2: opener swap -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["custom-scheme", "nativeclient"])
@pytest.mark.parametrize("steer", ["direct", "after-the-swap", "through-a-slow-host"])
def test_a_page_that_opened_a_signin_and_then_became_the_panel_gets_nothing(driver, site, steer, kind):
    """The attacker's page opens the real sign-in and hands the window to a second popup,
    which steers it (straight to the redirect, or through the attacker's host, whose
    answer takes a while); the page at once navigates itself to the granted panel, so that
    the sign-in window's opener tab shows the panel by the time the capture is handled."""
    d = driver
    evil = user_opened_evil_tab(d, site)
    signin = d.js_opening(evil, "window.__s = window.open(arguments[0]); return null;", signin_page(d, site))
    d.wait_selector(signin, "#idSIButton9")
    helper = open_helper(d, site, evil)
    d.js(helper, "window.__s = opener.__s; return null;")  # the popup keeps the handle
    target = evil_target(d, site, kind)
    if steer == "through-a-slow-host":
        target = url(d, site, "evil.test", "/slow302", ms="2500", to=target)
    panel_url = url(d, site, "panel.test", "/CP/O365/TenantEdit.aspx", outcome="302")
    steer_now = "try { window.__s.location = arguments[0]; return null; } catch (e) { return String(e); }"
    if steer != "after-the-swap":
        # Steered while the popup may still move it (its opener is the attacker's page).
        assert d.js(helper, steer_now, target) is None
    d.js(evil, "location.href = arguments[0]; return null;", panel_url)
    d.wait_url(evil, panel_url.split("/CP/")[0])
    d.wait_selector(evil, f"#{AUTH_FIELD_ID}")
    if steer == "after-the-swap":
        refused = d.js(helper, steer_now, target)
        # The browser may refuse it now that the opener is cross-origin to the popup.
        assert refused is None or "SecurityError" in refused, refused
    if steer == "through-a-slow-host":
        time.sleep(2.5)  # the attacker's host answers after 2.5 s

    assert_nothing_filled(d, site, evil, listed=steer == "direct" and kind == "custom-scheme")
    assert_a_legitimate_signin_still_fills(d, site)


# -- route 3: a delayed redirect from elsewhere -----------------------------------------

@pytest.mark.parametrize("start", ["on-signin-page", "at-its-own-url"])
def test_a_redirect_sent_by_another_host_fills_nothing(driver, site, start):
    """The attacker's page opens a window (on Microsoft's page, or at its own URL) whose
    next response, from the attacker's host and seconds later, is a 302 to the custom
    scheme; meanwhile the page navigates itself to the granted panel."""
    d = driver
    evil = user_opened_evil_tab(d, site)
    slow = url(d, site, "evil.test", "/slow302", ms="2500", to=EVIL_URI)
    if start == "on-signin-page":
        signin = d.js_opening(evil, "window.__s = window.open(arguments[0]); return null;", signin_page(d, site))
        d.wait_selector(signin, "#idSIButton9")
        d.js(evil, "window.__s.location = arguments[0]; return null;", slow)
    else:
        d.js(evil, "window.__s = window.open(arguments[0]); return null;", slow)
    panel_url = url(d, site, "panel.test", "/CP/O365/TenantEdit.aspx", outcome="302")
    d.js(evil, "location.href = arguments[0]; return null;", panel_url)
    d.wait_url(evil, panel_url.split("/CP/")[0])
    time.sleep(2.5)  # the attacker's host answers after 2.5 s

    assert_nothing_filled(d, site, evil)
    assert_a_legitimate_signin_still_fills(d, site)


# -- hostile input ------------------------------------------------------------------------

def test_an_oversized_redirect_is_refused_and_the_next_sign_in_fills(driver, site):
    """A redirect over 16 KiB (here a huge `state`, answered by the sign-in host itself)
    is refused by the extension before it reaches the host; the host keeps serving."""
    d = driver
    panel = d.open_panel(url(d, site, "panel.test", "/CP/O365/TenantEdit.aspx", outcome="302"))
    huge = url(d, site, "login.microsoftonline.com", "/common/oauth2/v2.0/authorize",
               client_id=CLIENT_ID, response_type="code", redirect_uri=REDIRECT_URI,
               state="s" * 17000, mock_outcome="302")
    d.js(panel, "window.open(arguments[0]); return null;", huge)
    refused = wait_for(lambda: [i for i in d.extension_status()["ignored"] if i["reason"] == "too_long"], 10.0)
    assert refused, d.extension_status()["ignored"]
    assert d.field_value(panel) == ""
    assert d.extension_status()["connection"]["state"] == "connected"
    assert_a_legitimate_signin_still_fills(d, site)

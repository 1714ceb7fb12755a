"""The shared scenarios (scenarios.py) in real headless Firefox ESR, with the real
extension installed as a temporary add-on and the real host registered by
`codecatch install --browser firefox` into a throwaway HOME."""

import pytest

from .scenarios import QUIET_S, SCENARIOS, run, wait_for
from codes import entra_code

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(firefox_driver, site, scenario, browser_env):
    run(firefox_driver, site, scenario, env=browser_env)


def test_host_connected(firefox_driver):
    """The add-on reached the host the installer registered (allowed_extensions), and
    checked its greeting."""
    connected = wait_for(
        lambda: firefox_driver.extension_status()["connection"]["state"] == "connected", 10.0)
    status = firefox_driver.extension_status()
    assert connected, f"the add-on never connected to the host: {status['connection']}"
    assert status["connection"]["host"]["host"] == "codecatch-host"
    assert status["connection"]["host"]["protocol"] == 1


# Hostile pages (test_hostile_pages.py has the Chromium side): a page that frames a
# sign-in page and navigates that frame to a redirect of its own. Firefox reports it
# through webNavigation with the sign-in URL as the frame's, like Chromium.
EVIL_CODE = entra_code("EVILcodeInjectedThroughAFrame_0123456789abcdef")  # shaped like a real code: only provenance stops it


@pytest.mark.parametrize("kind", ["custom-scheme", "nativeclient"])
@pytest.mark.parametrize("how", ["armed", "opener"])
def test_a_framed_signin_page_steered_by_its_parent_fills_nothing(firefox_driver, site, kind, how):
    import json
    import time

    from .firefox_driver import wait_loaded, wait_new_handle

    d, wd = firefox_driver, firefox_driver.wd
    target = {
        "custom-scheme": ("ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
                          f"?code={EVIL_CODE}&state=evil&session_state=x"),
        "nativeclient": site.url("login.microsoftonline.com", "/common/oauth2/nativeclient", with_port=True)
        + f"?code={EVIL_CODE}&state=evil",
    }[kind]
    panel = d.open_panel(site.panel_url("panel.test", with_port=True, outcome="cmsi"))
    evil_url = site.url("evil.test", "/tools", with_port=True)
    before = set(wd.window_handles)
    if how == "armed":
        # The user armed the panel, then opened a page of their own in another tab.
        d.extension_status()  # opens the extension page the next messages come from
        d._to(d._status_handle)
        panel_tab = wd.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "browser.tabs.query({}).then((t) => done(t.find((x) => x.url.includes('panel.test')).id));")
        assert d.send_message({"type": "arm", "tab_id": panel_tab})["ok"]
        wd.switch_to.new_window("tab")
        wd.get(evil_url)
    else:
        # The panel opened the page (any outbound link): the panel is its opener.
        d._to(panel)
        wd.execute_script("window.open(arguments[0]);", evil_url)
        wd.switch_to.window(wait_new_handle(wd, before))
    wait_loaded(wd, evil_url)
    wd.execute_script("const f = document.createElement('iframe'); f.src = arguments[0];"
                      " f.onload = () => { document.body.dataset.framed = 'loaded'; };"
                      " document.body.appendChild(f);",
                      site.url("login.microsoftonline.com", "/common/oauth2/v2.0/authorize", with_port=True))
    assert wait_for(lambda: wd.execute_script("return document.body.dataset.framed") == "loaded", 10.0), \
        "the framed sign-in page never loaded"
    wd.execute_script("document.querySelector('iframe').src = arguments[0];", target)

    # Seen, and refused for the right reason (not merely missed): wait for that, not a
    # fixed time a busy machine may overrun.
    def refused():
        return [i for i in d.extension_status()["ignored"]
                if i["reason"] == "framed_signin" and i["page_host"] == "login.microsoftonline.com"]

    assert wait_for(refused, 10.0), d.extension_status()["ignored"]
    time.sleep(QUIET_S)  # then a late fill through another channel would show
    assert d.field_value(panel) == "", "a page steered its own code into the panel through a frame"
    status = d.extension_status()
    assert not [c for c in status["captures"] if EVIL_CODE[:12] in json.dumps(c)], status["captures"]

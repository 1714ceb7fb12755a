"""The shared scenarios (scenarios.py) in real headless Chromium, with the real
extension loaded and the real host installed by `codecatch install`."""

import pytest

from .scenarios import SCENARIOS, run

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(chromium_driver, site, scenario, browser_env):
    run(chromium_driver, site, scenario, env=browser_env)


def test_host_connected(chromium_driver):
    """The extension reached the host the installer registered, and checked its greeting."""
    from .scenarios import wait_for

    connected = wait_for(
        lambda: chromium_driver.extension_status()["connection"]["state"] == "connected", 10.0)
    status = chromium_driver.extension_status()
    assert connected, f"the extension never connected to the host: {status['connection']}"
    assert status["connection"]["host"]["host"] == "codecatch-host"
    assert status["connection"]["host"]["protocol"] == 1


def test_302_is_held_back_and_its_tab_closed(chromium_driver, site):
    """Chromium 128+: the redirect guard removes the native Location, so the browser
    never tries to launch it (no xdg-open prompt); the capture still fills the panel,
    and the sign-in tab the panel opened is closed rather than left empty."""
    from .scenarios import wait_for

    worker = chromium_driver.service_worker()
    rules = worker.evaluate("chrome.declarativeNetRequest.getSessionRules()")
    assert [r["action"] for r in rules] == [
        {"type": "modifyHeaders", "responseHeaders": [{"header": "location", "operation": "remove"}]}]

    panel = chromium_driver.open_panel(site.panel_url("panel.test", outcome="302"))
    state = chromium_driver.link_state(panel)
    with chromium_driver.context.expect_page(timeout=10_000) as info:
        chromium_driver.click_signin(panel)
    signin = info.value
    assert wait_for(lambda: chromium_driver.field_value(panel), 10.0), "the panel was not filled"
    assert chromium_driver.field_value(panel) == site.issued_for_state(state)[-1].https_url
    # Each evaluate lets Playwright's sync API process the browser's events (tab closed).
    closed = wait_for(lambda: panel.evaluate("1") and signin.is_closed(), 10.0)
    assert closed, f"the sign-in tab was left open on {signin.url}"
    # What the browser was handed instead of the launch: the 302 without its Location.
    assert not any(p.url.startswith("chrome-error://") for p in chromium_driver.context.pages)

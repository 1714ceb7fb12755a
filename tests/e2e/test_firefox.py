"""The shared scenarios (scenarios.py) in real headless Firefox ESR, with the real
extension installed as a temporary add-on and the real host registered by
`codecatch install --browser firefox` into a throwaway HOME."""

import pytest

from .scenarios import SCENARIOS, run, wait_for

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(firefox_driver, site, scenario):
    run(firefox_driver, site, scenario)


def test_host_connected(firefox_driver):
    """The add-on reached the host the installer registered (allowed_extensions), and
    checked its greeting."""
    connected = wait_for(
        lambda: firefox_driver.extension_status()["connection"]["state"] == "connected", 10.0)
    status = firefox_driver.extension_status()
    assert connected, f"the add-on never connected to the host: {status['connection']}"
    assert status["connection"]["host"]["host"] == "codecatch-host"
    assert status["connection"]["host"]["protocol"] == 1

"""The shared scenarios (scenarios.py) in real headless Chromium, with the real
extension loaded and the real host installed by `codecatch install`."""

import pytest

from .scenarios import SCENARIOS, run

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(chromium_driver, site, scenario):
    run(chromium_driver, site, scenario)


def test_host_connected(chromium_driver):
    """The extension reached the host the installer registered, and checked its greeting."""
    from .scenarios import wait_for

    connected = wait_for(
        lambda: chromium_driver.extension_status()["connection"]["state"] == "connected", 10.0)
    status = chromium_driver.extension_status()
    assert connected, f"the extension never connected to the host: {status['connection']}"
    assert status["connection"]["host"]["host"] == "codecatch-host"
    assert status["connection"]["host"]["protocol"] == 1

"""The shared scenarios (scenarios.py) in real headless Chromium, with the real
extension loaded and the real host installed by `codecatch install`."""

import pytest

from .scenarios import SCENARIOS, run

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(chromium_driver, site, scenario):
    run(chromium_driver, site, scenario)


def test_host_connected(chromium_driver):
    """The extension reached the host the installer registered (its status says so)."""
    from .scenarios import wait_for
    import json

    status = wait_for(lambda: _connected(chromium_driver.extension_status()), 10.0)
    assert status, f"the extension never reported a connected host: {chromium_driver.extension_status()}"


def _connected(status):
    import json
    text = json.dumps(status).lower()
    return status if '"connected"' in text else None

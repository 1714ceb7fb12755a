"""The shared scenarios (scenarios.py) in real headless Firefox ESR, with the real
extension installed as a temporary add-on and the real host registered by
`codecatch install --browser firefox` into a throwaway HOME."""

import pytest

from codecatch.mocksite import browser as mockbrowser

from .firefox_driver import FirefoxDriver, FirefoxNotFound, find_firefox, find_geckodriver, \
    install_host_firefox, launch_firefox
from .scenarios import SCENARIOS, run, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def firefox_executable():
    try:
        path = find_firefox()
        find_geckodriver()
    except FirefoxNotFound as exc:
        pytest.fail(f"{exc}. The Firefox end-to-end tests fail rather than skip so a CI "
                    "without a browser cannot pass.", pytrace=False)
    return path


@pytest.fixture
def firefox_webdriver(firefox_executable, extension_dir, mock_site, browser_env, tmp_path):
    install_host_firefox(browser_env, mockbrowser.codecatch_command())
    with launch_firefox(firefox_executable, extension_dir, mock_site.hostnames, browser_env,
                        log_path=tmp_path / "geckodriver.log") as (wd, addon_id):
        yield wd


@pytest.fixture
def firefox_driver(firefox_webdriver, extension_dir):
    driver = FirefoxDriver(firefox_webdriver, extension_dir)
    wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 10.0)
    return driver


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

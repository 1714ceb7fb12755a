"""Firefox fixtures for the end-to-end tests (the Chromium ones are in tests/conftest.py).

    firefox_executable  /usr/bin/firefox-esr (or $CODECATCH_FIREFOX) and geckodriver;
                        FAILS, never skips, without them
    firefox_webdriver   Selenium Firefox: the extension (with the test panels granted) as a
                        temporary add-on, the host registered by the real
                        `codecatch install --browser firefox` into the throwaway HOME
    firefox_driver      the scenarios' driver (firefox_driver.py), connected to the host
"""

import pytest

from codecatch.mocksite import browser as mockbrowser

from .firefox_driver import FirefoxDriver, FirefoxNotFound, find_firefox, find_geckodriver, \
    install_host_firefox, launch_firefox
from .scenarios import wait_for


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
                        log_path=tmp_path / "geckodriver.log") as (wd, _addon_id):
        yield wd


@pytest.fixture
def firefox_driver(firefox_webdriver, extension_dir):
    driver = FirefoxDriver(firefox_webdriver, extension_dir)
    wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 10.0)
    return driver

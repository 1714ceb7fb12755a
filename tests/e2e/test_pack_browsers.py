"""The zips `codecatch pack` builds load in real browsers: the Firefox zip installs as
a temporary add-on, the Chromium zip loads unpacked after extraction. Each then
answers a status request from its own page and reaches the host that
`codecatch install` registered (so the ids line up)."""

import zipfile

import pytest

from codecatch import pack
from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite import browser as mockbrowser

from .chromium_driver import ChromiumDriver
from .firefox_driver import FirefoxDriver, install_host_firefox, launch_firefox
from .scenarios import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def zips(repo_root, tmp_path_factory):
    return pack.pack(repo_root, tmp_path_factory.mktemp("dist"))


def _assert_connected(driver):
    connected = wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 15.0)
    status = driver.extension_status()
    assert connected, f"the packed extension never reached the host: {status['connection']}"
    assert status["connection"]["host"]["host"] == "codecatch-host"
    assert status["captures"] == [] and status["stats"]["accepted"] == 0


def test_firefox_zip_installs_as_temporary_addon(firefox_executable, zips, mock_site,
                                                 browser_env, tmp_path):
    install_host_firefox(browser_env, mockbrowser.codecatch_command())
    with launch_firefox(firefox_executable, zips["firefox"], mock_site.hostnames, browser_env,
                        log_path=tmp_path / "geckodriver.log") as (wd, addon_id):
        assert addon_id == "codecatch@codecatch.dev"
        with zipfile.ZipFile(zips["firefox"]) as z:
            z.extractall(tmp_path / "ff")
        _assert_connected(FirefoxDriver(wd, tmp_path / "ff"))


def test_chromium_zip_loads_unpacked(chromium_executable, chromium_profile, zips, mock_site,
                                     browser_env, tmp_path):
    from playwright.sync_api import sync_playwright

    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(zips["chromium"]) as z:
        z.extractall(unpacked)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(chromium_profile), **mockbrowser.launch_options(mock_site, unpacked, chromium_executable,
                                                                env=browser_env))
        try:
            driver = ChromiumDriver(context, unpacked)
            driver.service_worker()  # the id is the registered one: `key` was kept
            assert any(CHROMIUM_EXTENSION_ID in w.url for w in context.service_workers)
            _assert_connected(driver)
        finally:
            context.close()

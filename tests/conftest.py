"""Shared fixtures.

    mock_site            (session) the TLS mock of Microsoft's sign-in, panels and evil.test
    site                 the same, with its records cleared for this test
    repo_root            the source checkout (holds manifest.json)
    chromium_executable  /usr/bin/chromium (or $CODECATCH_BROWSER); FAILS, never skips, without it
    extension_dir        (session) a copy of the extension with panel.test and panel2.test
                         granted in host_permissions (a simulated grant: the user's click cannot be scripted), same key/id
    browser_env          a throwaway HOME/XDG/config environment for installer, browser and host
    chromium_profile     a throwaway profile with the host installed by the real
                         `codecatch install --browser chromium --user-data-dir DIR`
    chromium_context     Playwright persistent context: the extension loaded, the mock
                         mapped by --host-resolver-rules; the service worker is up
    chromium_driver      the scenarios' driver (tests/e2e/chromium_driver.py)
"""

import os
import sys
from pathlib import Path

import pytest

from codecatch.mocksite import MockSite
from codecatch.mocksite import browser as mockbrowser

REPO = Path(__file__).resolve().parents[1]

# The tests start `codecatch` and `codecatch-host` as programs. Run as
# `.venv/bin/python -m pytest` (the README's line, no activated venv), PATH may name
# another installation's scripts (a pyenv shim, a global pip install) first: put the
# scripts beside the interpreter running the tests in front, so the code under test is
# the code that runs.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def mock_site():
    with MockSite() as site:
        yield site


@pytest.fixture
def site(mock_site):
    mock_site.reset()
    return mock_site


@pytest.fixture(scope="session")
def chromium_executable():
    path = os.environ.get("CODECATCH_BROWSER", "/usr/bin/chromium")
    if not Path(path).is_file():
        pytest.fail(f"{path} not found: the browser end-to-end tests need Chromium "
                    "(Debian: `apt install chromium`, or set CODECATCH_BROWSER). "
                    "They fail rather than skip so a CI without a browser cannot pass.",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory):
    if not (REPO / "manifest.json").is_file():
        pytest.fail(f"{REPO}/manifest.json is missing: the extension is not in this tree",
                    pytrace=False)
    return mockbrowser.prepare_extension(REPO, tmp_path_factory.mktemp("extension") / "ext")


@pytest.fixture
def browser_env(tmp_path):
    return mockbrowser.isolated_env(tmp_path / "env")


@pytest.fixture
def chromium_profile(tmp_path, browser_env):
    profile = tmp_path / "profile"
    mockbrowser.install_host(profile, browser_env, browser="chromium")
    return profile


@pytest.fixture
def chromium_context(chromium_executable, chromium_profile, extension_dir, mock_site, browser_env):
    from playwright.sync_api import sync_playwright

    from codecatch.identity import CHROMIUM_EXTENSION_ID

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(chromium_profile),
            **mockbrowser.launch_options(mock_site, extension_dir, chromium_executable,
                                         env=browser_env))
        try:
            if not any(CHROMIUM_EXTENSION_ID in w.url for w in context.service_workers):
                context.wait_for_event(
                    "serviceworker", predicate=lambda w: CHROMIUM_EXTENSION_ID in w.url,
                    timeout=10_000)
            yield context
        finally:
            context.close()


@pytest.fixture
def chromium_driver(chromium_context, extension_dir):
    from e2e.chromium_driver import ChromiumDriver

    return ChromiumDriver(chromium_context, extension_dir)

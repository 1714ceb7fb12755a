"""`codecatch login` end to end in real headless Chromium.

The extension and the host (installed by the real installer) run in the browser; the
mock identity provider (tests/idp.py) plays login.microsoftonline.com for the browser
(--host-resolver-rules) and answers MSAL's discovery and token requests on 127.0.0.1.
The sign-in is opened from a panel tab, so without the CLI's claim the extension would
fill the code into that panel: the field must stay empty, and the CLI must print the
token the mock issued for that code.
"""

import re
import subprocess
import threading
import time

import pytest

from codecatch.mocksite import browser as mockbrowser
from idp import MockIdP

from .chromium_driver import ChromiumDriver
from .scenarios import captures, wait_for

pytestmark = pytest.mark.browser

SIGNIN_HOST = "login.microsoftonline.com"


class _Rules:
    """The sign-in host to the mock IdP, every other mocked name (panels) to the mock site."""

    def __init__(self, site, idp):
        self.site, self.idp = site, idp

    def resolver_rules(self):
        rules = [f"MAP {SIGNIN_HOST} 127.0.0.1:{self.idp.port}"]
        rules += [f"MAP {h} 127.0.0.1:{self.site.port}" for h in self.site.hostnames if h != SIGNIN_HOST]
        return ",".join(rules)


@pytest.fixture
def idp():
    with MockIdP(hostnames=("127.0.0.1", "localhost", SIGNIN_HOST), authorize_host=SIGNIN_HOST) as server:
        yield server


@pytest.fixture
def login_browser(chromium_executable, chromium_profile, extension_dir, site, idp, browser_env):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(chromium_profile),
            **mockbrowser.launch_options(_Rules(site, idp), extension_dir, chromium_executable,
                                         env=browser_env))
        try:
            driver = ChromiumDriver(context, extension_dir)
            driver.service_worker()
            yield driver
        finally:
            context.close()


def _lines(stream, into):
    for line in stream:
        into.append(line)


def test_login_in_chromium_claims_the_capture_and_prints_the_token(login_browser, site, idp, browser_env, tmp_path):
    driver = login_browser
    assert wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 15.0), \
        "the extension never connected to its host"
    panel = driver.open_panel(site.panel_url())

    ca = idp.ca_file(str(tmp_path))
    cmd = mockbrowser.codecatch_command() + [
        "login", "--client", "teams-powershell", "--tenant", "contoso",
        "--authority-host", idp.host, "--ca-bundle", ca, "--print-url", "--timeout", "60"]
    started = time.monotonic()
    cli = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=browser_env)
    err_lines = []
    try:
        url = None
        for line in cli.stderr:
            err_lines.append(line)
            if line.startswith("https://"):
                url = line.strip()
                break
        assert url, f"no authorization URL from the CLI: {''.join(err_lines)}"
        assert url.startswith(f"https://{SIGNIN_HOST}/contoso/oauth2/v2.0/authorize?")
        threading.Thread(target=_lines, args=(cli.stderr, err_lines), daemon=True).start()

        # The panel opens the sign-in, as its own link would: the panel is the opener.
        panel.evaluate("url => { window.open(url); }", url)
        out = cli.stdout.read()
        status = cli.wait(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    elapsed = time.monotonic() - started
    stderr = "".join(err_lines)
    assert status == 0, f"login failed ({status}): {stderr}"

    (post,) = [r for r in idp.token_requests if r["grant_type"] == "authorization_code"]
    assert out.strip().startswith("at-"), out
    assert post["code_verifier"] and post["redirect_uri"] == \
        "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
    assert "signed in as admin@contoso.test" in stderr

    # The capture reached the extension and the host, and was claimed, not filled.
    def claimed():
        return [c for c in captures(driver.extension_status()) if c.get("fill_reason") == "claimed"]

    assert wait_for(claimed, 5.0), f"no claimed capture in the extension: {captures(driver.extension_status())}"
    (capture,) = claimed()
    assert capture["kind"] == "code"
    assert driver.field_value(panel) == "", "the claimed code was filled into the panel"

    # Control: the same sign-in opened the same way but with a state nobody claimed is
    # filled into that panel, so the empty field above is the claim's doing.
    unclaimed = re.sub(r"([?&]state=)[^&]*", r"\g<1>unclaimed-state", url)
    panel.evaluate("url => { window.open(url); }", unclaimed)
    assert "state=unclaimed-state" in unclaimed
    assert wait_for(lambda: driver.field_value(panel) != "", 10.0), \
        f"control failed: an unclaimed capture was not filled either: {captures(driver.extension_status())}"
    assert "state=unclaimed-state" in driver.field_value(panel)
    print(f"login end to end: {elapsed:.2f} s from CLI start to token")

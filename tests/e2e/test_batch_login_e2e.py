"""`codecatch login` over 12 tenants end to end in real headless Chromium.

The extension and the host (installed by the real installer) run in the browser; the
mock identity provider (tests/idp.py) plays login.microsoftonline.com over TLS with 12
tenants and a session cookie, set once as a partner admin's browser session is. The
CLI opens each sign-in with `webbrowser.open`, whose $BROWSER (browser_opener.py)
hands the URL to this test, which opens it in a new tab as a browser would. The test
clicks Continue where Microsoft asks to confirm the sign-in, and nothing else.
"""

import json
import os
import queue
import socket
import subprocess
import sys
import threading

import pytest

from codecatch import redirect
from codecatch.mocksite import browser as mockbrowser
from idp import MockIdP, Tenant

from .scenarios import captures, wait_for
from .test_login_e2e import SIGNIN_HOST, login_browser  # noqa: F401 (the fixture, with this module's idp)

pytestmark = pytest.mark.browser

USER = "admin@contoso.test"
TENANTS = [
    Tenant("northwind.test", "silent"), Tenant("fabrikam.test", "silent"), Tenant("adatum.test", "silent"),
    Tenant("contoso-eu.test", "silent"), Tenant("litware.test", "silent"), Tenant("tailspin.test", "silent"),
    Tenant("woodgrove.test", "mfa"), Tenant("wingtip.test", "mfa"), Tenant("proseware.test", "login"),
    Tenant("alpineski.test", "consent"), Tenant("margies.test", "non_member"), Tenant("treyresearch.test", "cmsi"),
]
OPENER = os.path.join(os.path.dirname(__file__), "browser_opener.py")


def _hint(aadsts):
    return redirect.explain("invalid_request", f"{aadsts}: x")[1]


# What the report must say of each tenant: (outcome, sign_in, aadsts, hint).
EXPECTED = {t.name: ("signed_in", "none", None, None) for t in TENANTS if t.behaviour == "silent"}
EXPECTED.update({
    "woodgrove.test": ("signed_in", "interactive", None, None),
    "wingtip.test": ("signed_in", "interactive", None, None),
    "proseware.test": ("signed_in", "interactive", None, None),
    "treyresearch.test": ("signed_in", "interactive", None, None),
    "alpineski.test": ("failed", "interactive", "AADSTS65001", _hint("AADSTS65001")),
    "margies.test": ("failed", "none", "AADSTS50020", _hint("AADSTS50020")),
})


@pytest.fixture
def idp():
    with MockIdP(hostnames=("127.0.0.1", "localhost", SIGNIN_HOST), authorize_host=SIGNIN_HOST,
                 tenants=TENANTS, require_session=True) as server:
        yield server


class Opener:
    """The test's side of $BROWSER: URLs the CLI asked to open, in order."""

    def __init__(self):
        self.urls = queue.Queue()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                url = conn.makefile("rb").readline().decode("utf-8").strip()
                self.urls.put(url)
                conn.sendall(b"k")

    def close(self):
        self.server.close()


def _tab_urls(driver):
    """The URLs of the browser's tabs, as the browser itself lists them."""
    return driver.service_worker().evaluate("async () => (await chrome.tabs.query({})).map((t) => t.url)")


def _run_batch(driver, idp, opener, cmd, env):
    """Run the CLI, opening each URL it hands over in a new tab (clicking Continue on
    Confirm My Sign-In); return (status, stdout, stderr, the tenants whose tab was opened)."""
    from playwright.sync_api import Error as PlaywrightError

    cli = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = [], []
    for stream, into in ((cli.stdout, out), (cli.stderr, err)):
        threading.Thread(target=lambda s=stream, i=into: i.extend(s), daemon=True).start()
    opened = []
    try:
        while cli.poll() is None or not opener.urls.empty():
            try:
                url = opener.urls.get(timeout=0.1)
            except queue.Empty:
                continue
            opened.append(url.split("/")[3])
            page = driver.context.new_page()
            try:
                page.goto(url, wait_until="load")
                if page.locator("#idSIButton9").count():
                    page.click("#idSIButton9")  # "Are you trying to sign in to ...?" Continue
            except PlaywrightError:
                pass  # the extension closed the tab after its capture, as it should
        status = cli.wait(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    return status, "".join(out), "".join(err), opened


def test_batch_login_over_12_tenants_reports_each_and_a_rerun_signs_in_nobody(
        login_browser, site, idp, browser_env, tmp_path):  # noqa: F811
    driver = login_browser
    assert wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 15.0), \
        "the extension never connected to its host"
    # The admin's browser session: signed in once; every customer tenant is reached through it.
    session = driver.context.new_page()
    session.goto(idp.session_url(USER))
    session.close()

    tenant_file = tmp_path / "tenants.txt"
    tenant_file.write_text("# customers (GDAP)\n" + "\n".join(t.name for t in TENANTS) + "\n", encoding="utf-8")
    report = tmp_path / "report.json"
    caches = tmp_path / "caches"
    opener = Opener()
    env = dict(browser_env, BROWSER=f"{sys.executable} {OPENER} %s", CODECATCH_TEST_OPENER=str(opener.port))
    cmd = mockbrowser.codecatch_command() + [
        "login", "--client", "teams-powershell", "--authority-host", idp.host, "--ca-bundle",
        idp.ca_file(str(tmp_path)), "--tenant-file", str(tenant_file), "--cache-dir", str(caches),
        "--parallel", "3", "--prompt", "none", "--login-hint", USER, "--report", str(report), "--timeout", "60"]
    try:
        status, out, err, opened = _run_batch(driver, idp, opener, cmd, env)

        assert status == 1, f"exit {status} (1: some tenants failed)\n{out}\n{err}"
        rows = json.loads(report.read_text(encoding="utf-8"))["tenants"]
        assert [r["tenant"] for r in rows] == [t.name for t in TENANTS]
        got = {r["tenant"]: (r["outcome"], r["sign_in"], r["aadsts"], r["hint"]) for r in rows}
        assert got == EXPECTED, (opened, [(r["tenant"], r.get("prompt")) for r in idp.authorize_requests],
                                 captures(driver.extension_status()), out, err)
        for r in rows:
            if r["outcome"] == "signed_in":
                assert r["account"] == USER and r["expires"] and r["scopes"] == ["https://graph.microsoft.com/.default"]
        # Each sign-in in its own tab, claimed by its state: nothing filled, each tab closed.
        assert sorted(opened) == sorted([t.name for t in TENANTS] + [
            t.name for t in TENANTS if t.behaviour in ("mfa", "login", "consent", "cmsi")])
        assert wait_for(lambda: not [u for u in _tab_urls(driver) if SIGNIN_HOST in u], 10.0), \
            f"sign-in tabs left open: {_tab_urls(driver)}"
        assert all(c.get("fill_reason") in ("claimed", "error_response") for c in captures(driver.extension_status()))
        assert sorted(t for t, _ in idp.issued_tokens) == sorted(t for t, v in EXPECTED.items() if v[0] == "signed_in")

        # The rerun: every tenant with a token is skipped; only the two that failed are tried.
        tokens, asked = list(idp.issued_tokens), len(idp.authorize_requests)
        status, out, err, opened = _run_batch(driver, idp, opener, cmd, env)
        assert status == 1, f"{out}\n{err}"
        rows = json.loads(report.read_text(encoding="utf-8"))["tenants"]
        assert {r["tenant"]: r["outcome"] for r in rows} == {
            t: ("cached" if v[0] == "signed_in" else "failed") for t, v in EXPECTED.items()}
        assert idp.issued_tokens == tokens, "the rerun signed a tenant in"
        assert {r["tenant"] for r in idp.authorize_requests[asked:]} == {"alpineski.test", "margies.test"}
    finally:
        opener.close()

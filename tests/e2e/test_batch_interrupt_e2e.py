"""Ctrl-C in a batch `codecatch login`, end to end in real headless Chromium.

Two tenants wait at Microsoft's Confirm-My-Sign-In page (the test never clicks
Continue); one signs in at once; one never starts (--parallel 2). Once their tabs are
open (the browser's own tab list says so) and the first tenant is done (the CLI's line
says so), the CLI gets SIGINT as a terminal sends it. The sign-in tabs of the flows in
flight must close, and nothing else: not the panel, not a sign-in tab of another flow
(another state), not the tab of the browser's own session. The report holds what was
done and what was interrupted; the exit status is 130; a rerun resumes and finishes.
"""

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from codecatch.mocksite import browser as mockbrowser
from hostproc import sigint_as_in_a_terminal
from idp import MockIdP, Tenant

from .scenarios import wait_for
from .test_batch_login_e2e import OPENER, Opener, _run_batch, _tab_urls
from .test_login_e2e import SIGNIN_HOST, login_browser  # noqa: F401 (the fixture, with this module's idp)

pytestmark = pytest.mark.browser

USER = "admin@contoso.test"
DONE, WAITING, NOT_STARTED = "northwind.test", ("treyresearch.test", "wingtip.test"), "fabrikam.test"
TENANTS = [Tenant(DONE, "silent"), Tenant(WAITING[0], "cmsi"), Tenant(WAITING[1], "cmsi"),
           Tenant(NOT_STARTED, "silent")]
WAIT_S = 60


@pytest.fixture
def idp():
    with MockIdP(hostnames=("127.0.0.1", "localhost", SIGNIN_HOST), authorize_host=SIGNIN_HOST,
                 tenants=TENANTS) as server:
        yield server


def _state(url):
    return (urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("state") or [None])[0]


def _tenant(url):
    return urllib.parse.urlsplit(url).path.split("/")[1]


def test_ctrl_c_closes_the_sign_in_tabs_in_flight_writes_the_report_and_a_rerun_resumes(
        login_browser, site, idp, browser_env, tmp_path):  # noqa: F811
    from playwright.sync_api import Error as PlaywrightError

    driver = login_browser
    assert wait_for(lambda: driver.extension_status()["connection"]["state"] == "connected", 15.0), \
        "the extension never connected to its host"
    # Tabs that are not the batch's: the panel, the browser's session page on the sign-in
    # host, and a sign-in of another flow (the same tenant, another state) waiting as well.
    panel = driver.open_panel(site.panel_url())
    session = driver.open_page(idp.session_url(USER))
    foreign_url = (f"https://{SIGNIN_HOST}/{WAITING[0]}/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
        "client_id": "12128f48-ec9e-42f0-b203-ea49fb6af367", "response_type": "code", "state": "another-flow",
        "redirect_uri": "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"}))
    foreign = driver.open_page(foreign_url)
    others = {panel.url, session.url, foreign.url}

    report = tmp_path / "report.json"
    opener = Opener()
    env = dict(browser_env, BROWSER=f"{sys.executable} {OPENER} %s", CODECATCH_TEST_OPENER=str(opener.port))
    cmd = mockbrowser.codecatch_command() + [
        "login", "--client", "teams-powershell", "--authority-host", idp.host, "--ca-bundle",
        idp.ca_file(str(tmp_path)), "--cache-dir", str(tmp_path / "caches"), "--parallel", "2",
        "--report", str(report), "--timeout", str(WAIT_S * 2)] + [
        arg for t in TENANTS for arg in ("--tenant", t.name)]
    cli = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                           preexec_fn=sigint_as_in_a_terminal)
    out, err = [], []
    for stream, into in ((cli.stdout, out), (cli.stderr, err)):
        threading.Thread(target=lambda s=stream, i=into: i.extend(s), daemon=True).start()
    try:
        # Open every URL the CLI hands over, as a browser would; click nothing.
        waiting_states = {}
        deadline = time.monotonic() + WAIT_S
        while len(waiting_states) < len(WAITING) or not any(f"{DONE}: signed in" in line for line in out):
            assert cli.poll() is None and time.monotonic() < deadline, (cli.poll(), out, err)
            try:
                url = opener.urls.get(timeout=0.1)
            except queue.Empty:
                continue
            page = driver.context.new_page()
            try:
                page.goto(url, wait_until="load")
            except PlaywrightError:
                pass  # the tenant that signs in at once: the extension closed its tab
            if _tenant(url) in WAITING:
                waiting_states[_tenant(url)] = _state(url)
        # The browser itself lists both waiting sign-ins, each on its authorization URL.
        assert {_state(u) for u in _tab_urls(driver)} >= set(waiting_states.values())

        cli.send_signal(signal.SIGINT)  # as Ctrl-C in a terminal
        status = cli.wait(timeout=WAIT_S)
        assert status == 130, f"exit {status}\n{''.join(out)}\n{''.join(err)}"

        # The two sign-in tabs in flight close; every other tab stays as it was.
        assert wait_for(lambda: not {_state(u) for u in _tab_urls(driver)} & set(waiting_states.values()), 10.0), \
            f"sign-in tabs left open: {_tab_urls(driver)}"
        assert others <= set(_tab_urls(driver)), _tab_urls(driver)
        assert not panel.is_closed() and not foreign.is_closed() and not session.is_closed()
        assert "Interrupted: asked the browser to close the 2 sign-in tabs still open." in "".join(out), out

        saved = json.loads(report.read_text(encoding="utf-8"))
        assert saved["interrupted"] is True
        rows = {r["tenant"]: (r["outcome"], r["error"]) for r in saved["tenants"]}
        assert rows == {DONE: ("signed_in", None), WAITING[0]: ("interrupted", "interrupted (Ctrl-C)"),
                        WAITING[1]: ("interrupted", "interrupted (Ctrl-C)"), NOT_STARTED: ("interrupted", "not started")}

        # The rerun resumes: the tenant done is skipped (its cache), the others sign in now.
        asked = len(idp.authorize_requests)
        status, rerun_out, rerun_err, opened = _run_batch(driver, idp, opener, cmd, env)
        assert status == 0, f"exit {status}\n{rerun_out}\n{rerun_err}"
        rows = {r["tenant"]: r["outcome"] for r in json.loads(report.read_text(encoding="utf-8"))["tenants"]}
        assert rows == {DONE: "cached", WAITING[0]: "signed_in", WAITING[1]: "signed_in", NOT_STARTED: "signed_in"}
        assert sorted({r["tenant"] for r in idp.authorize_requests[asked:]}) == sorted([*WAITING, NOT_STARTED])
        assert others <= set(_tab_urls(driver))
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        opener.close()

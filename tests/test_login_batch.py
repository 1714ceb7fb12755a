"""`codecatch login` over many tenants, without a browser: the mock identity provider's
tenants (tests/idp.py TENANT_BEHAVIOURS), prompt=none and its fall-back to an
interactive sign-in (login.login), the batch CLI with its report and exit statuses.

The browser is `SessionBrowser`: a requests session holding the mock's session cookie
that follows each authorization URL as a browser would, clicking Continue on the
Confirm-My-Sign-In page. The real browser, extension and host are in
tests/e2e/test_batch_login_e2e.py.
"""

import csv
import json
import os
import re
import stat
import threading
import urllib.parse

import pytest
from click.testing import CliRunner

from codecatch import batch, cli, login
from idp import MockIdP, Tenant

pytest.importorskip("msal")

TEAMS = login.CLIENTS["teams-powershell"]
USER = "admin@contoso.test"


class SessionBrowser:
    """A receiver: a browser with the mock's session cookie (unless `signed_in` is False)."""

    def __init__(self, idp, ca, signed_in=True):
        self.session = idp.session(ca)
        self.opened = []
        self.cmsi_clicks = 0
        self.lock = threading.Lock()
        if signed_in:
            self.session.get(idp.session_url(USER)).raise_for_status()

    def open_url(self, url):
        with self.lock:
            self.opened.append(url)

    def __call__(self, state, timeout, ready):
        ready()
        url = next(u for u in reversed(self.opened) if _query(u).get("state") == state)
        answer = self.session.get(url, allow_redirects=False)
        if answer.status_code == 302:
            return answer.headers["Location"]
        token = re.search(r'name="flowToken" value="([^"]+)"', answer.text)
        if token is None:
            return None  # a page that waits for the user (the sign-in form): nothing comes back
        self.cmsi_clicks += 1  # Continue on Confirm My Sign-In
        verify = self.session.post(url.split("/", 3)[0] + "//" + url.split("/")[2] + "/appverify",
                                   data={"flowToken": token.group(1), "ContinueAuth": "true"})
        target = re.search(r"document\.location\.replace\((\"[^\"]*\")\)", verify.text).group(1)
        return json.loads(target)


def _query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


TENANTS = [Tenant("silent.test", "silent"), Tenant("mfa.test", "mfa"), Tenant("login.test", "login"),
           Tenant("consent.test", "consent"), Tenant("stranger.test", "non_member"), Tenant("cmsi.test", "cmsi")]


@pytest.fixture
def idp():
    with MockIdP(tenants=TENANTS, require_session=True) as server:
        yield server


@pytest.fixture
def ca(idp, tmp_path):
    return idp.ca_file(str(tmp_path))


def _login(idp, ca, browser, tenant, **kw):
    cfg = login.settings(client="teams-powershell", tenant=tenant, authority_host=idp.host, ca_bundle=ca)
    return login.login(cfg, browser, browser.open_url, http_client=idp.session(ca), **kw)


# --- the mock and login's fall-back -------------------------------------------------------

@pytest.mark.parametrize("tenant, prompts, sign_in", [
    ("silent.test", ["none"], "none"),
    ("mfa.test", ["none", None], "interactive"),
    ("login.test", ["none", None], "interactive"),
    ("cmsi.test", ["none", None], "interactive"),
])
def test_prompt_none_first_then_interactive_when_microsoft_asks_for_the_user(idp, ca, tenant, prompts, sign_in):
    browser = SessionBrowser(idp, ca)
    phases = []
    result = _login(idp, ca, browser, tenant, prompt="none", login_hint=USER, domain_hint="contoso.test",
                    on_phase=phases.append)

    assert result["access_token"].startswith("at-")
    assert result["codecatch_prompt"] == sign_in
    assert result["id_token_claims"]["tid"] == Tenant(tenant).tid
    assert [_query(u).get("prompt") for u in browser.opened] == prompts
    assert all(_query(u)["login_hint"] == USER and _query(u)["domain_hint"] == "contoso.test"
               for u in browser.opened)
    assert phases[0] == "browser" and phases[-1] == "redeeming"
    assert ("interactive" in phases) == (sign_in == "interactive")
    assert browser.cmsi_clicks == (1 if tenant == "cmsi.test" else 0)


def test_without_prompt_none_the_sign_in_is_interactive_at_once(idp, ca):
    browser = SessionBrowser(idp, ca)
    result = _login(idp, ca, browser, "mfa.test")
    assert result["codecatch_prompt"] == "interactive"
    assert [_query(u).get("prompt") for u in browser.opened] == [None]


def test_consent_missing_fails_at_the_token_endpoint_with_aadsts65001(idp, ca):
    browser = SessionBrowser(idp, ca)
    with pytest.raises(login.LoginError) as caught:
        _login(idp, ca, browser, "consent.test", prompt="none")
    assert caught.value.aadsts == "AADSTS65001" and caught.value.reason == "token_error"
    assert "Global Administrator must grant admin consent" in caught.value.hint
    # prompt=none said consent_required, so the interactive sign-in was tried too
    assert [_query(u).get("prompt") for u in browser.opened] == ["none", None]


def test_a_non_member_account_fails_without_an_interactive_retry(idp, ca):
    browser = SessionBrowser(idp, ca)
    with pytest.raises(login.LoginError) as caught:
        _login(idp, ca, browser, "stranger.test", prompt="none")
    assert caught.value.aadsts == "AADSTS50020" and caught.value.error == "invalid_request"
    assert [_query(u).get("prompt") for u in browser.opened] == ["none"]


def test_without_the_session_cookie_prompt_none_is_login_required(idp, ca):
    browser = SessionBrowser(idp, ca, signed_in=False)
    with pytest.raises(login.LoginError) as caught:
        _login(idp, ca, browser, "silent.test", prompt="none", timeout=5)
    # prompt=none: login_required (AADSTS50058); then the interactive sign-in shows the
    # sign-in form, which this browser never fills: nothing comes back.
    assert caught.value.reason == "timeout"
    assert [_query(u).get("prompt") for u in browser.opened] == ["none", None]
    assert idp.issued_tokens == []


# --- the batch CLI (the browser replaced by SessionBrowser) ---------------------------------

@pytest.fixture
def batch_cli(idp, ca, monkeypatch):
    browser = SessionBrowser(idp, ca)
    monkeypatch.setattr(login, "stream_receiver", lambda *a, **kw: browser)
    monkeypatch.setattr("webbrowser.open", lambda url: browser.open_url(url) or True)

    def run(*args):
        return CliRunner().invoke(cli.main, [
            "login", "--client", "teams-powershell", "--authority-host", idp.host, "--ca-bundle", ca,
            "--prompt", "none", "--login-hint", USER, *args])

    run.browser = browser
    return run


def test_batch_report_names_each_outcome_and_a_rerun_signs_in_nobody(idp, batch_cli, tmp_path):
    tenant_file = tmp_path / "tenants.txt"
    tenant_file.write_text("# customers\nsilent.test\nmfa.test   # needs MFA\n\nconsent.test\nstranger.test\n"
                           "cmsi.test\nSILENT.test\n", encoding="utf-8")
    caches, report = tmp_path / "caches", tmp_path / "report.json"
    out = batch_cli("--tenant-file", str(tenant_file), "--cache-dir", str(caches), "--parallel", "2",
                    "--report", str(report))

    assert out.exit_code == 1, out.output
    rows = {r["tenant"]: r for r in json.loads(report.read_text())["tenants"]}
    assert list(rows) == ["silent.test", "mfa.test", "consent.test", "stranger.test", "cmsi.test"]
    assert {t: (r["outcome"], r["sign_in"], r["aadsts"]) for t, r in rows.items()} == {
        "silent.test": ("signed_in", "none", None),
        "mfa.test": ("signed_in", "interactive", None),
        "consent.test": ("failed", "interactive", "AADSTS65001"),
        "stranger.test": ("failed", "none", "AADSTS50020"),
        "cmsi.test": ("signed_in", "interactive", None),
    }
    assert all(r["account"] == USER and r["expires"] and r["scopes"] for r in rows.values() if r["outcome"] != "failed")
    assert rows["stranger.test"]["hint"].startswith("This account is not from the customer's tenant")
    for name in ("silent.test", "mfa.test", "cmsi.test"):
        mode = stat.S_IMODE(os.stat(caches / f"{name}.json").st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert not (caches / "consent.test.json").exists() or "AccessToken" not in (caches / "consent.test.json").read_text()
    assert "at-" not in out.output and "at-" not in report.read_text()  # no token is ever shown
    assert "silent.test: signed in silently (prompt=none) as admin@contoso.test" in out.output  # plain lines

    before = (len(idp.authorize_requests), list(idp.issued_tokens))
    again = batch_cli("--tenant-file", str(tenant_file), "--cache-dir", str(caches), "--report", str(report))
    assert again.exit_code == 1, again.output
    rows = {r["tenant"]: r for r in json.loads(report.read_text())["tenants"]}
    assert {t: r["outcome"] for t, r in rows.items()} == {
        "silent.test": "cached", "mfa.test": "cached", "consent.test": "failed", "stranger.test": "failed",
        "cmsi.test": "cached"}
    assert idp.issued_tokens == before[1], "the rerun signed someone in"
    asked = {r["tenant"] for r in idp.authorize_requests[before[0]:]}
    assert asked == {"consent.test", "stranger.test"}, "the rerun opened a sign-in for a tenant with a token"


def test_batch_exit_0_when_all_succeed_and_csv_report(idp, batch_cli, tmp_path):
    report = tmp_path / "r.csv"
    out = batch_cli("--tenant", "silent.test", "--tenant", "mfa.test", "--cache-dir", str(tmp_path / "c"),
                    "--report", str(report))
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["tenant"], r["outcome"], r["sign_in"]) for r in rows] == [
        ("silent.test", "signed_in", "none"), ("mfa.test", "signed_in", "interactive")]
    assert list(rows[0]) == list(batch.REPORT_FIELDS)


def test_fresh_signs_in_again_despite_the_cache(idp, batch_cli, tmp_path):
    args = ("--tenant", "silent.test", "--tenant", "mfa.test", "--cache-dir", str(tmp_path / "c"))
    assert batch_cli(*args).exit_code == 0
    tokens = len(idp.issued_tokens)
    out = batch_cli(*args, "--fresh", "--report", str(tmp_path / "r.json"))
    assert out.exit_code == 0, out.output
    assert len(idp.issued_tokens) == tokens + 2
    assert {r["outcome"] for r in json.loads((tmp_path / "r.json").read_text())["tenants"]} == {"signed_in"}


@pytest.mark.parametrize("args, message", [
    (["--tenant", "a.test", "--tenant", "b.test"], "need --cache-dir"),
    (["--tenant", "a.test", "--tenant", "b/c", "--cache-dir", "D"], "'b/c' is not a tenant"),
    (["--tenant-file", "missing.txt", "--cache-dir", "D"], "cannot read missing.txt"),
    (["--tenant", "a.test", "--cache-dir", "D", "--report", "r.txt"], "must end in .json or .csv"),
    (["--tenant", "a.test", "--cache-dir", "D", "--cache", "x.json"], "--cache FILE (use --cache-dir DIR)"),
    (["--tenant", "a.test", "--cache-dir", "D", "--format", "json"], "--format is for one tenant"),
    (["--tenant", "a.test", "--parallel", "2"], "--parallel is for several tenants"),
    (["--tenant", "a.test", "--tenant", "b.test", "--cache-dir", "D", "--parallel", "0"], "0 is not in the range"),
])
def test_batch_usage_errors_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli.main, ["login", "--client", "teams-powershell", *args])
    assert out.exit_code == 2, out.output
    assert message in out.output


def test_tenant_file_lines():
    assert batch.parse_tenant_lines("a.test\n  # x\n\nb.test # c\n00000000-0000-0000-0000-000000000001\n") == [
        "a.test", "b.test", "00000000-0000-0000-0000-000000000001"]
    with pytest.raises(batch.BatchError, match="line 2: one tenant per line"):
        batch.parse_tenant_lines("a.test\nb.test c.test\n")
    with pytest.raises(batch.BatchError, match="line 1: '..' is not a tenant"):
        batch.parse_tenant_lines("..\n")


def test_ctrl_c_writes_the_report_first_and_a_second_ctrl_c_skips_closing_the_tabs(batch_cli, tmp_path, monkeypatch):
    from codecatch import batch, stream_client

    def interrupted(tenants, job, parallel, on_event):  # Ctrl-C came while two sign-ins waited
        return batch.Results([batch.Result(t, batch.INTERRUPTED, error="interrupted (Ctrl-C)") for t in tenants],
                             interrupted=True)

    def second_ctrl_c(self, timeout=None):
        assert report.exists(), "the report must be on disk before the tabs are closed"
        raise KeyboardInterrupt

    report = tmp_path / "report.json"
    monkeypatch.setattr(batch, "run", interrupted)
    monkeypatch.setattr(stream_client.InFlight, "abandon_all", second_ctrl_c)
    monkeypatch.setattr(stream_client.InFlight, "__len__", lambda self: 2)
    out = batch_cli("--tenant", "a.test", "--tenant", "b.test", "--cache-dir", str(tmp_path / "c"),
                    "--report", str(report))
    assert out.exit_code == 130, out.output
    assert [r["outcome"] for r in json.loads(report.read_text())["tenants"]] == ["interrupted", "interrupted"]
    assert "Interrupted: 2 of 2 sign-in tabs could not be closed" in out.output


def test_what_ctrl_c_says_of_the_sign_in_tabs():
    from codecatch import display

    assert display.abandoned_text(0, 0) is None  # nothing was waiting in the browser
    assert display.abandoned_text(1, 1) == "Interrupted: asked the browser to close the sign-in tab still open."
    assert display.abandoned_text(3, 3) == "Interrupted: asked the browser to close the 3 sign-in tabs still open."
    assert display.abandoned_text(3, 1) == ("Interrupted: 2 of 3 sign-in tabs could not be closed (no browser "
                                            "host answered in time): close them by hand.")


def test_with_no_browser_host_the_batch_stops_waiting_after_the_first_tenant(idp, ca, tmp_path, monkeypatch):
    """No codecatch host ever ran (no browser with the extension): the first tenant
    waits its --timeout and fails `no_host`; the others are not tried, so 50 tenants do
    not each wait that long."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(runtime))
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    report = tmp_path / "r.json"
    out = CliRunner().invoke(cli.main, [
        "login", "--client", "teams-powershell", "--authority-host", idp.host, "--ca-bundle", ca,
        "--tenant", "silent.test", "--tenant", "mfa.test", "--tenant", "cmsi.test", "--parallel", "1",
        "--cache-dir", str(tmp_path / "c"), "--timeout", "1", "--report", str(report)])
    assert out.exit_code == 1, out.output
    rows = json.loads(report.read_text())["tenants"]
    assert [r["outcome"] for r in rows] == ["failed"] * 3
    assert rows[0]["error"].startswith("No browser host of codecatch was running during the ")
    assert [r["error"] for r in rows[1:]] == ["Not tried: no browser host of codecatch ran during an earlier "
                                              "tenant's wait."] * 2
    assert "codecatch doctor" in rows[1]["hint"]
    assert len(opened) == 1  # only the first tenant's sign-in was opened
    # On screen, what happened and what to do, on one line (not the hint alone).
    assert any("No browser host of codecatch was running" in line and "codecatch doctor" in line
               for line in out.output.splitlines()), out.output

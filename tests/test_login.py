"""`codecatch login` and `codecatch token` against a local mock identity provider over TLS.

The receiver (how the redirect reaches login) is injected: `BrowserStandIn` plays the
user's browser by fetching the authorization URL from the mock and returning the
custom-scheme URI its 302 points at, which is what the extension would capture.
"""

import json
import os
import stat
import subprocess
import sys
import urllib.parse

import pytest
from click.testing import CliRunner

from codecatch import cli, login, redirect
from idp import MockIdP

pytest.importorskip("msal")
pytest.importorskip("trustme")

TEAMS = login.CLIENTS["teams-powershell"]


@pytest.fixture
def idp():
    with MockIdP() as server:
        yield server


@pytest.fixture
def ca(idp, tmp_path):
    return idp.ca_file(str(tmp_path))


@pytest.fixture
def cfg(idp, ca):
    return login.settings(client="teams-powershell", tenant="contoso", authority_host=idp.host, ca_bundle=ca)


@pytest.fixture
def session(idp, ca):
    return idp.session(ca)


class BrowserStandIn:
    """A receiver: after ready() (the URL is 'opened'), follows the authorization URL
    one hop and returns the redirect it ends on, optionally altered."""

    def __init__(self, session, alter=None):
        self.session = session
        self.alter = alter
        self.opened = []
        self.calls = []

    def open_url(self, url):
        self.opened.append(url)

    def __call__(self, state, timeout, ready):
        self.calls.append(state)
        ready()
        answer = self.session.get(self.opened[-1], allow_redirects=False)
        assert answer.status_code == 302
        uri = answer.headers["Location"]
        return self.alter(uri) if self.alter else uri


def _query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_success_sends_pkce_verifier_and_custom_redirect_uri(idp, cfg, session):
    browser = BrowserStandIn(session)
    result = login.login(cfg, browser, browser.open_url, http_client=session)

    assert result["access_token"].startswith("at-")
    assert result["id_token_claims"]["preferred_username"] == "admin@contoso.test"
    auth = _query(browser.opened[0])
    assert auth["code_challenge_method"] == "S256" and auth["code_challenge"]
    assert auth["redirect_uri"] == TEAMS.redirect_uri
    assert auth["client_id"] == TEAMS.client_id
    assert browser.calls == [auth["state"]]  # the receiver was asked for this flow's state

    (post,) = idp.token_requests
    assert post["grant_type"] == "authorization_code"
    assert post["redirect_uri"] == "ms-appx-web://Microsoft.AAD.BrokerPlugin/" + TEAMS.client_id
    assert len(post["code_verifier"]) >= 43  # RFC 7636: 43-128 characters
    assert post["client_id"] == TEAMS.client_id


def test_receiver_may_return_a_response_object_or_a_capture_event(idp, cfg, session):
    browser = BrowserStandIn(session, alter=lambda uri: {"type": "capture", "response": redirect.parse(uri)})
    result = login.login(cfg, browser, browser.open_url, http_client=session)
    assert result["access_token"].startswith("at-")


def test_state_mismatch_is_refused_before_redeeming(idp, cfg, session):
    def swap_state(uri):
        return uri.replace("state=", "state=forged")

    browser = BrowserStandIn(session, alter=swap_state)
    with pytest.raises(login.LoginError) as err:
        login.login(cfg, browser, browser.open_url, http_client=session)
    assert err.value.reason == "state_mismatch"
    assert "state" in err.value.message and err.value.hint
    assert idp.token_requests == []  # the code was never sent anywhere


def test_error_response_gives_aadsts_and_hint(idp, cfg, session):
    idp.next_error = ("access_denied", "AADSTS65004: User declined to consent to access the app.")
    browser = BrowserStandIn(session)
    with pytest.raises(login.LoginError) as err:
        login.login(cfg, browser, browser.open_url, http_client=session)
    assert err.value.reason == "error_response"
    assert err.value.aadsts == "AADSTS65004"
    assert err.value.hint == redirect.HINTS["AADSTS65004"]
    assert "access_denied" in err.value.message and "correlation id" in err.value.message
    assert idp.token_requests == []


def test_a_flow_is_redeemed_once(idp, cfg, session):
    app = login.application(cfg, http_client=session)
    flow = login.Flow(app, cfg)
    browser = BrowserStandIn(session)
    uri = browser(flow.state, 5, lambda: browser.open_url(flow.auth_uri))
    assert flow.redeem(uri)["access_token"]
    with pytest.raises(login.LoginError) as err:
        flow.redeem(uri)
    assert err.value.reason == "flow_used"
    assert len(idp.token_requests) == 1  # the second attempt never reached the IdP


def test_a_failed_redemption_also_uses_up_the_flow(idp, cfg, session):
    app = login.application(cfg, http_client=session)
    flow = login.Flow(app, cfg)
    with pytest.raises(login.LoginError):
        flow.redeem(f"{cfg.redirect_uri}?code=x&state=wrong")
    assert flow.used


def test_a_code_redeemed_twice_at_the_idp_names_the_aadsts(idp, cfg, session):
    app = login.application(cfg, http_client=session)
    browser = BrowserStandIn(session)
    first = login.Flow(app, cfg)
    uri = browser(first.state, 5, lambda: browser.open_url(first.auth_uri))
    first.redeem(uri)
    # A second flow cannot be tricked into redeeming the same code either: the mock
    # (like Microsoft) refuses a used code; simulate a copy of the flow's state.
    again = login.Flow(app, cfg)
    with pytest.raises(login.LoginError) as err:
        again.redeem(uri.replace(f"state={first.state}", f"state={again.state}"))
    assert err.value.reason == "token_error"
    assert err.value.aadsts == "AADSTS54005"
    assert err.value.hint == redirect.HINTS["AADSTS54005"]


def test_timeout_when_nothing_comes_back(cfg, session):
    with pytest.raises(login.LoginError) as err:
        login.login(cfg, lambda state, timeout, ready: None, lambda url: None, timeout=2, http_client=session)
    assert err.value.reason == "timeout" and "2 s" in err.value.message


def test_cache_file_is_0600_and_a_second_run_refreshes_silently(idp, cfg, session, tmp_path):
    idp.expires_in = 60  # MSAL refreshes tokens that expire within 5 minutes
    cache = str(tmp_path / "sub" / "tokens.json")
    browser = BrowserStandIn(session)
    first = login.login(cfg, browser, browser.open_url, cache_path=cache, http_client=session)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert first["access_token"] in open(cache).read()

    second = login.token(cfg, cache, http_client=session)
    assert second["access_token"] != first["access_token"]
    assert [r["grant_type"] for r in idp.token_requests] == ["authorization_code", "refresh_token"]
    assert len(browser.opened) == 1  # no second sign-in
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600

    # login itself reuses the cache too, without opening the browser...
    third = login.login(cfg, browser, browser.open_url, cache_path=cache, http_client=session)
    assert third["codecatch_source"] == "cache" and len(browser.opened) == 1
    # ...unless asked for a fresh sign-in.
    login.login(cfg, browser, browser.open_url, cache_path=cache, reuse_cache=False, http_client=session)
    assert len(browser.opened) == 2


def test_cache_file_mode_is_fixed_on_rewrite(idp, cfg, session, tmp_path):
    cache = tmp_path / "tokens.json"
    cache.write_text("")
    cache.chmod(0o644)
    browser = BrowserStandIn(session)
    login.login(cfg, browser, browser.open_url, cache_path=str(cache), http_client=session)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_token_without_cache_says_what_to_do(cfg, tmp_path):
    with pytest.raises(login.LoginError) as err:
        login.token(cfg, str(tmp_path / "none.json"))
    assert err.value.reason == "no_account" and "codecatch login" in err.value.hint


def test_paste_receiver_skips_noise_and_reads_a_console_line(idp, cfg, session):
    browser = BrowserStandIn(session)
    uri = {}

    def ready_and_fetch():
        browser.open_url(flow_uri[0])
        uri["v"] = session.get(flow_uri[0], allow_redirects=False).headers["Location"]

    lines = iter(["\n", "some noise\n"])

    def read_line():
        try:
            return next(lines)
        except StopIteration:
            if "sent" in uri:
                return ""
            uri["sent"] = True
            return f"Failed to launch '{uri['v']}' because the scheme does not have a registered handler.\n"

    prompts = []
    receive = login.paste_receiver(read_line, prompts.append)
    flow_uri = []
    result = login.login(cfg, lambda s, t, ready: receive(s, t, ready),
                         lambda url: (flow_uri.append(url), ready_and_fetch()), http_client=session)
    assert result["access_token"].startswith("at-")
    assert prompts and "Paste" in prompts[0]


def test_paste_receiver_with_nothing_usable():
    receive = login.paste_receiver(iter(["hello\n", ""]).__next__, lambda text: None)
    with pytest.raises(login.LoginError) as err:
        receive("s", 5, lambda: None)
    assert err.value.reason == "unusable_response"


# --- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(login.CLIENTS))
def test_well_known_clients_default_to_a_custom_scheme_redirect(name):
    client = login.CLIENTS[name]
    client_id, redirect_uri = login.resolve_client(name)
    assert client_id == client.client_id
    assert not redirect_uri.startswith(("http://", "https://"))
    assert redirect.classify(redirect_uri)[1] in ("custom", "oob")


def test_client_id_alone_finds_the_well_known_redirect():
    assert login.resolve_client(client_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46")[1] == "msauth.com.msauth.unsignedapp://auth"
    with pytest.raises(login.LoginError):
        login.resolve_client(client_id="00000000-0000-0000-0000-000000000000")  # no redirect known
    with pytest.raises(login.LoginError):
        login.resolve_client("no-such-client")


@pytest.mark.parametrize("given, expected", [
    (None, "https://login.microsoftonline.com/organizations"),
    ("usgov", "https://login.microsoftonline.us/organizations"),
    ("login.partner.microsoftonline.cn", "https://login.partner.microsoftonline.cn/organizations"),
    ("https://Login.MicrosoftOnline.US/", "https://login.microsoftonline.us/organizations"),
    ("127.0.0.1:8443", "https://127.0.0.1:8443/organizations"),
])
def test_authority_hosts(given, expected):
    assert login.authority_url(given) == expected


@pytest.mark.parametrize("bad", ["http://login.microsoftonline.com", "evil.test/path", "user@host"])
def test_bad_authority_hosts(bad):
    with pytest.raises(login.LoginError):
        login.authority_url(bad)


def test_default_scope_follows_the_cloud():
    assert login.default_scopes("https://login.microsoftonline.us/x") == ["https://graph.microsoft.us/.default"]
    assert login.default_scopes("https://login.chinacloudapi.cn/x") == ["https://microsoftgraph.chinacloudapi.cn/.default"]
    assert login.default_scopes("https://127.0.0.1:1/x") == ["https://graph.microsoft.com/.default"]


# --- the command line -------------------------------------------------------------------------

def test_importing_the_cli_does_not_import_msal():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import codecatch.cli"],
                         capture_output=True, text=True, check=True).stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in out.splitlines()}
    assert not {m for m in loaded if m.split(".")[0] in ("msal", "requests", "jwt", "cryptography", "urllib3")}


def _cli(*args):
    return [sys.executable, "-m", "codecatch.cli", *args]


def test_cli_paste_login_then_token_from_cache(idp, ca, tmp_path):
    """The whole command in a subprocess, with REQUESTS_CA_BUNDLE pointing elsewhere
    (as on this machine): --ca-bundle must still win."""
    cache = str(tmp_path / "cache.json")
    env = dict(os.environ, REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt")
    args = ["--client", "azure-cli", "--tenant", "contoso", "--authority-host", idp.host,
            "--ca-bundle", ca, "--cache", cache]
    proc = subprocess.Popen(_cli("login", *args, "--print-url", "--paste", "--format", "json"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    url = None
    for line in proc.stderr:
        if line.startswith("https://"):
            url = line.strip()
            break
    assert url, "the CLI printed no URL"
    session = idp.session(ca)
    location = session.get(url, allow_redirects=False).headers["Location"]
    assert location.startswith("msauth.com.msauth.unsignedapp://auth?code=")
    out, err = proc.communicate(location + "\n", timeout=30)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["access_token"].startswith("at-")
    assert "admin@contoso.test" in err
    assert idp.token_requests[-1]["redirect_uri"] == "msauth.com.msauth.unsignedapp://auth"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600

    done = subprocess.run(_cli("token", *args), capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == result["access_token"]  # still valid: served from the cache
    assert "from the token cache" in done.stderr
    assert "signed in as admin@contoso.test" in done.stderr  # whose token, as after the sign-in


def test_cli_error_response_exit_1_with_hint(idp, ca, monkeypatch):
    """The default receiver (the event stream) replaced by the stand-in browser."""
    idp.next_error = ("access_denied", "AADSTS65004: User declined to consent to access the app.")
    session = idp.session(ca)
    browser = BrowserStandIn(session)
    monkeypatch.setattr(login, "stream_receiver", lambda **kw: browser)
    monkeypatch.setattr("webbrowser.open", lambda url: browser.open_url(url) or True)
    result = CliRunner().invoke(cli.main, ["login", "--client", "teams-powershell", "--authority-host", idp.host,
                                           "--tenant", "contoso", "--ca-bundle", ca])
    assert result.exit_code == 1, result.output
    assert "AADSTS65004" in result.output
    assert redirect.HINTS["AADSTS65004"] in result.output
    assert len(browser.opened) == 1


def test_cli_timeout_exit_3(idp, ca, monkeypatch):
    monkeypatch.setattr(login, "stream_receiver", lambda **kw: lambda state, timeout, ready: ready())
    result = CliRunner().invoke(cli.main, ["login", "--client", "azure-cli", "--authority-host", idp.host,
                                           "--ca-bundle", ca, "--print-url", "--timeout", "1"])
    assert result.exit_code == 3, result.output
    assert "No sign-in came back within 1 s" in result.output and "oauth2/v2.0/authorize?" in result.output


def test_cli_token_requires_cache():
    result = CliRunner().invoke(cli.main, ["token", "--client", "azure-cli"])
    assert result.exit_code == 2 and "--cache" in result.output


def test_cli_unknown_client_is_a_usage_error():
    result = CliRunner().invoke(cli.main, ["login", "--client", "nope", "--paste"])
    assert result.exit_code == 2 and "Unknown client" in result.output


def test_cli_unreachable_authority_exit_5(tmp_path):
    result = CliRunner().invoke(cli.main, ["login", "--client", "azure-cli", "--authority-host", "127.0.0.1:1",
                                           "--paste"], input="")
    assert result.exit_code == 5, result.output
    assert "Cannot reach 127.0.0.1:1" in result.output and "hint:" in result.output


def test_client_name_and_a_different_client_id_conflict():
    with pytest.raises(login.LoginError) as info:
        login.resolve_client("teams-powershell", "11111111-2222-3333-4444-555555555555")
    assert info.value.reason == "usage" and "give one of --client and --client-id" in info.value.message
    # The same id, spelt out, is not a conflict.
    assert login.resolve_client("teams-powershell", "12128F48-EC9E-42F0-B203-EA49FB6AF367")[0]


def test_token_help_says_cache_is_required_and_lists_exit_statuses():
    from click.testing import CliRunner

    from codecatch.cli import main

    shown = " ".join(CliRunner().invoke(main, ["token", "--help"]).output.split())
    option = shown.split("Options:")[1].split(" --cache FILE")[1].split(" --account")[0]
    assert "[required]" in option, option
    for status in ("0 token printed", "1 Microsoft", "2 unusable options", "4 no usable token", "5 the authority"):
        assert status in shown, status
    missing = CliRunner().invoke(main, ["token", "--client", "azure-cli"])
    assert missing.exit_code == 2 and "Missing option '--cache'" in missing.output

"""`codecatch login` and `codecatch token` against an authority that stalls (issue 13).

A proxy or firewall that accepts the connection and then says nothing used to hang
both commands for good. Here real local servers stall at each stage (the TCP
connection, the TLS handshake, the HTTP answer, the token endpoint) and the real CLI
runs as a subprocess with a small --timeout: it must exit 5 within --timeout plus a
margin (the issue's acceptance criterion), with one `codecatch:` line that names the
host and the step, and a `hint:` line.
"""

import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from codecatch import login
from idp import MockIdP

pytest.importorskip("msal")
trustme = pytest.importorskip("trustme")

TIMEOUT_S = 3
# Interpreter start-up and exit on a busy machine; the deadline itself is kept to
# within a few milliseconds.
MARGIN_S = 2
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy")


class SilentServer:
    """Accepts TCP connections on 127.0.0.1, optionally completes the TLS handshake,
    then never sends a byte: a stalled authority, or a proxy that went silent.

    Every accepted socket is held (a closed one would be an answer) and closed on
    stop(), which also joins the thread.
    """

    def __init__(self, tls=True, hostnames=("127.0.0.1",)):
        self.ca = trustme.CA()
        self._context = None
        if tls:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ca.issue_cert(*hostnames).configure_cert(self._context)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._held = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def ca_file(self, folder):
        path = os.path.join(folder, "silent-ca.pem")
        self.ca.cert_pem.write_to_path(path)
        return path

    def _serve(self):
        while not self._stop.is_set():
            if not select.select([self._listener], [], [], 0.05)[0]:
                continue
            conn, _ = self._listener.accept()
            self._held.append(conn)
            if self._context is None:
                continue
            conn.settimeout(5)
            try:
                self._held.append(self._context.wrap_socket(conn, server_side=True))
            except (OSError, ssl.SSLError):
                pass  # the client gave up first: nothing to serve anyway

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()
        for conn in self._held:
            conn.close()
        self._listener.close()


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env["REQUESTS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"  # --ca-bundle must still win
    env.update(extra)
    return env


def _cli(*args):
    return [sys.executable, "-m", "codecatch.cli", *args]


def _run(args, env=None, stdin=""):
    """Run the CLI; (exit status, stderr lines, seconds from start to exit)."""
    started = time.monotonic()
    done = subprocess.run(_cli(*args), input=stdin, capture_output=True, text=True, env=env or _env(),
                          timeout=TIMEOUT_S + 30)
    return done.returncode, done.stderr.splitlines(), time.monotonic() - started


def _assert_stall(status, lines, elapsed, host, said, step):
    print(f"wall time {elapsed:.2f} s; stderr:", *lines, sep="\n")  # shown by pytest -rP
    assert status == 5, lines
    assert TIMEOUT_S - 0.5 <= elapsed <= TIMEOUT_S + MARGIN_S, elapsed
    error, hint = lines[-2:]
    assert error == f"codecatch: {host} {said} before --timeout ran out ({step})", error
    assert hint.startswith("hint: ") and "raise --timeout" in hint, hint
    assert not any(line.startswith("Traceback") for line in lines), lines


def _login_args(host, ca):
    return ["login", "--client", "azure-cli", "--tenant", "contoso", "--authority-host", host,
            "--ca-bundle", ca, "--print-url", "--paste", "--timeout", str(TIMEOUT_S)]


# --- every request has a timeout ------------------------------------------------------------

class _Recorder:
    """A requests transport adapter that records the timeout of each request."""

    def __init__(self):
        import requests

        self.timeouts = []
        outer = self

        class Adapter(requests.adapters.BaseAdapter):
            def send(self, request, timeout=None, **kwargs):
                outer.timeouts.append(timeout)
                response = requests.Response()
                response.status_code, response._content, response.request = 200, b"{}", request
                return response

            def close(self):
                pass

        self.adapter = Adapter()


def test_every_request_of_the_session_has_a_timeout():
    recorder = _Recorder()
    session = login.http_session()
    session.mount("https://", recorder.adapter)
    session.get("https://login.test/x")
    session.post("https://login.test/x/oauth2/v2.0/token", data={"grant_type": "refresh_token"})
    session.get("https://login.test/x", timeout=(1, 2))  # a timeout given is kept
    first, second, given = recorder.timeouts
    assert (first.connect_timeout, first.total) == (login.DEFAULT_HTTP_TIMEOUT_S, login.DEFAULT_HTTP_TIMEOUT_S)
    assert second.total == login.DEFAULT_HTTP_TIMEOUT_S
    assert given == (1, 2)


def test_the_deadline_caps_each_request_but_leaves_it_a_second():
    recorder = _Recorder()
    session = login.http_session(deadline=time.monotonic() + 4)
    session.mount("https://", recorder.adapter)
    session.get("https://login.test/x")
    assert 3 < recorder.timeouts[0].total <= 4
    late = login.http_session(deadline=time.monotonic() - 60)
    late.mount("https://", recorder.adapter)
    late.get("https://login.test/x")
    assert recorder.timeouts[1].total == login.MIN_HTTP_TIMEOUT_S


def test_the_per_request_limit_is_named_when_it_ran_out_first(tmp_path):
    """Without a deadline (or far from it) the message gives the request's own limit."""
    with SilentServer(tls=True) as server:
        ca = server.ca_file(str(tmp_path))
        cfg = login.settings(client="azure-cli", authority_host=server.host, ca_bundle=ca)
        with login.http_session(ca, timeout=1) as session, pytest.raises(login.LoginError) as err:
            login.application(cfg, http_client=session)
    assert err.value.reason == "network"
    assert err.value.message == (f"{server.host} did not answer within 1 s "
                                 "(while fetching the tenant's OpenID configuration)")
    assert "--timeout" not in err.value.hint  # raising it would not help


# --- the CLI against stalled servers --------------------------------------------------------

def test_login_no_http_answer_exit_5_names_the_openid_configuration(tmp_path):
    with SilentServer(tls=True) as server:
        status, lines, elapsed = _run(_login_args(server.host, server.ca_file(str(tmp_path))))
    _assert_stall(status, lines, elapsed, server.host, "did not answer",
                  "while fetching the tenant's OpenID configuration")
    assert len(lines) == 2, lines  # nothing before it: the URL needs the configuration


def test_login_no_tls_handshake_exit_5(tmp_path):
    with SilentServer(tls=False) as server:
        status, lines, elapsed = _run(_login_args(server.host, server.ca_file(str(tmp_path))))
    _assert_stall(status, lines, elapsed, server.host, "accepted the connection but did not complete the TLS handshake",
                  "while fetching the tenant's OpenID configuration")
    assert len(lines) == 2, lines


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="relies on Linux dropping SYNs to a full backlog")
def test_login_connection_never_accepted_exit_5(tmp_path):
    """A listener whose accept queue is full: Linux drops further SYNs, as a firewall
    that drops packets would, so the connection itself times out."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        host = f"127.0.0.1:{port}"
        status, lines, elapsed = _run(_login_args(host, __file__))
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    _assert_stall(status, lines, elapsed, host, "did not accept the connection",
                  "while fetching the tenant's OpenID configuration")


def test_login_stalled_redemption_exit_5_and_no_code_in_stderr(tmp_path):
    with MockIdP() as idp:
        ca = idp.ca_file(str(tmp_path))
        idp.stall_tokens = True
        started = time.monotonic()
        proc = subprocess.Popen(_cli(*_login_args(idp.host, ca)), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        lines = []
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("https://"):
                break
        with idp.session(ca) as session:
            location = session.get(lines[-1], allow_redirects=False).headers["Location"]
        out, err = proc.communicate(location + "\n", timeout=TIMEOUT_S + 30)
        elapsed = time.monotonic() - started
        host = idp.host
    lines += err.splitlines()
    _assert_stall(proc.returncode, lines, elapsed, host, "did not answer",
                  "while redeeming the authorization code")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    assert code not in err and out == ""
    assert [r["grant_type"] for r in idp.token_requests] == ["authorization_code"]


def _cache_needing_refresh(idp, ca, path):
    """Sign in once (in-process) so that `path` holds a refresh token and an access
    token MSAL will not serve (it refreshes tokens that expire within 5 minutes)."""
    idp.expires_in = 60
    cfg = login.settings(client="azure-cli", tenant="contoso", authority_host=idp.host, ca_bundle=ca)
    with idp.session(ca) as session:
        opened = []
        login.login(cfg, _follow(session, opened), opened.append, cache_path=path, http_client=session)


def _follow(session, opened):
    """A `receive` for login.login: the mock IdP signs in at once, so the redirect is
    where the URL login opened answers."""

    def receive(state, timeout, ready):
        ready()
        return session.get(opened[-1], allow_redirects=False).headers["Location"]

    return receive


def test_token_stalled_refresh_exit_5(tmp_path):
    cache = str(tmp_path / "cache.json")
    with MockIdP() as idp:
        ca = idp.ca_file(str(tmp_path))
        _cache_needing_refresh(idp, ca, cache)
        idp.stall_tokens = True
        status, lines, elapsed = _run(["token", "--client", "azure-cli", "--tenant", "contoso",
                                       "--authority-host", idp.host, "--ca-bundle", ca, "--cache", cache,
                                       "--timeout", str(TIMEOUT_S)])
        host = idp.host
    _assert_stall(status, lines, elapsed, host, "did not answer", "while refreshing the cached token")
    assert len(lines) == 2, lines
    assert [r["grant_type"] for r in idp.token_requests] == ["authorization_code", "refresh_token"]


def test_token_stalled_openid_configuration_exit_5(tmp_path):
    cache = str(tmp_path / "cache.json")
    with MockIdP() as idp:
        ca = idp.ca_file(str(tmp_path))
        _cache_needing_refresh(idp, ca, cache)
    with SilentServer(tls=True) as server:
        status, lines, elapsed = _run(["token", "--client", "azure-cli", "--tenant", "contoso",
                                       "--authority-host", server.host, "--ca-bundle", server.ca_file(str(tmp_path)),
                                       "--cache", cache, "--timeout", str(TIMEOUT_S)])
    _assert_stall(status, lines, elapsed, server.host, "did not answer",
                  "while fetching the tenant's OpenID configuration")
    assert len(lines) == 2, lines


def test_a_silent_proxy_is_named_in_the_hint_without_its_password(tmp_path):
    with SilentServer(tls=False) as proxy:
        env = _env(HTTPS_PROXY=f"http://someone:s3cret@{proxy.host}")
        status, lines, elapsed = _run(_login_args("login.test.invalid", __file__), env=env)
    _assert_stall(status, lines, elapsed, "login.test.invalid", "did not answer",
                  "while fetching the tenant's OpenID configuration")
    assert f"proxy http://{proxy.host}" in lines[-1]
    assert "s3cret" not in "\n".join(lines) and "someone" not in "\n".join(lines)


# --- whose token: the same summary from the cache as from a sign-in ---------------------------

def test_a_token_from_the_cache_names_the_account(tmp_path):
    cache = str(tmp_path / "cache.json")
    with MockIdP() as idp:
        ca = idp.ca_file(str(tmp_path))
        cfg = login.settings(client="azure-cli", tenant="contoso", authority_host=idp.host, ca_bundle=ca)
        with idp.session(ca) as session:
            opened = []
            receive = _follow(session, opened)
            fresh = login.login(cfg, receive, opened.append, cache_path=cache, http_client=session)
            cached = login.token(cfg, cache, http_client=session)
            again = login.login(cfg, receive, opened.append, cache_path=cache, http_client=session)
    assert "id_token_claims" not in cached  # MSAL served it from the cache, no id token
    assert len(opened) == 1
    fresh_text, cached_text, again_text = (login.describe(r) for r in (fresh, cached, again))
    assert fresh_text.startswith("signed in as admin@contoso.test, tenant ")
    assert cached_text.startswith("signed in as admin@contoso.test, tenant ")
    assert cached_text.endswith(", from the token cache") and again_text == cached_text
    assert "from the token cache" not in fresh_text
    assert cached["codecatch_account"]["username"] == "admin@contoso.test"

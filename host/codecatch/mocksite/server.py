"""One TLS server on 127.0.0.1 for every mocked host, routed by the Host header.

The applications (`signin.SignIn`, `panel.Panel`) are plain functions from a
`Request` to a `Response`; this module is the only one that touches sockets.
"""

import dataclasses
import http.server
import os
import ssl
import tempfile
import threading
import time
import urllib.parse

from . import hosts


@dataclasses.dataclass
class Request:
    method: str
    host: str  # lowercased, without the port
    port: int | None  # the port named in the Host header (Firefox), else None
    path: str
    query: dict  # name -> list of values, as urllib.parse.parse_qs gives them
    form: dict  # the same, for a url-encoded POST body
    headers: dict
    raw_query: str = ""
    received_at: float = 0.0  # ms since the epoch

    def arg(self, name, default=None):
        values = self.query.get(name) or self.form.get(name)
        return values[0] if values else default

    def origin(self, host=None):
        """https origin of `host` (default: this request's), as this client reaches it.

        Chromium maps names to our port (--host-resolver-rules), so URLs carry no
        port; Firefox cannot remap ports, so its URLs carry ours: keep whichever
        the browser used.
        """
        suffix = f":{self.port}" if self.port else ""
        return f"https://{host or self.host}{suffix}"


@dataclasses.dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: dict = dataclasses.field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    # Called with the send time (ms since the epoch) once the response is written.
    on_sent: object = None

    @classmethod
    def redirect(cls, location, status=302, on_sent=None):
        return cls(status=status, headers={"Location": location}, body=b"", on_sent=on_sent)

    @classmethod
    def text(cls, text, status=200):
        return cls(status=status, body=text, content_type="text/plain; charset=utf-8")


@dataclasses.dataclass
class Logged:
    at: float  # ms since the epoch
    method: str
    host: str
    path: str
    status: int


def now_ms():
    return time.time() * 1000.0


class MockSite:
    """Starts the TLS server on a free port (or `port`) of 127.0.0.1.

    `site.signin` and `site.panel` are the applications; `site.issued` what the
    sign-in handed out; `site.log` every request. Use as a context manager, or
    call start() and stop().
    """

    def __init__(self, port=0, extra_hosts=()):
        from .panel import Panel
        from .signin import SignIn

        self.hostnames = hosts.all_hosts() + tuple(extra_hosts)
        self.signin = SignIn()
        self.panel = Panel()
        self.log = []
        self._lock = threading.Lock()
        self._port = port
        self._server = None
        self._thread = None
        self._tmp = None
        self.ca_pem = None  # path of the test CA (PEM) once started

    # -- lifecycle -----------------------------------------------------------------

    def start(self):
        import trustme  # only the mock needs it: an extra of [demo] and [test]

        ca = trustme.CA(organization_name="codecatch mock CA")
        cert = ca.issue_cert(*self.hostnames, "127.0.0.1")
        self._tmp = tempfile.TemporaryDirectory(prefix="codecatch-mock-")
        self.ca_pem = os.path.join(self._tmp.name, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_pem)

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        ctx.set_alpn_protocols(["http/1.1"])

        site = self

        class Handler(_Handler):
            mock = site

        server = _Server(("127.0.0.1", self._port), Handler)
        # Handshake in the handler's thread (first read), not in the accept loop,
        # so one slow or aborted client cannot stall the others.
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="codecatch-mock",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    # -- what tests and tools use ----------------------------------------------------

    def resolver_rules(self):
        """Chromium's --host-resolver-rules value: every mocked name to our port."""
        return ",".join(f"MAP {h} 127.0.0.1:{self.port}" for h in self.hostnames)

    def url(self, host, path="/", with_port=False, **query):
        origin = f"https://{host}:{self.port}" if with_port else f"https://{host}"
        q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        return origin + path + ("?" + q if q else "")

    def panel_url(self, host="panel.test", with_port=False, **knobs):
        """The tenant edit page; knobs as in panel.Panel (outcome, open, signin_host ...)."""
        return self.url(host, "/CP/O365/TenantEdit.aspx", with_port=with_port, **knobs)

    @property
    def issued(self):
        return self.signin.issued_snapshot()

    def issued_for_state(self, state):
        return [i for i in self.issued if i.state == state]

    @property
    def saves(self):
        """Every press of a panel page's Save (panel.Saved), oldest first."""
        return self.panel.saves

    def saves_for_state(self, state):
        return [s for s in self.saves if s.state == state]

    def reset(self):
        self.signin.reset()
        self.panel.reset()
        with self._lock:
            self.log.clear()

    # -- routing -----------------------------------------------------------------------

    def handle(self, request):
        if request.host in hosts.SIGNIN_HOSTS:
            return self.signin.handle(request)
        if request.host in hosts.PANEL_HOSTS or request.host in hosts.EVIL_HOSTS:
            return self.panel.handle(request, self.signin)
        return Response.text(f"the mock does not play {request.host!r}", status=421)

    def _logged(self, entry):
        with self._lock:
            self.log.append(entry)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Browsers drop connections (cancelled navigations, closed tabs): not our bug.
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mock = None  # set by MockSite.start
    server_version = "codecatch-mock"
    sys_version = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_HEAD(self):
        self._serve()

    def _serve(self):
        received = now_ms()
        host_header = (self.headers.get("Host") or "").strip().lower()
        host, _, port = host_header.partition(":")
        if host_header.startswith("["):
            host, port = host_header, ""
        split = urllib.parse.urlsplit(self.path)
        form = {}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.command == "POST" and "urlencoded" in (self.headers.get("Content-Type") or ""):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        request = Request(
            method=self.command, host=host, port=int(port) if port.isdigit() else None,
            path=split.path or "/", raw_query=split.query,
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            form=form, headers={k.lower(): v for k, v in self.headers.items()},
            received_at=received,
        )
        try:
            response = self.mock.handle(request)
        except Exception as exc:  # a bug in the mock: show it in the page, keep serving
            response = Response.text(f"mock error: {exc!r}", status=500)
        payload = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        sent = now_ms()
        if response.on_sent:
            response.on_sent(sent)
        self.mock._logged(Logged(sent, self.command, host, request.path, response.status))

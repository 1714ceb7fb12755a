"""A mock of Microsoft's sign-in service, ending the flow the ways the real one does
(docs/browser-notes.md section 2):

- "302": the authorize request answers 302 to `redirect_uri?code=...&state=...`;
- "cmsi": the "Confirm My Sign-In" page (pgid CmsiInterrupt); Continue posts to
  /appverify, which answers 200 with an inline `document.location.replace("...")`
  whose string is JavaScript-escaped (`\\u0026`, `\\/`);
- "error": 302 to `redirect_uri?error=access_denied&error_description=AADSTS65004...`;
- "nativeclient": 302 to the older nativeclient page with the code, which itself
  redirects on to /wrongplace (as since December 2025).

The test or panel picks the ending with the query parameter `mock_outcome` on the
authorize URL (default "302"); `response_mode=fragment` puts the response in the
fragment. Every code is fresh and recorded in `issued`, so tests can compare what
reached the panel with what was handed out.

Routes live in `self.routes` (method, path regex, handler) so that later mocks (a
token endpoint, openid-configuration) can be added with `add_route`.
"""

import base64
import dataclasses
import html
import json
import re
import secrets
import threading
import urllib.parse
import uuid
from importlib import resources

from ..redirect import redact
from .server import Response

AADSTS = {
    "65004": ("access_denied", "cancel",
              "AADSTS65004: User declined to consent to access the app."),
    "65001": ("invalid_grant", None,
              "AADSTS65001: The user or administrator has not consented to use the application."),
    "53003": ("access_denied", None,
              "AADSTS53003: Access has been blocked by Conditional Access policies."),
    "50199": ("interaction_required", None,
              "AADSTS50199: For security reasons, user confirmation is required for this request."),
}

OUTCOMES = ("302", "cmsi", "error", "nativeclient")


def new_code():
    """A fresh code shaped like Microsoft's: `0.AXkA` + base64url, a dot, more base64url."""
    head = "0.AXkA" + _b64url(secrets.token_bytes(36))
    tail = "AgABBAIAAAA" + _b64url(secrets.token_bytes(520 + secrets.randbelow(240)))
    return f"{head}.{tail}"


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def js_string(text):
    """A JavaScript string literal escaped as Microsoft's pages do: `&` as `\\u0026`,
    `/` as `\\/` (and `<`, `>` so the script block cannot be closed early)."""
    s = json.dumps(text)
    return (s.replace("&", "\\u0026").replace("/", "\\/")
             .replace("<", "\\u003c").replace(">", "\\u003e"))


def rewrite_to_https(uri):
    """The URL a panel expects (PROTOCOL.md "Rewrite"), computed independently of the
    host so tests have their own oracle."""
    scheme, sep, rest = uri.partition(":")
    if scheme.lower() in ("https",):
        return uri
    if rest.startswith("//"):
        return "https" + uri[len(scheme):]
    # urn:ietf:wg:oauth:2.0:oob?q -> nativeclient page with the query byte for byte
    tail = uri[len("urn:ietf:wg:oauth:2.0:oob"):]
    return "https://login.microsoftonline.com/common/oauth2/nativeclient" + tail


@dataclasses.dataclass
class Issued:
    """One response the mock sign-in handed to a browser."""
    kind: str  # "code" or "error"
    style: str  # "302", "cmsi", "error", "nativeclient", "evil-script" ...
    host: str  # the host that answered (a Microsoft name, or evil.test)
    client_id: str | None
    redirect_uri: str
    state: str | None
    response_mode: str
    uri: str  # the redirect exactly as sent to the browser (unescaped)
    code: str | None = None
    session_state: str | None = None
    error: str | None = None
    error_description: str | None = None
    error_subcode: str | None = None
    clicked_at: float | None = None  # CMSI: when Continue was clicked (page clock, ms)
    requested_at: float = 0.0  # when the request that produced it arrived (ms)
    responded_at: float | None = None  # when the response ordering the navigation was sent

    @property
    def https_url(self):
        return rewrite_to_https(self.uri)

    @property
    def code_redacted(self):
        return redact(self.code)


def build_response_uri(redirect_uri, params, response_mode="query"):
    sep = "#" if response_mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return redirect_uri + sep + urllib.parse.urlencode(
        [(k, v) for k, v in params if v is not None])


def _template(name):
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


class SignIn:
    def __init__(self):
        self._lock = threading.Lock()
        self._issued = []
        self._pending = {}  # CMSI flowToken -> authorize parameters
        self.routes = []
        tenant = r"/(?P<tenant>[^/]+)"
        self.add_route("GET", tenant + r"/oauth2/v2\.0/authorize", self.authorize)
        self.add_route("GET", tenant + r"/oauth2/authorize", self.authorize)
        self.add_route("GET", r"/oauth2/authorize", self.authorize)
        self.add_route("POST", r"/appverify", self.appverify)
        self.add_route("GET", tenant + r"/oauth2/nativeclient", self.nativeclient)
        self.add_route("GET", r"/wrongplace", self.wrongplace)

    # -- extension point --------------------------------------------------------------

    def add_route(self, method, pattern, handler):
        """handler(request, **path_groups) -> Response. Later routes win."""
        self.routes.insert(0, (method, re.compile(pattern + r"\Z"), handler))

    def handle(self, request):
        for method, pattern, handler in self.routes:
            m = pattern.match(request.path)
            if m and method == request.method:
                return handler(request, **m.groupdict())
        return Response.text("AADSTS900561: The endpoint only accepts POST, GET requests"
                             if request.path.startswith("/") else "not found", status=404)

    # -- records -------------------------------------------------------------------------

    def record(self, issued):
        with self._lock:
            self._issued.append(issued)
        return issued

    def issued_snapshot(self):
        with self._lock:
            return list(self._issued)

    def reset(self):
        with self._lock:
            self._issued.clear()
            self._pending.clear()

    # -- endpoints ---------------------------------------------------------------------

    def authorize(self, request, tenant="common"):
        redirect_uri = request.arg("redirect_uri")
        if not redirect_uri:
            return Response(status=400, body=_error_page(
                "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'."))
        outcome = request.arg("mock_outcome", "302")
        params = {
            "client_id": request.arg("client_id"),
            "redirect_uri": redirect_uri,
            "state": request.arg("state"),
            "response_mode": request.arg("response_mode", "query"),
            "tenant": tenant,
            "error": request.arg("mock_error", "65004"),
        }
        if outcome == "cmsi":
            return self._cmsi_page(request, params)
        if outcome == "error":
            return self._redirect_error(request, params, style="error")
        if outcome == "nativeclient":
            native = request.origin() + f"/{tenant}/oauth2/nativeclient"
            return self._redirect_code(request, dict(params, redirect_uri=native),
                                       style="nativeclient")
        return self._redirect_code(request, params, style="302")

    def appverify(self, request):
        with self._lock:
            params = self._pending.pop(request.arg("flowToken", ""), None)
        if params is None:
            return Response(status=400, body=_error_page(
                "AADSTS90014: The required field 'flowToken' is missing or expired."))
        clicked = request.arg("mock_clicked_at")
        clicked_at = float(clicked) if clicked and _is_number(clicked) else None
        if request.arg("ContinueAuth", "true") != "true":
            issued = self._issue_error(request, dict(params, error="65004"), style="cmsi-cancel")
        else:
            issued = self._issue_code(request, params, style="cmsi")
        issued.clicked_at = clicked_at
        body = _template("appverify.html").replace("$target", js_string(issued.uri))
        return Response(body=body, on_sent=_stamp(issued))

    def nativeclient(self, request, tenant="common"):
        return Response.redirect(request.origin() + "/wrongplace")

    def wrongplace(self, request):
        return Response(body=_error_page("You've reached the wrong place."))

    # -- helpers ---------------------------------------------------------------------------

    def _cmsi_page(self, request, params):
        token = _b64url(secrets.token_bytes(96))
        with self._lock:
            self._pending[token] = params
        app = html.escape(_app_name(params["client_id"]))
        config = json.dumps({"pgid": "CmsiInterrupt", "sErrorCode": "50199",
                             "urlPost": "/appverify", "sFT": token})
        body = (_template("cmsi.html")
                .replace("$config", config.replace("</", "<\\/"))
                .replace("$app", app)
                .replace("$flowToken", html.escape(token, quote=True))
                .replace("$redirect", html.escape(params["redirect_uri"])))
        return Response(body=body)

    def _redirect_code(self, request, params, style):
        issued = self._issue_code(request, params, style)
        return Response.redirect(issued.uri, on_sent=_stamp(issued))

    def _redirect_error(self, request, params, style):
        issued = self._issue_error(request, params, style)
        return Response.redirect(issued.uri, on_sent=_stamp(issued))

    def _issue_code(self, request, params, style):
        code, session_state = new_code(), str(uuid.uuid4())
        uri = build_response_uri(params["redirect_uri"], [
            ("code", code), ("state", params["state"]), ("session_state", session_state)],
            params["response_mode"])
        return self.record(Issued(
            kind="code", style=style, host=request.host, client_id=params["client_id"],
            redirect_uri=params["redirect_uri"], state=params["state"],
            response_mode=params["response_mode"], uri=uri, code=code,
            session_state=session_state, requested_at=request.received_at))

    def _issue_error(self, request, params, style):
        error, subcode, text = AADSTS.get(params["error"], AADSTS["65004"])
        trace, corr = uuid.uuid4(), uuid.uuid4()
        description = (f"{text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\n"
                       f"Timestamp: 2025-12-01 10:00:00Z")
        uri = build_response_uri(params["redirect_uri"], [
            ("error", error), ("error_subcode", subcode), ("state", params["state"]),
            ("error_description", description)], params["response_mode"])
        return self.record(Issued(
            kind="error", style=style, host=request.host, client_id=params["client_id"],
            redirect_uri=params["redirect_uri"], state=params["state"],
            response_mode=params["response_mode"], uri=uri, error=error,
            error_description=description, error_subcode=subcode,
            requested_at=request.received_at))


def _stamp(issued):
    def on_sent(at):
        issued.responded_at = at
    return on_sent


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _app_name(client_id):
    from .panel import CLIENTS
    for name, cid, _ in CLIENTS.values():
        if cid == client_id:
            return name
    return client_id or "an application"


def _error_page(message):
    return (f"<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
            f"<body><div id=\"error\">{html.escape(message)}</div></body></html>")

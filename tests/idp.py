"""A local mock of Microsoft's identity platform over TLS, enough for MSAL.

Serves, for any tenant:
  GET  /{tenant}/v2.0/.well-known/openid-configuration
  GET  /{tenant}/oauth2/v2.0/authorize   -> 302 to redirect_uri?code=...&state=...
  POST /{tenant}/oauth2/v2.0/token       -> authorization_code (with PKCE) and refresh_token grants

Several tenants, as a partner admin (GDAP) sees them: `tenants` names each one's
behaviour (TENANT_BEHAVIOURS) and its tenant id, and with `require_session` the
authorization endpoint answers only a browser that holds the session cookie set by
GET /mock/session?user=... (a sign-in done once, as the browser's own session is).
`prompt=none` is answered as Microsoft does: the code when the session suffices, or
a redirect with error=login_required / interaction_required / consent_required
(https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow,
"Error codes for authorization endpoint errors"). A "cmsi" tenant shows the
Confirm-My-Sign-In page of codecatch.mocksite (Continue posts to /appverify).
`delay_s` holds every authorize answer back that long (a slow provider, for bench/).

What MSAL checks (docs/browser-notes.md section 5): https; an id_token (unsigned here) with
aud = client id and the nonce sent in the authorization URL; client_info. The token
endpoint checks what Microsoft's does: one use per code, the same redirect_uri as
the authorization request, and the PKCE verifier against the challenge. Every token
POST is recorded in `token_requests` so tests can look at what MSAL sent. With
`stall_tokens`, token POSTs are never answered (a stalled authority or proxy).

    with MockIdP() as idp:
        session = idp.session()          # requests.Session trusting the mock's CA
        idp.authority("contoso")         # https://127.0.0.1:PORT/contoso
"""

import base64
import dataclasses
import hashlib
import html
import http.cookies
import http.server
import json
import secrets
import ssl
import threading
import time
import urllib.parse
import uuid
from importlib import resources

import trustme

from codecatch.mocksite.signin import js_string, new_code

USER = {"oid": "00000000-0000-0000-0000-0000000000a1", "preferred_username": "admin@contoso.test",
        "name": "Contoso Admin", "tid": "11111111-2222-3333-4444-555555555555"}


SESSION_COOKIE = "ESTSAUTH"

# What a tenant does with a sign-in: (the error prompt=none gets, or None for a code;
# what an interactive sign-in gets: "code", "cmsi" or an error; the token endpoint's
# error for its codes, or None). Errors are AADSTS numbers of _AADSTS.
TENANT_BEHAVIOURS = {
    "silent": (None, "code", None),  # the session reaches it: no interaction at all
    "mfa": ("50076", "code", None),  # prompt=none: MFA is needed; interactively it passes
    "login": ("50058", "code", None),  # prompt=none: the session does not reach it
    "consent": ("65001", "code", "65001t"),  # the app has no consent in this tenant
    "non_member": ("50020", "50020", None),  # the account is not a member (nor a guest)
    "cmsi": ("50199", "cmsi", None),  # Microsoft asks to confirm the sign-in (Continue)
}

_AADSTS = {
    "50076": ("interaction_required", "AADSTS50076: Due to a configuration change made by your administrator, "
              "or because you moved to a new location, you must use multi-factor authentication to access "
              "'00000003-0000-0000-c000-000000000000'."),
    "50058": ("login_required", "AADSTS50058: A silent sign-in request was sent but no user is signed in."),
    "65001": ("consent_required", "AADSTS65001: The user or administrator has not consented to use the "
              "application with ID '{client_id}'."),
    "65001t": ("invalid_grant", "AADSTS65001: The user or administrator has not consented to use the "
               "application with ID '{client_id}'. Send an interactive authorization request for this user "
               "and resource."),
    "50020": ("invalid_request", "AADSTS50020: User account '{user}' from identity provider "
              "'https://sts.windows.net/{home}/' does not exist in tenant '{tenant}' and cannot access the "
              "application '{client_id}' in that tenant."),
    "50199": ("interaction_required", "AADSTS50199: For security reasons, user confirmation is required "
              "for this request. Please repeat the request allowing user interaction."),
}


@dataclasses.dataclass(frozen=True)
class Tenant:
    name: str  # as it appears in the URL path (a domain or an id)
    behaviour: str = "silent"  # a key of TENANT_BEHAVIOURS

    @property
    def tid(self):
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.name))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned_jwt(claims):
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


class MockIdP:
    def __init__(self, hostnames=("127.0.0.1", "localhost"), authorize_host=None, expires_in=3600,
                 tenants=(), require_session=False, delay_s=0.0):
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert(*hostnames)
        # authorize_host: the host name the authorization endpoint is advertised on
        # (e.g. login.microsoftonline.com, which a test browser maps to this server).
        self.authorize_host = authorize_host
        self.expires_in = expires_in
        self.codes = {}  # code -> the authorization request's parameters
        self.refresh_tokens = {}  # refresh token -> grant
        self.token_requests = []  # the form of every token POST, in order
        self.authorize_requests = []
        self.next_error = None  # (error, description): the next authorize answers with it
        # A stalled authority: token POSTs are read and never answered (until stop()).
        self.stall_tokens = False
        self.tenants = {t.name: t for t in tenants}
        self.require_session = require_session
        self.delay_s = delay_s
        self.sessions = {}  # session cookie -> user name
        self.issued_tokens = []  # (tenant, grant) of every token answered 200, in order
        self._pending_cmsi = {}  # flowToken -> the redirect to send after Continue
        self._stopping = threading.Event()
        self.lock = threading.Lock()
        self._server = None
        self._ca_file = None

    # --- lifecycle ---------------------------------------------------------------

    def start(self):
        self._stopping.clear()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(context)
        idp = self

        class Handler(_Handler):
            pass

        Handler.idp = idp
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()  # stalled handlers return, closing their connections
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def authority(self, tenant="contoso"):
        return f"https://{self.host}/{tenant}"

    def ca_file(self, folder):
        """Write the CA certificate into folder and return its path."""
        path = f"{folder}/idp-ca.pem"
        self.ca.cert_pem.write_to_path(path)
        return path

    def session(self, ca_path):
        """A requests.Session for MSAL that trusts only this mock's CA.

        trust_env=False, because REQUESTS_CA_BUNDLE on this machine would override
        verify= (docs/browser-notes.md section 5)."""
        import requests

        session = requests.Session()
        session.verify = ca_path
        session.trust_env = False
        return session

    # --- the identity provider -------------------------------------------------------

    def openid_configuration(self, tenant, base):
        authorize_base = f"https://{self.authorize_host}" if self.authorize_host else base
        return {
            "issuer": f"{base}/{tenant}/v2.0",
            "authorization_endpoint": f"{authorize_base}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
            "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "tenant_region_scope": "NA",
        }

    def session_url(self, user=USER["preferred_username"]):
        """Where a browser signs in once: the session cookie every tenant's sign-in uses."""
        host = self.authorize_host or self.host
        return f"https://{host}/mock/session?" + urllib.parse.urlencode({"user": user})

    def new_session(self, user):
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[token] = user
        return token

    def user_of(self, cookie_header):
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(cookie_header or "")
        except http.cookies.CookieError:
            return None
        morsel = cookies.get(SESSION_COOKIE)
        with self.lock:
            return self.sessions.get(morsel.value) if morsel else None

    def authorize(self, query, tenant=None, cookie=None):
        """The authorization endpoint's answer: ("redirect", the redirect URI with a code
        or an error) or ("page", html) for a page the user must act on."""
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        params["tenant"] = tenant
        self.authorize_requests.append(params)
        if self.delay_s:
            self._stopping.wait(self.delay_s)
        redirect_uri = params["redirect_uri"]
        answer = {}
        with self.lock:
            error, self.next_error = self.next_error, None
        spec = self.tenants.get(tenant)
        user = self.user_of(cookie) if self.require_session else USER["preferred_username"]
        silent = params.get("prompt") == "none"
        if not error and self.require_session and user is None:
            if not silent:
                return "page", _sign_in_page()
            error = self._aadsts("50058", params)
        elif not error and spec is not None:
            none_error, interactive, _ = TENANT_BEHAVIOURS[spec.behaviour]
            outcome = none_error if silent else interactive
            if outcome == "cmsi":
                return "page", self._cmsi_page(params)
            if outcome not in (None, "code"):
                error = self._aadsts(outcome, params, user)
        if error:
            answer = {"error": error[0], "error_description": error[1],
                      "correlation_id": "cccccccc-0000-0000-0000-000000000001"}
        elif params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            answer = {"error": "invalid_request",
                      "error_description": "AADSTS9002325: Proof Key for Code Exchange is required."}
        else:
            answer = {"code": self._new_code(params), "session_state": "ss-" + secrets.token_hex(8)}
        if "state" in params:
            answer["state"] = params["state"]
        return "redirect", redirect_uri + "?" + urllib.parse.urlencode(answer)

    def _new_code(self, params):
        code = new_code()
        with self.lock:
            self.codes[code] = dict(params, issued=time.time(), used=False)
        return code

    def _aadsts(self, number, params, user=None):
        error, text = _AADSTS[number]
        spec = self.tenants.get(params.get("tenant"))
        return error, text.format(client_id=params.get("client_id"), user=user or USER["preferred_username"],
                                  home=USER["tid"], tenant=spec.tid if spec else params.get("tenant"))

    def _cmsi_page(self, params):
        """Confirm My Sign-In (codecatch.mocksite's page): Continue posts the flow token to
        /appverify, which answers with the code redirect in an inline script."""
        token = _b64url(secrets.token_bytes(48))
        with self.lock:
            self._pending_cmsi[token] = params
        config = json.dumps({"pgid": "CmsiInterrupt", "sErrorCode": "50199", "urlPost": "/appverify", "sFT": token})
        return (_mocksite_template("cmsi.html")
                .replace("$config", config.replace("</", "<\\/"))
                .replace("$app", html.escape(params.get("client_id") or "an application"))
                .replace("$flowToken", html.escape(token, quote=True))
                .replace("$redirect", html.escape(params["redirect_uri"])))

    def appverify(self, form):
        with self.lock:
            params = self._pending_cmsi.pop(form.get("flowToken", ""), None)
        if params is None:
            return 400, "AADSTS90014: The required field 'flowToken' is missing or expired."
        answer = {"code": self._new_code(params), "session_state": "ss-" + secrets.token_hex(8)}
        if form.get("ContinueAuth", "true") != "true":
            answer = {"error": "access_denied", "error_subcode": "cancel",
                      "error_description": "AADSTS65004: User declined to consent to access the app."}
        answer["state"] = params.get("state")
        target = params["redirect_uri"] + "?" + urllib.parse.urlencode(answer)
        return 200, _mocksite_template("appverify.html").replace("$target", js_string(target))

    def token(self, tenant, base, form):
        self.token_requests.append(dict(form))
        grant = form.get("grant_type")
        if grant in ("authorization_code", "refresh_token"):
            status, payload = (self._redeem_code if grant == "authorization_code" else self._refresh)(tenant, base, form)
            if status == 200:
                with self.lock:
                    self.issued_tokens.append((tenant, grant))
            return status, payload
        return 400, _error("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")

    def _redeem_code(self, tenant, base, form):
        with self.lock:
            request = self.codes.get(form.get("code"))
            if request is None:
                return 400, _error("invalid_grant", "AADSTS70000: The provided value for the 'code' parameter is not valid.")
            if request["used"]:
                return 400, _error("invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.")
            request["used"] = True
        if form.get("client_id") != request["client_id"]:
            return 400, _error("invalid_grant", "AADSTS70000: The code was issued to another client.")
        if form.get("redirect_uri") != request["redirect_uri"]:
            return 400, _error("invalid_grant", "AADSTS50148: The redirect_uri does not match the authorization request.")
        spec = self.tenants.get(tenant)
        if spec is not None and TENANT_BEHAVIOURS[spec.behaviour][2]:
            _, text = self._aadsts(TENANT_BEHAVIOURS[spec.behaviour][2], request)
            return 400, _error("invalid_grant", text)
        verifier = form.get("code_verifier") or ""
        challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        if challenge != request["code_challenge"]:
            return 400, _error("invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge.")
        return 200, self._tokens(tenant, base, request["client_id"], request.get("scope", ""), request.get("nonce"))

    def _refresh(self, tenant, base, form):
        with self.lock:
            grant = self.refresh_tokens.pop(form.get("refresh_token"), None)
        if grant is None or grant["client_id"] != form.get("client_id"):
            return 400, _error("invalid_grant", "AADSTS700082: The refresh token has expired or is invalid.")
        return 200, self._tokens(tenant, base, grant["client_id"], form.get("scope", grant["scope"]), None)

    def _tokens(self, tenant, base, client_id, scope, nonce):
        now = int(time.time())
        spec = self.tenants.get(tenant)
        tid = spec.tid if spec else USER["tid"]
        claims = dict(USER, tid=tid, aud=client_id, iss=f"{base}/{tenant}/v2.0", iat=now, nbf=now,
                      exp=now + 3600, sub="sub-" + USER["oid"][-4:], ver="2.0")
        if nonce:
            claims["nonce"] = nonce
        refresh = "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[refresh] = {"client_id": client_id, "scope": scope}
        granted = " ".join(s for s in scope.split() if s not in ("openid", "profile", "offline_access"))
        return {
            "token_type": "Bearer",
            "scope": granted or "https://graph.microsoft.com/.default",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": "at-" + secrets.token_urlsafe(24),
            "refresh_token": refresh,
            "id_token": _unsigned_jwt(claims),
            "client_info": _b64url(json.dumps({"uid": USER["oid"], "utid": tid}).encode()),
        }


def _mocksite_template(name):
    return resources.files("codecatch.mocksite").joinpath(name).read_text(encoding="utf-8")


def _sign_in_page():
    return ("<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>"
            "<div id=\"loginHeader\">Sign in</div><input type=\"email\" name=\"loginfmt\"></body></html>")


def _error(error, description):
    return {"error": error, "error_description": description, "error_codes": [int(description[6:].split(":")[0])],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": "tttttttt-0000-0000-0000-000000000001",
            "correlation_id": "cccccccc-0000-0000-0000-000000000002"}


class _Handler(http.server.BaseHTTPRequestHandler):
    idp = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet; pytest shows failures
        pass

    def _base(self):
        return f"https://{self.headers.get('Host') or self.idp.host}"

    def _split(self):
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        return parts, query

    def do_GET(self):
        parts, query = self._split()
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self._json(200, self.idp.openid_configuration(parts[0], self._base()))
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "authorize"]:
            kind, answer = self.idp.authorize(query, tenant=parts[0], cookie=self.headers.get("Cookie"))
            if kind == "page":
                return self._html(200, answer)
            self.send_response(302)
            self.send_header("Location", answer)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if parts == ["mock", "session"]:
            user = (urllib.parse.parse_qs(query).get("user") or [USER["preferred_username"]])[0]
            cookie = f"{SESSION_COOKIE}={self.idp.new_session(user)}; Path=/; Secure; HttpOnly; SameSite=None"
            return self._html(200, f"<!DOCTYPE html><title>Signed in</title><p>Signed in as {html.escape(user)}",
                              {"Set-Cookie": cookie})
        return self._json(404, _error("invalid_request", "AADSTS90002: Unknown path."))

    def do_POST(self):
        parts, _ = self._split()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and self.idp.stall_tokens:
            self.idp.token_requests.append(dict(form))
            self.idp._stopping.wait()
            self.close_connection = True
            return None
        if parts == ["appverify"]:
            return self._html(*self.idp.appverify(form))
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            # The issuer base is where MSAL reached us (the token endpoint's host).
            status, payload = self.idp.token(parts[0], self._base(), form)
            return self._json(status, payload)
        return self._json(404, _error("invalid_request", "AADSTS90002: Unknown path."))

    def _html(self, status, text, headers=None):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

"""A local mock of Microsoft's identity platform over TLS, enough for MSAL.

Serves, for any tenant:
  GET  /{tenant}/v2.0/.well-known/openid-configuration
  GET  /{tenant}/oauth2/v2.0/authorize   -> 302 to redirect_uri?code=...&state=...
  POST /{tenant}/oauth2/v2.0/token       -> authorization_code (with PKCE) and refresh_token grants

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
import hashlib
import http.server
import json
import secrets
import ssl
import threading
import time
import urllib.parse

import trustme

from codecatch.mocksite.signin import new_code

USER = {"oid": "00000000-0000-0000-0000-0000000000a1", "preferred_username": "admin@contoso.test",
        "name": "Contoso Admin", "tid": "11111111-2222-3333-4444-555555555555"}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned_jwt(claims):
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


class MockIdP:
    def __init__(self, hostnames=("127.0.0.1", "localhost"), authorize_host=None, expires_in=3600):
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

    def authorize(self, query):
        """The authorization endpoint's answer: the redirect URI with a code or an error."""
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        self.authorize_requests.append(params)
        redirect_uri = params["redirect_uri"]
        answer = {}
        with self.lock:
            error, self.next_error = self.next_error, None
        if error:
            answer = {"error": error[0], "error_description": error[1],
                      "correlation_id": "cccccccc-0000-0000-0000-000000000001"}
        elif params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            answer = {"error": "invalid_request",
                      "error_description": "AADSTS9002325: Proof Key for Code Exchange is required."}
        else:
            code = new_code()
            with self.lock:
                self.codes[code] = dict(params, issued=time.time(), used=False)
            answer = {"code": code, "session_state": "ss-" + secrets.token_hex(8)}
        if "state" in params:
            answer["state"] = params["state"]
        return redirect_uri + "?" + urllib.parse.urlencode(answer)

    def token(self, tenant, base, form):
        self.token_requests.append(dict(form))
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._redeem_code(tenant, base, form)
        if grant == "refresh_token":
            return self._refresh(tenant, base, form)
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
        claims = dict(USER, aud=client_id, iss=f"{base}/{tenant}/v2.0", iat=now, nbf=now,
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
            "client_info": _b64url(json.dumps({"uid": USER["oid"], "utid": USER["tid"]}).encode()),
        }


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
            location = self.idp.authorize(query)
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
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
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            # The issuer base is where MSAL reached us (the token endpoint's host).
            status, payload = self.idp.token(parts[0], self._base(), form)
            return self._json(status, payload)
        return self._json(404, _error("invalid_request", "AADSTS90002: Unknown path."))

    def _json(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

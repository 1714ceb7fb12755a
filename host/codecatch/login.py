"""`codecatch login`: an authorization-code flow with PKCE through MSAL, in the user's
own browser, for public clients whose only redirect URIs are custom schemes.

MSAL builds the flow and redeems the code; the browser and the extension do the
sign-in and catch the redirect that the browser cannot open. What connects the two
is one small function, the *receiver*:

    receive(state, timeout, ready) -> response object (dict) or redirect text (str)

It must claim the capture for `state` (so the extension does not fill the code into
a panel), call `ready()` once it listens (that opens the browser or prints the URL),
and return what the sign-in ended on. `stream_receiver` (the local event stream,
the default), `paste_receiver` (stdin) and the tests' fakes are receivers.

This module imports msal and requests only inside functions: `import codecatch.cli`
and the native host never pay for them (docs/browser-notes.md section 4: msal alone costs
about 120 ms). Nothing here prints; the CLI does.
"""

import dataclasses
import json
import os
import time
import urllib.parse

from . import clouds, redirect
from .errors import RedirectError
from .files import write_atomic

DEFAULT_TENANT = "organizations"
DEFAULT_TIMEOUT_S = 300
# One request to the authority (connect, TLS handshake and answer together). Microsoft
# answers in well under a second; a request still waiting after this is stalled (a
# proxy or firewall that accepted the connection and went silent), not slow.
DEFAULT_HTTP_TIMEOUT_S = 15
# The least a request gets even when the overall --timeout has (almost) run out: a
# redirect pasted late still deserves one real try at redemption, and 0 would make
# requests fail at once.
MIN_HTTP_TIMEOUT_S = 1
# The broker redirect as Microsoft's own clients send it and as Entra echoes it in
# AADSTS50011 (MSAL Python's msal/broker.py; docs/browser-notes.md, "Redirect URIs"):
# Entra compares redirect URIs case-sensitively, so send exactly this form.
BROKER = "ms-appx-web://Microsoft.AAD.BrokerPlugin/{}"


@dataclasses.dataclass(frozen=True)
class Client:
    name: str
    client_id: str
    redirect_uri: str  # the registered custom-scheme redirect used by default


# docs/browser-notes.md section 2. The default redirect is a custom scheme the browser cannot
# open, which is exactly what the extension catches; never http://localhost.
CLIENTS = {
    "teams-powershell": Client(
        "Teams PowerShell", "12128f48-ec9e-42f0-b203-ea49fb6af367",
        BROKER.format("12128f48-ec9e-42f0-b203-ea49fb6af367")),
    "exchange-online-powershell": Client(
        "Exchange Online PowerShell", "fb78d390-0c51-40cd-8e17-fdbfab77341b",
        BROKER.format("fb78d390-0c51-40cd-8e17-fdbfab77341b")),
    "azure-powershell": Client(
        "Azure PowerShell", "1950a258-227b-4e31-a9cf-717495945fc2",
        BROKER.format("1950a258-227b-4e31-a9cf-717495945fc2")),
    "azure-cli": Client(
        "Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "msauth.com.msauth.unsignedapp://auth"),
    "azure-ad-powershell": Client(
        "Azure AD PowerShell", "1b730954-1685-4b74-9bfd-dac224a7b894", "urn:ietf:wg:oauth:2.0:oob"),
}

# Short names for --authority-host; any host[:port] works too.
CLOUD_HOSTS = {
    "public": "login.microsoftonline.com",
    "usgov": "login.microsoftonline.us",
    "china": "login.partner.microsoftonline.cn",
}
# Default scope when none is given: Microsoft Graph in the authority's cloud.
_GRAPH = {
    "public": "https://graph.microsoft.com",
    "personal": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "china": "https://microsoftgraph.chinacloudapi.cn",
}


class LoginError(Exception):
    """A failed login, with what to do about it.

    `reason` is one of: usage, state_mismatch, error_response, token_error, timeout,
    no_host, flow_used, unusable_response, no_account, network.
    """

    def __init__(self, reason, message, hint=None, aadsts=None, error=None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.hint = hint
        self.aadsts = aadsts
        self.error = error  # the OAuth `error` (interaction_required, invalid_grant ...), if any


# --- settings ---------------------------------------------------------------------

@dataclasses.dataclass
class Settings:
    client_id: str
    redirect_uri: str
    authority: str  # https://host[:port]/tenant
    scopes: list
    ca_bundle: str | None = None

    @property
    def authority_host(self):
        return self.authority.split("/")[2]


def resolve_client(client=None, client_id=None, redirect_uri=None):
    """(client_id, redirect_uri) from a well-known name and/or explicit values."""
    known = None
    if client:
        known = CLIENTS.get(client.lower())
        if known is None:
            raise LoginError("usage", f"Unknown client '{client}'. Known: {', '.join(CLIENTS)}; "
                                      "or give --client-id and --redirect-uri.")
        if client_id and client_id.lower() != known.client_id:
            raise LoginError("usage", f"--client {client} is application {known.client_id}, not {client_id}: "
                                      "give one of --client and --client-id.")
    elif client_id:
        known = next((c for c in CLIENTS.values() if c.client_id == client_id.lower()), None)
    if client_id is None and known is None:
        raise LoginError("usage", "Give --client NAME or --client-id ID.")
    client_id = client_id or known.client_id
    redirect_uri = redirect_uri or (known.redirect_uri if known else None)
    if not redirect_uri:
        raise LoginError("usage", f"No default redirect URI for client {client_id}: give --redirect-uri "
                                  "(one of its registered custom-scheme URIs).")
    return client_id, redirect_uri


def authority_url(authority_host=None, tenant=None):
    """https://host[:port]/tenant. Accepts a cloud short name, host[:port] or an https URL."""
    host = (authority_host or "public").strip()
    host = CLOUD_HOSTS.get(host.lower(), host)
    if "://" in host:
        scheme, _, host = host.partition("://")
        if scheme.lower() != "https":
            raise LoginError("usage", "The authority must be https (MSAL and Microsoft require it).")
    host = host.strip("/")
    if not host or "/" in host or "@" in host:
        raise LoginError("usage", f"--authority-host takes a host name with an optional port, not '{authority_host}'.")
    tenant = (tenant or DEFAULT_TENANT).strip().strip("/")
    if not tenant or "/" in tenant:
        raise LoginError("usage", f"Not a tenant: '{tenant}' (a domain, a tenant id, organizations or common).")
    return f"https://{host.lower()}/{tenant}"


def default_scopes(authority):
    cloud = clouds.cloud_of(authority) or "public"
    return [_GRAPH.get(cloud, _GRAPH["public"]) + "/.default"]


def settings(client=None, client_id=None, redirect_uri=None, tenant=None, scopes=(),
             authority_host=None, ca_bundle=None):
    client_id, redirect_uri = resolve_client(client, client_id, redirect_uri)
    authority = authority_url(authority_host, tenant)
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise LoginError("usage", f"--ca-bundle: no such file: {ca_bundle}")
    return Settings(client_id, redirect_uri, authority,
                    list(scopes) or default_scopes(authority), ca_bundle)


# --- MSAL --------------------------------------------------------------------------

def http_session(ca_bundle=None, timeout=DEFAULT_HTTP_TIMEOUT_S, deadline=None):
    """The HTTP client for MSAL: requests, trusting `ca_bundle` if given, and never
    waiting forever.

    MSAL's own `timeout` reaches only the Session MSAL makes itself, never an
    http_client it is given (msal/application.py, ClientApplication.__init__), and
    requests has no session-wide timeout: without this, a proxy that accepts the
    connection and never answers hangs `login` and `token` for good. Every request
    gets `timeout` seconds for connecting, the TLS handshake and the answer together
    (urllib3's `total`), and no more than what is left until `deadline`
    (time.monotonic()), but at least MIN_HTTP_TIMEOUT_S. A request that times out
    carries `codecatch_timeout` = (seconds, whether the deadline set them) for the
    message.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's own
    `verify` (docs/browser-notes.md section 5), which would silently drop --ca-bundle; this
    session pins it and still honours the proxy variables.
    """
    import requests
    import urllib3

    class _Session(requests.Session):
        def request(self, method, url, **kwargs):
            if kwargs.get("timeout") is not None:
                return super().request(method, url, **kwargs)
            seconds, capped = _request_timeout(timeout, deadline)
            kwargs["timeout"] = urllib3.Timeout(connect=seconds, read=seconds, total=seconds)
            try:
                return super().request(method, url, **kwargs)
            except requests.Timeout as exc:
                exc.codecatch_timeout = (seconds, capped)
                raise

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if ca_bundle:
                merged["verify"] = self.verify
            return merged

    session = _Session()
    if ca_bundle:
        session.verify = ca_bundle
    return session


def _request_timeout(timeout, deadline):
    """(seconds, capped): the wait for one request, and whether `deadline` cut it."""
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    if left >= timeout:
        return timeout, False
    return max(min(MIN_HTTP_TIMEOUT_S, timeout), left), True


def application(cfg, cache=None, http_client=None, deadline=None):
    """An msal.PublicClientApplication for these settings. Building it already asks
    the authority for its OpenID configuration (and, for Microsoft's hosts, instance
    discovery). `deadline` bounds every request (see http_session); an `http_client`
    given here (the tests') brings its own timeouts."""
    import msal

    known = clouds.host_of(cfg.authority) in clouds.SIGNIN_HOSTS
    try:
        return msal.PublicClientApplication(
            cfg.client_id,
            authority=cfg.authority,
            token_cache=cache,
            http_client=http_client or http_session(cfg.ca_bundle, deadline=deadline),
            # Instance discovery asks login.microsoftonline.com about the authority;
            # for a host that is not Microsoft's (a private mock, a test), skip it.
            instance_discovery=None if known else False,
        )
    except ValueError as exc:  # MSAL's word for an authority it cannot use
        raise LoginError("network", f"Cannot use the authority {cfg.authority}: {exc}") from exc
    except OSError as exc:  # requests' ConnectionError, Timeout and SSLError are OSErrors
        raise _network_error(exc, cfg, "while fetching the tenant's OpenID configuration") from exc


_QUIET = []


def _quiet_form_post():
    """MSAL recommends form_post, which a custom-scheme redirect cannot receive: the
    browser hands over a URL, so the response is in its query. Silenced once for the
    process: warnings.catch_warnings() is not thread-safe, and batch sign-ins run in
    threads (one restoring the filters under another brought the warning back)."""
    if not _QUIET:
        import warnings

        warnings.filterwarnings("ignore", message="response_mode='form_post'", category=UserWarning)
        _QUIET.append(True)


class Flow:
    """One authorization-code flow. Redeemable once: MSAL itself would redeem a flow
    dict twice (docs/browser-notes.md section 5), so the flow is dropped on first use,
    successful or not (its PKCE verifier must not outlive the code)."""

    def __init__(self, app, cfg, prompt=None, login_hint=None, domain_hint=None):
        self._app = app
        self.settings = cfg
        self.prompt = prompt
        _quiet_form_post()
        try:
            self._flow = app.initiate_auth_code_flow(
                cfg.scopes, redirect_uri=cfg.redirect_uri, response_mode="query",
                prompt=prompt, login_hint=login_hint, domain_hint=domain_hint)
        except ValueError as exc:  # e.g. a scope MSAL reserves for itself
            raise LoginError("usage", str(exc)) from exc
        self.state = self._flow["state"]
        self.auth_uri = self._flow["auth_uri"]

    @property
    def used(self):
        return self._flow is None

    def redeem(self, received):
        """Redeem what the sign-in ended on (a response object, a capture event or
        redirect text) and return MSAL's result. Raises LoginError."""
        if self._flow is None:
            raise LoginError("flow_used", "This sign-in was already redeemed or abandoned; "
                                          "an authorization flow is used once. Start a new login.")
        flow, self._flow = self._flow, None
        response = as_response(received)
        if response.get("state") != flow["state"]:
            raise LoginError(
                "state_mismatch",
                "The redirect's state does not match this login (another sign-in's code, "
                "or a stale or forged one); nothing was redeemed.",
                hint="Start the login again and finish that same sign-in in the browser.")
        if response.get("error"):
            raise _error_response(response, "error_response", "Microsoft's sign-in returned an error")
        auth_response = {k: response[k] for k in redirect.SUCCESS_PARAMS if response.get(k)}
        try:
            result = self._app.acquire_token_by_auth_code_flow(flow, auth_response)
        except ValueError as exc:  # MSAL's own state or flow checks
            raise LoginError("state_mismatch", f"MSAL refused the response: {exc}") from exc
        except OSError as exc:
            raise _network_error(exc, self.settings, "while redeeming the authorization code") from exc
        if "error" in result:
            raise _error_response(result, "token_error", "Redeeming the code failed")
        return result


def as_response(received):
    """A response object from a receiver's answer: a dict (response object, or a
    capture event carrying one under "response") or text for redirect.parse."""
    if isinstance(received, str):
        try:
            return redirect.parse(received)
        except RedirectError as exc:
            raise LoginError("unusable_response", exc.message) from exc
    if isinstance(received, dict):
        inner = received.get("response")
        return inner if isinstance(inner, dict) else received
    raise LoginError("unusable_response", "The sign-in ended with nothing usable.")


def _error_response(response, reason, what):
    aadsts, hint = redirect.explain(
        response.get("error"), response.get("error_description"), response.get("error_subcode"))
    hint = response.get("hint") or hint
    text = f"{what}: {response.get('error')}" + (f" ({aadsts})" if aadsts else "")
    correlation = response.get("correlation_id")
    if correlation:
        text += f" [correlation id {correlation}]"
    return LoginError(reason, text, hint=hint, aadsts=aadsts, error=response.get("error"))


# --- the token cache ------------------------------------------------------------------

def load_cache(path):
    """MSAL's SerializableTokenCache from `path` (empty when the file is missing)."""
    import msal

    cache = msal.SerializableTokenCache()
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.strip():
            try:
                cache.deserialize(text)
            except ValueError as exc:
                raise LoginError("usage", f"The token cache {path} is not MSAL's JSON: {exc}") from exc
    return cache


def save_cache(cache, path):
    """Write the cache to `path` with mode 0600, atomically; skipped when unchanged.

    The file holds refresh tokens: it is created 0600 from the start (never
    written first and narrowed afterwards) and replaces the old one in one step.
    """
    if not path or not cache.has_state_changed:
        return
    write_atomic(path, cache.serialize(), mode=0o600)
    cache.has_state_changed = False


# --- the whole login ------------------------------------------------------------------

def silent(app, cfg, username=None):
    """A token from the cache (refreshed with its refresh token if needed), or None.

    The result names the account (`codecatch_account`): a token MSAL serves from the
    cache carries no id_token_claims, and the summary must still say whose it is.
    """
    try:
        accounts = app.get_accounts(username=username) if username else app.get_accounts()
        if not accounts:
            return None
        result = app.acquire_token_silent_with_error(cfg.scopes, accounts[0])
    except OSError as exc:  # get_accounts too: for Microsoft's hosts it asks instance discovery
        raise _network_error(exc, cfg, "while refreshing the cached token") from exc
    if result and "error" in result:
        return None  # an expired or revoked refresh token: sign in again
    if result:
        result.setdefault("codecatch_account", {"username": accounts[0].get("username"),
                                                "tenant": accounts[0].get("realm")})
    return result


# With prompt=none, Microsoft answers these when the browser's session cannot sign in
# without the user (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow,
# "Error codes for authorization endpoint errors"): then an interactive sign-in follows.
INTERACTION_ERRORS = frozenset({"interaction_required", "consent_required", "login_required"})


def login(cfg, receive, open_url, *, timeout=DEFAULT_TIMEOUT_S, cache_path=None,
          reuse_cache=True, username=None, http_client=None, prompt=None, login_hint=None,
          domain_hint=None, on_phase=None):
    """Sign in and return MSAL's result (with "access_token").

    receive: a receiver (see the module docstring); open_url(url): opens or shows the
    authorization URL, called by the receiver's ready(). With a cache file, a token
    from the cache is returned first when one is there (unless reuse_cache is False).

    `prompt` and the hints go into the authorization URL. With prompt="none", an
    answer that needs the user (INTERACTION_ERRORS) is followed by an interactive
    sign-in; the result's `codecatch_prompt` says which one ended it ("none" or
    "interactive"). on_phase(phase) hears "browser" (the flow waits for the browser),
    "interactive" (the fallback waits for the user), "redeeming".

    `timeout` bounds the whole login, as a user reading `--timeout` expects: the wait
    for the sign-in gets what the requests before it left, and no request to the
    authority outlives what is left (see http_session).
    """
    deadline = time.monotonic() + timeout
    phase = on_phase or (lambda name: None)
    cache = load_cache(cache_path) if cache_path else None
    app = application(cfg, cache, http_client, deadline=deadline)
    try:
        if cache is not None and reuse_cache:
            result = silent(app, cfg, username or login_hint)
            if result:
                result.setdefault("codecatch_source", "cache")
                return result
        if prompt == "none":
            try:
                result = _sign_in(app, cfg, receive, open_url, deadline, timeout, phase, "browser",
                                  prompt="none", login_hint=login_hint, domain_hint=domain_hint)
                result.setdefault("codecatch_prompt", "none")
                return result
            except LoginError as exc:
                if exc.reason != "error_response" or exc.error not in INTERACTION_ERRORS:
                    raise
            prompt = None
        result = _sign_in(app, cfg, receive, open_url, deadline, timeout, phase,
                          "interactive" if on_phase else "browser",
                          prompt=prompt, login_hint=login_hint, domain_hint=domain_hint)
        result.setdefault("codecatch_prompt", "interactive")
        return result
    finally:
        if cache is not None:
            save_cache(cache, cache_path)


def _sign_in(app, cfg, receive, open_url, deadline, timeout, phase, waiting, **flow_args):
    """One authorization-code flow: open it, wait for its redirect, redeem it."""
    flow = Flow(app, cfg, **flow_args)
    left = max(0.0, deadline - time.monotonic())

    def ready():
        phase(waiting)
        open_url(flow.auth_uri)

    received = receive(flow.state, left, ready)
    if received is None:
        raise LoginError("timeout", f"No sign-in came back within {timeout:g} s.",
                         hint="Finish the sign-in in the browser sooner, or raise --timeout; "
                              "or use --paste to paste the address it ended on.")
    phase("redeeming")
    result = flow.redeem(received)
    result.setdefault("codecatch_source", "sign-in")
    return result


def token(cfg, cache_path, username=None, http_client=None, timeout=DEFAULT_HTTP_TIMEOUT_S):
    """A token from the cache file only (no browser); raises LoginError if none.

    `timeout` bounds the whole refresh (the OpenID configuration and the refresh
    request together): a script calling `codecatch token` must get an answer.
    """
    if not os.path.exists(cache_path):
        raise LoginError("no_account", f"No token cache at {cache_path}.",
                         hint=f"Sign in first: codecatch login ... --cache {cache_path}")
    deadline = time.monotonic() + timeout
    cache = load_cache(cache_path)
    app = application(cfg, cache, http_client, deadline=deadline)
    try:
        result = silent(app, cfg, username)
    finally:
        save_cache(cache, cache_path)
    if not result:
        who = f" for {username}" if username else ""
        raise LoginError("no_account", f"The cache holds no usable token{who} for client {cfg.client_id} "
                                       f"at {cfg.authority}.",
                         hint=f"Sign in again: codecatch login ... --cache {cache_path}")
    result.setdefault("codecatch_source", "cache")
    return result


# --- receivers --------------------------------------------------------------------------

def paste_receiver(read_line, prompt):
    """A receiver that reads the redirect from the user (stdin): the ms-appx-web://...
    address, or the browser console's "Failed to launch '...'" line.

    read_line() returns one line or "" at end of input; prompt(text) shows text.
    Lines that hold no redirect are skipped, so a pasted block works too.
    """

    def receive(state, timeout, ready):
        ready()
        prompt("Paste the address the sign-in ended on (or the browser console line), then Enter:")
        seen = []
        while True:
            line = read_line()
            if not line:
                break
            seen.append(line)
            try:
                return redirect.parse(line)
            except RedirectError:
                continue
        try:
            return redirect.parse("".join(seen))
        except RedirectError as exc:
            raise LoginError("unusable_response", exc.message) from exc

    return receive


def stream_receiver(on_status=None, folder=None, in_flight=None):
    """The default receiver: the local event stream (issue 7, stream_client), claiming
    the state on every host (running now or started later, e.g. by the browser that
    the authorization URL opens) so the extension does not fill the code into a panel.
    With `in_flight` (stream_client.InFlight), each wait is held there while it runs,
    so that Ctrl-C can abandon it (the extension then closes its sign-in tab).

    on_status(kind) hears "no_hosts", "connected", "lost" and "untrusted". A wait that ends without
    any host ever connected is reported as `no_host`, not as a plain timeout: the
    extension is then missing or not running.
    """
    from . import stream_client

    def receive(state, timeout, ready):
        seen = []

        def status(kind, advert):
            if kind == "connected":
                seen.append(advert)
            if on_status:
                on_status(kind)

        try:
            capture = stream_client.wait_for_capture(
                timeout=timeout, state=state, claim=True, on_ready=ready, on_status=status, folder=folder,
                in_flight=in_flight)
        except stream_client.StreamError as exc:
            raise LoginError("no_host", str(exc), hint="Fix the folder's owner and mode, or use --paste.") from exc
        if capture is None and not seen:
            raise LoginError(
                "no_host", f"No browser host of codecatch was running during the {_secs(timeout)} s wait, "
                           "so nothing could catch the sign-in's redirect.",
                hint="Open the URL in a browser with the codecatch extension installed and enabled "
                     "(`codecatch doctor` checks the setup), or use --paste.")
        return capture

    return receive


def describe(result):
    """A one-line summary of a token result for stderr (no secrets), the same for a
    fresh sign-in (id_token_claims) and a token from the cache (codecatch_account)."""
    claims = result.get("id_token_claims") or {}
    account = result.get("codecatch_account") or {}
    who = (claims.get("preferred_username") or claims.get("upn") or account.get("username")
           or claims.get("oid") or "?")
    parts = [f"signed in as {who}"]
    tenant = claims.get("tid") or account.get("tenant")
    if tenant:
        parts.append(f"tenant {tenant}")
    if result.get("expires_in") is not None:
        parts.append(f"token valid {int(result['expires_in']) // 60} min")
    if result.get("codecatch_source") == "cache":
        parts.append("from the token cache")
    return ", ".join(parts)


def as_json(result):
    return json.dumps(result, indent=2, sort_keys=True)


def _network_error(exc, cfg, doing):
    """LoginError("network") for a request that failed: which host, at which step, why.

    Host and step come from the URL of the request that failed, because MSAL makes
    its discovery requests inside other calls; never from the request's body, which
    can hold the authorization code or a refresh token. `doing` is the caller's step.
    """
    url = getattr(getattr(exc, "request", None), "url", None) or cfg.authority
    host = urllib.parse.urlsplit(url).netloc or cfg.authority_host
    doing = _step(url) or doing
    stall = _stall(exc)
    if stall is None:
        return LoginError("network", f"Cannot reach {host}: {_short_exc(exc)} ({doing})",
                          hint=_network_hint(exc))
    seconds, capped = getattr(exc, "codecatch_timeout", (None, False))
    if capped:  # the user's --timeout, not our per-request limit, was what ran out
        when = " before --timeout ran out"
    else:
        when = f" within {_secs(seconds)} s" if seconds is not None else ""
    return LoginError("network", f"{host} {stall}{when} ({doing})",
                      hint=_stall_hint(url, host, stall, capped))


def _step(url):
    path = urllib.parse.urlsplit(url).path
    if path.endswith("/discovery/instance"):
        return "while asking Microsoft about the authority (instance discovery)"
    if path.endswith("/.well-known/openid-configuration"):
        return "while fetching the tenant's OpenID configuration"
    return None


_NOT_ACCEPTED = "did not accept the connection"


def _stall(exc):
    """How a request that timed out stalled, or None if it did not time out.

    urllib3 reports a TLS handshake that never finishes as a read timeout; only the
    socket error inside says "handshake"."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return _NOT_ACCEPTED
    if not isinstance(exc, requests.Timeout):
        return None
    if "handshake" in str(_innermost(exc)):
        return "accepted the connection but did not complete the TLS handshake"
    return "did not answer"


def _stall_hint(url, host, stall, capped):
    proxy = _proxy_for(url)
    if proxy:
        hint = (f"The request went through the proxy {proxy}: check that it is up and lets {host} "
                "through (NO_PROXY bypasses it).")
    elif stall == _NOT_ACCEPTED:
        hint = ("Nothing took the connection: a firewall that drops it, or a network that lets "
                "only a proxy out (set HTTPS_PROXY).")
    else:
        hint = ("Something on the way accepted the connection and went silent: a firewall, a "
                "captive portal, or a network that needs a proxy (set HTTPS_PROXY).")
    if capped:
        hint += " If the network is only slow, raise --timeout."
    return hint


def _proxy_for(url):
    """The proxy requests uses for `url` (from the environment), without any user name
    or password in it; None when it goes direct."""
    import requests

    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if not proxy:
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _secs(seconds):
    """Seconds for a message: 15, 2.7, 3 (not 2.7312 or 2.9998)."""
    return f"{seconds:.0f}" if seconds >= 10 else f"{round(seconds, 1):g}"


def _innermost(exc):
    """requests wraps urllib3, which wraps the socket error: the innermost one says
    what happened plainly."""
    inner = exc
    for _ in range(6):
        args = getattr(inner, "args", ())
        nxt = (getattr(inner, "reason", None) if isinstance(getattr(inner, "reason", None), BaseException) else None) \
            or (args[0] if args and isinstance(args[0], BaseException) else None) or inner.__cause__
        if nxt is None or nxt is inner:
            break
        inner = nxt
    return inner


def _short_exc(exc):
    """What went wrong, in a few words."""
    text = str(_innermost(exc))
    for needle, plain in (("Failed to resolve", "the name does not resolve (DNS)"),
                          ("Name or service not known", "the name does not resolve (DNS)"),
                          ("Connection refused", "the connection was refused"),
                          ("timed out", "the connection timed out"),
                          ("CERTIFICATE_VERIFY_FAILED", "the server's TLS certificate is not trusted")):
        if needle in text:
            return plain
    text = text.split(": ", 1)[-1] if text.startswith("<") else text
    return text if len(text) < 200 else text[:199] + "\u2026"


def _network_hint(exc):
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) or type(exc).__name__ == "SSLError":
        return ("TLS verification failed: behind a TLS-inspecting proxy or with a private CA, "
                "give its CA certificate with --ca-bundle FILE.")
    return "Check the network, the proxy settings (HTTPS_PROXY) and --authority-host."

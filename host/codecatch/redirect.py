"""The redirect core: find, recognise, rewrite and parse Microsoft's native redirects.

Pure functions over strings; no I/O. Everything here is what `codecatch parse`, the
native host and the tests share.

The rules (FIELD-NOTES.md section 2, DESIGN.md "Rules that hold everywhere"):
- only Microsoft's native redirect schemes are recognised and rewritten; anything
  else is refused with a reason;
- the rewrite keeps everything after the scheme byte for byte (no decoding and
  re-encoding), because the panel parses the URL it is given;
- the response may be in the query or, with response_mode=fragment, in the fragment;
  a response parameter that appears twice is an error, never first-wins.
"""

import re
from urllib.parse import unquote_plus

from .clouds import KNOWN_CLIENTS, SIGNIN_HOSTS, host_of
from .errors import RedirectError

CODE_LIFETIME_S = 600  # "expires after about 10 minutes" (FIELD-NOTES.md section 2)

SUCCESS_PARAMS = ("code", "state", "session_state", "client_info", "cloud_instance_host_name")
ERROR_PARAMS = (
    "error",
    "error_description",
    "error_subcode",
    "error_uri",
    "trace_id",
    "correlation_id",
    "timestamp",
)
FIELDS = (
    "ok", "kind", "original_uri", "https_url", "scheme", "redirect_uri", "response_in",
    "client_id", "app", "code", "code_length", "code_redacted",
) + SUCCESS_PARAMS[1:] + ERROR_PARAMS + ("aadsts", "hint")

# RFC 3986 scheme characters. Custom schemes that Microsoft's sign-in hands over:
# the WAM broker (ms-appx-web), MSAL's mobile/desktop schemes (msauth..., msal<id>)
# and the broker redirect (brk-...).
_GUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
_NATIVE_SCHEME = re.compile(
    r"(?:ms-appx-web|msauth[a-z0-9+.-]*|msal" + _GUID + r"|brk-[a-z0-9+.-]+)\Z", re.I
)
_OOB = "urn:ietf:wg:oauth:2.0:oob"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_GUID_ANYWHERE = re.compile(_GUID, re.I)
# Schemes that execute or read local things: never turned into a link.
_DANGEROUS = {"javascript", "data", "file", "vbscript", "blob", "filesystem", "about",
              "chrome", "chrome-extension", "moz-extension", "view-source", "jar"}

# Characters that end a URI in free text (quotes of every kind, whitespace, markup).
_STOP = r"\s'\"<>`\u201c\u201d\u2018\u2019\\"
_IN_TEXT = re.compile(
    r"(?:(?:ms-appx-web|msauth[a-z0-9+.-]*|msal" + _GUID + r"|brk-[a-z0-9+.-]+)://"
    r"|urn:ietf:wg:oauth:2\.0:oob"
    r"|https://[a-z0-9.-]+(?::\d+)?/[^" + _STOP + r"?#]*oauth2/nativeclient\b)"
    r"[^" + _STOP + r"]*",
    re.I,
)
# Browser console messages (FIELD-NOTES.md sections 1 and 3). Greedy up to the
# message's own tail, so a quote inside the URI does not cut it short.
_MESSAGES = (
    re.compile(r"Failed to launch '(.*)' because the scheme does not have a registered handler", re.S),
    re.compile(r"Not allowed to launch '(.*)' because a user gesture is required", re.S),
    re.compile("Prevented navigation to \u201c(.*)\u201d due to an unknown protocol", re.S),
    re.compile(r"Prevented navigation to \"(.*)\" due to an unknown protocol", re.S),
)
_JS_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(/))")

HINTS = {
    "AADSTS50011": "The redirect URI does not match the app's registration: start the sign-in from the panel's own link, unchanged.",
    "AADSTS50020": "This account is not from the customer's tenant (guest or personal account): sign in with an account of that tenant.",
    "AADSTS50053": "The account is locked after too many attempts: wait, or have an admin unlock it, then retry.",
    "AADSTS50055": "The password has expired: change it at https://aka.ms/sspr, then retry.",
    "AADSTS50057": "The account is disabled: enable it in the tenant, or use another admin account.",
    "AADSTS50076": "Multi-factor authentication is required: sign in again and complete the second factor.",
    "AADSTS50079": "The account must register for multi-factor authentication first: finish it at https://aka.ms/mfasetup, then retry.",
    "AADSTS50105": "The account is not assigned to this application: an admin must assign it (Enterprise applications > Users and groups).",
    "AADSTS50126": "Wrong user name or password: check them and sign in again.",
    "AADSTS50158": "An external security challenge (third-party MFA or identity provider) was not completed: complete it and retry.",
    "AADSTS50199": "Microsoft asks you to confirm the sign-in: click Continue; codecatch captures the code that follows.",
    "AADSTS53003": "Blocked by a Conditional Access policy: ask the tenant's admin to allow this sign-in, quoting the correlation id.",
    "AADSTS530003": "Conditional Access requires a managed device: sign in from a compliant device or ask the tenant's admin.",
    "AADSTS54005": "This code was already redeemed: start a new sign-in from the panel for a fresh one.",
    "AADSTS65001": "The app has no consent in this tenant: a Global Administrator must grant admin consent, then retry.",
    "AADSTS65004": "The user declined consent: sign in again and accept, or have an admin grant consent for the tenant.",
    "AADSTS70000": "The code was rejected (used, expired or issued for another app): start a new sign-in for a fresh code.",
    "AADSTS70008": "The code has expired: start a new sign-in and paste the new code within 10 minutes.",
    "AADSTS700016": "The application is not found in this tenant: check the tenant name or id in the panel, and that the app is consented there.",
    "AADSTS90072": "The account does not exist in this tenant: sign in with an account of the customer's tenant, or add it as a guest.",
    "AADSTS90094": "An administrator must grant consent for this app: ask a Global Administrator of the tenant.",
}
_ERROR_HINTS = {
    "access_denied": "Access was denied: sign in again with an admin account of the customer's tenant.",
    "consent_required": "Consent is required: an admin of the tenant must grant consent, then retry.",
    "interaction_required": "Microsoft needs you to interact (MFA or consent): start the sign-in again in the browser.",
    "login_required": "No signed-in session: start the sign-in again and sign in.",
    "invalid_request": "The sign-in link is malformed: start again from the panel's own link.",
    "server_error": "Microsoft's sign-in had a server error: retry in a minute.",
    "temporarily_unavailable": "Microsoft's sign-in is temporarily unavailable: retry in a minute.",
}
_CANCEL_HINT = "You cancelled the sign-in: start it again from the panel when you are ready."
_AADSTS = re.compile(r"\bAADSTS(\d{4,8})\b")


def redact(code):
    """A code shown to people: its first 6 characters and its length, never the rest."""
    if not code:
        return None
    return f"{code[:6]}\u2026 ({len(code)} chars)"


def unescape_js(text):
    """Undo the JavaScript string escapes Microsoft's pages use (\\u0026, \\/, \\x26)."""

    def one(m):
        if m.group(3):
            return "/"
        return chr(int(m.group(1) or m.group(2), 16))

    return _JS_ESCAPE.sub(one, text)


def find_uri(text):
    """Return the one redirect URI inside pasted text, or raise RedirectError.

    Accepts a bare URI (with surrounding whitespace or quotes), Chrome's and Firefox's
    console messages, and page source with JavaScript or HTML escapes.
    """
    if not isinstance(text, str):
        raise RedirectError("no_uri", "Expected text, got nothing.")
    for pattern in _MESSAGES:
        m = pattern.search(text)
        if m:
            return m.group(1).strip()
    if "\\" in text:
        text = unescape_js(text)
    bare = text.strip().strip("'\"`\u201c\u201d\u2018\u2019").strip()
    if bare and not any(c.isspace() for c in bare) and _SCHEME.match(bare):
        return _unescape_html(bare)
    m = _IN_TEXT.search(text)
    if m:
        # Free text: a sentence may end right after the URI.
        return _unescape_html(m.group(0).rstrip(".,;:)]}"))
    # Nothing native: name what was there, for a precise reason later.
    m = re.search(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*):[^" + _STOP + r"]+", text)
    if m and m.group(1).lower() in _DANGEROUS | {"https", "http", "urn"} | _custom_looking(m.group(0)):
        return m.group(0)
    raise RedirectError(
        "no_uri",
        "No redirect URI found: paste the ms-appx-web://… address, or the whole "
        "'Failed to launch …' line from the browser console.",
    )


def _custom_looking(candidate):
    scheme = candidate.split(":", 1)[0].lower()
    return {scheme} if candidate[len(scheme):].startswith("://") else set()


def _unescape_html(uri):
    # Page source often carries &amp; in attributes; no response parameter contains "amp;".
    return uri.replace("&amp;", "&")


def classify(uri):
    """Return (scheme, kind) where kind is 'custom', 'oob' or 'nativeclient'; else raise."""
    m = _SCHEME.match(uri)
    if not m:
        raise RedirectError("no_uri", f"Not a URI (it has no scheme): {_short(uri)}")
    scheme = m.group(1).lower()
    rest = uri[m.end():]
    if scheme in _DANGEROUS:
        raise RedirectError(
            "refused_scheme",
            f"Refused: {scheme}: URIs are never rewritten or opened; only Microsoft's "
            "native redirect URIs (ms-appx-web://, msauth…://, msal<id>://, brk-…://) are.",
        )
    if _NATIVE_SCHEME.match(scheme):
        if not rest.startswith("//"):
            raise RedirectError(
                "unknown_scheme", f"'{scheme}:' has no '//' authority; it is not a redirect URI."
            )
        return scheme, "custom"
    if scheme == "urn":
        if uri[: len(_OOB)].lower() == _OOB:
            return scheme, "oob"
        raise RedirectError("unknown_scheme", f"Unknown URN: {_short(uri)}")
    if scheme in ("https", "http"):
        host = host_of(uri)
        path = re.split(r"[?#]", rest, 1)[0]
        if scheme == "https" and host in SIGNIN_HOSTS and path.lower().rstrip("/").endswith("/oauth2/nativeclient"):
            return scheme, "nativeclient"
        raise RedirectError(
            "not_native_redirect",
            f"An ordinary {scheme} page ({host or 'no host'}), not a native redirect: "
            "codecatch only reads the redirect that ends Microsoft's sign-in.",
        )
    raise RedirectError(
        "unknown_scheme",
        f"Unknown scheme '{scheme}:': not one of Microsoft's native redirects "
        "(ms-appx-web, msauth…, msal<client-id>, brk-…, urn:ietf:wg:oauth:2.0:oob).",
    )


def split_uri(uri):
    """(before_query, query, fragment), query and fragment None when absent. No decoding."""
    base, hash_, fragment = uri.partition("#")
    base, q, query = base.partition("?")
    return base, (query if q else None), (fragment if hash_ else None)


def parse_params(part):
    """Decode a query or fragment into a dict; a repeated name raises RedirectError."""
    params = {}
    if not part:
        return params
    for pair in part.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = unquote_plus(name)
        if name in params:
            raise RedirectError(
                "duplicate_parameter",
                f"The parameter '{name}' appears twice; the URI was mangled or tampered "
                "with. Copy it again from the browser.",
            )
        params[name] = unquote_plus(value)
    return params


def rewrite_scheme(uri, kind=None, cloud_host=None):
    """The https URL for a native redirect URI (see PROTOCOL.md "Rewrite")."""
    scheme, kind = classify(uri) if kind is None else (uri.split(":", 1)[0].lower(), kind)
    if kind == "nativeclient":
        return uri
    if kind == "oob":
        host = _signin_host_for(cloud_host)
        i = min([i for i in (uri.find("?"), uri.find("#")) if i != -1], default=len(uri))
        return f"https://{host}/common/oauth2/nativeclient" + uri[i:]
    return "https" + uri[len(scheme):]


def _signin_host_for(cloud_host):
    if cloud_host:
        for candidate in (cloud_host.lower(), "login." + cloud_host.lower()):
            if candidate in SIGNIN_HOSTS:
                return candidate
    return "login.microsoftonline.com"


def explain(error, description=None, subcode=None):
    """(aadsts, hint) for an error response. Unknown numbers keep Microsoft's own text."""
    m = _AADSTS.search(description or "")
    aadsts = f"AADSTS{m.group(1)}" if m else None
    if aadsts in HINTS:
        return aadsts, HINTS[aadsts]
    if (subcode or "").lower() == "cancel":
        return aadsts, _CANCEL_HINT
    if aadsts:
        text = _first_line(description)
        return aadsts, (
            f"Microsoft says: {text} (look it up: "
            f"https://login.microsoftonline.com/error?code={aadsts[6:]})"
        )
    if error in _ERROR_HINTS:
        return None, _ERROR_HINTS[error]
    return None, f"Microsoft returned '{error}'" + (f": {_first_line(description)}" if description else ".")


def analyse(uri):
    """Parse one redirect URI into a response object (PROTOCOL.md); raise RedirectError."""
    scheme, kind = classify(uri)
    base, query, fragment = split_uri(uri)
    in_query = parse_params(query)
    in_fragment = parse_params(fragment)
    q_has = "code" in in_query or "error" in in_query
    f_has = "code" in in_fragment or "error" in in_fragment
    if q_has and f_has:
        raise RedirectError(
            "duplicate_parameter",
            "The response appears in both the query and the fragment; copy the URI again.",
        )
    if not (q_has or f_has):
        raise RedirectError(
            "no_response",
            "This redirect carries neither a code nor an error; the sign-in did not finish. "
            "Complete the sign-in and copy the address it ends on.",
        )
    params, where = (in_query, "query") if q_has else (in_fragment, "fragment")
    result = dict.fromkeys(FIELDS)
    result.update(
        original_uri=uri,
        scheme=scheme,
        redirect_uri=base,
        response_in=where,
    )
    for name in SUCCESS_PARAMS + ERROR_PARAMS:
        if name in params:
            result[name] = params[name]
    result["https_url"] = rewrite_scheme(uri, kind, result["cloud_instance_host_name"])
    m = _GUID_ANYWHERE.search(base)
    if m:
        client_id = m.group(0).lower()
        result["client_id"] = client_id
        result["app"] = KNOWN_CLIENTS.get(client_id)
    if "error" in params:
        # An error wins over a code: never fill a code that came with an error.
        result.update(kind="error", ok=False, code=None)
        result["aadsts"], result["hint"] = explain(
            params["error"], params.get("error_description"), params.get("error_subcode")
        )
        return result
    code = params["code"]
    if not code:
        raise RedirectError("no_response", "The 'code' parameter is empty; sign in again.")
    result.update(kind="code", ok=True, code_length=len(code), code_redacted=redact(code))
    return result


def parse(text):
    """Find the redirect URI in text and parse it. Raises RedirectError (and only that)."""
    return analyse(find_uri(text))


def _first_line(text):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:300]


def _short(text, limit=80):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"

"""The redirect core: find, recognise, rewrite and parse Microsoft's native redirects.

Pure functions over strings; no I/O. Everything here is what `codecatch parse`, the
native host and the tests share.

The rules (docs/browser-notes.md section 2):
- only Microsoft's native redirect schemes are recognised and rewritten; anything
  else is refused with a reason;
- the rewrite keeps everything after the scheme byte for byte (no decoding and
  re-encoding), because the panel parses the URL it is given;
- the response may be in the query or, with response_mode=fragment, in the fragment;
  a response parameter that appears twice is an error, never first-wins, and so
  is text holding two different codes (the same one twice is one);
- finding a URI in pasted text is linear in its length (no regex backtracking).
"""

import re
from urllib.parse import unquote_plus

from .clouds import KNOWN_CLIENTS, SIGNIN_HOSTS, authority_problem
from .errors import RedirectError

CODE_LIFETIME_S = 600  # "expires after about 10 minutes" (docs/browser-notes.md section 2)

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
    r"(?:ms-appx-web|msauth[a-z0-9+.-]*|msal" + _GUID + r"|brk-[a-z0-9+.-]+)\Z", re.IGNORECASE
)
_OOB = "urn:ietf:wg:oauth:2.0:oob"
# What may follow the out-of-band URN: its query or fragment, or nothing. ":auto" is
# the same redirect in its other registered spelling (the extension sends it too).
_OOB_TAIL = re.compile(r"(?::auto)?(?=[?#]|\Z)", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_GUID_ANYWHERE = re.compile(_GUID, re.IGNORECASE)
# Schemes that execute or read local things: never turned into a link.
_DANGEROUS = {"javascript", "data", "file", "vbscript", "blob", "filesystem", "about",
              "chrome", "chrome-extension", "moz-extension", "view-source", "jar"}
# https://<sign-in host>/<tenant>/oauth2/nativeclient, one tenant segment at most (the
# extension's lib/redirect.js recognises the same shape), and the personal accounts'
# desktop redirect https://login.live.com/oauth20_desktop.srf.
_NATIVECLIENT_PATH = re.compile(r"(?:/[^/]+)?/oauth2/nativeclient/?\Z", re.IGNORECASE)
_LIVE_DESKTOP = ("login.live.com", "/oauth20_desktop.srf")

# Characters that end a URI in free text (quotes of every kind, whitespace, markup).
_STOP = r"\s'\"<>`\u201c\u201d\u2018\u2019\\"
_RUN = re.compile(r"[^" + _STOP + r"]++")
# A scheme token: not inside a longer run of scheme characters, no backtracking (the
# text may be a megabyte of page source).
_TOKEN = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+:")
# Characters no redirect URI holds: C0 and C1 controls, spaces of every kind,
# zero-width and bidirectional formatting characters (they hide or reorder text).
_INVISIBLE = re.compile(
    "[\x00-\x20\x7f-\xa0\u00ad\u061c\u115f\u1160\u180e\u2000-\u200f\u2028-\u202f"
    "\u205f-\u206f\u3000\ufeff\ufff9-\ufffb]"
)
# Browser console messages (docs/browser-notes.md sections 1 and 3): (head, tail). The URI is
# what lies between a head and the next tail on the same line, so a quote inside the
# URI does not cut it short and two messages pasted together stay two.
_MESSAGES = (
    ("Failed to launch '", re.compile(r"' because the scheme does not have a registered handler")),
    ("Not allowed to launch '", re.compile(r"' because a user gesture is required")),
    ("Launched external handler for '", re.compile(r"'\.?(?=\s|\Z)")),
    ("Prevented navigation to \u201c", re.compile("\u201d due to an unknown protocol")),
    ('Prevented navigation to "', re.compile(r'" due to an unknown protocol')),
)
# \u0026, \x26, \/ (and the same escaped twice, as in JSON inside a script string).
_JS_ESCAPE = re.compile(r"(?<!\\)\\++(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(/))")
_HTML_AMP = re.compile(r"&(?:amp|#0*38|#x0*26);", re.IGNORECASE)
# A Microsoft authorization code: printable ASCII (a '+' decoded to a space included).
_CODE_OK = re.compile(r"[\x20-\x7e]+\Z")
_C0_SPACE_QUOTES = "".join(map(chr, range(0x21))) + "'\"`\u201c\u201d\u2018\u2019"

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
    return f"{code[:6]}\u2026 ({len(code)} char{'s' if len(code) != 1 else ''})"


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
    console messages (several lines pasted together too), and page source with
    JavaScript or HTML escapes. Text holding two different responses is an error:
    which one the panel's sign-in expects cannot be told.
    """
    return _select(text)[0]


def parse(text):
    """Find the redirect URI in text and parse it. Raises RedirectError (and only that)."""
    return _select(text)[1]


def _select(text):
    """(uri, response) for the one usable redirect in text; else the most telling error."""
    if not isinstance(text, str):
        raise RedirectError("no_uri", "Expected text, got nothing.")
    # Browsers drop tabs and newlines inside a URL and leading controls before it:
    # "java\tscript:..." pasted alone is a javascript: URL, refused whatever follows.
    squeezed = re.sub(r"[\t\n\r]+", "", text).strip(_C0_SPACE_QUOTES)
    m = _SCHEME.match(squeezed)
    if m and m.group(1).lower() in _DANGEROUS and not _INVISIBLE.search(squeezed):
        classify(squeezed)  # raises refused_scheme
    found = []  # (uri, response) for each distinct usable one, in order
    best_error = None  # (rank, RedirectError)
    for uri in _candidates(text):
        try:
            response = _analyse_pasted(uri)
        except RedirectError as exc:
            rank = _error_rank(uri, exc)
            if best_error is None or rank < best_error[0]:
                best_error = (rank, exc)
            continue
        if not any(_same_response(response, seen) for _, seen in found):
            found.append((uri, response))
            codes = [r for _, r in found if r["kind"] == "code"]
            if len(codes) > 1:
                raise _ambiguous(codes)
    codes = [(u, r) for u, r in found if r["kind"] == "code"]
    if codes:
        # An error response next to a code (a failed attempt, then a good one): the code.
        return codes[0]
    if len(found) > 1:
        raise _ambiguous([r for _, r in found])
    if found:
        return found[0]
    if best_error is not None:
        raise best_error[1]
    raise RedirectError(
        "no_uri",
        "No redirect URI found: paste the ms-appx-web://… address, or the whole "
        "'Failed to launch …' line from the browser console.",
    )


# The address an admin has after changing the scheme by hand (the old procedure), or
# that codecatch printed: https://Microsoft.AAD.BrokerPlugin/… is no real host, only
# ms-appx-web://Microsoft.AAD.BrokerPlugin/… with its scheme rewritten.
_REWRITTEN_BROKER = re.compile(r"https://microsoft\.aad\.brokerplugin(?=[/?#])", re.IGNORECASE)


def _analyse_pasted(uri):
    """analyse(), plus the already-rewritten broker address for pasted text. Only for
    text a person pastes: a capture from the browser must be the native redirect itself."""
    if _REWRITTEN_BROKER.match(uri):
        response = analyse("ms-appx-web" + uri[len("https"):])
        response["original_uri"] = uri
        return response
    return analyse(uri)


def _same_response(a, b):
    keys = ("kind", "code", "error", "error_description", "state", "trace_id", "correlation_id")
    return all(a[k] == b[k] for k in keys)


def _ambiguous(responses):
    what = " and ".join(
        (r["code_redacted"] if r["kind"] == "code" else f"error {r['error']}") for r in responses[:2]
    )
    return RedirectError(
        "ambiguous_response",
        f"The text holds {'two' if len(responses) == 2 else 'several'} different sign-in "
        f"responses ({what}); codecatch cannot tell which one the panel expects. "
        "Paste only the line from the latest sign-in.",
    )


def _error_rank(uri, exc):
    # A native redirect that is unusable says more than a stray https link or word.
    if exc.name in ("no_response", "duplicate_parameter", "ambiguous_response", "truncated") or (
        exc.name == "no_uri" and _NATIVE_SCHEME.match(uri.split(":", 1)[0])
    ):
        return 0
    return {"refused_scheme": 1, "not_native_redirect": 2, "unknown_scheme": 3}.get(exc.name, 4)


def _candidates(text):
    """Every URI the text may mean, most explicit first. Linear in the text's length."""
    rest = text
    spans = _message_spans(text)
    if spans:
        pieces, last = [], 0
        for start, end, uri in spans:
            yield uri.strip()
            pieces.append(text[last:start])
            last = end
        pieces.append(text[last:])
        rest = "\n".join(pieces)
    if "\\" in rest:
        rest = unescape_js(rest)
    bare = rest.strip().strip(_C0_SPACE_QUOTES)
    if bare and not any(c.isspace() for c in bare) and _SCHEME.match(bare):
        # The whole paste is one URI: keep it whole (quotes inside included).
        yield from _in_run(bare, 0, len(bare), bare_run=True)
        return
    for run in _RUN.finditer(rest):
        yield from _in_run(rest, run.start(), run.end(), bare_run=False)


_NESTED_LIMIT = 16  # URIs looked at inside one run of text (bounds the work per run)


def _in_run(text, start, end, bare_run):
    looked = 0
    for m in _TOKEN.finditer(text, start, end):
        scheme = m.group(0)[:-1].lower()
        after = text[m.end(): m.end() + 2]
        native = bool(_NATIVE_SCHEME.match(scheme)) or (
            scheme == "urn" and text[m.start(): m.start() + len(_OOB)].lower() == _OOB
        )
        first = m.start() == start
        interesting = (native or scheme in _DANGEROUS or scheme in ("https", "http", "urn")
                       or after == "//" or (bare_run and first))
        if not interesting:
            continue
        uri = text[m.start(): end]
        if not bare_run:
            # Free text: a sentence may end right after the URI.
            uri = uri.rstrip(".,;:)]}")
        yield _HTML_AMP.sub("&", uri)
        looked += 1
        if native or scheme in _DANGEROUS or looked >= _NESTED_LIMIT:
            # What a native or a refused URI carries inside it is part of it, never
            # a second URI (javascript:...//ms-appx-web://... is refused, not mined).
            return


def _message_spans(text):
    """(start, end, uri) of each console message, in order. Linear: heads and tails are
    each found once and paired, a tail with the last head before it on its line."""
    spans = []
    for head, tail in _MESSAGES:
        i = text.find(head)
        if i == -1:
            continue
        heads = []
        while i != -1:
            heads.append(i)
            i = text.find(head, i + len(head))
        h = 0
        taken_to = 0
        for t in tail.finditer(text):
            # The last head that ends before this tail and after the previous message.
            while h + 1 < len(heads) and heads[h + 1] + len(head) <= t.start():
                h += 1
            if h >= len(heads) or heads[h] < taken_to or heads[h] + len(head) > t.start():
                continue
            uri_start = heads[h] + len(head)
            if "\n" in text[uri_start: t.start()]:
                taken_to = uri_start  # this head has no tail on its line: never look again
                continue
            spans.append((heads[h], t.end(), text[uri_start: t.start()]))
            taken_to = t.end()
    spans.sort()
    # Two patterns may claim overlapping text (a URI quoting another message): first wins.
    kept, end = [], 0
    for span in spans:
        if span[0] >= end:
            kept.append(span)
            end = span[1]
    return kept


def classify(uri):
    """Return (scheme, kind) where kind is 'custom', 'oob' or 'nativeclient'; else raise."""
    m = _SCHEME.match(uri)
    if not m:
        raise RedirectError(
            "no_uri", f"Not a URI (it has no scheme): '{_short(uri)}'" if uri else "Not a URI: it is empty."
        )
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
        if re.match(r"//[?#/]|//\Z", rest):
            raise RedirectError(
                "unknown_scheme", f"'{scheme}://' has no host after the '//'; it is not a redirect URI."
            )
        return scheme, "custom"
    if scheme == "urn":
        if uri[: len(_OOB)].lower() == _OOB and _OOB_TAIL.match(uri, len(_OOB)):
            return scheme, "oob"
        raise RedirectError("unknown_scheme", f"Unknown URN: {_short(uri)}")
    if scheme in ("https", "http"):
        host, problem = authority_problem(uri)
        if problem:
            raise RedirectError(
                "not_native_redirect",
                f"Not a native redirect: {_short(uri.split('?', 1)[0].split('#', 1)[0], 60)} "
                f"{problem}; Microsoft's sign-in never sends such an address.",
            )
        path = _path_of(uri)
        if host in SIGNIN_HOSTS and (
            _NATIVECLIENT_PATH.match(path) or (host, path.lower()) == _LIVE_DESKTOP
        ):
            return scheme, "nativeclient"
        if host in SIGNIN_HOSTS:
            raise RedirectError(
                "not_native_redirect",
                f"A page of Microsoft's sign-in ({host}{_short(path, 40)}), not the native "
                "redirect that ends it: codecatch reads only the address the sign-in ends on.",
            )
        raise RedirectError(
            "not_native_redirect",
            f"An ordinary https page on {host}, not a Microsoft sign-in host: codecatch only "
            "reads the redirect that ends Microsoft's sign-in.",
        )
    raise RedirectError(
        "unknown_scheme",
        f"Unknown scheme '{scheme}:': not one of Microsoft's native redirects "
        "(ms-appx-web, msauth…, msal<client-id>, brk-…, urn:ietf:wg:oauth:2.0:oob).",
    )


def _path_of(url):
    """The path of an https URL (after the authority, before query and fragment)."""
    after = url[8:]
    cut = len(after)
    for sep in "/?#":
        i = after.find(sep)
        if i != -1:
            cut = min(cut, i)
    return re.split(r"[?#]", after[cut:], maxsplit=1)[0]


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
        return "https" + uri[len(scheme):]  # already https; only the scheme's case may change
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
    if not isinstance(uri, str):
        raise RedirectError("no_uri", "Expected a URI, got nothing.")
    scheme, kind = classify(uri)
    bad = _INVISIBLE.search(uri)
    if bad:
        raise RedirectError(
            "no_uri",
            f"The URI holds an invisible or control character (U+{ord(bad.group(0)):04X}) at "
            f"position {bad.start()}; a real redirect never does. Copy it again from the browser.",
        )
    if "\u2026" in uri or uri.endswith("..."):
        raise RedirectError(
            "truncated",
            "The address was shortened when it was copied (it contains '\u2026'): the code in it is "
            "incomplete. Copy the whole address (in DevTools: right-click the message, Copy), "
            "or let the codecatch extension catch it.",
        )
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
    _ids_from_description(result)
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
    if not _CODE_OK.match(code):
        raise RedirectError(
            "no_response",
            "The 'code' parameter holds characters a Microsoft code never has (control or "
            "non-ASCII characters once decoded); the URI was mangled. Copy it again.",
        )
    result.update(kind="code", ok=True, code_length=len(code), code_redacted=redact(code))
    return result


# Blanks, not \s: `^\s*` with re.M restarts at every newline and rescans the newlines
# after it, quadratic on a description of 60 000 encoded newlines (5 s, a review's PoC).
_DESCRIPTION_IDS = {
    "trace_id": re.compile(r"^[ \t]*Trace ID:[ \t]*(\S+)", re.I | re.M),
    "correlation_id": re.compile(r"^[ \t]*Correlation ID:[ \t]*(\S+)", re.I | re.M),
    "timestamp": re.compile(r"^[ \t]*Timestamp:[ \t]*(\S(?:[^\r\n]*\S)?)", re.I | re.M),
}


def _ids_from_description(result):
    """Microsoft often sends the trace id, correlation id and time only as lines of
    error_description; an admin quotes them to support, so lift them out."""
    description = result.get("error_description") or ""
    for name, pattern in _DESCRIPTION_IDS.items():
        if result.get(name) is None:
            m = pattern.search(description)
            if m:
                result[name] = m.group(1)


def _first_line(text):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:300]


def _short(text, limit=80):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"

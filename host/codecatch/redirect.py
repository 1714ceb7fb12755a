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

import json
import re
from urllib.parse import unquote_plus

from .clouds import SIGNIN_HOSTS, app_of, authority_problem
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
) + SUCCESS_PARAMS[1:] + ERROR_PARAMS + ("aadsts", "msis", "hint")

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
_RESPONSE_PARAM = re.compile(r"[?&#](?:code|error)=")
_AUTHORIZE_PATH = re.compile(r"/oauth2/(?:v2\.0/)?authorize/?\Z|/oauth20_authorize\.srf\Z", re.IGNORECASE)

# Characters that end a URI in free text (quotes of every kind, whitespace, markup).
_STOP = r"\s'\"<>`\u201c\u201d\u2018\u2019\\"
# Inside a run: an apostrophe between letters (an unencoded "doesn't" in an error
# description) and a <placeholder> right after '=' (code=<code>) do not end the URI.
_RUN = re.compile(r"(?:[^" + _STOP + r"]|(?<=[A-Za-z])'(?=[A-Za-z])|(?<=[=%])<[^<>\r\n]{1,40}>)++")
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
_MSIS = re.compile(r"\bMSIS(\d{4})\b")
# AD FS errors (Microsoft's AD FS troubleshooting guides, docs/browser-notes.md section 2).
MSIS_HINTS = {
    "MSIS7012": "AD FS failed while processing the sign-in; the real cause is in its event log (AD FS > Admin, event 364): your AD FS administrator must read it.",
    "MSIS3173": "AD FS could not validate the account in Active Directory (disabled, locked or expired, or AD not reachable from AD FS): check the account, or ask the AD FS administrator.",
    "MSIS7102": "Microsoft asked AD FS for a sign-in method it has not enabled (often after prompt=login): the AD FS administrator must enable it, or set the domain's PromptLoginBehavior.",
    "MSIS5007": "An AD FS access control rule refused this account for the application: the AD FS administrator must allow it.",
    "MSIS7065": "AD FS was opened without a sign-in request: start the sign-in again from the panel's own link.",
    "MSIS7042": "The browser looped between AD FS and the application (loop detection): the application is not taking the token; close other sign-in tabs and retry, and tell the AD FS administrator if it persists.",
    "MSIS7000": "AD FS received a malformed sign-in request: start again from the panel's own link; if it persists, the AD FS administrator must check the relying party.",
    "MSIS9612": "AD FS refused the authorization code (used, expired or for another client): start a new sign-in for a fresh code.",
    "MSIS9622": "AD FS could not authenticate the client (wrong or missing client credential): the application's AD FS registration must be fixed.",
}


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
    text = _CONTINUED_LINE.sub("", text)
    for uri in _candidates(text):
        explicit = isinstance(uri, _Quoted)
        try:
            response = _analyse_pasted(uri)
        except RedirectError as exc:
            rank = _error_rank(uri, exc)
            if explicit and rank > 0:
                rank = 0.75  # what a console message quotes says more than a stray link
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
    if best_error is None or best_error[0] > 0 or best_error[1].name == "no_response":
        # No native redirect in the text: Microsoft's error may still be in it, as a
        # bare query, MSAL's JSON, or the text of the sign-in's error page.
        shown = error_in_text(text)
        if shown is not None:
            return None, shown
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
        response = analyse("ms-appx-web" + uri[len("https"):], pasted=True)
        response["original_uri"] = uri
        return response
    try:
        return analyse(uri, pasted=True)
    except RedirectError as exc:
        if exc.name != "not_native_redirect":
            raise
        # Not an address codecatch would fill, but an error response all the same (the
        # personal accounts' err.srf page, a web app's reply URL): explain it.
        _, query, fragment = split_uri(uri)
        for part, where in ((query, "query"), (fragment, "fragment")):
            params = _params_or_none(part)
            if params and params.get("error"):
                return _error_result(params, where, original_uri=uri)
        raise


def _params_or_none(part):
    try:
        return parse_params(part)
    except RedirectError:
        return None


def _error_result(params, where, original_uri=None):
    """A response object for an error that came without a native redirect."""
    result = dict.fromkeys(FIELDS)
    result.update(kind="error", ok=False, original_uri=original_uri, response_in=where)
    for name in ERROR_PARAMS:
        if params.get(name) is not None:
            result[name] = params[name]
    if result["timestamp"]:
        result["timestamp"] = " ".join(result["timestamp"].split())  # a console wrapped it
    _ids_from_description(result)
    result["aadsts"], result["msis"], result["hint"] = _explain(
        result["error"], result["error_description"], result["error_subcode"])
    return result


# error=… that starts a query, a fragment or the text itself; MSAL's JSON error;
# a number from the sign-in's error page, with what follows it on its line.
_BARE_ERROR = re.compile(r"(?:(?<=[?#&])|(?<![^\s'\"(\[<]))error=")
_JSON_FIELD = re.compile(r'"(error|error_description|error_codes|trace_id|correlation_id|timestamp)"\s*:\s*'
                         r'("(?:[^"\\]|\\.){0,4000}"|\[[^\]\n]{0,200}\])')
# The OAuth error, where a log or a page names it in words ("Error: invalid_request.",
# "ServerError: invalid_grant: 70000 - [...]", "errorCode":"invalid_grant").
_OAUTH_ERROR = re.compile(
    r"\b(invalid_request|invalid_grant|invalid_client|unauthorized_client|unsupported_grant_type|"
    r"unsupported_response_type|invalid_scope|invalid_resource|access_denied|server_error|"
    r"temporarily_unavailable|interaction_required|login_required|consent_required|"
    r"account_selection_required|authorization_pending|authorization_declined|expired_token|"
    r"bad_verification_code)\b")
_PAGE_ERROR = re.compile(r"\b((?:AADSTS\d{4,8})|(?:MSIS\d{4}))\b[:.]?[ \t]*([^\r\n]{0,2000})")


def error_in_text(text):
    """An error response shown without a native redirect, or None.

    Forms, in order: `?error=…` / `#error=…` / `error=…` as a bare query or fragment;
    MSAL's JSON error (`"error": "invalid_grant", "error_description": "AADSTS70008: …"`);
    the text of Microsoft's (or AD FS's) error page with its AADSTS or MSIS number.
    """
    if "\\" in text:
        text = unescape_js(text)
    for m in _BARE_ERROR.finditer(text):
        run = _RUN.match(text, m.start())
        start = m.start()
        # The whole query the error sits in: back to its '?' or '#', or the run's start.
        while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "?#'\"(<[":
            start -= 1
        if start > 0 and text[start - 1] in "?#":
            where = "fragment" if text[start - 1] == "#" else "query"
        else:
            where = "text"
        params = _params_or_none(_HTML_AMP.sub("&", text[start: run.end() if run else m.end()]))
        if params and params.get("error"):
            result = _error_result(params, where)
            _ids_from_description(result, text)
            return result
    fields = {}
    for m in _JSON_FIELD.finditer(text):
        value = m.group(2)
        if value.startswith('"'):
            try:
                value = json.loads(value, strict=False)  # a console may have wrapped it
            except ValueError:
                value = value[1:-1]
        fields.setdefault(m.group(1), value)
    if isinstance(fields.get("error"), str) and fields["error"]:
        params = {k: v for k, v in fields.items() if isinstance(v, str)}
        result = _error_result(params, "json")
        _ids_from_description(result, text)
        return result
    m = _PAGE_ERROR.search(text)
    if m:
        number, said = m.group(1), m.group(2).strip()
        params = {"error_description": f"{number}: {said}" if said else number}
        word = _OAUTH_ERROR.search(text)
        if word:
            params["error"] = word.group(1)
        result = _error_result(params, "text")
        _ids_from_description(result, text)
        return result
    return None


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
    if exc.name == "no_response":
        return 0.5  # a redirect URI mentioned in passing says less than a cut response
    if exc.name in ("duplicate_parameter", "ambiguous_response", "truncated",
                    "implausible_code") or (
        exc.name == "no_uri" and _NATIVE_SCHEME.match(uri.split(":", 1)[0])
    ):
        return 0
    return {"refused_scheme": 1, "not_native_redirect": 2, "unknown_scheme": 3}.get(exc.name, 4)


class _Quoted(str):
    """A URI that a browser's console message quotes: what the admin meant to copy."""


# A poster who split a long query over lines, each line starting with '&'.
_CONTINUED_LINE = re.compile(r"[ \t]*\r?\n[ \t]*(?=&[A-Za-z_]+=)")


def _candidates(text):
    """Every URI the text may mean, most explicit first. Linear in the text's length."""
    rest = text
    spans = _message_spans(text)
    if spans:
        pieces, last = [], 0
        for start, end, uri in spans:
            yield _Quoted(uri.strip())
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
        interesting = (native or scheme in _DANGEROUS or scheme in ("https", "http")
                       or after == "//" or (bare_run and first))
        if not interesting:
            continue
        uri = text[m.start(): end]
        if not bare_run:
            # Free text: a sentence may end right after the URI. Dots that are an
            # ellipsis ("code=0.AXkA... [snip]") stay: they say the code was cut.
            kept = uri.rstrip(".,;:)]}")
            tail = uri[len(kept):]
            uri = kept + tail[: tail.rfind("..") + 2] if ".." in tail else kept
            if ":" not in uri:  # "the urn: prefix": a word, not a URI
                continue
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
                f"{problem}; Microsoft's sign-in never ends on such an address.",
            )
        path = _path_of(uri)
        if host in SIGNIN_HOSTS and (
            _NATIVECLIENT_PATH.match(path) or (host, path.lower()) == _LIVE_DESKTOP
        ):
            return scheme, "nativeclient"
        if host in SIGNIN_HOSTS and _AUTHORIZE_PATH.search(path) and not _RESPONSE_PARAM.search(uri):
            raise RedirectError(
                "no_response",
                "This is the sign-in request (the address a panel or app opens), not the "
                "address the sign-in ends on: it carries no code. Open it, sign in, and copy "
                "the address the sign-in ends on (or let the codecatch extension catch it).",
            )
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
    aadsts, _, hint = _explain(error, description, subcode)
    return aadsts, hint


def _explain(error, description=None, subcode=None):
    """(aadsts, msis, hint)."""
    m = _AADSTS.search(description or "")
    aadsts = f"AADSTS{m.group(1)}" if m else None
    m = _MSIS.search(description or "")
    msis = f"MSIS{m.group(1)}" if m else None
    if aadsts in HINTS:
        return aadsts, msis, HINTS[aadsts]
    if msis in MSIS_HINTS and not aadsts:
        return aadsts, msis, MSIS_HINTS[msis]
    if (subcode or "").lower() == "cancel":
        return aadsts, msis, _CANCEL_HINT
    if aadsts:
        text = _first_line(description)
        return aadsts, msis, (
            f"Microsoft says: {text} (look it up: "
            f"https://login.microsoftonline.com/error?code={aadsts[6:]})"
        )
    if msis:
        return aadsts, msis, (
            f"Your organisation's AD FS server refused the sign-in ({msis}: "
            f"{_first_line(_MSIS.sub('', description or '', count=1).lstrip(': ')) or 'no description'}). "
            "Its administrator can look the number up in the AD FS event log (Applications "
            "and Services Logs > AD FS > Admin)."
        )
    if error in _ERROR_HINTS:
        return None, None, _ERROR_HINTS[error]
    said = f"Microsoft returned '{error}'" if error else "Microsoft's sign-in returned an error"
    return None, None, said + (f": {_first_line(description)}" if description else ".")


def analyse(uri, pasted=False):
    """Parse one redirect URI into a response object (PROTOCOL.md); raise RedirectError.

    `pasted`: the URI came from text a person copied, so its code must also have the
    form its issuer sends (check_code): a copy can be cut, masked or a placeholder. A
    capture is the address the browser itself was sent to: only that it is whole.
    """
    if not isinstance(uri, str):
        raise RedirectError("no_uri", "Expected a URI, got nothing.")
    scheme, kind = classify(uri)
    if pasted:
        m = _PLACEHOLDER_VALUE.search(uri)
        if m:
            _refuse_mask(m.group(1))
    bad = _INVISIBLE.search(uri)
    if bad:
        raise RedirectError(
            "no_uri",
            f"The URI holds an invisible or control character (U+{ord(bad.group(0)):04X}) at "
            f"position {bad.start()}; a real redirect never does. Copy it again from the browser.",
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
        _refuse_shortened(uri, {})
        raise RedirectError(
            "no_response",
            f"'{_short(uri, 60)}' carries neither a code nor an error: it is a redirect URI, "
            "not the address a sign-in ended on. Copy the address the sign-in ends on (the "
            "console's whole 'Failed to launch …' line), or let the codecatch extension catch it.",
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
        result["client_id"] = m.group(0).lower()
    result["app"] = app_of(scheme, base, result["client_id"])
    if "error" in params:
        # An error wins over a code: never fill a code that came with an error.
        result.update(kind="error", ok=False, code=None)
        result["aadsts"], result["msis"], result["hint"] = _explain(
            params["error"], params.get("error_description"), params.get("error_subcode")
        )
        return result
    code = params["code"]
    _refuse_shortened(uri, params)
    if not code:
        raise RedirectError("no_response", "The 'code' parameter is empty; sign in again.")
    if pasted:
        check_code(code)
    elif not _CODE_OK.match(code):
        raise RedirectError("no_response", _MANGLED)
    result.update(kind="code", ok=True, code_length=len(code), code_redacted=redact(code))
    return result


# --- is it a whole code? ----------------------------------------------------------------
#
# What Microsoft's codes look like (docs/browser-notes.md, "Authorization codes", with
# the public codes measured):
# - Entra ID (work and school accounts): base64url text with dots; real ones seen are
#   590 to 1635 characters. The v2.0 endpoint's start `0.A`/`1.A` (`0.AXkA…`) or
#   `OAQABAAIAAAA…`, the v1 endpoint's `AQABAAIAAAA…`.
# - Microsoft accounts (login.live.com): `M` and a GUID (37 characters, the shortest
#   real code), `M.R3_BAY.<guid>`, `M.C5xx_BAY.2.U.<guid>`, and since 2026 a form of
#   about 500 characters that holds '!', '*' and '$'.
# The minimums sit at half the shortest real code (Entra) and just under it (accounts).
# A code shorter than its issuer sends, or with a character it never sends, is a
# placeholder, a mask or a piece: refused with what was seen, never passed on.
ENTRA_CODE_MIN = 300
MSA_CODE_MIN = 36
_PLACEHOLDER_VALUE = re.compile(r"[?&#]code=(<[^<>]{1,40}>|\{[^{}]{1,40}\}|\[[^\[\]]{1,40}\])")
_ENTRA_CODE = re.compile(r"[A-Za-z0-9._-]+\Z")
_MSA_PREFIX = re.compile(r"M(?:\.|[0-9a-fA-F]{8}-)")  # `M.…` or `M<guid>`
_MSA_CODE = re.compile(_MSA_PREFIX.pattern + r"[A-Za-z0-9._!*$-]+\Z")
_MANGLED = ("The 'code' parameter holds characters a Microsoft code never has (control or "
            "non-ASCII characters once decoded); the URI was mangled. Copy it again.")
# Where a poster cut or hid a code: an ellipsis ("…", "...", ".."), a mask or
# placeholder character, a run of a mask letter, or a word standing for the code.
_ELLIPSIS = re.compile("(?:\u2026|\\.{2,})+")
_MASK_CHARS = re.compile("[<>{}\\[\\]\u2022\u25cf\u00b7#?|\\s]")
_MASK_RUN = re.compile(r"\*{3,}|([xXyYzZ])\1{5,}|[xX]{3,}\Z")
_PLACEHOLDER_WORDS = re.compile(
    r"(?:your|the|auth|authorization|my)?[_-]?(?:auth)?[_-]?code(?:[_-]?(?:goes)?[_-]?here)?"
    r"|redacted|removed|hidden|snip(?:ped)?|omitted|censored|secret|placeholder|example|sample",
    re.IGNORECASE,
)


def _refuse_shortened(uri, params):
    """A response whose code, state or address was cut with an ellipsis."""
    for where, value in (("code", params.get("code") or ""), ("state", params.get("state") or ""),
                         ("address", uri)):
        m = _ELLIPSIS.search(value)
        if m is None:
            continue
        seen = m.group(0)
        what = f"'{seen}'" if "\u2026" in seen else f"'{seen}' ({len(seen)} dots)"
        at = "at its end" if m.end() == len(value) else "in the middle"
        raise RedirectError(
            "truncated",
            f"The {where} was shortened when it was copied: it has {what} {at}, so the code "
            "is incomplete. Copy the whole address (in DevTools: right-click the message, "
            "Copy), or let the codecatch extension catch it.",
        )


def _refuse_mask(code):
    if _MASK_CHARS.search(code) or _PLACEHOLDER_WORDS.fullmatch(code) or _MASK_RUN.search(code):
        seen = _short(code, 24)
        raise RedirectError(
            "implausible_code",
            f"The code '{seen}' is a placeholder or a mask, not a code Microsoft issued: "
            "whoever copied it hid or replaced it. Copy the whole address from your own "
            "sign-in (or let the codecatch extension catch it).",
        )


def code_issuer(code):
    """'msa' for a Microsoft account code, else 'entra-v2' or 'entra-v1' by its form."""
    if _MSA_PREFIX.match(code):
        return "msa"
    if re.match(r"\d\.A", code):
        return "entra-v2"
    return "entra-v1"


def check_code(code):
    """Raise RedirectError('implausible_code') unless code has its issuer's form."""
    if re.search("[\x00-\x1f\x7f-\x9f]", code):
        raise RedirectError("no_response", _MANGLED)
    _refuse_mask(code)
    if not _CODE_OK.match(code):
        raise RedirectError("no_response", _MANGLED)
    issuer = code_issuer(code)
    if issuer == "msa":
        ok, minimum, form = _MSA_CODE.match(code), MSA_CODE_MIN, (
            "a Microsoft account code is 'M' and a GUID, or 'M.' then a data-centre tag and "
            "a GUID or a longer tail (M.C532_BAY.2.U.…)")
    else:
        ok, minimum, form = _ENTRA_CODE.match(code), ENTRA_CODE_MIN, (
            "an Entra ID code is hundreds of characters of letters, digits, '.', '_' and '-'")
    if not ok:
        allowed = r"[A-Za-z0-9._!*$-]" if issuer == "msa" else r"[A-Za-z0-9._-]"
        bad = next((c for c in code if not re.match(allowed, c)), None)
        detail = f"it has '{bad}', which such codes never hold" if bad else "its form does not match"
        raise RedirectError(
            "implausible_code",
            f"The code '{_short(code, 24)}' is not one Microsoft issues: {detail}; {form}. "
            "Copy the whole address again.",
        )
    if len(code) < minimum:
        raise RedirectError(
            "implausible_code",
            f"The code '{_short(code, 24)}' is {len(code)} characters long; {form}, never fewer "
            f"than {minimum}. It was cut or replaced: copy the whole address again.",
        )


# Blanks, not \s: `^\s*` with re.M restarts at every newline and rescans the newlines
# after it, quadratic on a description of 60 000 encoded newlines (5 s, a review's PoC).
_TIME = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_DESCRIPTION_IDS = {
    # Anywhere: the error page prints "Request Id: … Correlation Id: … Timestamp: …"
    # one per line, error_description one per line or all on one, a console may wrap a
    # value to the next line, and MSAL's logs put the time in brackets or JSON.
    "trace_id": re.compile(r"\b(?:Trace|Request)[ _]?ID\"?:[ \t\"]*(?:\r?\n[ \t]*)?(" + _GUID + r")", re.I),
    "correlation_id": re.compile(r"\bCorrelation[ _]?ID\"?:[ \t\"]*(?:\r?\n[ \t]*)?(" + _GUID + r")", re.I),
    "timestamp": re.compile(r"\bTimestamp\"?:[ \t\"]*(?:\r?\n[ \t]*)?(" + _TIME + ")", re.I),
}
_BRACKETED_TIME = re.compile(r"\[(" + _TIME + r")\]:")  # MSAL: "invalid_grant: 70000 - [time]: AADSTS…"


def _ids_from_description(result, text=None):
    """Microsoft often sends the trace id, correlation id and time only inside
    error_description (or its page's text); an admin quotes them to support, so lift
    them out: as written, with JSON's escaped line breaks, or still percent-encoded."""
    description = (result.get("error_description") if text is None else text) or ""
    for form in (description, lambda: description.replace("\\r", "\r").replace("\\n", "\n"),
                 lambda: unquote_plus(description)):
        wanted = [name for name in _DESCRIPTION_IDS if result.get(name) is None]
        if not wanted:
            return
        form = form() if callable(form) else form
        for name in wanted:
            m = _DESCRIPTION_IDS[name].search(form)
            if m:
                result[name] = " ".join(m.group(1).split())
    if result.get("timestamp") is None:
        m = _BRACKETED_TIME.search(description)
        if m:
            result["timestamp"] = m.group(1)


def _first_line(text, limit=300):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return cut_at_word(line, limit)


def cut_at_word(text, limit=300):
    """text, or its first words up to limit characters followed by '…'."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:") + "\u2026"


def _short(text, limit=80):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"

"""Property tests: the rewrite is byte for byte; parsing never raises a foreign error."""

import string

from hypothesis import given, settings, strategies as st

from codecatch import redirect
from codecatch.errors import RedirectError

SCHEMES = st.sampled_from([
    "ms-appx-web", "MS-APPX-WEB", "msauth", "msauth.com.msauth.unsignedapp", "msauth.com.contoso.app",
    "msal12128f48-ec9e-42f0-b203-ea49fb6af367", "brk-multihub", "brk-12128f48-ec9e-42f0-b203-ea49fb6af367",
])
# Characters a browser leaves unencoded in a URL's path and query (no '#', '&', '=').
URL_CHARS = string.ascii_letters + string.digits + "-._~!$'()*+,;:@/%"
VALUE = st.text(alphabet=URL_CHARS.replace("%", ""), min_size=1, max_size=40)
HOSTISH = st.text(alphabet=string.ascii_letters + string.digits + ".-", min_size=1, max_size=30)
PATH = st.text(alphabet=URL_CHARS.replace("%", "").replace("?", ""), max_size=40)


@given(SCHEMES, HOSTISH, PATH, VALUE, st.lists(st.tuples(st.sampled_from(["state", "session_state", "x", "client_info"]), VALUE), max_size=3, unique_by=lambda t: t[0]), st.booleans())
@settings(max_examples=400)
def test_rewrite_keeps_everything_after_the_scheme(scheme, host, path, code, extra, fragment):
    params = "&".join([f"code={code}"] + [f"{k}={v}" for k, v in extra])
    uri = f"{scheme}://{host}/{path}{'#' if fragment else '?'}{params}"
    r = redirect.analyse(uri)
    assert r["https_url"] == "https" + uri[len(scheme):]
    assert r["https_url"][len("https"):] == uri[len(scheme):]


@given(st.text(max_size=300))
@settings(max_examples=600)
def test_arbitrary_text_only_succeeds_or_raises_our_error(text):
    try:
        r = redirect.parse(text)
    except RedirectError as exc:
        assert exc.code in (20, 21, 22, 23, 24, 25, 26, 27)
    else:
        assert r["kind"] in ("code", "error")
        assert r["https_url"].startswith("https://")


@given(st.text(alphabet=string.printable + "\u201c\u201d'\"\\", max_size=200), SCHEMES, VALUE)
@settings(max_examples=300)
def test_text_around_a_uri_never_crashes(noise, scheme, code):
    try:
        redirect.parse(f"{noise} {scheme}://auth?code={code} {noise}")
    except RedirectError:
        pass

"""The redirect core: recognise, rewrite, parse, explain, find in pasted text."""

import pytest

from codecatch import redirect
from codecatch.errors import RedirectError
from codes import entra_code

TEAMS = "12128f48-ec9e-42f0-b203-ea49fb6af367"
BROKER = f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}"
CODE = entra_code("abc-_x")


def test_issue_example_console_line():
    line = (f"Failed to launch '{BROKER}?code={CODE}&state=s1&session_state=ss' "
            "because the scheme does not have a registered handler.")
    r = redirect.parse(line)
    assert r["https_url"] == f"https://Microsoft.AAD.BrokerPlugin/{TEAMS}?code={CODE}&state=s1&session_state=ss"
    assert (r["kind"], r["ok"], r["code"], r["state"], r["session_state"]) == ("code", True, CODE, "s1", "ss")
    assert r["client_id"] == TEAMS and r["app"] == "Teams PowerShell"
    assert r["redirect_uri"] == BROKER
    assert r["code_redacted"] == f"0.AXkA\u2026 ({len(CODE)} chars)"


@pytest.mark.parametrize("uri", [
    f"{BROKER}?code={CODE}&state=s",
    f"MS-APPX-WEB://microsoft.aad.brokerplugin/{TEAMS}?code={CODE}&state=s",
    f"msauth.com.msauth.unsignedapp://auth?code={CODE}&state=s",
    f"msauth://com.example.app/abc%3D?code={CODE}&state=s",
    f"msal{TEAMS}://auth?code={CODE}&state=s",
    f"MSAL{TEAMS.replace('-', '')}://auth?code={CODE}&state=s",
    f"brk-{TEAMS}://auth?code={CODE}&state=s",
    f"brk-multihub://localhost?code={CODE}&state=s",
    f"ms-appx-web://microsoft.aad.brokerplugin/{TEAMS}?code={CODE}&state=s",
    f"msauth.com.contoso.app2://auth?code={CODE}&state=s",
    f"msauth.7.dfs-app://auth/?code={CODE}&state=s",
    f"msal{TEAMS.replace('-', '')}://auth?code={CODE}&state=s",
    f"brk-{TEAMS}://login.microsoftonline.com?code={CODE}&state=s",
    f"{BROKER}#code={CODE}&state=s",
])
def test_custom_schemes_rewrite_byte_for_byte(uri):
    r = redirect.parse(uri)
    scheme = uri.split(":", 1)[0]
    assert r["https_url"] == "https" + uri[len(scheme):]
    assert r["scheme"] == scheme.lower()
    assert r["code"] == CODE


def test_query_is_not_decoded_or_reencoded():
    encoded = CODE.replace("-", "%2D", 1).replace("_", "%5f", 1)
    uri = f"{BROKER}?code={encoded}&state=a%20b+c&session_state=x%7Ey"
    r = redirect.parse(uri)
    assert r["https_url"].endswith(f"?code={encoded}&state=a%20b+c&session_state=x%7Ey")
    assert r["code"] == CODE and r["state"] == "a b c"


def test_fragment_response():
    r = redirect.parse(f"{BROKER}#code={CODE}&state=s")
    assert r["response_in"] == "fragment" and r["code"] == CODE
    assert r["https_url"] == f"https://Microsoft.AAD.BrokerPlugin/{TEAMS}#code={CODE}&state=s"


@pytest.mark.parametrize("host", ["login.microsoftonline.com", "login.microsoftonline.us",
                                  "login.partner.microsoftonline.cn", "LOGIN.WINDOWS.NET"])
def test_nativeclient_stays_as_is(host):
    url = f"https://{host}/common/oauth2/nativeclient?code={CODE}&session_state=x"
    r = redirect.parse(url)
    assert r["https_url"] == url and r["code"] == CODE and r["scheme"] == "https"


def test_oob_becomes_nativeclient_on_its_cloud():
    r = redirect.parse(f"urn:ietf:wg:oauth:2.0:oob?code={CODE}&state=s")
    assert r["https_url"] == f"https://login.microsoftonline.com/common/oauth2/nativeclient?code={CODE}&state=s"
    r = redirect.parse(f"urn:ietf:wg:oauth:2.0:oob?code={CODE}&cloud_instance_host_name=microsoftonline.us")
    assert r["https_url"].startswith("https://login.microsoftonline.us/common/oauth2/nativeclient?code=")


def test_cmsi_page_source_with_javascript_escapes():
    source = ('<script>document.location.replace("ms-appx-web:\\/\\/Microsoft.AAD.BrokerPlugin\\/'
              + TEAMS + '?code=' + CODE + '\\u0026state=abc\\u0026session_state=xyz");</script>')
    r = redirect.parse(source)
    assert r["original_uri"] == f"{BROKER}?code={CODE}&state=abc&session_state=xyz"
    assert r["state"] == "abc"


def test_html_attribute_with_amp_entities():
    r = redirect.parse(f'<a href="{BROKER}?code={CODE}&amp;state=s1">continue</a>')
    assert r["state"] == "s1" and r["code"] == CODE


@pytest.mark.parametrize("text", [
    f"Not allowed to launch '{BROKER}?code={CODE}&state=s' because a user gesture is required.",
    f"Prevented navigation to \u201c{BROKER}?code={CODE}&state=s\u201d due to an unknown protocol.",
    f"  '{BROKER}?code={CODE}&state=s'\n",
    f'"{BROKER}?code={CODE}&state=s"',
    f"The browser ended on {BROKER}?code={CODE}&state=s.",
])
def test_finds_uri_in_pasted_text(text):
    assert redirect.parse(text)["state"] == "s"


def test_chrome_line_with_quote_inside_uri():
    line = f"Failed to launch '{BROKER}?code={CODE}&state=it's' because the scheme does not have a registered handler."
    assert redirect.parse(line)["state"] == "it's"


def test_error_response_is_explained():
    r = redirect.parse(f"{BROKER}?error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent."
                       "&error_subcode=cancel&state=s&correlation_id=c-1&trace_id=t-1")
    assert (r["kind"], r["ok"], r["code"]) == ("error", False, None)
    assert r["aadsts"] == "AADSTS65004" and "declined consent" in r["hint"]
    assert r["error_subcode"] == "cancel" and r["correlation_id"] == "c-1" and r["trace_id"] == "t-1"


@pytest.mark.parametrize("number", ["50011", "50020", "50076", "50079", "50199", "53003", "65001",
                                    "65004", "70000", "700016", "90072"])
def test_every_listed_aadsts_has_a_hint(number):
    aadsts, hint = redirect.explain("invalid_request", f"AADSTS{number}: something\r\nTrace ID: x")
    assert aadsts == f"AADSTS{number}" and hint == redirect.HINTS[aadsts]


def test_cancel_without_number():
    assert "cancelled" in redirect.explain("access_denied", None, "cancel")[1]


def test_unknown_number_keeps_microsofts_text():
    aadsts, hint = redirect.explain("invalid_request", "AADSTS9999999: The flux capacitor is empty.\r\nTrace ID: 1")
    assert aadsts == "AADSTS9999999"
    assert "The flux capacitor is empty." in hint and "code=9999999" in hint


def test_error_wins_over_code():
    r = redirect.parse(f"{BROKER}?code={CODE}&error=server_error")
    assert r["kind"] == "error" and r["code"] is None


@pytest.mark.parametrize("text,name", [
    ("javascript:alert(1)", "refused_scheme"),
    ("JavaScript:alert(document.cookie)//?code=x", "refused_scheme"),
    ("data:text/html,<script>alert(1)</script>?code=1", "refused_scheme"),
    ("file:///etc/passwd?code=1", "refused_scheme"),
    ("Failed to launch 'javascript:alert(1)' because the scheme does not have a registered handler.", "refused_scheme"),
    ("foo://bar?code=1", "unknown_scheme"),
    ("mailto:someone@example.com", "unknown_scheme"),
    ("https://example.com/?code=1", "not_native_redirect"),
    ("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?code=1", "not_native_redirect"),
    ("https://evil.example/common/oauth2/nativeclient?code=1", "not_native_redirect"),
    ("https://login.microsoftonline.com@evil.example/common/oauth2/nativeclient?code=1", "not_native_redirect"),
    (BROKER, "no_response"),
    (f"{BROKER}?state=s", "no_response"),
    (f"{BROKER}?code=&state=s", "no_response"),
    (f"{BROKER}?code=a&code=b", "duplicate_parameter"),
    (f"{BROKER}?code=a&state=1&state=2", "duplicate_parameter"),
    (f"{BROKER}?code=a#code=b", "duplicate_parameter"),
    ("", "no_uri"),
    ("   ", "no_uri"),
    ("hello world, nothing here", "no_uri"),
    ("ms-appx-web:Microsoft?code=1", "unknown_scheme"),
])
def test_refusals_have_precise_reasons(text, name):
    with pytest.raises(RedirectError) as info:
        redirect.parse(text)
    assert info.value.name == name
    assert info.value.message


def test_redact_never_shows_more_than_six_characters():
    assert redirect.redact("0123456789abcdef") == "012345\u2026 (16 chars)"
    assert redirect.redact(None) is None


@pytest.mark.parametrize("text", [
    f"{BROKER}?code=1.AQ4AQtkO3nw8s0aB9VwnAJ7\u2026&state=s",
    f"Failed to launch '{BROKER}?code=0.AXkA\u2026' because the scheme does not have a registered handler.",
    "Failed to launch 'ms-appx-web://\u2026?code=\u2026&state=\u2026' because the scheme does not have a registered handler.",
    f"{BROKER}?code=0.AXkAabc...",
])
def test_a_shortened_address_is_refused_not_taken_for_a_code(text):
    with pytest.raises(RedirectError) as info:
        redirect.parse(text)
    assert info.value.name == "truncated" and info.value.code == 27 and "shortened" in info.value.message


def test_trace_and_correlation_ids_come_out_of_the_description():
    description = ("AADSTS53003%3a+Access+has+been+blocked+by+Conditional+Access+policies.%0d%0a"
                   "Trace+ID%3a+8c0e2a4b-1111-2222-3333-444455556666%0d%0a"
                   "Correlation+ID%3a+3b7f9d2c-aaaa-bbbb-cccc-ddddeeeeffff%0d%0aTimestamp%3a+2026-11-27+03%3a00%3a00Z")
    r = redirect.parse(f"{BROKER}?error=access_denied&error_description={description}&state=s")
    assert r["aadsts"] == "AADSTS53003"
    assert r["trace_id"] == "8c0e2a4b-1111-2222-3333-444455556666"
    assert r["correlation_id"] == "3b7f9d2c-aaaa-bbbb-cccc-ddddeeeeffff"
    assert r["timestamp"] == "2026-11-27 03:00:00Z"
    # A separate parameter, when Microsoft sends one, is what counts.
    r = redirect.parse(f"{BROKER}?error=access_denied&error_description={description}&correlation_id=own")
    assert r["correlation_id"] == "own"


def test_redact_counts_in_the_singular_too():
    assert redirect.redact("a") == "a\u2026 (1 char)"


def test_pasted_broker_address_already_rewritten_is_read():
    # What an admin has after changing the scheme by hand (the old procedure), or what
    # codecatch printed: read back as the ms-appx-web redirect it stands for.
    url = ("https://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
           f"?code={CODE}&state=s1&session_state=x")
    for text in (url, f"  '{url}'  ", f"the panel says: {url}"):
        r = redirect.parse(text)
        assert r["kind"] == "code" and r["code"] == CODE and r["state"] == "s1"
        assert r["https_url"] == url and r["original_uri"] == url
        assert r["app"] == "Teams PowerShell"


@pytest.mark.parametrize("uri", [
    "https://Microsoft.AAD.BrokerPlugin/x?code=abc&state=s",  # from the browser: never
])
def test_a_capture_must_be_the_native_redirect_itself(uri):
    # analyse() is what a capture from the extension goes through: the rewritten form
    # is only for text a person pastes.
    with pytest.raises(redirect.RedirectError) as e:
        redirect.analyse(uri)
    assert e.value.name == "not_native_redirect"


@pytest.mark.parametrize("text", [
    "https://microsoft.aad.brokerplugin@evil.example/x?code=abc&state=s",
    "https://microsoft.aad.brokerplugin.evil.example/x?code=abc&state=s",
    "http://Microsoft.AAD.BrokerPlugin/x?code=abc&state=s",
])
def test_only_the_broker_host_itself_counts_as_rewritten(text):
    with pytest.raises(redirect.RedirectError) as e:
        redirect.parse(text)
    assert e.value.name == "not_native_redirect"


@pytest.mark.parametrize("redirect_uri,app", [
    (f"ms-appx-web://Microsoft.AAD.BrokerPlugin/{TEAMS}", "Teams PowerShell"),
    ("ms-appx-web://Microsoft.AAD.BrokerPlugin/14d82eec-204b-4c2f-b7e8-296a70dab67e", "Microsoft Graph PowerShell"),
    ("ms-appx-web://Microsoft.AAD.BrokerPlugin/S-1-15-2-3784861210-599250757", "Web Account Manager"),
    ("msauth.com.msauth.unsignedapp://auth", "Azure CLI"),
    ("msauth.com.contoso.app://auth", "msauth.<bundle id>"),
    ("msal04b07795-8ddb-461a-bbee-02f9e1bf7b46://auth", "Azure CLI"),
    ("msal5e3ce6c0-2b1f-4285-8d4b-75ee78787346://auth", "msal<client id>"),
    ("brk-multihub://outlook.office.com", "nested app authentication"),
    ("brk-4765445b-32c6-49b0-83e6-1d93765276ca://outlook.office.com", "broker"),
    ("urn:ietf:wg:oauth:2.0:oob", "out-of-band"),
    ("https://login.microsoftonline.com/common/oauth2/nativeclient", "nativeclient"),
    ("https://login.live.com/oauth20_desktop.srf", "Microsoft account"),
])
def test_every_redirect_family_names_its_app(redirect_uri, app):
    r = redirect.parse(f"{redirect_uri}?code={CODE}&state=s")
    assert app in r["app"]

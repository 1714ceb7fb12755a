"""The mock itself, without a browser: what the sign-in answers, byte for byte where
it matters (docs/browser-notes.md section 2)."""

import re
import socket
import ssl
import http.client
import urllib.parse

from codecatch.mocksite.signin import js_string, new_code


def fetch(site, host, path, method="GET", form=None):
    ctx = ssl.create_default_context(cafile=site.ca_pem)
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=5)
    conn = http.client.HTTPSConnection(host, site.port, context=ctx)
    conn.sock = ctx.wrap_socket(sock, server_hostname=host.split(":")[0])  # verifies the cert for `host`
    headers = {"Host": host}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()


def signin_path(site, knob_outcome, panel="panel.test", **knobs):
    _, _, body = fetch(site, panel, site.panel_url(panel, outcome=knob_outcome, **knobs)
                       .split(panel, 1)[1])
    url = re.search(r'data-url="([^"]+)"', body).group(1).replace("&amp;", "&")
    state = re.search(r'data-state="([^"]+)"', body).group(1)
    return url.split("://", 1)[1].split("/", 1)[1], state


def test_code_shape_and_freshness():
    codes = {new_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert code.startswith("0.AXkA") and re.fullmatch(r"[A-Za-z0-9_.\-]+", code)
        assert 700 < len(code) < 1200


def test_302(site):
    path, state = signin_path(site, "302")
    status, headers, _ = fetch(site, "login.microsoftonline.com", "/" + path)
    assert status == 302
    (issued,) = site.issued_for_state(state)
    assert headers["location"] == issued.uri
    assert issued.uri.startswith("ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-")
    assert f"code={issued.code}&state={state}&session_state=" in issued.uri
    assert issued.https_url == "https" + issued.uri[len("ms-appx-web"):]


def test_fragment(site):
    path, state = signin_path(site, "302", response_mode="fragment")
    _, headers, _ = fetch(site, "login.microsoftonline.us", "/" + path)
    assert "/12128f48-ec9e-42f0-b203-ea49fb6af367#code=" in headers["location"]


def test_confirm_my_signin(site):
    path, state = signin_path(site, "cmsi")
    status, _, page = fetch(site, "login.microsoftonline.com", "/" + path)
    assert status == 200 and '"pgid": "CmsiInterrupt"' in page and 'action="/appverify"' in page
    assert not site.issued_for_state(state), "no code before Continue"
    token = re.search(r'name="flowToken" value="([^"]+)"', page).group(1)
    status, _, body = fetch(site, "login.microsoftonline.com", "/appverify", "POST",
                            {"ContinueAuth": "true", "flowToken": token, "mock_clicked_at": "1.5"})
    (issued,) = site.issued_for_state(state)
    assert status == 200
    assert f"document.location.replace({js_string(issued.uri)});" in body
    assert "ms-appx-web:\\/\\/Microsoft.AAD.BrokerPlugin\\/" in body and "\\u0026state=" in body
    assert "&" not in body.split("replace(", 1)[1].split(")", 1)[0]
    assert issued.clicked_at == 1.5
    # A flow token is single use.
    status, _, _ = fetch(site, "login.microsoftonline.com", "/appverify", "POST",
                         {"ContinueAuth": "true", "flowToken": token})
    assert status == 400


def test_error(site):
    path, state = signin_path(site, "error")
    _, headers, _ = fetch(site, "login.microsoftonline.com", "/" + path)
    (issued,) = site.issued_for_state(state)
    assert issued.kind == "error" and headers["location"] == issued.uri
    query = urllib.parse.parse_qs(issued.uri.split("?", 1)[1])
    assert query["error"] == ["access_denied"] and query["error_subcode"] == ["cancel"]
    assert query["error_description"][0].startswith("AADSTS65004: User declined to consent")


def test_nativeclient_then_wrongplace(site):
    path, state = signin_path(site, "nativeclient")
    _, headers, _ = fetch(site, "login.microsoftonline.com", "/" + path)
    assert headers["location"].startswith(
        "https://login.microsoftonline.com/common/oauth2/nativeclient?code=0.AXkA")
    status, headers, _ = fetch(site, "login.microsoftonline.com",
                               headers["location"].split(".com", 1)[1])
    assert status == 302 and headers["location"].endswith("/wrongplace")


def test_panel_page_markup(site):
    _, _, page = fetch(site, "panel2.test", "/CP/O365/TenantEdit.aspx?open=popup")
    assert '<td class="Label">Authorization Code:</td>' in page
    assert 'id="ctl00_MainContent_txtAuthCode" ' in page and 'name="ctl00$MainContent$txtAuthCode"' in page
    assert "width=600,height=700" in page
    for decoy in ("ctl00_txtSearch", "ctl00_MainContent_txtUserName", "__VIEWSTATE",
                  'id="ctl00_MainContent_txtTenantId" disabled'):
        assert decoy in page


def test_evil(site):
    status, _, page = fetch(site, "evil.test", "/?state=abc")
    (issued,) = site.issued_for_state("abc")
    assert status == 200 and issued.host == "evil.test" and js_string(issued.uri) in page


def test_port_kept_for_firefox(site):
    """Firefox cannot remap ports: links must keep the port the browser used."""
    _, _, page = fetch(site, f"panel.test:{site.port}", "/CP/O365/TenantEdit.aspx")
    assert f"https://login.microsoftonline.com:{site.port}/common/oauth2/v2.0/authorize" in page

"""Mock hosting-panel pages (MachPanel's tenant edit page, as in the seed article) and
the "evil" non-Microsoft page.

The tenant edit page takes knobs in its query string:

    outcome        how the sign-in ends: 302 | cmsi | error | nativeclient   (302)
    open           how the link opens it: blank | window_open | popup        (blank)
    signin_host    the sign-in host, or evil.test for the phishing clone
                   (login.microsoftonline.com)
    evil           1: the link goes to evil.test's launcher page instead
    client         teams | exchange | azure-powershell | azure-cli | aad-powershell (teams)
    redirect_uri   overrides the client's redirect URI (e.g. urn:ietf:wg:oauth:2.0:oob)
    response_mode  query | fragment                                           (query)
    error          AADSTS number for outcome=error                            (65004)
    tenant         the tenant path segment                                     (common)
    save           the Save button: enabled | after_input | after_check | never (enabled)
                   (disabled until the field's input event, or until a check with
                   the server after its change event, or for good)

Every render gets a fresh `state`, shown as `data-state` on the link, so a test can
tie the code the field received to the sign-in this page started. The page records
the `input`, `change` and `click` events it sees in `window.__mockEvents` and in the
list `#mock-events`, to assert that a fill looked like typing. Pressing Save posts the
field's value and the page's `state` to the mock, which keeps it in `Panel.saves` (in
memory, like every record of the mock).
"""

import dataclasses
import html
import secrets
import threading
import urllib.parse
from importlib import resources

from .hosts import DEFAULT_SIGNIN_HOST, EVIL_HOSTS
from .server import Response

# short name -> (display name, client id, custom-scheme redirect URI)
CLIENTS = {
    "teams": ("Teams PowerShell", "12128f48-ec9e-42f0-b203-ea49fb6af367",
              "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"),
    "exchange": ("Exchange Online PowerShell", "fb78d390-0c51-40cd-8e17-fdbfab77341b",
                 "ms-appx-web://Microsoft.AAD.BrokerPlugin/fb78d390-0c51-40cd-8e17-fdbfab77341b"),
    "azure-powershell": ("Azure PowerShell", "1950a258-227b-4e31-a9cf-717495945fc2",
                         "urn:ietf:wg:oauth:2.0:oob"),
    "azure-cli": ("Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                  "msauth.com.msauth.unsignedapp://auth"),
    "aad-powershell": ("Azure AD PowerShell", "1b730954-1685-4b74-9bfd-dac224a7b894",
                       "urn:ietf:wg:oauth:2.0:oob"),
}

OPEN_STYLES = ("blank", "window_open", "popup")
SAVE_STYLES = ("enabled", "after_input", "after_check", "never")

# Selectors tests use; the extension must find the field on its own.
AUTH_FIELD_ID = "ctl00_MainContent_txtAuthCode"
SIGNIN_LINK_ID = "ctl00_MainContent_lnkGetAuthCode"
SAVE_BUTTON_ID = "ctl00_MainContent_btnSave"


@dataclasses.dataclass(frozen=True)
class Saved:
    """One press of a panel page's Save: what its field held, for which page's sign-in."""
    host: str
    state: str
    value: str
    at: float  # ms since the epoch


def _template(name):
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def signin_url(request, *, outcome="302", signin_host=DEFAULT_SIGNIN_HOST, client="teams",
               redirect_uri=None, response_mode="query", error=None, tenant="common",
               state=None):
    _, client_id, default_redirect = CLIENTS.get(client, CLIENTS["teams"])
    query = [
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri or default_redirect),
        ("scope", "https://graph.microsoft.com/.default offline_access"),
        ("state", state),
        ("prompt", "select_account"),
        ("mock_outcome", outcome),
    ]
    if response_mode != "query":
        query.append(("response_mode", response_mode))
    if error:
        query.append(("mock_error", error))
    return (request.origin(signin_host) + f"/{tenant}/oauth2/v2.0/authorize?"
            + urllib.parse.urlencode([(k, v) for k, v in query if v is not None]))


class Panel:
    def __init__(self):
        self._lock = threading.Lock()
        self._saves = []

    @property
    def saves(self):
        with self._lock:
            return list(self._saves)

    def reset(self):
        with self._lock:
            self._saves.clear()

    def handle(self, request, signin):
        if request.host in EVIL_HOSTS:
            if request.path == "/":
                return self.evil_page(request, signin)
            if request.path == "/tools":
                return Response(body=_EVIL_TOOLS)
            if request.path == "/slow302":
                return self.slow_redirect(request)
            return signin.handle(request)  # a phishing clone of the sign-in
        if request.path == "/favicon.ico":
            return Response(status=204)
        if request.path in ("/", "/CP/O365/TenantEdit.aspx"):
            return self.tenant_edit(request)
        if request.path == "/CP/O365/TenantSave.aspx" and request.method == "POST":
            with self._lock:
                self._saves.append(Saved(request.host, request.arg("state", ""), request.arg("code", ""),
                                         request.received_at))
            return Response.text("saved")
        if request.path == "/CP/O365/CheckCode.aspx" and request.method == "POST":
            return Response.text("ok")
        return Response.text("not found", status=404)

    def tenant_edit(self, request):
        state = secrets.token_urlsafe(24)
        if request.arg("evil") == "1":
            target = request.origin(EVIL_HOSTS[0]) + "/?" + urllib.parse.urlencode(
                {"state": state, "when": request.arg("when", "load")})
        else:
            target = signin_url(
                request, outcome=request.arg("outcome", "302"),
                signin_host=request.arg("signin_host", DEFAULT_SIGNIN_HOST),
                client=request.arg("client", "teams"),
                redirect_uri=request.arg("redirect_uri"),
                response_mode=request.arg("response_mode", "query"),
                error=request.arg("error"), tenant=request.arg("tenant", "common"),
                state=state)
        save = request.arg("save", "enabled")
        if save not in SAVE_STYLES:
            return Response.text(f"save={save!r}: one of {', '.join(SAVE_STYLES)}", status=400)
        style = request.arg("open", "blank")
        if style == "window_open":
            attrs = 'href="#" onclick="window.open(this.dataset.url); return false;"'
        elif style == "popup":
            attrs = ('href="#" onclick="window.open(this.dataset.url, \'signin\', '
                     '\'width=600,height=700\'); return false;"')
        else:
            attrs = 'href="{0}" target="_blank" rel="noopener noreferrer"'.format(
                html.escape(target, quote=True))
        body = (_template("panel.html")
                .replace("$host", html.escape(request.host))
                .replace("$link_attrs", attrs)
                .replace("$url", html.escape(target, quote=True))
                .replace("$state", html.escape(state, quote=True))
                .replace("$open", html.escape(style, quote=True))
                .replace("$save_attrs", "" if save == "enabled" else 'disabled="disabled" ')
                .replace("$save", save))
        return Response(body=body)

    def slow_redirect(self, request):
        """evil.test answers, after `ms` milliseconds, with a 302 to `to`: a redirect
        that no Microsoft host sent, arriving while a window still shows Microsoft's page."""
        import time

        time.sleep(min(float(request.arg("ms", "0") or 0), 10_000) / 1000)
        return Response.redirect(request.arg("to", "about:blank"))

    def evil_page(self, request, signin):
        """A non-Microsoft page that launches a custom-scheme URI carrying a code:
        after load (`when=load`, default) or from an inline script (`when=inline`)."""
        from .signin import Issued, build_response_uri, new_code

        _, client_id, redirect_uri = CLIENTS["teams"]
        code, state = new_code(), request.arg("state", secrets.token_urlsafe(24))
        uri = build_response_uri(redirect_uri, [("code", code), ("state", state),
                                                ("session_state", "00000000-0000-0000-0000-000000000000")])
        issued = signin.record(Issued(
            kind="code", style="evil-script", host=request.host, client_id=client_id,
            redirect_uri=redirect_uri, state=state, response_mode="query", uri=uri,
            code=code, requested_at=request.received_at))
        from .signin import js_string
        when = request.arg("when", "load")
        launch = f"location.href = {js_string(uri)};"
        script = (launch if when == "inline"
                  else f"addEventListener('load', () => setTimeout(() => {{ {launch} }}, 50));")

        def on_sent(at):
            issued.responded_at = at

        body = (_template("evil.html")
                .replace("$uri", html.escape(uri, quote=True))
                .replace("$script", script))
        return Response(body=body, on_sent=on_sent)


# A page of the attacker's, for tests that script what a page can do to other windows.
_EVIL_TOOLS = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Free tenant tools</title>"
               "</head><body><h1>Free tenant tools</h1></body></html>")

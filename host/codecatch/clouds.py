"""Microsoft's sign-in hosts, by cloud (docs/browser-notes.md section 2). Pure data."""

# host -> cloud name. A sign-in can hop between clouds, so every host is trusted.
SIGNIN_HOSTS = {
    "login.microsoftonline.com": "public",
    "login.windows.net": "public",
    "login.microsoft.com": "public",
    "sts.windows.net": "public",
    "login-us.microsoftonline.com": "public",
    "login.live.com": "personal",
    "login.microsoftonline.us": "usgov",
    "login.usgovcloudapi.net": "usgov",
    "login.partner.microsoftonline.cn": "china",
    "login.chinacloudapi.cn": "china",
}

# Well-known public clients (docs/browser-notes.md, "Redirect URIs and the apps behind
# them"): id -> name.
KNOWN_CLIENTS = {
    "12128f48-ec9e-42f0-b203-ea49fb6af367": "Teams PowerShell",
    "fb78d390-0c51-40cd-8e17-fdbfab77341b": "Exchange Online PowerShell",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Azure PowerShell",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Azure CLI",
    "1b730954-1685-4b74-9bfd-dac224a7b894": "Azure AD PowerShell",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph PowerShell",
    "9bc3ab49-b65d-410a-85ad-de819febfddc": "SharePoint Online Management Shell",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
    "04f0c124-f2bc-4f59-8241-bf6df9866bbd": "Visual Studio",
    "872cd9fa-d31f-45e0-9eab-6e460a02d1f1": "Visual Studio (legacy)",
    "31359c7f-bd7e-475c-86db-fdb8c937548e": "PnP Management Shell (retired)",
}

# What each redirect family says about the app when its URI names no known client.
_FAMILIES = (
    ("msauth.com.msauth.unsignedapp", "an MSAL Python app on macOS (Azure CLI, Azure SDK: the broker's redirect)"),
    ("msauth", "an MSAL app on macOS or iOS (msauth.<bundle id>)"),
    ("msal", "an MSAL desktop or mobile app (msal<client id>://auth)"),
    ("brk-multihub", "an Office add-in or Teams tab (nested app authentication)"),
    ("brk-", "an app signing in through a Microsoft 365 broker (nested app authentication)"),
    ("ms-appx-web", "a Windows app using the Web Account Manager broker"),
    ("urn", "a native app with the out-of-band redirect (Azure AD PowerShell and older tools)"),
    ("nativeclient", "a native app with the nativeclient redirect (MSAL's default for desktop apps)"),
    ("oauth20_desktop.srf", "a desktop app signing in with a Microsoft account (OneDrive tools and the like)"),
)


def app_of(scheme, redirect_uri, client_id):
    """The app a redirect belongs to: a known client's name, else its redirect family."""
    if client_id in KNOWN_CLIENTS:
        return KNOWN_CLIENTS[client_id]
    lowered = (redirect_uri or "").lower()
    for prefix, name in _FAMILIES:
        if prefix in ("nativeclient", "oauth20_desktop.srf"):
            if lowered.endswith(prefix) or lowered.endswith(prefix + "/"):
                return name
        elif (scheme or "").startswith(prefix):
            return name
    return None


def host_of(url):
    """The lowercased host of an absolute https URL, or None. No port, no userinfo.

    Strict on purpose: anything that URL parsers read differently (a backslash or an
    '@' in the authority, a malformed port, a trailing dot, an empty host) gives None,
    so a spoofed address is never taken for a sign-in host. A port is allowed, as in
    the extension's check (URL.hostname): trust comes from the name, and only the
    name's owner listens on any of its ports.
    """
    return authority_problem(url)[0]


def authority_problem(url):
    """(host, None) for a plain https URL, or (None, a reason a person can read)."""
    if not isinstance(url, str):
        return None, "is not text"
    lower = url[:8].lower()
    if lower.startswith("http://"):
        # Microsoft's sign-in is https only; an http page is never trusted.
        return None, "uses plain http"
    if not lower.startswith("https://"):
        return None, "is not an https://host/ address"
    rest = url[8:]
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep, 0, end)
        if i != -1:
            end = i
    authority = rest[:end]
    if "\\" in authority:
        # WHATWG parsers read a backslash as '/', others as part of the host or userinfo.
        return None, "has a backslash in its host part, which URL parsers read differently"
    if "@" in authority:
        # userinfo in a sign-in URL is a spoofing attempt, not Microsoft.
        return None, "has user info ('…@') before its host, a known spoofing trick"
    host, colon, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    if colon and not (port == "" or (port.isdigit() and 0 < int(port) < 65536)):
        return None, "has a malformed port"
    host = host.lower()
    if not host:
        return None, "has no host"
    if host.endswith("."):
        return None, "has a trailing dot after its host"
    return host, None


def is_signin_url(url):
    """True when url is an https page on one of Microsoft's sign-in hosts."""
    return host_of(url) in SIGNIN_HOSTS


def cloud_of(url):
    return SIGNIN_HOSTS.get(host_of(url))

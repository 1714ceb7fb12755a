"""Microsoft's sign-in hosts, by cloud (FIELD-NOTES.md section 2). Pure data."""

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

# Well-known public clients (FIELD-NOTES.md section 2): id -> name.
KNOWN_CLIENTS = {
    "12128f48-ec9e-42f0-b203-ea49fb6af367": "Teams PowerShell",
    "fb78d390-0c51-40cd-8e17-fdbfab77341b": "Exchange Online PowerShell",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Azure PowerShell",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Azure CLI",
    "1b730954-1685-4b74-9bfd-dac224a7b894": "Azure AD PowerShell",
}


def host_of(url):
    """The lowercased host of an absolute http(s) URL, or None. No port, no userinfo."""
    if not isinstance(url, str):
        return None
    lower = url[:8].lower()
    if lower.startswith("https://"):
        rest = url[8:]
    elif lower.startswith("http://"):
        return None  # Microsoft's sign-in is https only; an http page is never trusted.
    else:
        return None
    end = len(rest)
    for sep in "/?#\\":
        i = rest.find(sep)
        if i != -1:
            end = min(end, i)
    authority = rest[:end]
    if "@" in authority:
        return None  # userinfo in a sign-in URL is a spoofing attempt, not Microsoft.
    host = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
    host = host.lower().rstrip(".")
    return host or None


def is_signin_url(url):
    """True when url is an https page on one of Microsoft's sign-in hosts."""
    return host_of(url) in SIGNIN_HOSTS


def cloud_of(url):
    return SIGNIN_HOSTS.get(host_of(url))

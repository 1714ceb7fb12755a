"""The host names the mock plays. Pure data."""

# Microsoft's sign-in hosts of every cloud (docs/browser-notes.md section 2). The mock
# answers on all of them, so a test can start a sign-in in any cloud.
SIGNIN_HOSTS = (
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
    "login-us.microsoftonline.com",
    "login.live.com",
    "login.microsoftonline.us",
    "login.usgovcloudapi.net",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
)

# Hosting panels a test may grant to the extension.
PANEL_HOSTS = ("panel.test", "panel2.test")

# Not Microsoft: serves a clone of the sign-in and a page that launches a
# custom-scheme URI carrying a code. Whatever it does must be ignored.
EVIL_HOSTS = ("evil.test",)

DEFAULT_SIGNIN_HOST = SIGNIN_HOSTS[0]


def all_hosts():
    return SIGNIN_HOSTS + PANEL_HOSTS + EVIL_HOSTS

"""Local stand-ins for Microsoft's sign-in and for hosting panels, served over TLS
under their real host names (the browser maps the names to 127.0.0.1).

Used by the end-to-end tests, `codecatch demo` and `bench/capture_latency.py`:

    with MockSite() as site:
        site.panel_url("panel.test", outcome="cmsi")   # a page to open in the browser
        site.issued                                     # what the sign-in handed out
"""

from .hosts import EVIL_HOSTS, PANEL_HOSTS, SIGNIN_HOSTS, all_hosts
from .server import MockSite, Request, Response
from .signin import Issued, SignIn

__all__ = [
    "EVIL_HOSTS", "PANEL_HOSTS", "SIGNIN_HOSTS", "all_hosts",
    "MockSite", "Request", "Response", "Issued", "SignIn",
]

"""Register the native-messaging host with browsers, remove it, and diagnose it.

`browsers` (the table, pure), `manifests` (the JSON, pure), `registry` (Windows keys
behind one interface), `installer` (plan, apply, remove), `doctor` (checks and fixes).
"""

from .browsers import Layout, UnknownBrowser, current_layout  # noqa: F401
from .installer import InstallError, apply, plan, remove  # noqa: F401

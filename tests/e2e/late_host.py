"""The real host, with its clock BEHIND_S seconds behind the browser's: a capture it
answers expires EXPIRES_IN_S seconds after the browser saw it, not ten minutes, so a
test can see what happens at a code's expiry without waiting for it.

The host takes the browser's `observed_at` only when it is not in the future
(capture.captured_at); to this host it always is, so the code's lifetime starts at the
host's own, earlier, now. Everything else is the installed host's code.
"""

import sys
import time

from codecatch import nativehost
from codecatch.redirect import CODE_LIFETIME_S

EXPIRES_IN_S = 15
BEHIND_S = CODE_LIFETIME_S - EXPIRES_IN_S


class LateHost(nativehost.Host):
    def __init__(self, clock=None):
        super().__init__(clock=clock or (lambda: time.time() - BEHIND_S))


def use_late_host(manifest_path, folder):
    """Point the installed native-messaging manifest at this host (a launcher in
    `folder`, run with this interpreter)."""
    import json
    import os
    from pathlib import Path

    launcher = Path(folder) / "codecatch-late-host"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    launcher.chmod(0o755)
    manifest = json.loads(Path(manifest_path).read_text())
    manifest["path"] = os.fspath(launcher)
    Path(manifest_path).write_text(json.dumps(manifest))


if __name__ == "__main__":
    nativehost.Host = LateHost  # serve() makes its Host when the browser connects
    sys.exit(nativehost.main())

"""Stand-ins for who owns and may change a path, for install --system on layouts that
are not this machine (macOS, Windows) and for tests that only look at the file layout."""

import os
import stat
from pathlib import Path

from codecatch.install import trust


class FakePosixFiles:
    """The real file types and links under a test folder, with made-up owners and modes:
    root and 0755 (0644 for a file) unless `owners` names the path ({path: (uid, mode)})."""

    def __init__(self, owners=None):
        self.owners = {str(k): v for k, v in (owners or {}).items()}

    def lstat(self, path):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            uid, mode = self.owners.get(path, (0, 0o777))
        else:
            uid, mode = self.owners.get(path, (0, 0o755 if stat.S_ISDIR(st.st_mode) else 0o644))
        return os.stat_result((stat.S_IFMT(st.st_mode) | mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))

    readlink = staticmethod(os.readlink)

    @staticmethod
    def owner(uid):
        return {0: "root", 501: "ann"}.get(uid, f"uid {uid}")


ADMIN_ONLY_FILE = "O:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)"
ADMIN_ONLY_DIR = "O:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"


class FakeWindowsFiles:
    """Access lists by path (SDDL text), admin-only for any path not named; the real
    folder is made by make_private_dir, which records the SDDL it was given."""

    def __init__(self, sddl=None):
        self.sddl = {str(k): v for k, v in (sddl or {}).items()}
        self.created = []

    def acl(self, path):
        if not os.path.lexists(path):
            raise FileNotFoundError(path)
        folder = os.path.isdir(path)
        return trust.parse_sddl(self.sddl.get(path, ADMIN_ONLY_DIR if folder else ADMIN_ONLY_FILE), folder)

    def make_private_dir(self, path):
        os.makedirs(Path(path).parent, exist_ok=True)
        os.mkdir(path)
        self.sddl[path] = trust.PRIVATE_SDDL
        self.created.append(path)

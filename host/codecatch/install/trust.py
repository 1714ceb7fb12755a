"""Who besides the administrator can change a path: the check behind `install --system`.

A system-wide manifest makes every user's browser run the program it names, so that
program, the interpreter it runs with, the code it imports and the folders they sit in
must be changeable by the administrator only: on Linux and macOS owned by root (uid 0)
and writable by neither group nor others, every folder from `/` down, every symbolic
link followed hop by hop (a root-owned link into a user's home is the user's); on
Windows owned by and writable for SYSTEM, Administrators or TrustedInstaller only.

Pure over one small interface each, so tests give fakes: `PosixFiles` (lstat,
readlink) and `WindowsFiles` (the owner and access list of a path, and creating a
folder with a given one). `RealPosixFiles` and `RealWindowsFiles` are this machine's.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Protocol

ROOT_UID = 0

# ---------------------------------------------------------------- Linux and macOS


class PosixFiles(Protocol):
    def lstat(self, path: str) -> os.stat_result:
        """Like os.lstat (FileNotFoundError when absent); only st_mode and st_uid are read."""

    def readlink(self, path: str) -> str:
        """Like os.readlink."""

    def owner(self, uid: int) -> str:
        """A user name for `uid`, for messages."""


class RealPosixFiles:
    lstat = staticmethod(os.lstat)
    readlink = staticmethod(os.readlink)

    @staticmethod
    def owner(uid: int) -> str:
        try:
            import pwd

            return pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            return f"uid {uid}"


def posix_problems(paths: Iterable[str], files: PosixFiles) -> list[str]:
    """Why someone other than root could change any of `paths` (absolute), or []: each
    path, every folder above it and every link on the way, in the order met."""
    problems: dict[str, str] = {}
    judged: set[str] = set()
    cached = _CachedLstat(files)   # thousands of files share their folders
    for path in paths:
        _walk_posix(path, cached, problems, judged)
    return list(problems.values())


class _CachedLstat:
    def __init__(self, files: PosixFiles):
        self.files = files
        self.seen: dict = {}

    def lstat(self, path: str):
        if path not in self.seen:
            try:
                self.seen[path] = self.files.lstat(path)
            except FileNotFoundError as exc:
                self.seen[path] = exc
        found = self.seen[path]
        if isinstance(found, FileNotFoundError):
            raise found
        return found

    def readlink(self, path: str) -> str:
        return self.files.readlink(path)

    def owner(self, uid: int) -> str:
        return self.files.owner(uid)


def _walk_posix(path: str, files: PosixFiles, problems: dict, judged: set) -> None:
    todo = list(reversed([p for p in path.split("/") if p]))
    cur = "/"
    _judge_posix(cur, files, problems, judged)
    hops = 0
    while todo:
        name = todo.pop()
        if name == ".":
            continue
        if name == "..":
            cur = posixpath.dirname(cur)
            continue
        nxt = posixpath.join(cur, name)
        try:
            st = files.lstat(nxt)
        except FileNotFoundError:
            problems.setdefault(nxt, f"{nxt} does not exist")
            return
        if stat.S_ISLNK(st.st_mode):
            if st.st_uid != ROOT_UID:
                problems.setdefault(nxt, f"{nxt} is a symbolic link owned by {files.owner(st.st_uid)}")
            hops += 1
            if hops > 40:
                problems.setdefault(nxt, f"{nxt}: too many symbolic links")
                return
            target = files.readlink(nxt)
            if target.startswith("/"):
                cur = "/"
            todo.extend(reversed([p for p in target.split("/") if p]))
            continue
        _judge_posix(nxt, files, problems, judged, st)
        cur = nxt


def _judge_posix(path: str, files: PosixFiles, problems: dict, judged: set, st=None) -> None:
    if path in judged:
        return
    judged.add(path)
    st = st or files.lstat(path)
    if st.st_uid != ROOT_UID:
        problems[path] = f"{path} is owned by {files.owner(st.st_uid)}"
    elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "every user" if st.st_mode & stat.S_IWOTH else "its group"
        problems[path] = f"{path} can be changed by {who} (mode {stat.S_IMODE(st.st_mode):04o})"


def script_interpreters(data: bytes) -> list[str]:
    """The interpreters a script's first lines run: `#!/path/python`, and pip's form for
    long paths (`#!/bin/sh` then `'''exec' "/path/python" "$0" "$@"`)."""
    lines = data.split(b"\n", 2)
    if not lines[0].startswith(b"#!"):
        return []
    words = lines[0][2:].decode("utf-8", "replace").split()
    found = words[:1]
    if words and words[0] in ("/bin/sh", "/usr/bin/sh") and len(lines) > 1 and lines[1].startswith(b"'''exec'"):
        try:
            parts = shlex.split(lines[1].decode("utf-8", "replace"))
        except ValueError:
            parts = []
        if len(parts) > 1 and parts[0] == "exec":
            found.append(parts[1])
    return found


# ---------------------------------------------------------------- Windows

SYSTEM, ADMINISTRATORS = "S-1-5-18", "S-1-5-32-544"
TRUSTED_INSTALLER = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
ADMINS = {SYSTEM, ADMINISTRATORS, TRUSTED_INSTALLER}
NAMES = {SYSTEM: "SYSTEM", ADMINISTRATORS: "Administrators", TRUSTED_INSTALLER: "TrustedInstaller",
         "S-1-5-32-545": "Users", "S-1-5-11": "Authenticated Users", "S-1-1-0": "Everyone",
         "S-1-5-4": "INTERACTIVE", "S-1-3-4": "OWNER RIGHTS", "S-1-5-32-547": "Power Users"}

# Access mask bits (winnt.h); for a folder FILE_WRITE_DATA adds a file, FILE_APPEND_DATA a folder.
WRITE_DATA, APPEND_DATA, DELETE_CHILD = 0x2, 0x4, 0x40
DELETE, WRITE_DAC, WRITE_OWNER = 0x10000, 0x40000, 0x80000
MAXIMUM_ALLOWED, GENERIC_ALL, GENERIC_WRITE = 0x2000000, 0x10000000, 0x40000000
# Changing the entry itself, or its access list, or (a folder) replacing what it holds.
CHANGE = DELETE | WRITE_DAC | WRITE_OWNER | MAXIMUM_ALLOWED | GENERIC_ALL | GENERIC_WRITE
FILE_CHANGE = CHANGE | WRITE_DATA | APPEND_DATA
HOLDER_CHANGE = CHANGE | WRITE_DATA | APPEND_DATA | DELETE_CHILD   # a new DLL beside python.exe
ABOVE_CHANGE = CHANGE | DELETE_CHILD                               # C:\ lets users add folders: harmless

# What `install --system` creates %ProgramData%\codecatch with: owned by Administrators,
# not inheriting %ProgramData%'s entries (which let Users add files), full control for
# SYSTEM and Administrators, read and run for Users.
PRIVATE_SDDL = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"


@dataclass(frozen=True)
class Ace:
    sid: str
    mask: int
    allow: bool = True
    inherit_only: bool = False   # applies to what the folder will hold, not to it


@dataclass(frozen=True)
class Acl:
    owner: str
    aces: tuple[Ace, ...]
    folder: bool = True


class WindowsFiles(Protocol):
    def acl(self, path: str) -> Acl:
        """The owner and access list of `path`; FileNotFoundError when absent."""

    def make_private_dir(self, path: str) -> None:
        """Create the folder `path` (its parent exists) with PRIVATE_SDDL in one step."""


def name_of(sid: str) -> str:
    return NAMES.get(sid, sid)


def writers(acl: Acl, rights: int) -> list[str]:
    """Who besides the administrators may do any of `rights` to the entry (deny entries
    are not subtracted: a wider allow is refused even if a deny narrows it)."""
    who = [] if acl.owner in ADMINS else [f"{name_of(acl.owner)} (its owner)"]
    for ace in acl.aces:
        if ace.allow and not ace.inherit_only and ace.mask & rights and ace.sid not in ADMINS \
                and ace.sid != "S-1-3-0":   # CREATOR OWNER only matters as inheritance
            who.append(name_of(ace.sid))
    return list(dict.fromkeys(who))


def windows_problems(paths: Iterable[str], files: WindowsFiles) -> list[str]:
    """Why someone other than SYSTEM and Administrators could change any of `paths`, or
    []: the path itself, the folder holding a file (a DLL planted beside python.exe
    runs too), and every folder above (only replacing what they hold counts there:
    users may add folders to C:\\)."""
    problems: dict[str, str] = {}
    for path in paths:
        p = Path(path)
        try:
            own = files.acl(str(p))
        except FileNotFoundError:
            problems.setdefault(str(p), f"{p} does not exist")
            continue
        except ValueError as exc:
            problems.setdefault(str(p), f"{p}: its access list cannot be read ({exc})")
            continue
        _judge_windows(str(p), own, HOLDER_CHANGE if own.folder else FILE_CHANGE, problems)
        for i, up in enumerate(p.parents):
            rights = HOLDER_CHANGE if i == 0 and not own.folder else ABOVE_CHANGE
            acl = _readable_acl(str(up), files, problems)
            if acl is not None:
                _judge_windows(str(up), acl, rights, problems)
    return list(problems.values())


def _readable_acl(path: str, files: WindowsFiles, problems: dict):
    """The access list of `path`, or None with the reason in `problems` (fail closed)."""
    try:
        return files.acl(path)
    except ValueError as exc:
        problems.setdefault(path, f"{path}: its access list cannot be read ({exc})")
        return None


def windows_problems_above(path: str, files: WindowsFiles) -> list[str]:
    """For a folder about to be created inside `path`: whether someone other than the
    administrators could replace `path` or anything above it (adding entries is fine:
    %ProgramData% lets Users add folders, the new one gets its own access list)."""
    problems: dict[str, str] = {}
    for up in [Path(path), *Path(path).parents]:
        acl = _readable_acl(str(up), files, problems)
        if acl is not None:
            _judge_windows(str(up), acl, ABOVE_CHANGE, problems)
    return list(problems.values())


def _judge_windows(path: str, acl: Acl, rights: int, problems: dict) -> None:
    who = writers(acl, rights)
    if who and path not in problems:
        problems[path] = f"{path} can be changed by {', '.join(who)}"


_SIDS = {"SY": SYSTEM, "BA": ADMINISTRATORS, "BU": "S-1-5-32-545", "AU": "S-1-5-11", "WD": "S-1-1-0",
         "CO": "S-1-3-0", "OW": "S-1-3-4", "IU": "S-1-5-4", "PU": "S-1-5-32-547", "AC": "S-1-15-2-1"}
_RIGHTS = {"GA": GENERIC_ALL, "GW": GENERIC_WRITE, "GR": 0x80000000, "GX": 0x20000000, "SD": DELETE,
           "WD": WRITE_DAC, "WO": WRITE_OWNER, "RC": 0x20000, "FA": 0x1F01FF, "FW": 0x120116,
           "FR": 0x120089, "FX": 0x1200A0, "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10,
           "WP": 0x20, "DT": 0x40, "LO": 0x80, "CR": 0x100, "MA": MAXIMUM_ALLOWED}


def parse_sddl(text: str, folder: bool = True) -> Acl:
    """The owner and DACL of a security descriptor in SDDL, as Windows prints it
    (https://learn.microsoft.com/windows/win32/secauthz/security-descriptor-string-format).
    Raises ValueError for a DACL it cannot read whole: a list half read could hide who may
    write (a conditional entry's own parentheses, say), so it fails closed."""
    owner = re.search(r"O:(.+?)(?=[GDS]:|$)", text)
    aces = []
    for body in _ace_strings(text):
        fields = body.split(";")
        if len(fields) < 6:
            raise ValueError(f"an access entry with {len(fields)} fields: ({body})")
        kind, flags, rights, sid = fields[0], fields[1], fields[2], fields[5]
        if kind not in ("A", "D", "XA", "XD"):
            continue   # audit and object entries say nothing about who may write
        # A conditional entry (XA) may apply: it counts as if it always did.
        aces.append(Ace(_SIDS.get(sid, sid), _mask(rights), allow=kind in ("A", "XA"),
                        inherit_only="IO" in re.findall("..", flags)))
    sid = owner.group(1) if owner else ""
    return Acl(_SIDS.get(sid, sid), tuple(aces), folder)


def _ace_strings(text: str) -> list:
    """The entries of the DACL, each without its outer parentheses; nested parentheses
    (a conditional expression) stay inside their entry."""
    start = re.search(r"D:[A-Z]*", text)
    if start is None:
        return []
    entries, depth, begin = [], 0, 0
    for i in range(start.end(), len(text)):
        ch = text[i]
        if ch == "(":
            if depth == 0:
                begin = i + 1
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced parentheses in the access list")
            if depth == 0:
                entries.append(text[begin:i])
        elif depth == 0:
            if text.startswith("S:", i):
                break   # the SACL follows
            raise ValueError(f"unexpected {text[i:i + 12]!r} in the access list")
    if depth:
        raise ValueError("unbalanced parentheses in the access list")
    return entries


def _mask(rights: str) -> int:
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", rights):
        return int(rights, 0)
    mask = 0
    for i in range(0, len(rights), 2):   # codes overlap (FR and FX both hold SYNCHRONIZE): or, never add
        mask |= _RIGHTS.get(rights[i:i + 2], MAXIMUM_ALLOWED)   # an unknown code counts as everything
    return mask


class RealWindowsFiles:   # pragma: no cover - runs on Windows only
    """The Win32 security API through ctypes: GetNamedSecurityInfoW then SDDL for
    reading, CreateDirectoryW with a security descriptor for creating (one step, so no
    moment with %ProgramData%'s inherited entries)."""

    def acl(self, path: str) -> Acl:
        import ctypes
        from ctypes import wintypes

        if not os.path.lexists(path):
            raise FileNotFoundError(path)
        advapi, kernel = ctypes.windll.advapi32, ctypes.windll.kernel32
        sd, text = ctypes.c_void_p(), wintypes.LPWSTR()
        info = 0x1 | 0x4   # OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION
        err = advapi.GetNamedSecurityInfoW(path, 1, info, None, None, None, None, ctypes.byref(sd))
        if err:
            raise OSError(err, "GetNamedSecurityInfoW failed", path)
        try:
            if not advapi.ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, 1, info, ctypes.byref(text), None):
                raise ctypes.WinError()
            try:
                return parse_sddl(text.value, folder=os.path.isdir(path))
            finally:
                kernel.LocalFree(text)
        finally:
            kernel.LocalFree(sd)

    def make_private_dir(self, path: str) -> None:
        import ctypes
        from ctypes import wintypes

        class SecurityAttributes(ctypes.Structure):
            _fields_ = [("nLength", wintypes.DWORD), ("lpSecurityDescriptor", ctypes.c_void_p),
                        ("bInheritHandle", wintypes.BOOL)]

        advapi, kernel = ctypes.windll.advapi32, ctypes.windll.kernel32
        sd = ctypes.c_void_p()
        if not advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(PRIVATE_SDDL, 1, ctypes.byref(sd), None):
            raise ctypes.WinError()
        try:
            sa = SecurityAttributes(ctypes.sizeof(SecurityAttributes), sd, False)
            if not kernel.CreateDirectoryW(path, ctypes.byref(sa)):
                raise ctypes.WinError()
        finally:
            kernel.LocalFree(sd)


def real_files(os_name: str) -> Optional[object]:
    """This machine's inspector for a layout of `os_name` ("windows" or not)."""
    return RealWindowsFiles() if os_name == "windows" else RealPosixFiles()

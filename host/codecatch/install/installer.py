"""Plan, apply and remove host registrations. The library never prints: every
function returns values that the command line renders.

    targets = plan(layout, browsers=["chromium"], user_data_dir=d)
    report = apply(targets, layout)          # or remove(targets, layout)

Ownership: install records the sha256 of every file it writes (and the value of every
registry key) in `<data folder>/installed.json`, and under "dirs" every folder it had
to create for them (a record without "dirs", from an older codecatch, still works).
Uninstall removes a file only when it still has those bytes (or, with no record,
exactly the bytes this install would write); a file someone edited since is left alone
with a clear message unless `force` is set, and the run fails. It removes a recorded
folder once it is empty, never one install did not create. Install likewise refuses to
overwrite a manifest that is neither ours nor identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .. import files
from ..identity import CHROMIUM_EXTENSION_ID, GECKO_ID, HOST_NAME
from . import browsers as B
from . import manifests, trust

HOST_SCRIPT = "codecatch-host"
FLATPAK_TALK = "org.freedesktop.Flatpak"
CHROMIUM_SNAP = ("The Chromium snap's confinement stops it from starting programs outside the snap, so "
                 "native messaging cannot work there: use Chromium from your distribution's packages, "
                 "the Flatpak, or Google Chrome; meanwhile `codecatch parse` handles pasted redirects")
# The risk of the Flatpak route, in the words install, its prompt and doctor all use.
FLATPAK_RISK = ("the browser, and any page that breaks into it, run any command as you outside its "
                "sandbox: a full sandbox escape")
FLATPAK_ESCAPE = (
    "{label} runs a native host inside its sandbox, so codecatch's host would be reached through "
    "`flatpak-spawn --host`. That needs `flatpak override --talk-name=" + FLATPAK_TALK + "`, which lets "
    + FLATPAK_RISK + ". Not set up. To accept that, rerun with --allow-flatpak-escape; or use the "
    "browser from your distribution's packages, which needs no such permission")
CHANGED = ("changed since codecatch wrote it (or written by something else); left in place. "
           "Look at it, then delete it yourself or rerun with --force.")


class InstallError(Exception):
    """Something the user must fix before anything can be written; nothing was written."""


# ---------------------------------------------------------------- the host executable

def host_executable(layout: B.Layout) -> Path:
    """The absolute path of the `codecatch-host` console script that pip installed next to
    this interpreter. Never a pyenv shim or a PATH lookup: a browser started from the
    desktop has a minimal PATH, and a shim is a slow bash script that depends on it."""
    exe = Path(layout.executable or sys.executable)
    if layout.os == B.WINDOWS:
        names = [HOST_SCRIPT + ".exe"]
        dirs = [exe.parent / "Scripts", exe.parent]
    else:
        names = [HOST_SCRIPT]
        dirs = [exe.parent]
    if layout.executable is None:
        dirs.append(Path(sysconfig.get_path("scripts")))
    for d in dirs:
        for n in names:
            if (d / n).is_file():
                return (d / n).absolute()
    raise InstallError(
        f"cannot find the {HOST_SCRIPT} program next to {exe} (looked in "
        f"{', '.join(str(d) for d in dirs)}). Reinstall codecatch with this interpreter: "
        f"{exe} -m pip install --force-reinstall . (in the codecatch clone)")


def _extension_source(family: str) -> str:
    """What to pick when loading the extension: for Chromium its folder (the checkout
    codecatch runs from, or the folder the user runs it in), for Firefox the
    manifest.json in it; else a description of it."""
    from ..source_tree import repo_root

    root = repo_root()
    if family == B.CHROMIUM:
        return str(root) if root else "the folder of your codecatch clone, the one holding manifest.json"
    return str(root / "manifest.json") if root else "the manifest.json file in your codecatch clone"


def flatpak_launcher(host: Path) -> bytes:
    """A launcher inside the Flatpak app's own folder (which the sandbox can see) that
    runs the real host outside the sandbox. Needs talk access to org.freedesktop.Flatpak."""
    return ("#!/bin/sh\n"
            "# Written by `codecatch install`: runs the codecatch host outside the Flatpak sandbox.\n"
            f"exec flatpak-spawn --host {shlex.quote(str(host))} \"$@\"\n").encode()


def launcher_target(data: bytes) -> Optional[str]:
    """The host path that a launcher written by `flatpak_launcher` runs, or None."""
    for line in data.decode("utf-8", "replace").splitlines():
        parts = shlex.split(line) if line.startswith("exec flatpak-spawn") else []
        if len(parts) >= 4 and parts[2] == "--host":
            return parts[3]
    return None


# ---------------------------------------------------------------- the plan

@dataclass(frozen=True)
class FileWrite:
    path: Path
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class KeyWrite:
    key: str
    value: str


@dataclass(frozen=True)
class Target:
    """Everything install writes for one browser, and what the user must still do."""

    location: B.Location
    manifest: FileWrite
    launcher: Optional[FileWrite] = None
    registry: Optional[KeyWrite] = None
    todo: tuple[str, ...] = ()
    skip: Optional[str] = None   # why install writes nothing here (unless forced, when forcible)
    forcible: bool = True        # False: --force does not override `skip` (the Flatpak escape)

    @property
    def browser(self) -> B.Browser:
        return self.location.browser

    @property
    def files(self) -> list[FileWrite]:
        return [f for f in (self.launcher, self.manifest) if f]


def manifest_path(location: B.Location) -> Path:
    return location.hosts_dir / f"{HOST_NAME}.json"


def default_ids(family: str) -> list[str]:
    return [CHROMIUM_EXTENSION_ID] if family == B.CHROMIUM else [GECKO_ID]


def allowed_ids(family: str, extension_ids: Iterable[str]) -> list[str]:
    """codecatch's own id, plus each --extension-id of this family (a store build, a
    copy loaded without the manifest's key): added, never instead."""
    return list(dict.fromkeys(default_ids(family) + manifests.split_ids(family, extension_ids)))


def plan(layout: B.Layout, browsers: Sequence[str] = (), *, user_data_dir: Optional[Path] = None,
         extension_ids: Iterable[str] = (), system: bool = False, for_removal: bool = False,
         allow_flatpak_escape: bool = False) -> list[Target]:
    """What install would write. With no `browsers`, every browser whose profile folder
    exists. Raises UnknownBrowser or InstallError; touches nothing. `for_removal`: the
    host program may be gone already (uninstall works from the record then).
    A Flatpak browser's target is skipped (FLATPAK_ESCAPE) unless `allow_flatpak_escape`."""
    extension_ids = list(extension_ids)
    _check_ids(extension_ids)
    chosen = [B.get(n) for n in browsers]
    if user_data_dir is not None:
        if len(chosen) > 1:
            raise InstallError("--user-data-dir names one profile folder: give at most one --browser")
        browser = chosen[0] if chosen else B.get("chromium")
        if system:
            raise InstallError("--user-data-dir and --system do not go together")
        locations = [B.locate_user_data_dir(browser, user_data_dir, layout)]
    elif chosen:
        locations = []
        for b in chosen:
            loc = B.locate(b, layout, system=system)
            if loc is None:
                where = "system-wide" if system else f"on {layout.os}"
                raise InstallError(f"{b.label} cannot be set up {where}")
            locations.append(loc)
    else:
        locations = B.detect(layout, system=system)

    try:
        host = host_executable(layout)
    except InstallError:
        if not for_removal:
            raise
        host = Path(HOST_SCRIPT)  # only the record's hashes can tell our files then
    targets, seen = [], set()
    for loc in locations:
        mpath = manifest_path(loc)
        if mpath in seen:   # Opera shares Chrome's folder: one file serves both
            continue
        seen.add(mpath)
        targets.append(_target(loc, layout, host, extension_ids, allow_flatpak_escape))
    return targets


def _check_ids(extension_ids: Sequence[str]) -> None:
    bad = manifests.invalid_ids(extension_ids)
    if bad:
        raise InstallError(f"not an extension id: {', '.join(bad)} (a Chromium id is 32 letters a-p, as "
                           "chrome://extensions shows it; a Firefox id looks like name@domain or {uuid})")


def launcher_path(loc: B.Location) -> Path:
    """Where install puts the launcher of a Flatpak browser (inside its app folder)."""
    return loc.app_dir / "data" / "codecatch" / HOST_SCRIPT


def render_manifest(browser: B.Browser, host_path: str, extension_ids: Iterable[str] = ()) -> bytes:
    """The manifest install writes for `browser`'s family, naming `host_path`."""
    ids = allowed_ids(browser.family, extension_ids)
    return manifests.render(manifests.build(browser.family, host_path, ids))


def manifest_for(layout: B.Layout, browser: str, *, extension_ids: Iterable[str] = (),
                 host_path: Optional[str] = None) -> bytes:
    """What `install --browser BROWSER` would write as the host manifest, for a packager
    who places it: the same bytes, with `host_path` as its "path" when given (else the
    host program install would name: `codecatch-host` beside this Python, or for a
    Flatpak browser the launcher install would write). Writes and registers nothing.
    Raises UnknownBrowser or InstallError."""
    extension_ids = list(extension_ids)
    _check_ids(extension_ids)
    b = B.get(browser)
    if host_path is None:
        loc = B.locate(b, layout)
        if loc is None:
            raise InstallError(f"{b.label} cannot be set up on {layout.os}")
        host_path = str(launcher_path(loc) if b.flatpak_id else host_executable(layout))
    return render_manifest(b, host_path, extension_ids)


def _target(loc: B.Location, layout: B.Layout, host: Path, extension_ids: list[str],
            allow_flatpak_escape: bool = False) -> Target:
    b = loc.browser
    ids = allowed_ids(b.family, extension_ids)
    todo = []
    launcher = None
    host_path = str(host)
    skip, forcible = None, True
    if b.flatpak_id:
        lpath = launcher_path(loc)
        launcher = FileWrite(lpath, flatpak_launcher(host), 0o755)
        host_path = str(lpath)
        if allow_flatpak_escape:
            todo.append(f"Let {b.label} start programs outside its sandbox (once; any program, not only "
                        f"codecatch's): flatpak override --user --talk-name={FLATPAK_TALK} {b.flatpak_id}")
        else:
            skip, forcible = FLATPAK_ESCAPE.format(label=b.label), False
    if b.snap_name == "chromium":
        skip = CHROMIUM_SNAP
        todo.append(CHROMIUM_SNAP)
    if b.snap_name == "firefox":
        todo.append("The Firefox snap reaches native hosts through the WebExtensions portal: "
                    "needs xdg-desktop-portal 1.17 or later (check: `snap connections firefox`)")
    registry = None
    if loc.registry_key:
        registry = KeyWrite(loc.registry_key, str(manifest_path(loc)))
    source = _extension_source(b.family)
    if b.family == B.CHROMIUM:
        load = (f"load the extension in {b.label} (Extensions page, Developer mode, "
                f"Load unpacked: {source})")
        if CHROMIUM_EXTENSION_ID not in ids:
            load += f"; allowed extension ids: {', '.join(ids)}"
    else:
        load = (f"load the add-on in {b.label} (about:debugging, This Firefox, Load Temporary Add-on: "
                f"pick {source})")
    todo.append(load)
    todo.append("let codecatch fill your panel: open it, click the codecatch toolbar button and "
                "\"Always for this site\" (or add it in the extension's options page)")
    manifest = FileWrite(manifest_path(loc), render_manifest(b, host_path, extension_ids))
    return Target(loc, manifest, launcher, registry, tuple(todo), skip, forcible)


# ---------------------------------------------------------------- the ownership record

def record_path(layout: B.Layout, system: bool) -> Path:
    return (layout.system_data() if system else layout.data_home()) / "installed.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ours_file(path: str) -> bool:
    """Only a file install writes can be in the record: a host manifest, or a Flatpak
    launcher in its codecatch folder."""
    p = Path(path)
    return p.is_absolute() and (p.name == f"{HOST_NAME}.json"
                                or (p.name == HOST_SCRIPT and p.parent.name == "codecatch"))


def _ours_key(key: str) -> bool:
    return key.replace("/", "\\").lower().endswith(f"\\nativemessaginghosts\\{HOST_NAME}".lower())


def _load_record(path: Path) -> dict:
    """{"files": {path: sha256}, "keys": {key: value}, "dirs": [folder install created]};
    "dirs" is empty for a record written before codecatch kept it.

    Uninstall deletes what the record lists, so an entry that install could not have
    written is dropped here: another name, another key, or a folder that holds none of
    the recorded files nor the record itself (a tampered record must not make uninstall
    delete something else)."""
    try:
        rec = json.loads(path.read_text("utf-8"))
        files = {p: h for p, h in dict(rec.get("files", {})).items() if isinstance(h, str) and _ours_file(p)}
        keys = {k: v for k, v in dict(rec.get("keys", {})).items() if isinstance(v, str) and _ours_key(k)}
        dirs = rec.get("dirs", [])
        above = [Path(f) for f in files] + [path]
        dirs = [d for d in dirs if isinstance(d, str) and Path(d).is_absolute()
                and any(Path(d) in f.parents for f in above)] if isinstance(dirs, list) else []
        return {"files": files, "keys": keys, "dirs": dirs}
    except (OSError, ValueError, AttributeError, TypeError):
        return {"files": {}, "keys": {}, "dirs": []}


def _save_record(path: Path, rec: dict) -> None:
    # Forget files and folders that are gone (a deleted test profile, a removed browser).
    rec["files"] = {p: h for p, h in rec["files"].items() if Path(p).exists()}
    rec["dirs"] = sorted(d for d in set(rec["dirs"]) if Path(d).is_dir() or Path(d) in path.parents)
    if not rec["files"] and not rec["keys"]:
        path.unlink(missing_ok=True)
        return
    write_atomic(path, (json.dumps(rec, indent=2, sort_keys=True) + "\n").encode(), 0o600)


def recorded_locations(layout: B.Layout, system: bool = False) -> list[B.Location]:
    """Where the record says install wrote a manifest, as browser locations: the first
    browser (in table order) that reads that folder, else a Chromium --user-data-dir
    profile. For doctor: a browser never started has no profile folder to detect."""
    rec = _load_record(record_path(layout, system))
    found = []
    for p in rec["files"]:
        loc = _location_of(Path(p), layout, system)
        if loc is not None:
            found.append(loc)
    return found


def _location_of(path: Path, layout: B.Layout, system: bool) -> Optional[B.Location]:
    if path.name != f"{HOST_NAME}.json":
        return None   # a Flatpak launcher
    for loc in B.supported(layout, system=system):
        if manifest_path(loc) == path:
            return loc
    if not system and path.parent.name == "NativeMessagingHosts":
        return B.locate_user_data_dir(B.get("chromium"), path.parent.parent, layout)
    return None


# ---------------------------------------------------------------- who can change what --system installs

def _files(layout: B.Layout):
    return layout.files if layout.files is not None else trust.real_files(layout.os)


def program_paths(layout: B.Layout, host: Path) -> tuple[list[str], list[str]]:
    """What every user's browser runs after a system-wide install: the host program, the
    interpreter its first line starts (Windows: the Python beside its Scripts folder),
    that environment's pyvenv.cfg, and every file of the codecatch package it imports.
    Also returns problems found on the way (an interpreter found through PATH)."""
    paths, problems = [str(host)], []
    if layout.os == B.WINDOWS:
        interpreters = [Path(layout.executable or sys.executable)]
    else:
        try:
            with open(host, "rb") as f:
                head = f.read(4096)
        except OSError:
            head = b""
        interpreters = [Path(p) for p in trust.script_interpreters(head)]
        if any(p.name == "env" for p in interpreters):
            problems.append(f"{host} finds its interpreter through PATH ({head.splitlines()[0].decode()}), "
                            "which each user sets")
        interpreters = interpreters or [Path(layout.executable or sys.executable)]
    for exe in interpreters:
        paths.append(str(exe))
        cfg = exe.parent.parent / "pyvenv.cfg"   # a venv: it decides which packages load
        if cfg.is_file():
            paths.append(str(cfg))
            home = _venv_home(cfg)   # the Python the venv runs (Windows: always; POSIX: --copies)
            if home is not None:
                paths.append(str(home))
    paths += [str(p) for p in interpreter_runtime(layout)]
    package = layout.package
    if package is None and layout.executable is None:
        import codecatch

        package = Path(codecatch.__file__).parent
    if package is not None:
        paths += [str(package)] + [str(p) for p in sorted(package.rglob("*"))]
    return paths, problems


def _venv_home(cfg: Path) -> Optional[Path]:
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "home" and value.strip():
            return Path(value.strip())
    return None


def interpreter_runtime(layout: B.Layout) -> list[Path]:
    """What the interpreter loads besides codecatch, which a system-wide install must
    trust as much as the host program: its real executable and shared library, the base
    installation (Windows: python3xx.dll and DLLs beside it), and every file of its
    standard library and of the environment's site-packages (a module, or a .pth file,
    that a user may change runs as every user who opens the browser). Known for this
    interpreter only; tests give `layout.runtime`."""
    if layout.runtime is not None:
        return list(layout.runtime)
    if layout.executable is not None:
        return []
    import site

    found = [Path(getattr(sys, "_base_executable", None) or sys.executable), Path(sys.base_prefix)]
    if layout.os == B.WINDOWS:
        found.append(Path(sys.base_prefix) / "DLLs")
    elif sysconfig.get_config_var("Py_ENABLE_SHARED"):
        found.append(Path(sysconfig.get_config_var("LIBDIR") or "/", sysconfig.get_config_var("LDLIBRARY") or ""))
    paths = sysconfig.get_paths()
    for root in dict.fromkeys([paths["stdlib"], paths["platstdlib"], *site.getsitepackages()]):
        folder = Path(root)
        if folder.is_dir():
            found.append(folder)
            found += sorted(folder.rglob("*"))
    return [p for p in dict.fromkeys(found) if p.exists() or p.is_symlink()]


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def system_problems(targets: Sequence[Target], layout: B.Layout) -> list[str]:
    """Why a system-wide install of `targets` would let someone other than the
    administrator change what every user's browser runs, or []: the programs
    (`program_paths`) and the folders the manifests and the record go into."""
    host = host_executable(layout)
    paths, problems = program_paths(layout, host)
    files = _files(layout)
    dests = [f.path.parent for t in targets for f in t.files] + [record_path(layout, True).parent]
    if layout.os == B.WINDOWS:
        ours = layout.system_data()
        problems += trust.windows_problems(paths, files)
        if ours.exists():   # someone may have made it first, open to everyone
            problems += trust.windows_problems([str(ours)] + [str(_existing(d)) for d in dests], files)
        else:               # install creates it with PRIVATE_SDDL
            problems += trust.windows_problems_above(str(_existing(ours)), files)
    else:
        problems += trust.posix_problems(paths + [str(_existing(d)) for d in dests], files)
    return list(dict.fromkeys(problems))


def _check_system(targets: Sequence[Target], layout: B.Layout) -> None:
    problems = system_problems(targets, layout)
    if not problems:
        return
    if layout.os == B.WINDOWS:
        who = "someone other than SYSTEM and Administrators"
        fix = ("Install Python for all users (under C:\\Program Files), install codecatch into it from an "
               "elevated prompt (py -m pip install C:\\path\\to\\codecatch), and run its "
               "codecatch install --system;\nor register codecatch for your own user only: codecatch install "
               "(without --system)")
    else:
        who = "someone other than root"
        fix = ("Install codecatch where only root can change it, then register it from there:\n"
               "  sudo python3 -m venv /opt/codecatch\n"
               "  cd /path/to/codecatch   (your clone)\n"
               "  sudo /opt/codecatch/bin/pip install --require-hashes -r requirements/run.txt\n"
               "  sudo /opt/codecatch/bin/pip install --no-deps --no-build-isolation .   (not -e)\n"
               "  sudo /opt/codecatch/bin/codecatch install --system\n"
               "or register codecatch for your own user only: codecatch install (without --system)")
    raise InstallError(
        f"refusing a system-wide install: every user's browser would run a program that {who} can "
        "change:\n" + "\n".join(f"  - {p}" for p in problems) + f"\n{fix}")


# ---------------------------------------------------------------- apply / remove

@dataclass
class Change:
    action: str       # written | unchanged | removed | absent | refused | skipped | would-write | would-remove
    what: str         # "file" | "key" | "folder"
    where: str
    browser: str
    detail: str = ""


@dataclass
class Report:
    changes: list[Change] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.action == "refused" for c in self.changes)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file in the same folder, then rename: a reader (the browser)
    sees the old bytes or the new ones, never half of them."""
    files.write_atomic(path, data, mode=mode, folder_mode=0o755)


def _writable(folder: Path) -> bool:
    p = folder
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return p.is_dir() and os.access(p, os.W_OK | os.X_OK)


def _missing_folders(path: Path) -> list[str]:
    """The folders that writing `path` would create."""
    missing, p = [], path.parent
    while not p.exists() and p.parent != p:
        missing.append(str(p))
        p = p.parent
    return missing


def _read(path: Path) -> Optional[bytes]:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _system(targets: Sequence[Target]) -> bool:
    return any(t.location.system for t in targets)


def _registry(layout: B.Layout):
    if layout.registry is None:
        raise InstallError("no registry available for a Windows layout")
    return layout.registry


def apply(targets: Sequence[Target], layout: B.Layout, *, force: bool = False,
          dry_run: bool = False) -> Report:
    """Write every target's files and keys. Checks every folder first, so that an
    unwritable one stops the run before anything is written. A target with a `skip`
    reason (the Chromium snap) is reported as skipped unless `force` is set."""
    rpath = record_path(layout, _system(targets))
    rec = _load_record(rpath)
    report = Report()
    skipped = [t for t in targets if t.skip and not (force and t.forcible)]
    targets = [t for t in targets if t not in skipped]
    for t in skipped:
        report.changes.append(Change("skipped", "file", str(t.manifest.path), t.browser.name,
                                     f"{t.skip}. Not written"
                                     + (" (--force writes it anyway)." if t.forcible else ".")))
    if _system(targets):
        _check_system(targets, layout)
    for t in targets:
        for f in t.files:
            if not _writable(f.path.parent):
                raise InstallError(
                    f"cannot write to {f.path.parent} ({t.browser.label}): permission denied. "
                    + ("Run as root/Administrator for --system." if t.location.system
                       else "Check the folder's owner and permissions."))
    if not dry_run and targets and not _writable(rpath.parent):
        raise InstallError(f"cannot write codecatch's record to {rpath.parent}: permission denied")

    plan_changes = []
    for t in targets:
        for f in t.files:
            old = _read(f.path)
            if old == f.data:
                plan_changes.append((t, f, "unchanged"))
            elif old is not None and rec["files"].get(str(f.path)) != _sha(old) and not force:
                report.changes.append(Change(
                    "refused", "file", str(f.path), t.browser.name,
                    "a different file is already there (edited by hand, or written by another "
                    "program); not overwritten. Rerun with --force to replace it."))
            else:
                plan_changes.append((t, f, "would-write" if dry_run else "written"))
        if t.registry:
            old = _registry(layout).get(t.registry.key)
            action = "unchanged" if old == t.registry.value else ("would-write" if dry_run else "written")
            plan_changes.append((t, t.registry, action))
    if not report.ok:
        return report   # nothing written

    if not dry_run:
        created = {d for _, item, action in plan_changes if action == "written"
                   and isinstance(item, FileWrite) for d in _missing_folders(item.path)}
        rec["dirs"] = sorted(set(rec["dirs"]) | created | set(_missing_folders(rpath)))
        if _system(targets) and layout.os == B.WINDOWS and not layout.system_data().exists():
            _files(layout).make_private_dir(str(layout.system_data()))   # before anything goes in
    for t, item, action in plan_changes:
        if isinstance(item, FileWrite):
            if action == "written":
                write_atomic(item.path, item.data, item.mode)
            if not dry_run:
                rec["files"][str(item.path)] = _sha(item.data)
            report.changes.append(Change(action, "file", str(item.path), t.browser.name))
        else:
            if action == "written":
                _registry(layout).set(item.key, item.value)
            if not dry_run:
                rec["keys"][item.key] = item.value
            report.changes.append(Change(action, "key", item.key, t.browser.name, item.value))
    for t in targets:
        for line in t.todo:
            if line not in report.todo:
                report.todo.append(line)
    if not dry_run and targets:
        _save_record(rpath, rec)
    return report


def remove(targets: Sequence[Target], layout: B.Layout, *, force: bool = False,
           dry_run: bool = False, leftovers: bool = False, system: bool = False) -> Report:
    """Remove what install wrote for these targets and nothing else, then the folders it
    created for them that are empty now. With `leftovers`, also every other file and key
    the record lists (a browser uninstalled since, a profile no longer detected); one
    changed since is refused like a target's, so the run fails and says so."""
    rpath = record_path(layout, system or _system(targets))
    rec = _load_record(rpath)
    report = Report()
    gone: set[str] = set()   # what this run removed (or, in a dry run, would remove)
    if leftovers:
        _remove_leftovers(targets, layout, rec, report, dry_run, force, gone)
        _remove_folders(rec, None, gone, report, "(recorded)", dry_run)
    for t in targets:
        if t.registry:
            old = _registry(layout).get(t.registry.key)
            ours = old is not None and (old == t.registry.value or rec["keys"].get(t.registry.key) == old)
            if old is None:
                report.changes.append(Change("absent", "key", t.registry.key, t.browser.name))
            elif ours or force:
                if not dry_run:
                    _registry(layout).delete(t.registry.key)
                    rec["keys"].pop(t.registry.key, None)
                report.changes.append(Change("would-remove" if dry_run else "removed", "key",
                                             t.registry.key, t.browser.name, old))
            else:
                report.changes.append(Change(
                    "refused", "key", t.registry.key, t.browser.name,
                    f"points at {old}, not at a file codecatch wrote; left in place "
                    "(--force removes it)"))
        for f in t.files:
            old = _read(f.path)
            if old is None:
                report.changes.append(Change("absent", "file", str(f.path), t.browser.name))
                continue
            ours = old == f.data or rec["files"].get(str(f.path)) == _sha(old)
            if not ours and not force:
                report.changes.append(Change("refused", "file", str(f.path), t.browser.name, CHANGED))
                continue
            if not dry_run:
                _unlink(f.path)
                rec["files"].pop(str(f.path), None)
                if str(f.path.parent) not in rec["dirs"]:
                    _prune(f.path.parent, t)   # a record from before "dirs"
            gone.add(str(f.path))
            report.changes.append(Change("would-remove" if dry_run else "removed", "file",
                                         str(f.path), t.browser.name))
        _remove_folders(rec, [f.path for f in t.files], gone, report, t.browser.name, dry_run)
    if not dry_run and rpath.exists():
        _save_record(rpath, rec)
    if not dry_run and not rpath.exists():   # the record is gone: its folder may go too
        _remove_folders(rec, [rpath], gone, report, "(recorded)", dry_run)
    return report


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except PermissionError:
        raise InstallError(f"cannot remove {path}: permission denied") from None


def _remove_leftovers(targets, layout, rec, report, dry_run, force, gone) -> None:
    covered = {str(f.path) for t in targets for f in t.files}
    keys = {t.registry.key for t in targets if t.registry}
    for path, sha in list(rec["files"].items()):
        data = _read(Path(path))
        if path in covered or data is None:
            continue  # handled with the targets, or gone (forgotten when the record is saved)
        if _sha(data) != sha and not force:
            report.changes.append(Change("refused", "file", path, "(recorded)", CHANGED))
            continue
        if not dry_run:
            _unlink(Path(path))
            rec["files"].pop(path, None)
        gone.add(path)
        report.changes.append(Change("would-remove" if dry_run else "removed", "file", path, "(recorded)"))
    for key, value in list(rec["keys"].items()):
        if key in keys or layout.registry is None:
            continue
        now = layout.registry.get(key)
        if now is None:
            if not dry_run:
                rec["keys"].pop(key, None)   # removed by someone else: nothing left to do
            continue
        if now != value and not force:
            report.changes.append(Change(
                "refused", "key", key, "(recorded)",
                f"points at {now}, not at the file codecatch wrote ({value}); left in place "
                "(--force removes it)"))
            continue
        if not dry_run:
            layout.registry.delete(key)
            rec["keys"].pop(key, None)
        report.changes.append(Change("would-remove" if dry_run else "removed", "key", key, "(recorded)", now))


def _remove_folders(rec, files, gone, report, browser, dry_run) -> None:
    """Remove the folders install created (the record's "dirs") above these files (None:
    all of them) that are empty now, or in a dry run would be; deepest first. Never a
    folder install did not create, never one that still holds anything."""
    dirs = [d for d in rec["dirs"] if files is None or any(Path(d) in Path(f).parents for f in files)]
    for d in sorted(set(dirs), key=lambda d: len(Path(d).parts), reverse=True):
        folder = Path(d)
        if d in gone or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            if any(str(entry) not in gone for entry in folder.iterdir()):
                continue
            if not dry_run:
                folder.rmdir()
        except OSError:
            continue   # not empty after all, or not ours to remove (permissions): left in place
        gone.add(d)
        if not dry_run:
            rec["dirs"].remove(d)
        report.changes.append(Change("would-remove" if dry_run else "removed", "folder", d, browser))


def _prune(folder: Path, t: Target) -> None:
    """Remove folders that only codecatch created and that are now empty: our launcher
    folder and, on Windows, our per-browser manifest folder. A browser's own
    NativeMessagingHosts folder stays."""
    ours = []
    if t.launcher:
        ours.append(t.launcher.path.parent)
    if t.location.registry_key:
        ours.append(t.location.hosts_dir)
    if folder in ours:
        try:
            folder.rmdir()
        except OSError:
            pass

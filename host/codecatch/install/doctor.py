"""`codecatch doctor`: every check from the browser's profile folder to a framed ping
of the installed host, in the order a browser meets them. Each check returns a
status and, when it fails, the exact fix. Nothing here prints.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .. import PROTOCOL_VERSION, protocol
from ..identity import HOST_NAME
from . import browsers as B
from . import installer, manifests

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
WINDOWS_LAUNCHABLE = (".exe", ".bat", ".cmd", ".com")
SNAP_FIX = "use Chromium from your distribution's packages, its Flatpak, or Google Chrome"
# The README's install through the hashed lock (requirements/demo.txt), from the clone.
LOCKED_INSTALL = (".venv/bin/python -m pip install -q --require-hashes -r requirements/demo.txt && "
                  ".venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .")
UPDATE = f"update codecatch in your clone (git pull && {LOCKED_INSTALL}, as the README's Updating says)"


@dataclass
class Check:
    name: str
    status: str
    message: str
    fix: Optional[str] = None


@dataclass
class Diagnosis:
    browser: str
    label: str
    profile: str
    manifest: str
    registry_key: Optional[str]
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def install_command(loc: B.Location, extension_ids: Sequence[str] = (), *, force: bool = False,
                    uninstall: bool = False) -> str:
    """The command that (re)creates this browser's registration."""
    parts = ["codecatch", "uninstall" if uninstall else "install", "--browser", loc.browser.name]
    if loc.user_data_dir:
        parts += ["--user-data-dir", str(loc.profile)]
    if loc.system:
        parts.append("--system")
    for i in extension_ids:
        parts += ["--extension-id", i]
    if force:
        parts.append("--force")
    if loc.browser.flatpak_id and not uninstall:
        # install skips a Flatpak browser without it: never hand out the flag without the risk
        parts.append("--allow-flatpak-escape")
        return FLATPAK_RISK + " ".join(shlex.quote(p) for p in parts)
    return " ".join(shlex.quote(p) for p in parts)


FLATPAK_RISK = (f"only if you accept that this lets {installer.FLATPAK_RISK} (docs/install.md, \"Flatpak\"); "
                "otherwise use the browser from your distribution's packages. To accept: ")


# ---------------------------------------------------------------- the ping

@dataclass
class PingResult:
    ok: bool
    message: str
    hello: Optional[dict] = None
    reply: Optional[dict] = None
    elapsed_ms: float = 0.0


def host_arguments(family: str, os_name: str, manifest_file: Path, extension_id: str) -> list[str]:
    """The arguments a browser passes to the host (docs/browser-notes.md section 4): Chromium the
    caller's origin (and --parent-window on Windows), Firefox the manifest's path and the
    add-on's id."""
    if family == B.FIREFOX:
        return [str(manifest_file), extension_id]
    args = [manifests.origin(extension_id)]
    if os_name == B.WINDOWS:
        args.append("--parent-window=0")
    return args


class _FrameReader:
    """Reads frames on a thread so that every wait has a timeout."""

    def __init__(self, stream):
        self._stream = stream

    def read(self, timeout: float) -> Optional[dict]:
        box: dict = {}

        def run():
            try:
                box["msg"] = protocol.read_message(self._stream)  # None: the stream ended
            except protocol.MessageTooLarge as exc:
                box["error"] = f"announced a {exc.length}-byte message (more than the browsers' 1 MiB cap)"
            except (ValueError, OSError) as exc:
                box["error"] = f"sent something that is not a framed JSON message ({exc})"

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise TimeoutError
        if "error" in box:
            raise ValueError(box["error"])
        return box.get("msg")


def ping(command: Sequence[str], *, timeout: float = 5.0, env: Optional[dict] = None) -> PingResult:
    """Start the host as a browser would, read its greeting, send a ping, check the
    protocol version, close stdin (the browser closing the port) and reap it."""
    started = time.perf_counter()
    # A browser started from the desktop has a minimal PATH: so do we, so that a host
    # that only works from a shell (a pyenv shim, a relative interpreter) fails here too.
    env = dict(env if env is not None else os.environ)
    if os.name == "posix":
        env["PATH"] = os.defpath
    try:
        proc = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        return PingResult(False, f"cannot start {command[0]}: {exc.strerror or exc}")

    def elapsed():
        return (time.perf_counter() - started) * 1000

    def stderr_tail():
        try:
            proc.wait(timeout=1)
            err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            return (": " + err[-1]) if err else ""
        except subprocess.TimeoutExpired:
            return ""

    reader = _FrameReader(proc.stdout)
    try:
        try:
            hello = reader.read(timeout)
        except TimeoutError:
            return PingResult(False, f"the host sent no greeting within {timeout:g} s", elapsed_ms=elapsed())
        if hello is None:
            tail = stderr_tail()   # waits for the exit, so the status is known
            return PingResult(False, f"the host exited before greeting (status {proc.poll()}){tail}",
                              elapsed_ms=elapsed())
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            return PingResult(False, f"the host's first message is not a greeting: {hello!r:.200}",
                              hello=None, elapsed_ms=elapsed())
        if hello.get("protocol") != PROTOCOL_VERSION:
            return PingResult(False, f"the host speaks protocol {hello.get('protocol')!r}, this codecatch "
                                     f"speaks {PROTOCOL_VERSION}", hello=hello, elapsed_ms=elapsed())
        try:
            proc.stdin.write(protocol.encode_request({"id": "doctor", "type": "ping"}))
            proc.stdin.flush()
        except OSError:
            return PingResult(False, f"the host closed its input after greeting{stderr_tail()}", hello,
                              elapsed_ms=elapsed())
        try:
            reply = reader.read(timeout)
        except TimeoutError:
            return PingResult(False, f"the host did not answer the ping within {timeout:g} s", hello,
                              elapsed_ms=elapsed())
        result = (reply or {}).get("result") or {}
        if not (reply and reply.get("id") == "doctor" and reply.get("ok") and result.get("pong")):
            return PingResult(False, f"unexpected answer to ping: {reply!r:.200}", hello, reply, elapsed())
        if result.get("protocol") != PROTOCOL_VERSION:
            return PingResult(False, f"the host answered with protocol {result.get('protocol')!r}, "
                                     f"expected {PROTOCOL_VERSION}", hello, reply, elapsed())
        return PingResult(True, f"codecatch-host {result.get('version')} answered in {elapsed():.0f} ms "
                                f"(protocol {PROTOCOL_VERSION})", hello, reply, elapsed())
    except ValueError as exc:
        return PingResult(False, f"the host {exc}", elapsed_ms=elapsed())
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for s in (proc.stdout, proc.stderr):
            s.close()


# ---------------------------------------------------------------- Flatpak

def flatpak_can_spawn_host(layout: B.Layout, app_id: str, *, ask_flatpak: bool) -> Optional[bool]:
    """Whether the app may talk to org.freedesktop.Flatpak (needed by flatpak-spawn --host).
    Reads the user and system override files; asks `flatpak info` when allowed. None:
    cannot tell."""
    xdg = layout.env.get("XDG_DATA_HOME")
    data = Path(xdg) if xdg else layout.home / ".local" / "share"
    for f in (data / "flatpak" / "overrides" / app_id, layout.root / "var/lib/flatpak/overrides" / app_id):
        try:
            text = f.read_text("utf-8")
        except OSError:
            continue
        if f"{installer.FLATPAK_TALK}=talk" in text.replace(" ", ""):
            return True
    if ask_flatpak and shutil.which("flatpak"):
        try:
            out = subprocess.run(["flatpak", "info", "--show-permissions", app_id], capture_output=True,
                                 text=True, timeout=10).stdout
            return f"{installer.FLATPAK_TALK}=talk" in out.replace(" ", "")
        except (OSError, subprocess.SubprocessError):
            return None
    return False


# ---------------------------------------------------------------- the checks

def diagnose(layout: B.Layout, browsers: Sequence[str] = (), *, user_data_dir: Optional[Path] = None,
             extension_ids: Iterable[str] = (), system: bool = False, timeout: float = 5.0,
             run_host: bool = True) -> list[Diagnosis]:
    """Check every browser found and every manifest install recorded (or the named
    browsers only). `run_host=False` skips the ping (for a layout that is not this machine)."""
    extension_ids = list(extension_ids)
    if user_data_dir is not None:
        b = B.get(browsers[0]) if browsers else B.get("chromium")
        locations = [B.locate_user_data_dir(b, user_data_dir, layout)]
    elif browsers:
        locations = [loc for n in browsers if (loc := B.locate(B.get(n), layout, system=system))]
    else:
        locations = _found_or_recorded(layout, system)
    record = installer._load_record(installer.record_path(layout, system))
    stream = check_event_stream() if run_host and locations else (SKIP, "not run (not this machine's layout)", None)
    return [_diagnose_one(loc, layout, extension_ids, record, timeout, run_host, stream) for loc in locations]


def _found_or_recorded(layout: B.Layout, system: bool) -> list[B.Location]:
    """Every browser whose profile folder exists, then every manifest the install record
    lists that none of them reads (a browser never started, a --user-data-dir profile)
    and that is still there, or whose profile is."""
    locations = B.detect(layout, system=system)
    seen = {installer.manifest_path(loc) for loc in locations}
    for loc in installer.recorded_locations(layout, system):
        mfile = installer.manifest_path(loc)
        if mfile not in seen and (mfile.exists() or loc.profile.is_dir()):
            seen.add(mfile)
            locations.append(loc)
    return locations


def check_event_stream(timeout: float = 2.0):
    """(status, message, fix) for the local event stream of the hosts running now.

    The stream lives as long as a browser keeps its host running, so "none running"
    is not a fault: the browser starts the host when the extension loads.
    """
    from .. import stream_client

    try:
        results = stream_client.probe_hosts(timeout=timeout)
    except stream_client.StreamError as exc:
        return FAIL, str(exc), "remove the folder (codecatch recreates it private) or fix its owner and mode (0700)"
    if not results:
        return SKIP, ("no browser host is running now; it starts when the browser loads the extension "
                      "(then `codecatch watch` and `codecatch login` can reach it)"), None
    bad = [m for _, ok, m in results if not ok]
    if bad:
        return FAIL, "; ".join(bad), "restart the browser (its host restarts with it), then run codecatch doctor again"
    return OK, "; ".join(m for _, _, m in results), None


def _reinstall_fix(layout, install_fix):
    """The manifest names a host that is gone. If this codecatch still has its host, the
    manifest is only stale; otherwise codecatch itself must come back first."""
    try:
        installer.host_executable(layout)
    except installer.InstallError:
        return (f"reinstall codecatch from where you got it (in a clone: python3 -m venv .venv && {LOCKED_INSTALL}), "
                f"then {install_fix}")
    return install_fix


def _diagnose_one(loc, layout, extension_ids, record, timeout, run_host, stream=None) -> Diagnosis:
    b = loc.browser
    mfile = installer.manifest_path(loc)
    d = Diagnosis(b.name, b.label, str(loc.profile), str(mfile), loc.registry_key)
    checks = d.checks
    wanted = installer.allowed_ids(b.family, extension_ids)

    def fix(force=False):
        return install_command(loc, extension_ids, force=force)

    def add(name, status, message, fix_=None):
        checks.append(Check(name, status, message, fix_))
        return status != FAIL

    def skip_rest(after):
        for name in NAMES[NAMES.index(after) + 1:]:
            if (name != "registry key" or loc.registry_key) and (name != "sandbox" or b.sandbox):
                checks.append(Check(name, SKIP, "not checked (an earlier check failed)"))

    # 1. profile folder: without one, the manifest is still worth checking if it is there
    if loc.profile.is_dir() and str(loc.profile) in record.get("dirs", ()):
        # It exists because install made it (to hold the manifest), not because the
        # browser ever used it: a typo in --user-data-dir, or a browser never started.
        start = (f"start {b.label} once with this profile (or check the --user-data-dir path)"
                 if b.family == B.CHROMIUM else f"start {b.label} once")
        add("profile folder", WARN, f"{loc.profile} was created by `codecatch install`, not by {b.label}: "
                                   "the browser has not used it yet; checking its manifest anyway", start)
    elif loc.profile.is_dir():
        add("profile folder", OK, str(loc.profile))
    else:
        start = (f"start {b.label} once, or name the folder it uses with --user-data-dir"
                 if b.family == B.CHROMIUM else f"start {b.label} once")
        if mfile.exists():
            add("profile folder", WARN, f"{loc.profile} does not exist: {b.label} is not installed for this "
                                       "user, or was never started; checking its manifest anyway", start)
        else:
            # Neither the profile nor the manifest: `install` sets up a browser never started
            # (it makes the folder), and starting the browser alone would not register the host.
            add("profile folder", FAIL, f"{loc.profile} does not exist and no host is registered for "
                                       f"{b.label}: it was never started, or not for this user", fix())
            skip_rest("profile folder")
            return d

    # 2. registry key (Windows)
    if loc.registry_key:
        value = layout.registry.get(loc.registry_key) if layout.registry else None
        if value is None:
            add("registry key", FAIL, f"{loc.registry_key} is missing: the browser cannot find the host "
                                      "(\"Specified native messaging host not found.\")", fix())
            skip_rest("registry key")
            return d
        if Path(value) != mfile:
            add("registry key", WARN, f"{loc.registry_key} points at {value}, not at codecatch's {mfile}; "
                                      "checking that file")
            mfile = Path(value)
            d.manifest = value
        else:
            add("registry key", OK, f"{loc.registry_key} = {value}")

    # 3. manifest present
    try:
        raw = mfile.read_bytes()
    except FileNotFoundError:
        if b.flatpak_id:   # install skips it unless the escape was accepted: a choice, not a fault
            add("manifest present", WARN, f"{mfile} is missing: codecatch install sets up a Flatpak browser "
                                          "only with --allow-flatpak-escape, a sandbox escape", fix())
        elif b.snap_name == "chromium":   # install skips it: reinstalling would not help
            add("manifest present", FAIL, f"{mfile} is missing: codecatch install skips the Chromium snap, "
                                          "whose confinement stops it from starting programs outside the snap",
                SNAP_FIX)
        else:
            add("manifest present", FAIL, f"{mfile} is missing (\"Specified native messaging host not "
                                          "found.\")", fix())
        skip_rest("manifest present")
        return d
    except OSError as exc:
        add("manifest present", FAIL, f"cannot read {mfile}: {exc.strerror}",
            f"make it readable: chmod 644 {shlex.quote(str(mfile))}")
        skip_rest("manifest present")
        return d
    add("manifest present", OK, str(mfile))
    ours = record["files"].get(str(mfile)) == installer._sha(raw)

    # 4. valid JSON
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ValueError("starts with a byte-order mark, which browsers reject")
        m = json.loads(raw.decode("utf-8"))
        if not isinstance(m, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        add("valid JSON", FAIL, f"{mfile} is not a valid manifest: {exc}", fix(force=True))
        skip_rest("valid JSON")
        return d
    add("valid JSON", OK, "a JSON object, UTF-8 without BOM")

    # 5. name matches
    if m.get("name") != HOST_NAME or m.get("type") != "stdio":
        add("name matches", FAIL, f"name is {m.get('name')!r} and type {m.get('type')!r}; expected "
                                  f"{HOST_NAME!r} and 'stdio'", fix(force=not ours))
        skip_rest("name matches")
        return d
    add("name matches", OK, HOST_NAME)

    # 6. path exists and is executable
    path = m.get("path")
    host_cmd = None
    if not isinstance(path, str) or not path:
        add("host executable", FAIL, "the manifest has no path", fix(force=not ours))
    elif layout.os != B.WINDOWS and not path.startswith("/"):
        add("host executable", FAIL, f"path {path!r} is relative: a GUI-started browser cannot find it "
                                     "(\"Native host has exited.\")", fix(force=not ours))
    elif layout.os == B.WINDOWS and not path.lower().endswith(WINDOWS_LAUNCHABLE):
        add("host executable", FAIL, f"path {path!r} is not an .exe or .bat: Windows browsers cannot start "
                                     "it", fix(force=not ours))
    elif not Path(path).is_file():
        add("host executable", FAIL, f"{path} does not exist (codecatch moved or was uninstalled; "
                                     "\"Native host has exited.\" or \"Specified native messaging host not "
                                     "found.\")",
            _reinstall_fix(layout, fix(force=not ours)))
    elif layout.os != B.WINDOWS and not os.access(path, os.X_OK):
        add("host executable", FAIL, f"{path} is not executable", f"chmod +x {shlex.quote(path)}")
    else:
        host_cmd = [path]
        add("host executable", OK, path)
    if host_cmd and b.flatpak_id:
        # Inside the sandbox the browser runs our launcher; outside it we run what it wraps.
        target = installer.launcher_target(Path(path).read_bytes())
        if target is None or not Path(target).is_file():
            add("host executable", FAIL, f"the Flatpak launcher {path} does not run an existing host "
                                         f"({target})", fix(force=True))
            host_cmd = None
        else:
            host_cmd = [target]
    if host_cmd is None:
        skip_rest("host executable")
        return d

    # 7. allowed origins / extensions
    key = "allowed_origins" if b.family == B.CHROMIUM else "allowed_extensions"
    allowed = m.get(key)
    expect = [manifests.origin(i) for i in wanted] if b.family == B.CHROMIUM else wanted
    missing = [e for e in expect if not isinstance(allowed, list) or e not in allowed]
    if missing:
        add("allowed extensions", FAIL,
            f"{key} is {allowed!r}; it lacks {', '.join(missing)} "
            "(\"Access to the specified native messaging host is forbidden.\")",
            fix(force=not ours))
        skip_rest("allowed extensions")
        return d
    add("allowed extensions", OK, f"{key} includes {', '.join(expect)}")

    # 8. sandbox
    if b.flatpak_id:
        can = flatpak_can_spawn_host(layout, b.flatpak_id, ask_flatpak=run_host)
        if can:
            add("sandbox", OK, f"{b.flatpak_id} may run flatpak-spawn --host")
        else:
            add("sandbox", FAIL, f"{b.flatpak_id} may not start programs outside its sandbox "
                                 "(\"Native host has exited.\")",
                FLATPAK_RISK + f"flatpak override --user --talk-name={installer.FLATPAK_TALK} {b.flatpak_id}")
    elif b.snap_name == "chromium":
        add("sandbox", FAIL, "the Chromium snap cannot start programs outside the snap", SNAP_FIX)

    # 9. framed ping, exactly as the browser starts the host
    if not run_host:
        add("host answers ping", SKIP, "not run (not this machine's layout)")
    else:
        args = host_arguments(b.family, layout.os, mfile, wanted[0])
        r = ping(host_cmd + args, timeout=timeout)
        if r.ok:
            add("host answers ping", OK, r.message)
        else:
            older = ""
            if r.hello and r.hello.get("protocol") != PROTOCOL_VERSION:
                older = f"{UPDATE} and reload the extension"
            add("host answers ping", FAIL, r.message + " (\"Native host has exited.\" / \"Error when "
                                           "communicating with the native messaging host.\")",
                older or f"run it by hand to see its error: {shlex.join(host_cmd + args)} </dev/null")

    # 10. the local event stream
    status, message, stream_fix = stream or (SKIP, "not checked", None)
    add("event stream", status, message, stream_fix)
    return d


NAMES = ["profile folder", "registry key", "manifest present", "valid JSON", "name matches",
         "host executable", "allowed extensions", "sandbox", "host answers ping", "event stream"]


def summary(diagnoses: Sequence[Diagnosis]) -> dict:
    return {"ok": bool(diagnoses) and all(d.ok for d in diagnoses),
            "browsers": [d.as_dict() for d in diagnoses]}

"""Putting a real Chromium-family browser in front of the mock: find the browser,
prepare the extension (with the test panels granted), install the host into a
throwaway profile through the real installer, and build Playwright's launch options
(docs/browser-notes.md section 5). Shared by the end-to-end tests, `codecatch demo` and the
benchmark; nothing here starts a browser.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import source_tree

from .hosts import PANEL_HOSTS

# Where Chromium-family browsers live, most likely first: (label, install-browser name, path).
CANDIDATES = {
    "linux": [
        ("Chromium", "chromium", "/usr/bin/chromium"),
        ("Chromium", "chromium", "/usr/bin/chromium-browser"),
        ("Google Chrome", "chrome", "/usr/bin/google-chrome"),
        ("Google Chrome", "chrome", "/usr/bin/google-chrome-stable"),
        ("Microsoft Edge", "edge", "/usr/bin/microsoft-edge"),
        ("Microsoft Edge", "edge", "/usr/bin/microsoft-edge-stable"),
        ("Brave", "brave", "/usr/bin/brave-browser"),
    ],
    "darwin": [
        ("Google Chrome", "chrome", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
        ("Chromium", "chromium", "/Applications/Chromium.app/Contents/MacOS/Chromium"),
        ("Microsoft Edge", "edge", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
    ],
    "win32": [
        ("Google Chrome", "chrome", r"%ProgramFiles%\Google\Chrome\Application\chrome.exe"),
        ("Google Chrome", "chrome", r"%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe"),
        ("Google Chrome", "chrome", r"%LOCALAPPDATA%\Google\Chrome\Application\chrome.exe"),
        ("Microsoft Edge", "edge", r"%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe"),
        ("Microsoft Edge", "edge", r"%ProgramFiles%\Microsoft\Edge\Application\msedge.exe"),
    ],
}
PATH_NAMES = [("Chromium", "chromium", "chromium"), ("Chromium", "chromium", "chromium-browser"),
              ("Google Chrome", "chrome", "google-chrome"), ("Microsoft Edge", "edge", "microsoft-edge")]


class BrowserNotFound(Exception):
    pass


def find_chromium_family(preferred=None):
    """(label, installer browser name, executable) of the first browser found.

    `preferred` (or the CODECATCH_BROWSER environment variable) names an executable
    to use instead.
    """
    explicit = preferred or os.environ.get("CODECATCH_BROWSER")
    if explicit:
        if not Path(explicit).is_file():
            raise BrowserNotFound(f"{explicit} does not exist")
        if re.search(r"firefox|librewolf|waterfox|gecko", Path(explicit).resolve().name, re.I):
            raise BrowserNotFound(f"{explicit} is a Firefox-family browser; this needs a Chromium-family one "
                                  "(Chromium, Google Chrome or Microsoft Edge)")
        return ("the browser you named", _guess_name(explicit), explicit)
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    for label, name, path in CANDIDATES.get(platform, []):
        path = os.path.expandvars(path)
        if Path(path).is_file():
            return label, name, path
    for label, name, command in PATH_NAMES:
        found = shutil.which(command)
        if found:
            return label, name, found
    raise BrowserNotFound(
        "no Chromium, Google Chrome or Microsoft Edge found (looked in "
        + ", ".join(p for _, _, p in CANDIDATES.get(platform, [])) + " and on PATH). "
        "Install one (Debian/Ubuntu: `sudo apt install chromium`) or set CODECATCH_BROWSER "
        "to a Chromium-family executable.")


def _guess_name(path):
    low = Path(path).name.lower()
    if "edge" in low:
        return "edge"
    if "chrome" in low and "chromium" not in low:
        return "chrome"
    return "chromium"


# Where the extension's files are: codecatch.source_tree (kept importable from here).
repo_root = source_tree.repo_root


def prepare_extension(source, dest, grant_hosts=PANEL_HOSTS):
    """Copy the extension (manifest.json + extension/) from `source` to `dest`, with
    https://HOST/* added to host_permissions for each granted panel host: a simulated
    grant, since the permission prompt needs a user's click (docs/browser-notes.md
    section 3b). The `key` stays, so the id stays the same."""
    source, dest = Path(source), Path(dest)
    if not (source / "manifest.json").is_file():
        raise FileNotFoundError(f"no manifest.json in {source}: not the codecatch source tree")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(source / "extension", dest / "extension")
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    for extra in ("_locales",):  # files the manifest may reference outside extension/
        if (source / extra).is_dir():
            shutil.copytree(source / extra, dest / extra)
    granted = manifest.setdefault("host_permissions", [])
    for host in grant_hosts:
        pattern = f"https://{host}/*"
        if pattern not in granted:
            granted.append(pattern)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return dest


def codecatch_command():
    """The `codecatch` console script of this interpreter (not a pyenv shim when avoidable)."""
    beside = Path(sys.executable).parent / ("codecatch.exe" if os.name == "nt" else "codecatch")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("codecatch")
    return [found] if found else [sys.executable, "-c", "from codecatch.cli import main; main()"]


def isolated_env(root, base=None):
    """Environment for the installer and the browser (hence the host): a throwaway
    HOME, XDG folders and codecatch config under `root`, nothing of the user's."""
    root = Path(root)
    env = dict(os.environ if base is None else base)
    home = root / "home"
    for sub in ("config", "data", "state", "cache", "runtime"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "runtime").chmod(0o700)
    if "PYENV_ROOT" not in env and Path(os.path.expanduser("~/.pyenv")).is_dir():
        env["PYENV_ROOT"] = os.path.expanduser("~/.pyenv")  # shims find pyenv without HOME
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "CODECATCH_CONFIG_DIR": str(home / "config" / "codecatch"),
    })
    return env


def install_host(user_data_dir, env, browser="chromium"):
    """Register the host for one profile with the real installer, as a user would:
    `codecatch install --browser chromium --user-data-dir DIR`. Returns the manifest path."""
    user_data_dir = Path(user_data_dir)
    user_data_dir.mkdir(parents=True, exist_ok=True)
    cmd = codecatch_command() + ["install", "--browser", browser,
                                 "--user-data-dir", str(user_data_dir)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    manifest = user_data_dir / "NativeMessagingHosts" / "com.codecatch.host.json"
    if done.returncode != 0 or not manifest.is_file():
        raise RuntimeError(
            f"`{' '.join(cmd)}` failed (exit {done.returncode}); manifest "
            f"{'written' if manifest.is_file() else 'missing'}.\n"
            f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}")
    return manifest


def launch_options(site, extension_dir, executable, headless=True, env=None, extra_args=()):
    """Keyword arguments for Playwright's `chromium.launch_persistent_context(profile, ...)`."""
    args = [
        f"--disable-extensions-except={extension_dir}",
        f"--load-extension={extension_dir}",
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--ignore-certificate-errors",
        f"--host-resolver-rules={site.resolver_rules()}",
        # Branded Chrome 137+ ignores --load-extension unless this feature is off.
        "--disable-features=DisableLoadExtensionCommandLineSwitch",
        *extra_args,
    ]
    options = dict(
        headless=headless, executable_path=str(executable),
        ignore_default_args=["--disable-extensions"], args=args,
        ignore_https_errors=True, viewport={"width": 1100, "height": 800},
    )
    if env is not None:
        options["env"] = env
    return options


def wait_for(predicate, timeout, interval=0.05):
    """Poll `predicate` until it returns something true or `timeout` seconds pass;
    returns its last value. The pages stamp their own times, so polling only decides
    when we notice (shared by the demo and the browser tests)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)

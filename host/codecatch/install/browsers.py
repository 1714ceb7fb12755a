"""Which browsers codecatch knows and where each one looks for a native-messaging host.

Pure: every function takes a `Layout` (operating system, home folder, environment,
registry) and returns paths; nothing here touches the disk except `detect`, which
only asks whether a profile folder, a program on PATH or an application folder exists
(a browser installed but never started has no profile folder yet).

Sources: Chrome https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-location ,
Firefox https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_manifests#manifest_location ,
Edge https://learn.microsoft.com/microsoft-edge/extensions/developer-guide/native-messaging ,
and docs/browser-notes.md section 4.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from .registry import Registry

LINUX, MACOS, WINDOWS = "linux", "macos", "windows"
CHROMIUM, FIREFOX = "chromium", "firefox"
HKCU, HKLM = "HKCU", "HKLM"


class UnknownBrowser(ValueError):
    """A browser name that is not in the table."""


@dataclass(frozen=True)
class Layout:
    """The operating system as the installer sees it; tests build fake ones.

    `root` is prepended to system-wide paths (/etc/..., /Library/...) so a test can
    lay out a fake system folder; `executable` is the interpreter whose console
    scripts are registered.
    """

    os: str
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)
    registry: Optional[Registry] = None
    root: Path = Path("/")
    executable: Optional[Path] = None

    def config_home(self) -> Path:
        xdg = self.env.get("XDG_CONFIG_HOME")
        return Path(xdg) if xdg and Path(xdg).is_absolute() else self.home / ".config"

    def data_home(self) -> Path:
        """Where codecatch keeps its own installed files (launchers, Windows manifests)."""
        if self.os == WINDOWS:
            return Path(self.env.get("LOCALAPPDATA") or self.home / "AppData" / "Local") / "codecatch"
        if self.os == MACOS:
            return self.home / "Library" / "Application Support" / "codecatch"
        xdg = self.env.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else self.home / ".local" / "share"
        return base / "codecatch"

    def system_data(self) -> Path:
        if self.os == WINDOWS:
            return Path(self.env.get("PROGRAMDATA") or "C:/ProgramData") / "codecatch"
        return self.root / "usr" / "local" / "share" / "codecatch"

    def with_(self, **changes) -> "Layout":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Browser:
    name: str             # what the user types: --browser NAME
    label: str            # what we print
    family: str           # CHROMIUM or FIREFOX: decides the manifest's shape
    flatpak_id: Optional[str] = None   # set for the Flatpak build of a browser
    snap_name: Optional[str] = None    # set for the Snap build of a browser
    shares_with: Optional[str] = None  # reads another browser's registration (Opera: Chrome's)
    # Per operating system: the profile folder (relative to a base) and where the host
    # manifest goes. Bases: "config" (XDG config), "home", "appsupport" (macOS),
    # "localappdata" / "appdata" (Windows).
    linux_profile: Optional[str] = None
    linux_hosts: Optional[str] = None
    linux_system_hosts: Optional[str] = None
    macos_profile: Optional[str] = None
    macos_hosts: Optional[str] = None
    macos_system_hosts: Optional[str] = None
    windows_profile: Optional[str] = None
    windows_key: Optional[str] = None   # under HKCU\ or HKLM\
    # How to tell the browser is installed when it was never started: programs looked
    # up on PATH (Linux), application bundles (macOS, in /Applications or
    # ~/Applications), executables under Program Files or %LOCALAPPDATA% (Windows).
    linux_programs: tuple[str, ...] = ()
    macos_apps: tuple[str, ...] = ()
    windows_programs: tuple[str, ...] = ()

    @property
    def sandbox(self) -> Optional[str]:
        return "flatpak" if self.flatpak_id else "snap" if self.snap_name else None


def _chromium(name, label, config_dir, system_dir, mac_dir, mac_system, win_profile, win_key, **kw):
    return Browser(
        name, label, CHROMIUM,
        linux_profile=f"config:{config_dir}",
        linux_hosts=f"config:{config_dir}/NativeMessagingHosts",
        linux_system_hosts=system_dir,
        macos_profile=f"appsupport:{mac_dir}",
        macos_hosts=f"appsupport:{mac_dir}/NativeMessagingHosts",
        macos_system_hosts=mac_system,
        windows_profile=win_profile,
        windows_key=win_key,
        **kw,
    )


NATIVE = [
    _chromium("chrome", "Google Chrome", "google-chrome", "etc/opt/chrome/native-messaging-hosts",
              "Google/Chrome", "Library/Google/Chrome/NativeMessagingHosts",
              "localappdata:Google/Chrome/User Data", r"Software\Google\Chrome\NativeMessagingHosts",
              linux_programs=("google-chrome", "google-chrome-stable", "google-chrome-beta"),
              macos_apps=("Google Chrome.app",), windows_programs=("Google/Chrome/Application/chrome.exe",)),
    _chromium("chromium", "Chromium", "chromium", "etc/chromium/native-messaging-hosts",
              "Chromium", "Library/Application Support/Chromium/NativeMessagingHosts",
              "localappdata:Chromium/User Data", r"Software\Chromium\NativeMessagingHosts",
              linux_programs=("chromium", "chromium-browser"),
              macos_apps=("Chromium.app",), windows_programs=("Chromium/Application/chrome.exe",)),
    _chromium("edge", "Microsoft Edge", "microsoft-edge", "etc/opt/edge/native-messaging-hosts",
              "Microsoft Edge", "Library/Microsoft/Edge/NativeMessagingHosts",
              "localappdata:Microsoft/Edge/User Data", r"Software\Microsoft\Edge\NativeMessagingHosts",
              linux_programs=("microsoft-edge", "microsoft-edge-stable", "microsoft-edge-beta"),
              macos_apps=("Microsoft Edge.app",), windows_programs=("Microsoft/Edge/Application/msedge.exe",)),
    _chromium("brave", "Brave", "BraveSoftware/Brave-Browser", "etc/opt/chrome/native-messaging-hosts",
              "BraveSoftware/Brave-Browser", "Library/Google/Chrome/NativeMessagingHosts",
              "localappdata:BraveSoftware/Brave-Browser/User Data",
              r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
              linux_programs=("brave-browser", "brave-browser-stable", "brave"),
              macos_apps=("Brave Browser.app",),
              windows_programs=("BraveSoftware/Brave-Browser/Application/brave.exe",)),
    _chromium("vivaldi", "Vivaldi", "vivaldi", "etc/opt/vivaldi/native-messaging-hosts",
              "Vivaldi", "Library/Application Support/Vivaldi/NativeMessagingHosts",
              "localappdata:Vivaldi/User Data", r"Software\Vivaldi\NativeMessagingHosts",
              linux_programs=("vivaldi", "vivaldi-stable"),
              macos_apps=("Vivaldi.app",), windows_programs=("Vivaldi/Application/vivaldi.exe",)),
    # Opera has no location of its own: it reads Google Chrome's (user level).
    Browser("opera", "Opera", CHROMIUM, shares_with="chrome",
            linux_profile="config:opera",
            linux_hosts="config:google-chrome/NativeMessagingHosts",
            linux_system_hosts="etc/opt/chrome/native-messaging-hosts",
            macos_profile="appsupport:com.operasoftware.Opera",
            macos_hosts="appsupport:Google/Chrome/NativeMessagingHosts",
            macos_system_hosts="Library/Google/Chrome/NativeMessagingHosts",
            windows_profile="appdata:Opera Software/Opera Stable",
            windows_key=r"Software\Google\Chrome\NativeMessagingHosts",
            linux_programs=("opera",), macos_apps=("Opera.app",), windows_programs=("Programs/Opera/opera.exe",)),
    Browser("firefox", "Firefox", FIREFOX,
            linux_profile="home:.mozilla/firefox",
            linux_hosts="home:.mozilla/native-messaging-hosts",
            linux_system_hosts="usr/lib/mozilla/native-messaging-hosts",
            macos_profile="appsupport:Firefox",
            macos_hosts="appsupport:Mozilla/NativeMessagingHosts",
            macos_system_hosts="Library/Application Support/Mozilla/NativeMessagingHosts",
            windows_profile="appdata:Mozilla/Firefox",
            windows_key=r"Software\Mozilla\NativeMessagingHosts",
            linux_programs=("firefox", "firefox-esr"),
            macos_apps=("Firefox.app",), windows_programs=("Mozilla Firefox/firefox.exe",)),
    Browser("librewolf", "LibreWolf", FIREFOX,
            linux_profile="home:.librewolf",
            linux_hosts="home:.librewolf/native-messaging-hosts",
            linux_system_hosts="usr/lib/librewolf/native-messaging-hosts",
            macos_profile="appsupport:librewolf",
            macos_hosts="appsupport:LibreWolf/NativeMessagingHosts",
            macos_system_hosts="Library/Application Support/LibreWolf/NativeMessagingHosts",
            windows_profile="appdata:librewolf",
            windows_key=r"Software\LibreWolf\NativeMessagingHosts",
            linux_programs=("librewolf",), macos_apps=("LibreWolf.app",), windows_programs=("LibreWolf/librewolf.exe",)),
]

# Flatpak builds keep everything under ~/.var/app/<app-id>/ (Linux only, user level).
FLATPAK = [
    Browser("chrome-flatpak", "Google Chrome (Flatpak)", CHROMIUM, "com.google.Chrome",
            linux_profile="app:config/google-chrome", linux_hosts="app:config/google-chrome/NativeMessagingHosts"),
    Browser("chromium-flatpak", "Chromium (Flatpak)", CHROMIUM, "org.chromium.Chromium",
            linux_profile="app:config/chromium", linux_hosts="app:config/chromium/NativeMessagingHosts"),
    Browser("edge-flatpak", "Microsoft Edge (Flatpak)", CHROMIUM, "com.microsoft.Edge",
            linux_profile="app:config/microsoft-edge", linux_hosts="app:config/microsoft-edge/NativeMessagingHosts"),
    Browser("brave-flatpak", "Brave (Flatpak)", CHROMIUM, "com.brave.Browser",
            linux_profile="app:config/BraveSoftware/Brave-Browser",
            linux_hosts="app:config/BraveSoftware/Brave-Browser/NativeMessagingHosts"),
    Browser("vivaldi-flatpak", "Vivaldi (Flatpak)", CHROMIUM, "com.vivaldi.Vivaldi",
            linux_profile="app:config/vivaldi", linux_hosts="app:config/vivaldi/NativeMessagingHosts"),
    Browser("opera-flatpak", "Opera (Flatpak)", CHROMIUM, "com.opera.Opera",
            linux_profile="app:config/opera", linux_hosts="app:config/google-chrome/NativeMessagingHosts"),
    Browser("firefox-flatpak", "Firefox (Flatpak)", FIREFOX, "org.mozilla.firefox",
            linux_profile="app:.mozilla/firefox", linux_hosts="app:.mozilla/native-messaging-hosts"),
    Browser("librewolf-flatpak", "LibreWolf (Flatpak)", FIREFOX, "io.gitlab.librewolf-community",
            linux_profile="app:.librewolf", linux_hosts="app:.librewolf/native-messaging-hosts"),
]

# Snap builds (Linux only). Firefox's snap reads host manifests from the real
# ~/.mozilla through the WebExtensions portal; Chromium's snap keeps its own folder.
SNAP = [
    Browser("chromium-snap", "Chromium (Snap)", CHROMIUM, snap_name="chromium",
            linux_profile="home:snap/chromium/common/chromium",
            linux_hosts="home:snap/chromium/common/chromium/NativeMessagingHosts"),
    Browser("firefox-snap", "Firefox (Snap)", FIREFOX, snap_name="firefox",
            linux_profile="home:snap/firefox/common/.mozilla/firefox",
            linux_hosts="home:.mozilla/native-messaging-hosts"),
]

BROWSERS = {b.name: b for b in NATIVE + FLATPAK + SNAP}
ALIASES = {"google-chrome": "chrome", "msedge": "edge", "microsoft-edge": "edge",
           "brave-browser": "brave", "firefox-esr": "firefox"}


def get(name: str) -> Browser:
    key = ALIASES.get(name.lower(), name.lower())
    try:
        return BROWSERS[key]
    except KeyError:
        raise UnknownBrowser(
            f"unknown browser {name!r}; known: {', '.join(BROWSERS)}") from None


@dataclass(frozen=True)
class Location:
    """Where one browser, on one layout, keeps its profile and reads the host manifest."""

    browser: Browser
    profile: Path              # exists = the browser is installed for this user
    hosts_dir: Path            # folder of <HOST_NAME>.json
    registry_key: Optional[str] = None   # "HKCU\\Software\\...\\<HOST_NAME>" on Windows
    system: bool = False
    user_data_dir: bool = False
    app_dir: Optional[Path] = None   # Flatpak: ~/.var/app/<id>, visible inside the sandbox
    found_by: Optional[str] = None   # how `detect` knew the browser is there


def _resolve(spec: str, layout: Layout, browser: Browser) -> Path:
    base, _, rel = spec.partition(":")
    if base == "config":
        root = layout.config_home()
    elif base == "home":
        root = layout.home
    elif base == "app":
        root = flatpak_app_dir(layout, browser.flatpak_id)
    elif base == "appsupport":
        root = layout.home / "Library" / "Application Support"
    elif base == "localappdata":
        root = Path(layout.env.get("LOCALAPPDATA") or layout.home / "AppData" / "Local")
    elif base == "appdata":
        root = Path(layout.env.get("APPDATA") or layout.home / "AppData" / "Roaming")
    else:
        raise AssertionError(spec)
    return root.joinpath(*rel.split("/"))


def flatpak_app_dir(layout: Layout, app_id: str) -> Path:
    return layout.home / ".var" / "app" / app_id


def locate(browser: Browser, layout: Layout, *, system: bool = False) -> Optional[Location]:
    """Where `browser` reads its host manifest on `layout`; None when it cannot exist there
    (a Flatpak build on macOS, a system-wide Flatpak install)."""
    from ..identity import HOST_NAME

    if layout.os == LINUX:
        if not browser.linux_profile:
            return None
        profile = _resolve(browser.linux_profile, layout, browser)
        if system:
            if not browser.linux_system_hosts or browser.sandbox:
                return None
            return Location(browser, profile, layout.root.joinpath(*browser.linux_system_hosts.split("/")),
                            system=True)
        app_dir = flatpak_app_dir(layout, browser.flatpak_id) if browser.flatpak_id else None
        return Location(browser, profile, _resolve(browser.linux_hosts, layout, browser), app_dir=app_dir)
    if layout.os == MACOS:
        if not browser.macos_profile:
            return None
        profile = _resolve(browser.macos_profile, layout, browser)
        if system:
            return Location(browser, profile, layout.root.joinpath(*browser.macos_system_hosts.split("/")),
                            system=True)
        return Location(browser, profile, _resolve(browser.macos_hosts, layout, browser))
    if layout.os == WINDOWS:
        if not browser.windows_profile:
            return None
        profile = _resolve(browser.windows_profile, layout, browser)
        base = layout.system_data() if system else layout.data_home()
        # Windows browsers find the JSON through the registry; the file itself lives in
        # codecatch's own folder, one per browser so uninstall can remove exactly it.
        hosts_dir = base / "NativeMessagingHosts" / (browser.shares_with or browser.name)
        key = f"{HKLM if system else HKCU}\\{browser.windows_key}\\{HOST_NAME}"
        return Location(browser, profile, hosts_dir, registry_key=key, system=system)
    raise ValueError(f"unknown operating system {layout.os!r}")


def locate_user_data_dir(browser: Browser, user_data_dir: Path, layout: Layout) -> Location:
    """A browser started with --user-data-dir=DIR reads only DIR/NativeMessagingHosts/
    (probed with Chromium 156, docs/browser-notes.md section 4)."""
    if browser.family != CHROMIUM:
        raise UnknownBrowser(
            f"--user-data-dir works with Chromium-family browsers only, not {browser.label}")
    d = Path(user_data_dir).absolute()
    return Location(browser, d, d / "NativeMessagingHosts", user_data_dir=True)


def supported(layout: Layout, *, system: bool = False) -> list[Location]:
    return [loc for b in BROWSERS.values() if (loc := locate(b, layout, system=system))]


def detect(layout: Layout, *, system: bool = False) -> list[Location]:
    """Every browser that is installed, in table order: its profile folder exists, or
    (never started yet) its program, application folder or sandbox package does.
    Each Location's `found_by` says which."""
    found = []
    for loc in supported(layout, system=system):
        how = (f"profile folder {loc.profile}" if loc.profile.is_dir() else installed_evidence(loc.browser, layout))
        if how:
            found.append(dataclasses.replace(loc, found_by=how))
    return found


def looked_for(layout: Layout) -> list[str]:
    """What `detect` looks for on this layout, in words (for "no browser found")."""
    if layout.os == LINUX:
        programs = [p for b in NATIVE for p in b.linux_programs]
        return ["profile folders such as ~/.config/chromium, ~/.config/google-chrome, ~/.mozilla/firefox",
                "programs on PATH: " + ", ".join(programs),
                "Flatpak apps (" + ", ".join(b.flatpak_id for b in FLATPAK) + ") and the chromium and firefox snaps"]
    if layout.os == MACOS:
        return ["profile folders under ~/Library/Application Support (Google/Chrome, Chromium, Firefox, ...)",
                "applications in /Applications or ~/Applications: "
                + ", ".join(a for b in NATIVE for a in b.macos_apps)]
    return [r"profile folders under %LOCALAPPDATA% and %APPDATA% (Google\Chrome\User Data, Mozilla\Firefox, ...)",
            r"programs under %ProgramFiles%, %ProgramFiles(x86)% and %LOCALAPPDATA%: "
            + ", ".join(p.replace("/", "\\") for b in NATIVE for p in b.windows_programs)]


def _on_path(name: str, layout: Layout) -> Optional[Path]:
    for folder in (layout.env.get("PATH") or "").split(":"):
        if not folder or not Path(folder).is_absolute():
            continue
        candidate = layout.root.joinpath(*Path(folder).parts[1:], name) if layout.root != Path("/") \
            else Path(folder) / name
        if candidate.is_file() and _is_native_program(candidate):
            return candidate
    return None


def _is_native_program(path: Path) -> bool:
    """Not the Snap build hiding behind a native name (/snap/bin/chromium, or Ubuntu's
    /usr/bin/chromium-browser and /usr/bin/firefox scripts that start the snap): that
    one is detected as NAME-snap, and registering for it is a different matter."""
    if "/snap/" in str(path.resolve()) + "/":
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return not (head.startswith(b"#!") and b"/snap/" in head)


def installed_evidence(browser: Browser, layout: Layout) -> Optional[str]:
    """How we can tell `browser` is installed without its profile folder, or None."""
    if browser.flatpak_id:
        if layout.os != LINUX:
            return None
        for base in (layout.home / ".local/share/flatpak/app", layout.root / "var/lib/flatpak/app"):
            if (base / browser.flatpak_id).is_dir():
                return f"Flatpak app {browser.flatpak_id}"
        return None
    if browser.snap_name:
        if layout.os == LINUX and (layout.root / "snap" / browser.snap_name / "current").exists():
            return f"snap {browser.snap_name}"
        return None
    if layout.os == LINUX:
        for name in browser.linux_programs:
            found = _on_path(name, layout)
            if found:
                return f"program {found}"
    elif layout.os == MACOS:
        for app in browser.macos_apps:
            for base in (layout.root / "Applications", layout.home / "Applications"):
                if (base / app).is_dir():
                    return f"application {base / app}"
    elif layout.os == WINDOWS:
        bases = [layout.env.get(v) for v in ("ProgramFiles", "PROGRAMFILES", "ProgramFiles(x86)",
                                              "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        for base in dict.fromkeys(b for b in bases if b):
            for rel in browser.windows_programs:
                exe = Path(base).joinpath(*rel.split("/"))
                if exe.is_file():
                    return f"program {exe}"
    return None


def current_layout() -> Layout:
    """The machine we run on. HOME (USERPROFILE on Windows) and XDG_* are honoured, so a
    test or a user can point the installer at a throwaway home."""
    import os
    import sys

    if sys.platform.startswith("win"):
        from .registry import WinRegistry

        return Layout(WINDOWS, Path(os.environ.get("USERPROFILE") or Path.home()), dict(os.environ),
                      WinRegistry())
    osname = MACOS if sys.platform == "darwin" else LINUX
    return Layout(osname, Path(os.environ.get("HOME") or Path.home()), dict(os.environ))

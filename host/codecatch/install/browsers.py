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
    scripts are registered. For `install --system`: `files` tells who can change a
    path (a trust.PosixFiles or trust.WindowsFiles; None: this machine's), `package`
    is the codecatch package the host imports (None: this one, when `executable` is
    None too), `runtime` what the interpreter loads besides it: its base installation,
    standard library and site-packages (None: this interpreter's, when `executable` is
    None too; installer.interpreter_runtime).
    """

    os: str
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)
    registry: Optional[Registry] = None
    root: Path = Path("/")
    executable: Optional[Path] = None
    files: Optional[object] = None
    package: Optional[Path] = None
    runtime: Optional[tuple] = None

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


# ---------------------------------------------------------------- the table's vocabulary

# The folder each path in the table starts from; `resolve` turns a Place into a Path.
CONFIG = "config"                  # Linux: $XDG_CONFIG_HOME, else ~/.config
HOME = "home"                      # the home folder
FLATPAK_APP = "flatpak-app"        # Linux: ~/.var/app/<the browser's flatpak_id>
APP_SUPPORT = "app-support"        # macOS: ~/Library/Application Support
LOCAL_APP_DATA = "local-app-data"  # Windows: %LOCALAPPDATA%
APP_DATA = "app-data"              # Windows: %APPDATA%
ROOT = "root"                      # the system's root folder (Layout.root): system-wide places


@dataclass(frozen=True)
class Place:
    """A folder: `path` (parts separated by /) under the base folder `base`."""

    base: str
    path: str


def in_config(path: str) -> Place:
    return Place(CONFIG, path)


def in_home(path: str) -> Place:
    return Place(HOME, path)


def in_flatpak_app(path: str) -> Place:
    return Place(FLATPAK_APP, path)


def in_app_support(path: str) -> Place:
    return Place(APP_SUPPORT, path)


def in_local_app_data(path: str) -> Place:
    return Place(LOCAL_APP_DATA, path)


def in_app_data(path: str) -> Place:
    return Place(APP_DATA, path)


def in_root(path: str) -> Place:
    return Place(ROOT, path)


@dataclass(frozen=True)
class OnLinux:
    profile: Place                        # exists once the browser was started by this user
    hosts: Place                          # where it reads a user's host manifests
    system_hosts: Optional[Place] = None  # where it reads system-wide ones (--system)
    programs: tuple[str, ...] = ()        # looked up on PATH (a browser never started)


@dataclass(frozen=True)
class OnMacOS:
    profile: Place
    hosts: Place
    system_hosts: Place
    apps: tuple[str, ...] = ()            # application bundles in /Applications or ~/Applications


@dataclass(frozen=True)
class OnWindows:
    profile: Place
    registry_key: str                     # under HKCU\ or HKLM\; its value names the manifest file
    programs: tuple[str, ...] = ()        # executables under Program Files or %LOCALAPPDATA%


@dataclass(frozen=True)
class Browser:
    """One row of the table. A browser without `linux`, `macos` or `windows` does not
    exist on that operating system (a Flatpak build on macOS)."""

    name: str                              # what the user types: --browser NAME
    label: str                             # what we print
    family: str                            # CHROMIUM or FIREFOX: decides the manifest's shape
    linux: Optional[OnLinux] = None
    macos: Optional[OnMacOS] = None
    windows: Optional[OnWindows] = None
    flatpak_id: Optional[str] = None       # the Flatpak build of a browser: its app id
    snap_name: Optional[str] = None        # the Snap build of a browser: the snap's name
    shares_with: Optional[str] = None      # reads another browser's registration (Opera: Chrome's)

    @property
    def sandbox(self) -> Optional[str]:
        return "flatpak" if self.flatpak_id else "snap" if self.snap_name else None


# ---------------------------------------------------------------- the table

NATIVE = [
    Browser(
        name="chrome", label="Google Chrome", family=CHROMIUM,
        linux=OnLinux(profile=in_config("google-chrome"),
                      hosts=in_config("google-chrome/NativeMessagingHosts"),
                      system_hosts=in_root("etc/opt/chrome/native-messaging-hosts"),
                      programs=("google-chrome", "google-chrome-stable", "google-chrome-beta")),
        macos=OnMacOS(profile=in_app_support("Google/Chrome"),
                      hosts=in_app_support("Google/Chrome/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Google/Chrome/NativeMessagingHosts"),
                      apps=("Google Chrome.app",)),
        windows=OnWindows(profile=in_local_app_data("Google/Chrome/User Data"),
                          registry_key=r"Software\Google\Chrome\NativeMessagingHosts",
                          programs=("Google/Chrome/Application/chrome.exe",)),
    ),
    Browser(
        name="chromium", label="Chromium", family=CHROMIUM,
        linux=OnLinux(profile=in_config("chromium"),
                      hosts=in_config("chromium/NativeMessagingHosts"),
                      system_hosts=in_root("etc/chromium/native-messaging-hosts"),
                      programs=("chromium", "chromium-browser")),
        macos=OnMacOS(profile=in_app_support("Chromium"),
                      hosts=in_app_support("Chromium/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Application Support/Chromium/NativeMessagingHosts"),
                      apps=("Chromium.app",)),
        windows=OnWindows(profile=in_local_app_data("Chromium/User Data"),
                          registry_key=r"Software\Chromium\NativeMessagingHosts",
                          programs=("Chromium/Application/chrome.exe",)),
    ),
    Browser(
        name="edge", label="Microsoft Edge", family=CHROMIUM,
        linux=OnLinux(profile=in_config("microsoft-edge"),
                      hosts=in_config("microsoft-edge/NativeMessagingHosts"),
                      system_hosts=in_root("etc/opt/edge/native-messaging-hosts"),
                      programs=("microsoft-edge", "microsoft-edge-stable", "microsoft-edge-beta")),
        macos=OnMacOS(profile=in_app_support("Microsoft Edge"),
                      hosts=in_app_support("Microsoft Edge/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Microsoft/Edge/NativeMessagingHosts"),
                      apps=("Microsoft Edge.app",)),
        windows=OnWindows(profile=in_local_app_data("Microsoft/Edge/User Data"),
                          registry_key=r"Software\Microsoft\Edge\NativeMessagingHosts",
                          programs=("Microsoft/Edge/Application/msedge.exe",)),
    ),
    Browser(
        name="brave", label="Brave", family=CHROMIUM,
        linux=OnLinux(profile=in_config("BraveSoftware/Brave-Browser"),
                      hosts=in_config("BraveSoftware/Brave-Browser/NativeMessagingHosts"),
                      system_hosts=in_root("etc/opt/chrome/native-messaging-hosts"),
                      programs=("brave-browser", "brave-browser-stable", "brave")),
        macos=OnMacOS(profile=in_app_support("BraveSoftware/Brave-Browser"),
                      hosts=in_app_support("BraveSoftware/Brave-Browser/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Google/Chrome/NativeMessagingHosts"),
                      apps=("Brave Browser.app",)),
        windows=OnWindows(profile=in_local_app_data("BraveSoftware/Brave-Browser/User Data"),
                          registry_key=r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
                          programs=("BraveSoftware/Brave-Browser/Application/brave.exe",)),
    ),
    Browser(
        name="vivaldi", label="Vivaldi", family=CHROMIUM,
        linux=OnLinux(profile=in_config("vivaldi"),
                      hosts=in_config("vivaldi/NativeMessagingHosts"),
                      system_hosts=in_root("etc/opt/vivaldi/native-messaging-hosts"),
                      programs=("vivaldi", "vivaldi-stable")),
        macos=OnMacOS(profile=in_app_support("Vivaldi"),
                      hosts=in_app_support("Vivaldi/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Application Support/Vivaldi/NativeMessagingHosts"),
                      apps=("Vivaldi.app",)),
        windows=OnWindows(profile=in_local_app_data("Vivaldi/User Data"),
                          registry_key=r"Software\Vivaldi\NativeMessagingHosts",
                          programs=("Vivaldi/Application/vivaldi.exe",)),
    ),
    # Opera has no location of its own: it reads Google Chrome's (user level).
    Browser(
        name="opera", label="Opera", family=CHROMIUM, shares_with="chrome",
        linux=OnLinux(profile=in_config("opera"),
                      hosts=in_config("google-chrome/NativeMessagingHosts"),
                      system_hosts=in_root("etc/opt/chrome/native-messaging-hosts"),
                      programs=("opera",)),
        macos=OnMacOS(profile=in_app_support("com.operasoftware.Opera"),
                      hosts=in_app_support("Google/Chrome/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Google/Chrome/NativeMessagingHosts"),
                      apps=("Opera.app",)),
        windows=OnWindows(profile=in_app_data("Opera Software/Opera Stable"),
                          registry_key=r"Software\Google\Chrome\NativeMessagingHosts",
                          programs=("Programs/Opera/opera.exe",)),
    ),
    Browser(
        name="firefox", label="Firefox", family=FIREFOX,
        linux=OnLinux(profile=in_home(".mozilla/firefox"),
                      hosts=in_home(".mozilla/native-messaging-hosts"),
                      system_hosts=in_root("usr/lib/mozilla/native-messaging-hosts"),
                      programs=("firefox", "firefox-esr")),
        macos=OnMacOS(profile=in_app_support("Firefox"),
                      hosts=in_app_support("Mozilla/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Application Support/Mozilla/NativeMessagingHosts"),
                      apps=("Firefox.app",)),
        windows=OnWindows(profile=in_app_data("Mozilla/Firefox"),
                          registry_key=r"Software\Mozilla\NativeMessagingHosts",
                          programs=("Mozilla Firefox/firefox.exe",)),
    ),
    Browser(
        name="librewolf", label="LibreWolf", family=FIREFOX,
        linux=OnLinux(profile=in_home(".librewolf"),
                      hosts=in_home(".librewolf/native-messaging-hosts"),
                      system_hosts=in_root("usr/lib/librewolf/native-messaging-hosts"),
                      programs=("librewolf",)),
        macos=OnMacOS(profile=in_app_support("librewolf"),
                      hosts=in_app_support("LibreWolf/NativeMessagingHosts"),
                      system_hosts=in_root("Library/Application Support/LibreWolf/NativeMessagingHosts"),
                      apps=("LibreWolf.app",)),
        windows=OnWindows(profile=in_app_data("librewolf"),
                          registry_key=r"Software\LibreWolf\NativeMessagingHosts",
                          programs=("LibreWolf/librewolf.exe",)),
    ),
]

# Flatpak builds keep everything under ~/.var/app/<app-id>/ (Linux only, user level).
FLATPAK = [
    Browser(name="chrome-flatpak", label="Google Chrome (Flatpak)", family=CHROMIUM,
            flatpak_id="com.google.Chrome",
            linux=OnLinux(profile=in_flatpak_app("config/google-chrome"),
                          hosts=in_flatpak_app("config/google-chrome/NativeMessagingHosts"))),
    Browser(name="chromium-flatpak", label="Chromium (Flatpak)", family=CHROMIUM,
            flatpak_id="org.chromium.Chromium",
            linux=OnLinux(profile=in_flatpak_app("config/chromium"),
                          hosts=in_flatpak_app("config/chromium/NativeMessagingHosts"))),
    Browser(name="edge-flatpak", label="Microsoft Edge (Flatpak)", family=CHROMIUM,
            flatpak_id="com.microsoft.Edge",
            linux=OnLinux(profile=in_flatpak_app("config/microsoft-edge"),
                          hosts=in_flatpak_app("config/microsoft-edge/NativeMessagingHosts"))),
    Browser(name="brave-flatpak", label="Brave (Flatpak)", family=CHROMIUM,
            flatpak_id="com.brave.Browser",
            linux=OnLinux(profile=in_flatpak_app("config/BraveSoftware/Brave-Browser"),
                          hosts=in_flatpak_app("config/BraveSoftware/Brave-Browser/NativeMessagingHosts"))),
    Browser(name="vivaldi-flatpak", label="Vivaldi (Flatpak)", family=CHROMIUM,
            flatpak_id="com.vivaldi.Vivaldi",
            linux=OnLinux(profile=in_flatpak_app("config/vivaldi"),
                          hosts=in_flatpak_app("config/vivaldi/NativeMessagingHosts"))),
    Browser(name="opera-flatpak", label="Opera (Flatpak)", family=CHROMIUM,
            flatpak_id="com.opera.Opera",
            linux=OnLinux(profile=in_flatpak_app("config/opera"),
                          hosts=in_flatpak_app("config/google-chrome/NativeMessagingHosts"))),
    Browser(name="firefox-flatpak", label="Firefox (Flatpak)", family=FIREFOX,
            flatpak_id="org.mozilla.firefox",
            linux=OnLinux(profile=in_flatpak_app(".mozilla/firefox"),
                          hosts=in_flatpak_app(".mozilla/native-messaging-hosts"))),
    Browser(name="librewolf-flatpak", label="LibreWolf (Flatpak)", family=FIREFOX,
            flatpak_id="io.gitlab.librewolf-community",
            linux=OnLinux(profile=in_flatpak_app(".librewolf"),
                          hosts=in_flatpak_app(".librewolf/native-messaging-hosts"))),
]

# Snap builds (Linux only). Firefox's snap reads host manifests from the real
# ~/.mozilla through the WebExtensions portal; Chromium's snap keeps its own folder.
SNAP = [
    Browser(name="chromium-snap", label="Chromium (Snap)", family=CHROMIUM, snap_name="chromium",
            linux=OnLinux(profile=in_home("snap/chromium/common/chromium"),
                          hosts=in_home("snap/chromium/common/chromium/NativeMessagingHosts"))),
    Browser(name="firefox-snap", label="Firefox (Snap)", family=FIREFOX, snap_name="firefox",
            linux=OnLinux(profile=in_home("snap/firefox/common/.mozilla/firefox"),
                          hosts=in_home(".mozilla/native-messaging-hosts"))),
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


def resolve(place: Place, layout: Layout, browser: Browser) -> Path:
    """The folder `place` names on `layout` (FLATPAK_APP: `browser`'s app folder)."""
    if place.base == CONFIG:
        base = layout.config_home()
    elif place.base == HOME:
        base = layout.home
    elif place.base == FLATPAK_APP:
        base = flatpak_app_dir(layout, browser.flatpak_id)
    elif place.base == APP_SUPPORT:
        base = layout.home / "Library" / "Application Support"
    elif place.base == LOCAL_APP_DATA:
        base = Path(layout.env.get("LOCALAPPDATA") or layout.home / "AppData" / "Local")
    elif place.base == APP_DATA:
        base = Path(layout.env.get("APPDATA") or layout.home / "AppData" / "Roaming")
    elif place.base == ROOT:
        base = layout.root
    else:
        raise ValueError(f"unknown base folder {place.base!r}")
    return base.joinpath(*place.path.split("/"))


def flatpak_app_dir(layout: Layout, app_id: str) -> Path:
    return layout.home / ".var" / "app" / app_id


def locate(browser: Browser, layout: Layout, *, system: bool = False) -> Optional[Location]:
    """Where `browser` reads its host manifest on `layout`; None when it cannot exist there
    (a Flatpak build on macOS, a system-wide Flatpak install)."""
    from ..identity import HOST_NAME

    if layout.os == LINUX:
        on = browser.linux
        if on is None:
            return None
        profile = resolve(on.profile, layout, browser)
        if system:
            if on.system_hosts is None or browser.sandbox:
                return None
            return Location(browser, profile, resolve(on.system_hosts, layout, browser), system=True)
        app_dir = flatpak_app_dir(layout, browser.flatpak_id) if browser.flatpak_id else None
        return Location(browser, profile, resolve(on.hosts, layout, browser), app_dir=app_dir)
    if layout.os == MACOS:
        on = browser.macos
        if on is None:
            return None
        profile = resolve(on.profile, layout, browser)
        if system:
            return Location(browser, profile, resolve(on.system_hosts, layout, browser), system=True)
        return Location(browser, profile, resolve(on.hosts, layout, browser))
    if layout.os == WINDOWS:
        on = browser.windows
        if on is None:
            return None
        profile = resolve(on.profile, layout, browser)
        base = layout.system_data() if system else layout.data_home()
        # Windows browsers find the JSON through the registry; the file itself lives in
        # codecatch's own folder, one per browser so uninstall can remove exactly it.
        hosts_dir = base / "NativeMessagingHosts" / (browser.shares_with or browser.name)
        key = f"{HKLM if system else HKCU}\\{on.registry_key}\\{HOST_NAME}"
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
        programs = [p for b in NATIVE for p in b.linux.programs]
        return ["profile folders such as ~/.config/chromium, ~/.config/google-chrome, ~/.mozilla/firefox",
                "programs on PATH: " + ", ".join(programs),
                "Flatpak apps (" + ", ".join(b.flatpak_id for b in FLATPAK) + ") and the chromium and firefox snaps"]
    if layout.os == MACOS:
        return ["profile folders under ~/Library/Application Support (Google/Chrome, Chromium, Firefox, ...)",
                "applications in /Applications or ~/Applications: "
                + ", ".join(a for b in NATIVE for a in b.macos.apps)]
    return [r"profile folders under %LOCALAPPDATA% and %APPDATA% (Google\Chrome\User Data, Mozilla\Firefox, ...)",
            r"programs under %ProgramFiles%, %ProgramFiles(x86)% and %LOCALAPPDATA%: "
            + ", ".join(p.replace("/", "\\") for b in NATIVE for p in b.windows.programs)]


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
    if layout.os == LINUX and browser.linux:
        for name in browser.linux.programs:
            found = _on_path(name, layout)
            if found:
                return f"program {found}"
    elif layout.os == MACOS and browser.macos:
        for app in browser.macos.apps:
            for base in (layout.root / "Applications", layout.home / "Applications"):
                if (base / app).is_dir():
                    return f"application {base / app}"
    elif layout.os == WINDOWS and browser.windows:
        bases = [layout.env.get(v) for v in ("ProgramFiles", "PROGRAMFILES", "ProgramFiles(x86)",
                                              "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        for base in dict.fromkeys(b for b in bases if b):
            for rel in browser.windows.programs:
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

"""The installer on fake home folders, one per operating system layout: every file and
registry key that install writes and uninstall removes, byte for byte."""

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from codecatch.cli import main
from codecatch.identity import CHROMIUM_EXTENSION_ID, GECKO_ID, HOST_NAME
from codecatch.install import browsers as B
from codecatch.install import installer
from codecatch.install.installer import InstallError, apply, plan, remove
from codecatch.install.registry import MemoryRegistry
from fakefiles import FakePosixFiles, FakeWindowsFiles

MANIFEST = HOST_NAME + ".json"


def manifest_bytes(path, key, entries):
    """The exact bytes install writes, spelt out by hand (not by codecatch's renderer)."""
    listed = ",\n".join(f'    "{e}"' for e in entries)
    return (
        "{\n"
        f'  "name": "{HOST_NAME}",\n'
        '  "description": "codecatch: fills Microsoft sign-in codes into hosting panels",\n'
        f'  "path": {json.dumps(str(path))},\n'
        '  "type": "stdio",\n'
        f'  "{key}": [\n'
        f"{listed}\n"
        "  ]\n"
        "}\n").encode()


def chromium_bytes(path, ids=(CHROMIUM_EXTENSION_ID,)):
    return manifest_bytes(path, "allowed_origins", [f"chrome-extension://{i}/" for i in ids])


def firefox_bytes(path, ids=(GECKO_ID,)):
    return manifest_bytes(path, "allowed_extensions", ids)


def tree(root: Path) -> dict:
    """Every file under root, relative path -> bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def fake_python(base: Path, windows=False) -> Path:
    if windows:
        exe = base / "py" / "python.exe"
        host = base / "py" / "Scripts" / "codecatch-host.exe"
    else:
        exe = base / "venv" / "bin" / "python"
        host = base / "venv" / "bin" / "codecatch-host"
    host.parent.mkdir(parents=True, exist_ok=True)
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_bytes(b"")
    host.write_bytes(b"#!/bin/sh\n")
    host.chmod(0o755)
    return exe


@pytest.fixture
def linux(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    exe = fake_python(tmp_path)
    return B.Layout(B.LINUX, home, {}, root=tmp_path / "root", executable=exe)


def host_of(layout):
    return installer.host_executable(layout)


# ---------------------------------------------------------------- Linux, user level

def test_linux_user_installs_every_detected_browser_and_uninstall_restores_the_tree(linux, tmp_path):
    home = linux.home
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla/firefox").mkdir(parents=True)
    before = tree(tmp_path)

    targets = plan(linux)
    assert [t.browser.name for t in targets] == ["chromium", "firefox"]
    report = apply(targets, linux)
    assert report.ok

    host = tmp_path / "venv/bin/codecatch-host"
    after = tree(tmp_path)
    added = {k: v for k, v in after.items() if k not in before}
    assert set(added) == {
        "home/.config/chromium/NativeMessagingHosts/" + MANIFEST,
        "home/.mozilla/native-messaging-hosts/" + MANIFEST,
        "home/.local/share/codecatch/installed.json",
    }
    assert added["home/.config/chromium/NativeMessagingHosts/" + MANIFEST] == chromium_bytes(host)
    assert added["home/.mozilla/native-messaging-hosts/" + MANIFEST] == firefox_bytes(host)
    mode = (home / ".config/chromium/NativeMessagingHosts" / MANIFEST).stat().st_mode
    assert stat.S_IMODE(mode) == 0o644
    assert any("load the extension in Chromium" in t for t in report.todo)
    assert any("about:debugging" in t for t in report.todo)

    report = remove(plan(linux), linux)
    assert [c.action for c in report.changes if c.what == "file"] == ["removed", "removed"]
    assert tree(tmp_path) == before


def test_install_is_idempotent(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    apply(plan(linux), linux)
    first = tree(linux.home)
    report = apply(plan(linux), linux)
    assert [c.action for c in report.changes] == ["unchanged"]
    assert tree(linux.home) == first


def test_xdg_config_home_is_honoured(linux, tmp_path):
    xdg = tmp_path / "xdg"
    (xdg / "google-chrome").mkdir(parents=True)
    layout = linux.with_(env={"XDG_CONFIG_HOME": str(xdg)})
    (t,) = plan(layout)
    assert t.manifest.path == xdg / "google-chrome/NativeMessagingHosts" / MANIFEST


def test_every_browser_on_linux_has_its_folder(linux):
    paths = {t.browser.name: t.manifest.path.parent.relative_to(linux.home)
             for t in plan(linux, list(B.BROWSERS))}
    assert str(paths["chrome"]) == ".config/google-chrome/NativeMessagingHosts"
    assert str(paths["edge"]) == ".config/microsoft-edge/NativeMessagingHosts"
    assert str(paths["brave"]) == ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts"
    assert str(paths["vivaldi"]) == ".config/vivaldi/NativeMessagingHosts"
    assert str(paths["librewolf"]) == ".librewolf/native-messaging-hosts"
    assert str(paths["brave-flatpak"]) == ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser/NativeMessagingHosts"
    assert "opera" not in paths  # Opera reads Chrome's folder: one file serves both


def test_every_row_says_where_it_exists_by_name():
    bases = {B.CONFIG, B.HOME, B.FLATPAK_APP, B.APP_SUPPORT, B.LOCAL_APP_DATA, B.APP_DATA, B.ROOT}
    for b in B.NATIVE:
        assert b.linux and b.macos and b.windows and not b.sandbox, b.name
        assert b.linux.programs and b.macos.apps and b.windows.programs, b.name
        places = [b.linux.profile, b.linux.hosts, b.linux.system_hosts, b.macos.profile, b.macos.hosts,
                  b.macos.system_hosts, b.windows.profile]
        assert {p.base for p in places} <= bases and b.linux.system_hosts.base == b.macos.system_hosts.base == B.ROOT
    for b in B.FLATPAK + B.SNAP:   # Linux only, user level only
        assert b.linux and not b.macos and not b.windows and b.sandbox and b.linux.system_hosts is None, b.name
        assert {b.linux.profile.base, b.linux.hosts.base} <= {B.FLATPAK_APP if b.flatpak_id else B.HOME}
    with pytest.raises(AttributeError):
        B.get("chrome").label = "Netscape"   # frozen


def test_other_programs_manifest_in_the_same_folder_stays(linux):
    folder = linux.home / ".config/chromium/NativeMessagingHosts"
    folder.mkdir(parents=True)
    other = folder / "org.keepassxc.keepassxc_browser.json"
    other.write_bytes(b'{"name": "org.keepassxc.keepassxc_browser"}\n')
    apply(plan(linux), linux)
    remove(plan(linux), linux)
    assert sorted(p.name for p in folder.iterdir()) == [other.name]
    assert other.read_bytes() == b'{"name": "org.keepassxc.keepassxc_browser"}\n'


def test_uninstall_refuses_a_manifest_edited_by_hand_and_force_removes_it(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    apply(plan(linux), linux)
    path = linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST
    edited = path.read_bytes().replace(b"stdio", b"stdio ")
    path.write_bytes(edited)
    report = remove(plan(linux), linux)
    assert not report.ok
    assert report.changes[0].action == "refused"
    assert "changed since codecatch wrote it" in report.changes[0].detail
    assert path.read_bytes() == edited
    assert remove(plan(linux), linux, force=True).ok
    assert not path.exists()


def test_install_refuses_to_overwrite_a_foreign_manifest_and_writes_nothing(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    foreign = linux.home / ".mozilla/native-messaging-hosts" / MANIFEST
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"{}")
    before = tree(linux.home)
    report = apply(plan(linux), linux)
    assert not report.ok and report.changes[0].browser == "firefox"
    assert tree(linux.home) == before            # Chromium's was not written either
    assert apply(plan(linux), linux, force=True).ok
    assert foreign.read_bytes() == firefox_bytes(host_of(linux))


def test_reinstall_with_other_ids_replaces_our_own_older_manifest(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    apply(plan(linux), linux)
    other = "abcdefghijklmnopabcdefghijklmnop"
    report = apply(plan(linux, extension_ids=[CHROMIUM_EXTENSION_ID, other, GECKO_ID]), linux)
    assert [c.action for c in report.changes] == ["written"]
    path = linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST
    assert path.read_bytes() == chromium_bytes(host_of(linux), [CHROMIUM_EXTENSION_ID, other])


def test_an_extra_id_is_added_to_codecatchs_own_never_instead(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    store, addon = "abcdefghijklmnopabcdefghijklmnop", "{12345678-1234-1234-1234-123456789abc}"
    apply(plan(linux, extension_ids=[store, addon]), linux)
    chromium = linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST
    assert chromium.read_bytes() == chromium_bytes(host_of(linux), [CHROMIUM_EXTENSION_ID, store])
    firefox = linux.home / ".mozilla/native-messaging-hosts" / MANIFEST
    assert firefox.read_bytes() == firefox_bytes(host_of(linux), [GECKO_ID, addon])


@pytest.mark.parametrize("bad", ["NOTANID", "abcdefghijklmnopabcdefghijklmnoz", "", "a@b@c", "chrome-extension://x/"])
def test_a_malformed_extension_id_is_refused_and_nothing_is_written(linux, bad):
    (linux.home / ".config/chromium").mkdir(parents=True)
    before = tree(linux.home)
    with pytest.raises(InstallError, match="not an extension id"):
        plan(linux, extension_ids=[bad])
    assert tree(linux.home) == before


def test_dry_run_writes_nothing(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    before = tree(linux.home)
    report = apply(plan(linux), linux, dry_run=True)
    assert [c.action for c in report.changes] == ["would-write"]
    assert tree(linux.home) == before


def test_unwritable_folder_is_a_clear_error_and_nothing_is_written(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    # A file where the folder must go: unwritable even for root.
    (linux.home / ".mozilla/native-messaging-hosts").write_bytes(b"")
    before = tree(linux.home)
    with pytest.raises(InstallError, match="cannot write to .*native-messaging-hosts"):
        apply(plan(linux), linux)
    assert tree(linux.home) == before


def test_unknown_browser_and_missing_host_are_clear_errors(linux, tmp_path):
    with pytest.raises(B.UnknownBrowser, match="unknown browser 'netscape'; known: chrome"):
        plan(linux, ["netscape"])
    with pytest.raises(InstallError, match="cannot find the codecatch-host program"):
        plan(linux.with_(executable=tmp_path / "nowhere/python"), ["chrome"])
    with pytest.raises(B.UnknownBrowser, match="Chromium-family"):
        plan(linux, ["firefox"], user_data_dir=tmp_path / "p")


def test_user_data_dir_writes_only_into_that_profile(linux, tmp_path):
    profile = tmp_path / "portable"
    (t,) = plan(linux, ["chromium"], user_data_dir=profile)
    apply([t], linux)
    assert (profile / "NativeMessagingHosts" / MANIFEST).read_bytes() == chromium_bytes(host_of(linux))
    assert not (linux.home / ".config").exists()


# ---------------------------------------------------------------- Linux, system-wide

def test_linux_system(linux, tmp_path):
    (linux.home / ".config/chromium").mkdir(parents=True)
    (linux.home / ".config/google-chrome").mkdir(parents=True)
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    root = tmp_path / "root"
    root.mkdir()
    linux = linux.with_(files=FakePosixFiles())   # who owns what: tests/test_install_system.py
    apply(plan(linux, system=True), linux)
    host = host_of(linux)
    assert tree(root) == {
        "etc/chromium/native-messaging-hosts/" + MANIFEST: chromium_bytes(host),
        "etc/opt/chrome/native-messaging-hosts/" + MANIFEST: chromium_bytes(host),
        "usr/lib/mozilla/native-messaging-hosts/" + MANIFEST: firefox_bytes(host),
        "usr/local/share/codecatch/installed.json": tree(root)["usr/local/share/codecatch/installed.json"],
    }
    assert not (linux.home / ".config/chromium/NativeMessagingHosts").exists()
    remove(plan(linux, system=True), linux)
    assert tree(root) == {}


# ---------------------------------------------------------------- Flatpak

def test_flatpak_gets_a_launcher_inside_the_sandbox_and_the_override_to_run(linux):
    app = linux.home / ".var/app/org.chromium.Chromium"
    (app / "config/chromium").mkdir(parents=True)
    (t,) = plan(linux, allow_flatpak_escape=True)
    assert t.browser.name == "chromium-flatpak"
    report = apply([t], linux)
    launcher = app / "data/codecatch/codecatch-host"
    host = host_of(linux)
    assert launcher.read_bytes() == (
        "#!/bin/sh\n"
        "# Written by `codecatch install`: runs the codecatch host outside the Flatpak sandbox.\n"
        f'exec flatpak-spawn --host {host} "$@"\n').encode()
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755
    assert (app / "config/chromium/NativeMessagingHosts" / MANIFEST).read_bytes() == chromium_bytes(launcher)
    assert ("Let Chromium (Flatpak) start programs outside its sandbox (once; any program, not only "
            "codecatch's): flatpak override --user --talk-name=org.freedesktop.Flatpak org.chromium.Chromium"
            ) in report.todo
    assert installer.launcher_target(launcher.read_bytes()) == str(host)

    remove(plan(linux), linux)
    assert not (app / "data/codecatch").exists()
    assert not (app / "config/chromium/NativeMessagingHosts").exists()   # install created it
    assert (app / "config/chromium").is_dir()   # the browser's folder stays


def test_firefox_flatpak_and_snaps(linux):
    (linux.home / ".var/app/org.mozilla.firefox/.mozilla/firefox").mkdir(parents=True)
    (linux.home / "snap/chromium/common/chromium").mkdir(parents=True)
    targets = {t.browser.name: t for t in plan(linux)}
    assert set(targets) == {"firefox-flatpak", "chromium-snap"}
    assert targets["firefox-flatpak"].manifest.path == \
        linux.home / ".var/app/org.mozilla.firefox/.mozilla/native-messaging-hosts" / MANIFEST
    assert any("snap's confinement" in line for line in targets["chromium-snap"].todo)


# ---------------------------------------------------------------- macOS

def test_macos_user(tmp_path):
    home = tmp_path / "Users/ann"
    support = home / "Library/Application Support"
    (support / "Google/Chrome").mkdir(parents=True)
    (support / "Microsoft Edge").mkdir(parents=True)
    (support / "Firefox").mkdir(parents=True)
    layout = B.Layout(B.MACOS, home, {}, root=tmp_path / "root", executable=fake_python(tmp_path))
    before = tree(home)
    apply(plan(layout), layout)
    host = host_of(layout)
    added = {k: v for k, v in tree(home).items() if k not in before}
    assert added.pop("Library/Application Support/codecatch/installed.json")
    assert added == {
        "Library/Application Support/Google/Chrome/NativeMessagingHosts/" + MANIFEST: chromium_bytes(host),
        "Library/Application Support/Microsoft Edge/NativeMessagingHosts/" + MANIFEST: chromium_bytes(host),
        "Library/Application Support/Mozilla/NativeMessagingHosts/" + MANIFEST: firefox_bytes(host),
    }
    remove(plan(layout), layout)
    assert tree(home) == before


def test_macos_system(tmp_path):
    home = tmp_path / "home"
    (home / "Library/Application Support/Google/Chrome").mkdir(parents=True)
    layout = B.Layout(B.MACOS, home, {}, root=tmp_path / "root", executable=fake_python(tmp_path))
    (t,) = plan(layout, system=True)
    assert t.manifest.path == tmp_path / "root/Library/Google/Chrome/NativeMessagingHosts" / MANIFEST


# ---------------------------------------------------------------- Windows

@pytest.fixture
def windows(tmp_path):
    home = tmp_path / "Users/ann"
    env = {"LOCALAPPDATA": str(home / "AppData/Local"), "APPDATA": str(home / "AppData/Roaming"),
           "PROGRAMDATA": str(tmp_path / "ProgramData")}
    return B.Layout(B.WINDOWS, home, env, MemoryRegistry(), executable=fake_python(tmp_path, windows=True),
                    files=FakeWindowsFiles())


def test_windows_user_writes_json_and_hkcu_keys(windows, tmp_path):
    local = windows.home / "AppData/Local"
    (local / "Microsoft/Edge/User Data").mkdir(parents=True)
    (local / "Google/Chrome/User Data").mkdir(parents=True)
    (windows.home / "AppData/Roaming/Mozilla/Firefox").mkdir(parents=True)
    (windows.home / "AppData/Roaming/Opera Software/Opera Stable").mkdir(parents=True)
    before = tree(tmp_path)
    targets = plan(windows)
    # Opera reads Chrome's key: one registration serves both.
    assert [t.browser.name for t in targets] == ["chrome", "edge", "firefox"]
    report = apply(targets, windows)
    assert report.ok

    host = tmp_path / "py/Scripts/codecatch-host.exe"
    data = local / "codecatch/NativeMessagingHosts"
    added = {k: v for k, v in tree(tmp_path).items() if k not in before}
    added.pop("Users/ann/AppData/Local/codecatch/installed.json")
    assert added == {
        f"Users/ann/AppData/Local/codecatch/NativeMessagingHosts/chrome/{MANIFEST}": chromium_bytes(host),
        f"Users/ann/AppData/Local/codecatch/NativeMessagingHosts/edge/{MANIFEST}": chromium_bytes(host),
        f"Users/ann/AppData/Local/codecatch/NativeMessagingHosts/firefox/{MANIFEST}": firefox_bytes(host),
    }
    assert not any(v.startswith(b"\xef\xbb\xbf") for v in added.values())
    assert windows.registry.items() == {
        r"HKCU\Software\Google\Chrome\NativeMessagingHosts\com.codecatch.host": str(data / "chrome" / MANIFEST),
        r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\com.codecatch.host": str(data / "edge" / MANIFEST),
        r"HKCU\Software\Mozilla\NativeMessagingHosts\com.codecatch.host": str(data / "firefox" / MANIFEST),
    }

    remove(plan(windows), windows)
    assert windows.registry.items() == {}
    assert tree(tmp_path) == before


def test_windows_keeps_another_programs_key_and_system_uses_hklm(windows, tmp_path):
    (windows.home / "AppData/Local/Microsoft/Edge/User Data").mkdir(parents=True)
    key = r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\com.codecatch.host"
    windows.registry.set(key, r"C:\elsewhere\host.json")
    windows.registry.set(r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\org.other", r"C:\o.json")
    report = remove(plan(windows), windows)
    assert report.changes[0].action == "refused"
    assert windows.registry.get(key) == r"C:\elsewhere\host.json"

    (t,) = plan(windows, ["edge"], system=True)
    apply([t], windows)
    assert t.registry.key == r"HKLM\Software\Microsoft\Edge\NativeMessagingHosts\com.codecatch.host"
    assert windows.registry.get(t.registry.key) == str(tmp_path / "ProgramData/codecatch/NativeMessagingHosts/edge" / MANIFEST)
    assert json.loads(t.manifest.data)["path"].endswith(".exe")


# ---------------------------------------------------------------- the commands

def test_cli_install_user_data_dir_prints_what_it_wrote_and_what_is_left(tmp_path):
    profile = tmp_path / "profile"
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""}
    r = CliRunner().invoke(main, ["install", "--browser", "chromium", "--user-data-dir", str(profile)], env=env)
    assert r.exit_code == 0, r.output
    path = profile / "NativeMessagingHosts" / MANIFEST
    assert f"wrote file {path}" in r.output
    assert "Still to do:" in r.output and "Load unpacked" in r.output
    manifest = json.loads(path.read_text())
    assert Path(manifest["path"]).is_absolute() and "shims" not in manifest["path"]
    assert os.access(manifest["path"], os.X_OK)

    r = CliRunner().invoke(main, ["install", "--browser", "chromium", "--user-data-dir", str(profile)], env=env)
    assert "unchanged file" in r.output
    r = CliRunner().invoke(main, ["uninstall", "--user-data-dir", str(profile)], env=env)
    assert r.exit_code == 0 and f"removed file {path}" in r.output
    assert not path.exists()


def test_cli_errors(tmp_path):
    env = {"HOME": str(tmp_path)}
    r = CliRunner().invoke(main, ["install", "--browser", "netscape"], env=env)
    assert r.exit_code == 2 and "unknown browser 'netscape'" in r.output
    r = CliRunner().invoke(main, ["install", "--browser", "firefox", "--user-data-dir", str(tmp_path)], env=env)
    assert r.exit_code == 2 and "Chromium-family" in r.output


def test_uninstall_removes_what_install_recorded_even_for_a_browser_no_longer_found(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    apply(plan(linux), linux)
    firefox = linux.home / ".mozilla/native-messaging-hosts" / MANIFEST
    assert firefox.exists()
    (linux.home / ".mozilla/firefox").rmdir()  # Firefox uninstalled since: not detected now
    other = linux.home / ".mozilla/native-messaging-hosts/org.other.host.json"
    other.write_text("{}")
    report = remove(plan(linux, for_removal=True), linux, leftovers=True)
    assert not firefox.exists() and other.exists()
    assert str(firefox) in [c.where for c in report.changes if c.action == "removed"]
    assert not (linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST).exists()


def test_uninstall_works_when_codecatch_host_is_already_gone(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    apply(plan(linux), linux)
    installer.host_executable(linux).unlink()  # pip uninstall ran first
    with pytest.raises(InstallError):
        plan(linux)  # install needs the host ...
    report = remove(plan(linux, for_removal=True), linux)  # ... uninstall does not
    assert [c.action for c in report.changes if c.what == "file"] == ["removed"]
    assert not (linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST).exists()


def test_leftovers_never_touch_a_file_changed_since(linux):
    (linux.home / ".mozilla/firefox").mkdir(parents=True)
    apply(plan(linux), linux)
    firefox = linux.home / ".mozilla/native-messaging-hosts" / MANIFEST
    firefox.write_text('{"edited": true}')
    (linux.home / ".mozilla/firefox").rmdir()
    remove(plan(linux, for_removal=True), linux, leftovers=True)
    assert firefox.read_text() == '{"edited": true}'


# ---------------------------------------------------------------- detecting a browser never started

def _program(folder: Path, name: str, body: bytes = b"\x7fELF") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(body)
    (folder / name).chmod(0o755)
    return folder / name


def test_a_browser_never_started_is_found_by_its_program_and_its_folder_is_created(linux, tmp_path):
    # Chromium installed (its program on PATH) but never started: no ~/.config/chromium.
    _program(linux.root / "usr/bin", "chromium")
    layout = linux.with_(env={"PATH": "/usr/local/bin:/usr/bin"})
    found = B.detect(layout)
    assert [(loc.browser.name, loc.found_by) for loc in found] == [
        ("chromium", f"program {linux.root / 'usr/bin/chromium'}")]
    report = apply(plan(layout), layout)
    assert report.ok
    assert (linux.home / ".config/chromium/NativeMessagingHosts" / MANIFEST).read_bytes() == \
        chromium_bytes(host_of(layout))
    # uninstall removes the folders install created, so the browser is back to "never started".
    remove(plan(layout, for_removal=True), layout, leftovers=True)
    assert not (linux.home / ".config/chromium").exists()


def test_the_snap_behind_a_native_name_is_not_the_native_browser(linux):
    # Ubuntu's /usr/bin/chromium-browser is a script that starts the snap.
    _program(linux.root / "usr/bin", "chromium-browser", b"#!/bin/sh\nexec /snap/bin/chromium \"$@\"\n")
    (linux.root / "snap/chromium/current").mkdir(parents=True)
    layout = linux.with_(env={"PATH": "/usr/bin"})
    assert [(loc.browser.name, loc.found_by) for loc in B.detect(layout)] == [("chromium-snap", "snap chromium")]


def test_flatpak_apps_are_found_by_their_installation(linux):
    (linux.root / "var/lib/flatpak/app/org.mozilla.firefox").mkdir(parents=True)
    assert [loc.browser.name for loc in B.detect(linux)] == ["firefox-flatpak"]


def test_macos_applications_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    layout = B.Layout(B.MACOS, home, {}, root=tmp_path / "root", executable=fake_python(tmp_path))
    (layout.root / "Applications/Google Chrome.app").mkdir(parents=True)
    (home / "Applications/Firefox.app").mkdir(parents=True)
    found = {loc.browser.name: loc.found_by for loc in B.detect(layout)}
    assert found == {"chrome": f"application {layout.root / 'Applications/Google Chrome.app'}",
                     "firefox": f"application {home / 'Applications/Firefox.app'}"}
    apply(plan(layout), layout)
    assert (home / "Library/Application Support/Google/Chrome/NativeMessagingHosts" / MANIFEST).exists()


def test_windows_program_files(windows, tmp_path):
    program_files = tmp_path / "Program Files"
    _program(program_files / "Microsoft/Edge/Application", "msedge.exe")
    layout = windows.with_(env=dict(windows.env, ProgramFiles=str(program_files)))
    found = B.detect(layout)
    assert [(loc.browser.name, loc.found_by) for loc in found] == [
        ("edge", f"program {program_files / 'Microsoft/Edge/Application/msedge.exe'}")]


def test_cli_says_what_it_found_and_what_it_looked_for(tmp_path):
    bin_dir = tmp_path / "bin"
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", "PATH": str(bin_dir)}
    r = CliRunner().invoke(main, ["install"], env=env)
    assert r.exit_code == 1
    assert "no browser found" in r.output and "programs on PATH: google-chrome" in r.output
    assert "--browser NAME" in r.output and "--user-data-dir DIR" in r.output
    _program(bin_dir, "firefox-esr")
    r = CliRunner().invoke(main, ["install"], env=env)
    assert r.exit_code == 0, r.output
    assert f"found: Firefox (program {bin_dir / 'firefox-esr'})" in r.output
    assert (tmp_path / "home/.mozilla/native-messaging-hosts" / MANIFEST).exists()

"""`codecatch install --print-manifest`: the host manifest install would write, on stdout,
for a packager who places it; nothing written, nothing registered."""

import json
from pathlib import Path

import pytest

from codecatch.identity import CHROMIUM_EXTENSION_ID, GECKO_ID, HOST_NAME
from codecatch.install import browsers as B
from codecatch.install import installer
from codecatch.install.registry import MemoryRegistry
from test_install import chromium_bytes, fake_python, firefox_bytes, tree
from test_install_trial import cli

MANIFEST = HOST_NAME + ".json"
OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


@pytest.fixture
def env(tmp_path):
    """A fake home for the real command line (as in test_install_trial)."""
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", "PATH": str(tmp_path / "no-bin")}


def written_manifest(home: Path) -> bytes:
    (path,) = home.rglob(MANIFEST)
    return path.read_bytes()


@pytest.mark.parametrize("browser, key, ids", [
    ("chrome", "allowed_origins", [f"chrome-extension://{CHROMIUM_EXTENSION_ID}/"]),
    ("edge", "allowed_origins", [f"chrome-extension://{CHROMIUM_EXTENSION_ID}/"]),
    ("firefox", "allowed_extensions", [GECKO_ID]),
    ("librewolf", "allowed_extensions", [GECKO_ID]),
    ("chrome-flatpak", "allowed_origins", [f"chrome-extension://{CHROMIUM_EXTENSION_ID}/"]),
])
def test_it_prints_what_install_writes_and_writes_nothing(env, browser, key, ids):
    home = Path(env["HOME"])
    r = cli(env, "install", "--print-manifest", "--browser", browser)
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output)
    assert printed["name"] == HOST_NAME and printed["type"] == "stdio" and printed[key] == ids
    assert Path(printed["path"]).is_absolute()
    assert tree(home) == {} and list(home.iterdir()) == []   # no file, no folder, no record

    escape = ["--allow-flatpak-escape"] if browser.endswith("-flatpak") else []
    assert cli(env, "install", "--browser", browser, *escape).exit_code == 0
    assert written_manifest(home) == r.output_bytes


def test_extension_ids_are_added_as_install_adds_them(env):
    r = cli(env, "install", "--print-manifest", "--browser", "chromium", "--extension-id", OTHER_ID)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["allowed_origins"] == [
        f"chrome-extension://{CHROMIUM_EXTENSION_ID}/", f"chrome-extension://{OTHER_ID}/"]
    assert cli(env, "install", "--browser", "chromium", "--extension-id", OTHER_ID).exit_code == 0
    assert written_manifest(Path(env["HOME"])) == r.output_bytes


def test_host_path_names_the_packagers_program(env):
    r = cli(env, "install", "--print-manifest", "--browser", "firefox", "--host-path", "/usr/lib/codecatch/codecatch-host")
    assert r.exit_code == 0, r.output
    assert r.output_bytes == firefox_bytes("/usr/lib/codecatch/codecatch-host")
    r = cli(env, "install", "--print-manifest", "--browser", "chrome-flatpak", "--host-path", "/app/bin/host")
    assert r.output_bytes == chromium_bytes("/app/bin/host")   # verbatim, no launcher
    assert list(Path(env["HOME"]).iterdir()) == []


def test_an_unknown_or_missing_browser_is_a_usage_error_that_lists_the_names(env):
    r = cli(env, "install", "--print-manifest", "--browser", "netscape")
    assert r.exit_code == 2 and "unknown browser 'netscape'" in r.output and "known: chrome, chromium" in r.output
    r = cli(env, "install", "--print-manifest")
    assert r.exit_code == 2 and "needs one --browser" in r.output and "firefox-snap" in r.output, r.output
    r = cli(env, "install", "--print-manifest", "--browser", "chrome", "--browser", "firefox")
    assert r.exit_code == 2 and "needs one --browser" in r.output
    assert list(Path(env["HOME"]).iterdir()) == []


@pytest.mark.parametrize("extra", [["--system"], ["--dry-run"], ["--force"], ["--user-data-dir", "/tmp/p"]])
def test_options_that_write_do_not_go_with_print_manifest(env, extra):
    r = cli(env, "install", "--print-manifest", "--browser", "chrome", *extra)
    assert r.exit_code == 2 and extra[0] in r.output, r.output


def test_host_path_needs_print_manifest(env):
    r = cli(env, "install", "--browser", "chrome", "--host-path", "/usr/bin/codecatch-host")
    assert r.exit_code == 2 and "--print-manifest" in r.output
    assert list(Path(env["HOME"]).iterdir()) == []


def test_help_says_what_it_prints(env):
    text = " ".join(cli(env, "install", "--help").output.split())
    assert "--print-manifest" in text and "--host-path" in text and "needs exactly one --browser" in text


def test_windows_the_same_bytes_and_no_key(tmp_path):
    home = tmp_path / "Users/ann"
    win_env = {"LOCALAPPDATA": str(home / "AppData/Local"), "APPDATA": str(home / "AppData/Roaming")}
    layout = B.Layout(B.WINDOWS, home, win_env, MemoryRegistry(), executable=fake_python(tmp_path, windows=True))
    before = tree(tmp_path)
    for name in ("chrome", "firefox"):
        (t,) = installer.plan(layout, [name])
        assert installer.manifest_for(layout, name) == t.manifest.data
    assert layout.registry.items() == {} and tree(tmp_path) == before


def test_a_browser_that_cannot_exist_here_needs_host_path(tmp_path):
    layout = B.Layout(B.MACOS, tmp_path / "home", {}, executable=fake_python(tmp_path))
    with pytest.raises(installer.InstallError, match="cannot be set up on macos"):
        installer.manifest_for(layout, "chrome-flatpak")
    assert installer.manifest_for(layout, "chrome-flatpak", host_path="/h") == chromium_bytes("/h")

"""Regressions from a new-user trial of install, uninstall and doctor: recorded manifests
that uninstall or doctor ignored, folders install created and left behind, the Chromium
snap, and misleading texts."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codecatch import source_tree
from codecatch.cli import main
from codecatch.identity import HOST_NAME
from codecatch.install import browsers as B
from codecatch.install import doctor, installer
from codecatch.install.installer import apply, plan, remove
from codecatch.install.registry import MemoryRegistry
from test_install import fake_python, tree

MANIFEST = HOST_NAME + ".json"
REPO = Path(__file__).resolve().parents[1]
OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    # PATH: no browser program of this machine is "found" (install detects them there).
    return {"HOME": str(home), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", "PATH": str(tmp_path / "no-bin")}


@pytest.fixture
def linux(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return B.Layout(B.LINUX, home, {}, root=tmp_path / "root", executable=fake_python(tmp_path))


def cli(env, *args):
    return CliRunner().invoke(main, list(args), env=env)


def record(env):
    return json.loads((Path(env["HOME"]) / ".local/share/codecatch/installed.json").read_text())


def folders(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


# ---------------------------------------------------------------- 1. plain uninstall refuses, says so

def test_plain_uninstall_refuses_an_edited_recorded_manifest_and_fails(tmp_path, env):
    profile = tmp_path / "p"
    assert cli(env, "install", "--browser", "chromium", "--user-data-dir", str(profile)).exit_code == 0
    assert cli(env, "install", "--browser", "firefox").exit_code == 0
    edited_path = profile / "NativeMessagingHosts" / MANIFEST
    edited = edited_path.read_bytes().replace(b"stdio", b"stdio ")
    edited_path.write_bytes(edited)
    firefox = Path(env["HOME"]) / ".mozilla/native-messaging-hosts" / MANIFEST

    r = cli(env, "uninstall")
    assert r.exit_code == 1, r.output
    assert f"REFUSED file {edited_path}" in r.output and "left in place" in r.output
    assert f"removed file {firefox}" in r.output and not firefox.exists()   # the rest still goes
    assert edited_path.read_bytes() == edited
    assert str(edited_path) in record(env)["files"]

    r = cli(env, "uninstall", "--force")
    assert r.exit_code == 0, r.output
    assert not edited_path.exists()


def test_plain_uninstall_refuses_a_recorded_key_changed_since(tmp_path):
    home = tmp_path / "Users/ann"
    env = {"LOCALAPPDATA": str(home / "AppData/Local"), "APPDATA": str(home / "AppData/Roaming")}
    layout = B.Layout(B.WINDOWS, home, env, MemoryRegistry(), executable=fake_python(tmp_path, windows=True))
    (t,) = plan(layout, ["edge"])
    apply([t], layout)
    layout.registry.set(t.registry.key, r"C:\elsewhere\host.json")
    report = remove(plan(layout, for_removal=True), layout, leftovers=True)   # Edge not detected
    assert not report.ok
    assert [(c.action, c.what) for c in report.changes if c.what != "folder"] == [
        ("removed", "file"), ("refused", "key")]
    assert layout.registry.get(t.registry.key) == r"C:\elsewhere\host.json"


# ---------------------------------------------------------------- 2. doctor checks what install recorded

def test_plain_doctor_checks_a_recorded_user_data_dir_profile(tmp_path, env):
    profile = tmp_path / "p"
    assert cli(env, "install", "--browser", "chromium", "--user-data-dir", str(profile)).exit_code == 0
    r = cli(env, "doctor", "--json")
    assert r.exit_code == 0, r.output
    (d,) = json.loads(r.output)["browsers"]
    assert d["profile"] == str(profile) and d["ok"]
    assert {c["name"]: c["status"] for c in d["checks"]}["host answers ping"] == "ok"


def test_doctor_checks_a_manifest_install_wrote_for_a_browser_never_started(env):
    (Path(env["HOME"]) / ".config/google-chrome").mkdir(parents=True)
    assert cli(env, "install", "--browser", "chrome", "--browser", "firefox").exit_code == 0
    for args in ([], ["--browser", "firefox"]):
        r = cli(env, "doctor", "--json", *args)
        assert r.exit_code == 0, r.output
        found = {d["browser"]: d for d in json.loads(r.output)["browsers"]}
        assert set(found) == ({"chrome", "firefox"} if not args else {"firefox"})
        checks = {c["name"]: c for c in found["firefox"]["checks"]}
        assert checks["profile folder"]["status"] == "warn"
        assert "checking its manifest anyway" in checks["profile folder"]["message"]
        assert checks["manifest present"]["status"] == "ok"
        assert checks["host answers ping"]["status"] == "ok"
    r = cli(env, "doctor", "--browser", "librewolf")   # no profile, no manifest: still a failure
    assert r.exit_code == 1 and "FAIL  profile folder" in r.output
    # The headline never says "all good" above a warning.
    r = cli(env, "doctor", "--browser", "firefox")
    assert r.exit_code == 0 and "Firefox (firefox): works, with a warning below" in r.output
    assert "all good" not in r.output.split("Firefox (firefox)")[1].splitlines()[0]


def test_uninstall_prints_each_heading_once(tmp_path, env):
    profile = tmp_path / "profile"
    assert cli(env, "install", "--browser", "chromium", "--user-data-dir", str(profile)).exit_code == 0
    (Path(env["HOME"]) / ".mozilla/firefox").mkdir(parents=True)   # Firefox detected, between the two
    assert cli(env, "install", "--browser", "firefox").exit_code == 0
    r = cli(env, "uninstall")
    assert r.exit_code == 0, r.output
    headings = [line for line in r.output.splitlines() if not line.startswith(" ")]
    assert len(headings) == len(set(headings)), r.output
    assert "(recorded):" in headings and "firefox:" in headings


# ---------------------------------------------------------------- 3. folders install created

def test_uninstall_removes_the_folders_install_created(linux, tmp_path):
    apply(plan(linux, ["chrome"]), linux)
    assert (linux.home / ".config/google-chrome/NativeMessagingHosts" / MANIFEST).is_file()
    assert str(linux.home / ".config/google-chrome") in installer._load_record(
        installer.record_path(linux, False))["dirs"]
    assert [t.browser.name for t in plan(linux)] == ["chrome"]   # now "detected"

    dry = remove(plan(linux, for_removal=True), linux, leftovers=True, dry_run=True)
    assert str(linux.home / ".config") in [c.where for c in dry.changes if c.action == "would-remove"]
    assert (linux.home / ".config/google-chrome/NativeMessagingHosts" / MANIFEST).is_file()

    report = remove(plan(linux, for_removal=True), linux, leftovers=True)
    assert report.ok
    removed = [c.where for c in report.changes if c.what == "folder" and c.action == "removed"]
    assert str(linux.home / ".config/google-chrome/NativeMessagingHosts") in removed
    assert folders(linux.home) == []   # the home is as it was: nothing detected any more
    assert plan(linux) == [] and plan(linux, system=True) == []


def test_uninstall_keeps_folders_it_did_not_create_or_that_hold_something(linux):
    chromium = linux.home / ".config/chromium/NativeMessagingHosts"
    chromium.mkdir(parents=True)            # the browser's own, empty
    apply(plan(linux, ["chromium", "chrome"]), linux)
    other = linux.home / ".config/google-chrome/NativeMessagingHosts/org.other.host.json"
    other.write_text("{}")                  # another program's, in a folder install created
    remove(plan(linux, ["chromium", "chrome"], for_removal=True), linux)
    assert chromium.is_dir() and not any(chromium.iterdir())
    assert sorted(p.name for p in other.parent.iterdir()) == [other.name]


def test_a_record_without_dirs_still_works(linux):
    (linux.home / ".config/chromium").mkdir(parents=True)
    apply(plan(linux), linux)
    rpath = installer.record_path(linux, False)
    old = json.loads(rpath.read_text())
    del old["dirs"]                          # as an older codecatch wrote it
    rpath.write_text(json.dumps(old))
    assert apply(plan(linux), linux).ok      # install reads it ...
    rpath.write_text(json.dumps(old))
    report = remove(plan(linux), linux)      # ... and so does uninstall
    assert report.ok and [c.action for c in report.changes] == ["removed"]
    assert (linux.home / ".config/chromium/NativeMessagingHosts").is_dir()   # not recorded: stays


def test_cli_install_dry_run_finds_nothing_after_install_and_uninstall(env):
    assert cli(env, "install", "--browser", "chrome").exit_code == 0
    r = cli(env, "uninstall")
    assert r.exit_code == 0 and "removed folder" in r.output, r.output
    r = cli(env, "install", "--dry-run")
    assert r.exit_code == 1 and "no browser found" in r.output, r.output  # nothing registered


# ---------------------------------------------------------------- 4. the Firefox hint

@pytest.mark.parametrize("root", [None, REPO])
def test_firefox_hint_names_manifest_json_once(linux, monkeypatch, root):
    monkeypatch.setattr(source_tree, "repo_root", lambda: root)
    (t,) = plan(linux, ["firefox"])
    (line,) = [x for x in t.todo if "about:debugging" in x]
    assert line.count("manifest.json") == 1, line
    assert ("pick the manifest.json file in your codecatch clone" if root is None
            else f"pick {root / 'manifest.json'})") in line


# ---------------------------------------------------------------- 5. uninstall --extension-id

def test_uninstall_help_says_what_extension_id_does_there(tmp_path, env):
    r = cli(env, "uninstall", "--help")
    assert "Another extension id to allow" not in r.output and "Without installed.json" in r.output
    profile = tmp_path / "p"
    args = ["--browser", "chromium", "--user-data-dir", str(profile)]
    assert cli(env, "install", *args, "--extension-id", OTHER_ID).exit_code == 0
    (Path(env["HOME"]) / ".local/share/codecatch/installed.json").unlink()
    assert cli(env, "uninstall", *args).exit_code == 1          # not recognised without the id
    r = cli(env, "uninstall", *args, "--extension-id", OTHER_ID)
    assert r.exit_code == 0 and "removed file" in r.output


# ---------------------------------------------------------------- 6. the Chromium snap

def test_chromium_snap_is_skipped_unless_forced_and_doctor_agrees(linux):
    (linux.home / "snap/chromium/common/chromium").mkdir(parents=True)
    before = tree(linux.home)
    report = apply(plan(linux), linux)
    (c,) = report.changes
    assert report.ok and c.action == "skipped" and "confinement" in c.detail and "--force" in c.detail
    assert tree(linux.home) == before and not any("Chromium (Snap)" in t for t in report.todo)

    (d,) = doctor.diagnose(linux, run_host=False)
    bad = [x for x in d.checks if x.status == "fail"]
    assert [x.name for x in bad] == ["manifest present"] and "skips the Chromium snap" in bad[0].message
    assert not bad[0].fix.startswith("codecatch install")   # reinstalling would skip it again

    report = apply(plan(linux), linux, force=True)
    assert [c.action for c in report.changes] == ["written"]
    assert any("confinement" in t for t in report.todo)


def test_cli_install_chromium_snap_reports_skipped(env):
    r = cli(env, "install", "--browser", "chromium-snap")
    assert r.exit_code == 0 and "skipped file" in r.output and "--force" in r.output, r.output
    assert not (Path(env["HOME"]) / "snap").exists()


# ---------------------------------------------------------------- 7. how to update

def test_update_advice_points_at_the_clone_not_a_package_index():
    for path in [REPO / "docs/install.md", REPO / "README.md", *(REPO / "host/codecatch/install").glob("*.py")]:
        assert "pip install -U codecatch" not in path.read_text(), path
    for path in (REPO / "docs/install.md", REPO / "README.md"):
        assert "git pull && " + doctor.LOCKED_INSTALL in " ".join(path.read_text().split())


# ---------------------------------------------------------------- a tampered record deletes nothing else

def test_a_tampered_record_cannot_make_uninstall_delete_anything_else(linux, tmp_path):
    # Uninstall deletes what installed.json lists (when the bytes still match): a record
    # someone edited must not turn it into a delete-anything tool (a review's PoC did).
    import hashlib

    apply(plan(linux, ["chromium"]), linux)
    rpath = installer.record_path(linux, False)
    rec = json.loads(rpath.read_text())
    victim = tmp_path / "victim"
    victim.mkdir()
    secret = victim / "secret.txt"
    secret.write_text("not codecatch's")
    empty = victim / "emptydir"
    empty.mkdir()
    rec["files"][str(secret)] = hashlib.sha256(secret.read_bytes()).hexdigest()
    rec["files"][str(victim / "x" / "codecatch-host")] = "0" * 64  # the launcher's name, wrong folder
    rec["dirs"] += [str(empty), str(victim)]
    rec["keys"] = {r"HKEY_CURRENT_USER\Software\Vendor\Important": "x"}
    rpath.write_text(json.dumps(rec))
    report = remove(plan(linux, for_removal=True), linux, leftovers=True)
    assert report.ok
    assert secret.read_text() == "not codecatch's" and empty.is_dir()
    assert not any(str(victim) in c.where for c in report.changes)
    assert not (Path(linux.home) / ".config/chromium/NativeMessagingHosts" / MANIFEST).exists()  # ours went


def test_doctor_warns_about_a_profile_folder_install_created(tmp_path, env):
    # `--user-data-dir /tmp/typo`: install creates the folder to hold the manifest, and
    # doctor used to call that a good profile folder.
    typo = tmp_path / "typo-profile"
    assert cli(env, "install", "--browser", "chromium", "--user-data-dir", str(typo)).exit_code == 0
    r = cli(env, "doctor", "--user-data-dir", str(typo))
    assert "created by `codecatch install`" in r.output and "warn  profile folder" in r.output, r.output
    real = tmp_path / "real-profile"
    (real / "Default").mkdir(parents=True)  # a profile the browser made
    assert cli(env, "install", "--browser", "chromium", "--user-data-dir", str(real)).exit_code == 0
    r = cli(env, "doctor", "--user-data-dir", str(real))
    assert "ok    profile folder" in r.output, r.output
    assert "created by `codecatch install`" not in r.output

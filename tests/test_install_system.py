"""install --system registers a program that every user's browser runs: it refuses one
that anyone but the administrator can change (the program, its interpreter, the code it
imports, every folder above them, every link on the way, and the folders it writes
into). Linux for real: these tests run as root, lay out a venv in a root-only folder and
hand parts of it to uid 65534 or open them to group or others. macOS and Windows
through fakes of who owns what (tests/fakefiles.py)."""

import json
import re
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from codecatch import cli
from codecatch.identity import HOST_NAME
from codecatch.install import browsers as B
from codecatch.install import installer, trust
from codecatch.install.installer import InstallError, apply, plan
from codecatch.install.registry import MemoryRegistry
from fakefiles import FakePosixFiles, FakeWindowsFiles
from test_install import chromium_bytes, tree

MANIFEST = HOST_NAME + ".json"
NOBODY = 65534
PYTHON = os.path.realpath(sys.executable)


# ---------------------------------------------------------------- Linux, real ownership

@pytest.fixture
def base():
    """A folder that only root can change, all the way up (/tmp cannot be: anyone may
    write there): a fresh one in root's home."""
    assert os.geteuid() == 0, "these tests chown files to another user: run them as root (CI does)"
    d = Path(tempfile.mkdtemp(prefix="codecatch-system-", dir=pwd.getpwuid(0).pw_dir))
    assert trust.posix_problems([str(d), PYTHON], trust.RealPosixFiles()) == [], \
        f"{d} or {PYTHON} is not root-only: the acceptance test below would be meaningless"
    yield d
    shutil.rmtree(d)


def make_venv(prefix: Path) -> Path:
    """What `python3 -m venv PREFIX && PREFIX/bin/pip install codecatch` leaves: bin/python
    a link to the real interpreter, pyvenv.cfg, codecatch-host starting bin/python, and
    the package in site-packages."""
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin/python").symlink_to(PYTHON)
    (prefix / "pyvenv.cfg").write_text(f"home = {Path(PYTHON).parent}\n")
    host = prefix / "bin/codecatch-host"
    host.write_text(f"#!{prefix}/bin/python\nfrom codecatch.nativehost import main\nmain()\n")
    host.chmod(0o755)
    package = prefix / "lib/python3/site-packages/codecatch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "nativehost.py").write_text("def main(): pass\n")
    return prefix


@pytest.fixture
def linux(base):
    venv = make_venv(base / "opt/codecatch")
    (base / "root").mkdir()
    (base / "home/ann/.config/chromium").mkdir(parents=True)
    return B.Layout(B.LINUX, base / "home/ann", {}, root=base / "root", executable=venv / "bin/python",
                    package=venv / "lib/python3/site-packages/codecatch")


def chown_tree(path: Path, uid: int) -> None:
    os.lchown(path, uid, -1)
    for p in path.rglob("*"):
        os.lchown(p, uid, -1)


def refusal(layout) -> str:
    before = tree(layout.root)
    with pytest.raises(InstallError) as err:
        apply(plan(layout, ["chromium", "firefox"], system=True), layout)
    assert tree(layout.root) == before and not (layout.root / "usr").exists()   # nothing written
    return str(err.value)


def test_a_system_install_from_a_root_owned_prefix_is_accepted(linux):
    report = apply(plan(linux, ["chromium"], system=True), linux)
    assert report.ok
    host = linux.executable.parent / "codecatch-host"
    assert (linux.root / "etc/chromium/native-messaging-hosts" / MANIFEST).read_bytes() == chromium_bytes(host)


def test_a_system_install_from_a_user_writable_venv_is_refused_and_writes_nothing(linux):
    venv = linux.executable.parent.parent
    chown_tree(venv, NOBODY)
    message = refusal(linux)
    assert message.startswith("refusing a system-wide install: every user's browser would run a program "
                              "that someone other than root can change:")
    assert f"  - {venv} is owned by nobody" in message
    assert f"  - {venv}/bin/codecatch-host is owned by nobody" in message
    # What to do instead, spelt out.
    assert message.endswith(
        "Install codecatch where only root can change it, then register it from there:\n"
        "  sudo python3 -m venv /opt/codecatch\n"
        "  cd /path/to/codecatch   (your clone)\n"
        "  sudo /opt/codecatch/bin/pip install --require-hashes -r requirements/run.txt\n"
        "  sudo /opt/codecatch/bin/pip install --no-deps --no-build-isolation .   (not -e)\n"
        "  sudo /opt/codecatch/bin/codecatch install --system\n"
        "or register codecatch for your own user only: codecatch install (without --system)")
    # Dry run too: it tells what install would do, and install would refuse.
    with pytest.raises(InstallError):
        apply(plan(linux, ["chromium"], system=True), linux, dry_run=True)


@pytest.mark.parametrize("mode, who", [(0o775, "its group"), (0o757, "every user"), (0o1777, "every user")])
def test_a_folder_on_the_way_that_others_can_write_is_refused(linux, mode, who):
    opt = linux.root.parent / "opt"
    opt.chmod(mode)   # 1777: sticky like /tmp, still anyone may add a folder there
    assert f"  - {opt} can be changed by {who} (mode {mode:04o})" in refusal(linux)


def test_a_root_owned_link_into_a_users_folder_is_the_users(linux, base):
    """bin/python is root's link, but it points at an interpreter in a folder nobody owns."""
    theirs = base / "home/nobody/python"
    theirs.parent.mkdir(parents=True)
    theirs.symlink_to(PYTHON)
    os.lchown(theirs.parent, NOBODY, -1)
    link = linux.executable
    link.unlink()
    link.symlink_to(theirs)
    message = refusal(linux)
    assert f"  - {theirs.parent} is owned by nobody" in message and str(link) not in message


def test_a_link_owned_by_another_user_is_refused(linux):
    os.lchown(linux.executable, NOBODY, -1)
    assert f"  - {linux.executable} is a symbolic link owned by nobody" in refusal(linux)


def test_the_interpreter_the_script_starts_is_checked_not_only_the_script(linux, base):
    """The host script is root's, but its first line starts a Python that nobody owns."""
    other = make_venv(base / "home/nobody/venv")
    chown_tree(base / "home/nobody", NOBODY)
    host = linux.executable.parent / "codecatch-host"
    host.write_text(f"#!{other}/bin/python\nfrom codecatch.nativehost import main\nmain()\n")
    assert f"  - {base}/home/nobody is owned by nobody" in refusal(linux)


def test_pips_long_shebang_form_is_followed():
    script = (b"#!/bin/sh\n'''exec' \"/opt/a b/bin/python\" \"$0\" \"$@\"\n' '''\n"
              b"from codecatch.nativehost import main\n")
    assert trust.script_interpreters(script) == ["/bin/sh", "/opt/a b/bin/python"]
    assert trust.script_interpreters(b"#!/opt/c/bin/python3 -I\n") == ["/opt/c/bin/python3"]
    assert trust.script_interpreters(b"\x7fELF") == []


def test_an_interpreter_found_through_path_is_refused(linux):
    host = linux.executable.parent / "codecatch-host"
    host.write_text("#!/usr/bin/env python3\nfrom codecatch.nativehost import main\nmain()\n")
    assert f"  - {host} finds its interpreter through PATH (#!/usr/bin/env python3), which each user sets" \
        in refusal(linux)


def test_the_package_the_host_imports_is_checked(linux):
    """An editable install from a user's clone: the code the host runs is theirs."""
    module = linux.package / "nativehost.py"
    os.lchown(module, NOBODY, -1)
    assert f"  - {module} is owned by nobody" in refusal(linux)
    os.lchown(module, 0, -1)
    module.chmod(0o666)
    assert f"  - {module} can be changed by every user (mode 0666)" in refusal(linux)


def test_the_venvs_pyvenv_cfg_is_checked(linux):
    cfg = linux.executable.parent.parent / "pyvenv.cfg"
    os.lchown(cfg, NOBODY, -1)
    assert f"  - {cfg} is owned by nobody" in refusal(linux)


def test_a_destination_folder_another_user_owns_is_refused(linux):
    """Someone made /etc/chromium/native-messaging-hosts first: they could swap the manifest."""
    dest = linux.root / "etc/chromium/native-messaging-hosts"
    dest.mkdir(parents=True)
    os.lchown(dest, NOBODY, -1)
    assert f"  - {dest} is owned by nobody" in refusal(linux)


def test_cli_install_system_refuses_with_status_1_and_says_why(linux, monkeypatch):
    chown_tree(linux.executable.parent.parent, NOBODY)
    monkeypatch.setattr(B, "current_layout", lambda: linux)
    r = CliRunner().invoke(cli.main, ["install", "--system", "--browser", "chromium"])
    assert r.exit_code == 1, r.output
    assert "refusing a system-wide install" in r.output and "is owned by nobody" in r.output
    assert tree(linux.root) == {}


# ---------------------------------------------------------------- macOS, fake ownership

def macos(tmp_path, prefix, owners):
    venv = make_venv(tmp_path / prefix)
    (tmp_path / "home/Library/Application Support/Google/Chrome").mkdir(parents=True)
    return B.Layout(B.MACOS, tmp_path / "home", {}, root=tmp_path / "root", executable=venv / "bin/python",
                    package=venv / "lib/python3/site-packages/codecatch", files=FakePosixFiles(owners))


def test_macos_a_homebrew_prefix_the_user_owns_is_refused(tmp_path):
    brew = tmp_path / "opt/homebrew"
    layout = macos(tmp_path, "opt/homebrew", {brew: (501, 0o755)})
    with pytest.raises(InstallError, match=f"  - {brew} is owned by ann"):
        apply(plan(layout, ["chrome"], system=True), layout)
    assert not (tmp_path / "root").exists()


def test_macos_a_root_owned_framework_is_accepted(tmp_path):
    layout = macos(tmp_path, "Library/Frameworks/Python.framework/Versions/3.12", {})
    apply(plan(layout, ["chrome"], system=True), layout)
    assert (tmp_path / "root/Library/Google/Chrome/NativeMessagingHosts" / MANIFEST).is_file()


# ---------------------------------------------------------------- Windows, fake access lists

# As Windows prints them (icacls /save, Get-Acl .Sddl), trimmed to the entries that matter.
PROGRAM_DATA = "O:SYG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;0x100116;;;BU)"
# A folder an administrator made in %ProgramData% without an access list of its own: it
# inherits "Users may add files and folders".
INHERITED = "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;0x100116;;;BU)"
USER_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
# %LOCALAPPDATA%\Programs\Python (a per-user Python): the user owns it and has full control.
USER_OWNED = f"O:{USER_SID}D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{USER_SID})"


def windows(tmp_path, python_dir, sddl):
    exe = tmp_path / python_dir / "python.exe"
    (exe.parent / "Scripts").mkdir(parents=True)
    exe.write_bytes(b"MZ")
    (exe.parent / "Scripts/codecatch-host.exe").write_bytes(b"MZ")
    (tmp_path / "home/AppData/Local/Microsoft/Edge/User Data").mkdir(parents=True)
    (tmp_path / "ProgramData").mkdir()
    sddl = {tmp_path / "ProgramData": PROGRAM_DATA, **sddl}
    env = {"LOCALAPPDATA": str(tmp_path / "home/AppData/Local"), "PROGRAMDATA": str(tmp_path / "ProgramData")}
    return B.Layout(B.WINDOWS, tmp_path / "home", env, MemoryRegistry(), executable=exe,
                    files=FakeWindowsFiles(sddl))


def test_windows_a_python_for_all_users_is_accepted_and_the_folder_is_made_private(tmp_path):
    layout = windows(tmp_path, "Program Files/Python312", {})
    (t,) = plan(layout, ["edge"], system=True)
    apply([t], layout)
    ours = tmp_path / "ProgramData/codecatch"
    assert layout.files.created == [str(ours)]   # made in one step with its own access list
    acl = layout.files.acl(str(ours))
    assert trust.writers(acl, trust.HOLDER_CHANGE) == [] and acl.owner == trust.ADMINISTRATORS
    assert {a.sid for a in acl.aces} == {trust.SYSTEM, trust.ADMINISTRATORS, "S-1-5-32-545"}
    assert layout.registry.get(t.registry.key) == str(ours / "NativeMessagingHosts/edge" / MANIFEST)
    installer.remove([t], layout)   # and uninstall removes the folder install made
    assert not ours.exists()


def test_windows_a_per_user_python_is_refused_and_nothing_is_written(tmp_path):
    python = tmp_path / "home/AppData/Local/Programs/Python/Python312"
    layout = windows(tmp_path, "home/AppData/Local/Programs/Python/Python312", {python: USER_OWNED})
    with pytest.raises(InstallError) as err:
        apply(plan(layout, ["edge"], system=True), layout)
    message = str(err.value)
    assert "someone other than SYSTEM and Administrators can change" in message
    assert f"  - {python} can be changed by {USER_SID} (its owner), {USER_SID}" in message
    assert "Install Python for all users (under C:\\Program Files)" in message
    assert layout.registry.items() == {} and not (tmp_path / "ProgramData/codecatch").exists()


def test_windows_a_python_folder_where_users_may_add_files_is_refused(tmp_path):
    """A DLL dropped beside python.exe loads into every user's host; the same entry on a
    folder higher up (%ProgramData%, C:\\) only lets users add folders of their own."""
    python = tmp_path / "Python312"
    layout = windows(tmp_path, "Python312", {python: PROGRAM_DATA})
    with pytest.raises(InstallError, match=f"  - {python} can be changed by Users\n"):
        apply(plan(layout, ["edge"], system=True), layout)
    layout = windows(tmp_path / "2", "Program Files/Python312", {tmp_path / "2/Program Files": PROGRAM_DATA})
    apply(plan(layout, ["edge"], system=True), layout)


@pytest.mark.parametrize("sddl", [INHERITED, f"O:{USER_SID}" + INHERITED[4:]])
def test_windows_an_existing_programdata_folder_others_can_write_is_refused(tmp_path, sddl):
    """Made by a user before the administrator ran install (they own it), or by an
    administrator without an access list of its own: either way Users may add to it."""
    ours = tmp_path / "ProgramData/codecatch"
    layout = windows(tmp_path, "Program Files/Python312", {ours: sddl})
    ours.mkdir(parents=True)
    with pytest.raises(InstallError, match="can be changed by .*Users"):
        apply(plan(layout, ["edge"], system=True), layout)
    assert layout.registry.items() == {} and list(ours.iterdir()) == []


def test_windows_sddl_as_windows_prints_it():
    acl = trust.parse_sddl(PROGRAM_DATA)
    assert acl.owner == trust.SYSTEM
    assert trust.writers(acl, trust.HOLDER_CHANGE) == ["Users"]    # may add files: not a holder
    assert trust.writers(acl, trust.ABOVE_CHANGE) == []            # may not replace what it holds
    inherited = trust.parse_sddl(INHERITED)
    assert [a.inherit_only for a in inherited.aces] == [False, False, True, False, False]
    assert trust.parse_sddl("O:BAD:(A;;FRFX;;;WD)(A;;GA;;;S-1-5-11)").aces == (
        trust.Ace("S-1-1-0", 0x1200A9), trust.Ace("S-1-5-11", trust.GENERIC_ALL))
    assert trust.writers(trust.parse_sddl(trust.PRIVATE_SDDL), trust.HOLDER_CHANGE) == []


# ---------------------------------------------------------------- Flatpak: the escape is opt-in

@pytest.fixture
def flatpak(tmp_path):
    from test_install import fake_python

    home = tmp_path / "home"
    (home / ".var/app/org.chromium.Chromium/config/chromium").mkdir(parents=True)
    return B.Layout(B.LINUX, home, {}, root=tmp_path / "root", executable=fake_python(tmp_path))


def test_flatpak_is_skipped_without_the_opt_in_and_force_does_not_change_that(flatpak):
    before = tree(flatpak.home)
    for force in (False, True):
        report = apply(plan(flatpak), flatpak, force=force)
        (c,) = report.changes
        assert c.action == "skipped" and "full sandbox escape" in c.detail and "--allow-flatpak-escape" in c.detail
        assert "--force" not in c.detail
        assert not any("flatpak override" in t for t in report.todo)
    assert tree(flatpak.home) == before


def cli_env(flatpak):
    return {"HOME": str(flatpak.home), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "",
            "PATH": str(flatpak.home / "no-bin")}


def launcher(flatpak):
    return flatpak.home / ".var/app/org.chromium.Chromium/data/codecatch/codecatch-host"


def test_cli_flatpak_needs_the_flag_off_a_terminal(flatpak):
    r = CliRunner().invoke(cli.main, ["install", "--browser", "chromium-flatpak"], env=cli_env(flatpak))
    assert "skipped file" in r.output and "full sandbox escape" in r.output, r.output
    assert not launcher(flatpak).exists()
    r = CliRunner().invoke(cli.main, ["install", "--browser", "chromium-flatpak", "--allow-flatpak-escape"],
                           env=cli_env(flatpak))
    assert r.exit_code == 0 and f"wrote file {launcher(flatpak)}" in r.output, r.output
    assert "flatpak override --user --talk-name=org.freedesktop.Flatpak org.chromium.Chromium" in r.output


@pytest.mark.parametrize("answer, written", [("\n", False), ("n\n", False), ("y\n", True)])
def test_cli_flatpak_asks_on_a_terminal_with_the_risk_and_no_by_default(flatpak, monkeypatch, answer, written):
    monkeypatch.setattr(cli, "_can_ask", lambda: True)
    r = CliRunner().invoke(cli.main, ["install", "--browser", "chromium-flatpak"], env=cli_env(flatpak),
                           input=answer)
    assert "run any command as you outside its sandbox: a full sandbox escape. Set it up anyway? [y/N]" \
        in r.output, r.output
    assert launcher(flatpak).exists() == written
    manifest = flatpak.home / ".var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts" / MANIFEST
    assert manifest.exists() == written
    if written:
        assert json.loads(manifest.read_text())["path"] == str(launcher(flatpak))


def test_doctors_reinstall_fix_for_a_flatpak_browser_opts_in(flatpak):
    from codecatch.install import doctor

    loc = B.locate(B.get("chromium-flatpak"), flatpak)
    assert doctor.install_command(loc).endswith(" --allow-flatpak-escape")
    assert "--allow-flatpak-escape" not in doctor.install_command(loc, uninstall=True)
    assert "--allow-flatpak-escape" not in doctor.install_command(B.locate(B.get("chromium"), flatpak))


# ---------------------------------------------------------------- what the interpreter loads

def test_the_python_a_venv_runs_must_be_roots_too(linux, base):
    """A venv made with --copies (and every venv on Windows) runs the Python its
    pyvenv.cfg names as `home`: a user who owns that folder owns the host."""
    theirs = base / "home/nobody/python/bin"
    theirs.mkdir(parents=True)
    os.lchown(theirs.parent, NOBODY, -1)
    venv = linux.executable.parent.parent
    (venv / "pyvenv.cfg").write_text(f"home = {theirs}\ninclude-system-site-packages = false\n")
    assert f"  - {theirs.parent} is owned by nobody" in refusal(linux)


def test_a_module_or_pth_file_a_user_can_change_in_the_import_path_is_refused(linux, base):
    """The standard library and site-packages run in the host too: a .pth file runs at
    start-up. A root-owned folder does not make a file in it root's."""
    site_packages = linux.package.parent
    (site_packages / "distutils-precedence.pth").write_text("import os\n")
    accepted = linux.with_(runtime=(Path(PYTHON), site_packages, *sorted(site_packages.rglob("*"))))
    assert installer.system_problems(plan(accepted, ["chromium"], system=True), accepted) == []
    os.lchown(site_packages / "distutils-precedence.pth", NOBODY, -1)
    refused = linux.with_(runtime=(Path(PYTHON), site_packages, *sorted(site_packages.rglob("*"))))
    assert f"  - {site_packages}/distutils-precedence.pth is owned by nobody" in refusal(refused)
    os.lchown(site_packages / "distutils-precedence.pth", 0, -1)
    site_packages.chmod(0o777)   # anyone may add a .pth file of their own
    assert f"  - {site_packages} can be changed by every user (mode 0777)" in refusal(refused)


def test_this_interpreters_runtime_is_what_it_loads():
    layout = B.Layout(B.LINUX, Path.home())
    runtime = {str(p) for p in installer.interpreter_runtime(layout)}
    import site
    import sysconfig

    assert str(Path(getattr(sys, "_base_executable", sys.executable))) in runtime
    assert sysconfig.get_paths()["stdlib"] in runtime
    assert str(Path(sysconfig.get_paths()["stdlib"]) / "os.py") in runtime
    assert set(site.getsitepackages()) <= runtime
    # Another interpreter's (a layout naming its executable) is not known from here.
    assert installer.interpreter_runtime(layout.with_(executable=Path(PYTHON))) == []


def test_windows_a_site_packages_where_users_may_add_files_is_refused(tmp_path):
    """A .pth file or a module added to the import path runs in every user's host: each
    folder on it must be closed to additions, not only to replacing what it holds."""
    python = tmp_path / "Program Files/Python312"
    site_packages = python / "Lib/site-packages"
    layout = windows(tmp_path, "Program Files/Python312", {site_packages: PROGRAM_DATA})
    site_packages.mkdir(parents=True)
    accepted = layout.with_(runtime=(python / "python.exe", python / "Lib"))
    apply(plan(accepted, ["edge"], system=True), accepted)
    refused = layout.with_(runtime=(python / "python.exe", python / "Lib", site_packages))
    with pytest.raises(InstallError, match=f"  - {re.escape(str(site_packages))} can be changed by Users\n"):
        apply(plan(refused, ["edge"], system=True), refused)


def test_windows_an_access_list_it_cannot_read_whole_is_refused():
    """A conditional entry carries parentheses of its own; a parser that stopped there
    would miss the entry after it (Users: full control)."""
    sddl = "O:BAD:PAI(XA;;FR;;;WD;(@User.x == 1))(A;;FA;;;BU)"
    acl = trust.parse_sddl(sddl)
    assert "Users" in trust.writers(acl, trust.FILE_CHANGE)
    assert "Everyone" not in trust.writers(acl, trust.FILE_CHANGE)   # FR: reading only
    for broken in ("O:BAD:PAI(A;;FA;;;SY", "O:BAD:PAI(A;;FA;;;SY))", "O:BAD:PAI(A;;FA;;;SY)junk(A;;FA;;;BU)",
                   "O:BAD:(A;;FA)"):
        with pytest.raises(ValueError):
            trust.parse_sddl(broken)
    files = FakeWindowsFiles({"C:/x": broken})
    files.acl = lambda path: trust.parse_sddl(broken)
    assert trust.windows_problems_above("C:/x", files)[0].startswith("C:/x: its access list cannot be read")

"""`codecatch doctor`: all green against the real installed host in a real Chromium
profile folder, then each fault broken on purpose, named, and fixed by its own fix."""

import json
import shlex
import sys

import pytest
from click.testing import CliRunner

from codecatch.cli import main
from codecatch.identity import HOST_NAME
from codecatch.install import browsers as B
from codecatch.install import doctor
from codecatch.install.installer import apply, plan
from codecatch.install.registry import MemoryRegistry

OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


@pytest.fixture
def env(tmp_path):
    # PATH: no browser program of this machine is "found" (install detects them there).
    return {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "", "PATH": str(tmp_path / "no-bin")}


@pytest.fixture
def profile(tmp_path, env):
    p = tmp_path / "chromium-profile"
    p.mkdir()
    r = CliRunner().invoke(main, ["install", "--browser", "chromium", "--user-data-dir", str(p)], env=env)
    assert r.exit_code == 0, r.output
    return p


def run_doctor(env, *args):
    r = CliRunner().invoke(main, ["doctor", "--json", *args], env=env)
    return r.exit_code, json.loads(r.output)


def checks(result):
    (b,) = result["browsers"]
    return {c["name"]: c for c in b["checks"]}


def failing(result):
    return [(n, c) for n, c in checks(result).items() if c["status"] == "fail"]


def run_fix(fix, env):
    argv = shlex.split(fix)
    assert argv[0] == "codecatch"
    r = CliRunner().invoke(main, argv[1:], env=env)
    assert r.exit_code == 0, r.output


def test_all_green_against_the_real_host(profile, env):
    code, result = run_doctor(env, "--user-data-dir", str(profile))
    assert code == 0, result
    assert result["ok"]
    c = checks(result)
    assert [n for n in c] == ["profile folder", "manifest present", "valid JSON", "name matches",
                              "host executable", "allowed extensions", "host answers ping", "event stream"]
    assert all(x["status"] == "ok" for n, x in c.items() if n != "event stream")
    assert "answered in" in c["host answers ping"]["message"]
    r = CliRunner().invoke(main, ["doctor", "--user-data-dir", str(profile)], env=env)
    assert r.exit_code == 0 and "Chromium (chromium): all good" in r.output


def test_wrong_extension_id_is_named_and_fixed(profile, env):
    code, result = run_doctor(env, "--user-data-dir", str(profile), "--extension-id", OTHER_ID)
    assert code == 1 and not result["ok"]
    ((name, c),) = failing(result)
    assert name == "allowed extensions"
    assert "is forbidden" in c["message"] and OTHER_ID in c["message"]
    assert c["fix"] == (f"codecatch install --browser chromium --user-data-dir {profile} "
                        f"--extension-id {OTHER_ID}")
    run_fix(c["fix"], env)
    assert run_doctor(env, "--user-data-dir", str(profile), "--extension-id", OTHER_ID)[0] == 0


def test_missing_executable_is_named_and_fixed(profile, env):
    path = profile / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    m = json.loads(path.read_text())
    m["path"] = "/opt/gone/codecatch-host"
    path.write_text(json.dumps(m))
    code, result = run_doctor(env, "--user-data-dir", str(profile))
    assert code == 1
    ((name, c),) = failing(result)
    assert name == "host executable" and "/opt/gone/codecatch-host does not exist" in c["message"]
    # This codecatch still has its host: the manifest is only stale, no reinstall needed.
    assert c["fix"].startswith("codecatch install") and "pip" not in c["fix"]
    assert c["fix"].endswith("--force")           # the file is no longer the one we wrote
    run_fix(c["fix"], env)
    assert run_doctor(env, "--user-data-dir", str(profile))[0] == 0


def test_malformed_json_is_named_and_fixed(profile, env):
    path = profile / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    path.write_text('{"name": "com.codecatch.host",')
    code, result = run_doctor(env, "--user-data-dir", str(profile))
    assert code == 1
    ((name, c),) = failing(result)
    assert name == "valid JSON" and "not a valid manifest" in c["message"]
    assert checks(result)["host answers ping"]["status"] == "skip"
    run_fix(c["fix"], env)
    assert run_doctor(env, "--user-data-dir", str(profile))[0] == 0


def test_missing_manifest_and_missing_profile(tmp_path, env):
    p = tmp_path / "empty-profile"
    p.mkdir()
    code, result = run_doctor(env, "--user-data-dir", str(p))
    ((name, c),) = failing(result)
    assert name == "manifest present" and "Specified native messaging host not found." in c["message"]
    assert c["fix"] == f"codecatch install --browser chromium --user-data-dir {p}"
    code, result = run_doctor(env, "--user-data-dir", str(tmp_path / "nope"))
    ((name, c),) = failing(result)
    assert code == 1 and name == "profile folder" and "no host is registered" in c["message"]
    # The fix is install (which works before the browser ever started), not "start it once".
    assert c["fix"] == f"codecatch install --browser chromium --user-data-dir {tmp_path / 'nope'}"


def test_no_browser_found_exits_non_zero(env):
    r = CliRunner().invoke(main, ["doctor"], env=env)
    assert r.exit_code == 1 and "No browser found" in r.output


# ---------------------------------------------------------------- the ping itself

def script(tmp_path, body):
    p = tmp_path / "host.py"
    p.write_text(f"#!{sys.executable}\n" + body)
    p.chmod(0o755)
    return [str(p)]


def test_ping_reports_a_host_that_exits(tmp_path):
    r = doctor.ping(script(tmp_path, "import sys; print('boom', file=sys.stderr); sys.exit(2)\n"), timeout=5)
    assert not r.ok and "exited before greeting (status 2): boom" in r.message


def test_ping_times_out_on_a_silent_host(tmp_path):
    r = doctor.ping(script(tmp_path, "import time; time.sleep(30)\n"), timeout=0.5)
    assert not r.ok and "no greeting within 0.5 s" in r.message


def test_ping_reports_a_protocol_mismatch(tmp_path):
    body = ("import json, struct, sys\n"
            "b = json.dumps({'type': 'hello', 'protocol': 99}).encode()\n"
            "sys.stdout.buffer.write(struct.pack('=I', len(b)) + b); sys.stdout.flush()\n")
    r = doctor.ping(script(tmp_path, body), timeout=5)
    assert not r.ok and "protocol 99" in r.message


def test_ping_reports_a_host_that_prints_garbage(tmp_path):
    r = doctor.ping(script(tmp_path, "print('hello there, I am a stray print')\n"), timeout=5)
    assert not r.ok


def test_host_arguments_are_what_browsers_pass(tmp_path):
    m = tmp_path / "x.json"
    assert doctor.host_arguments(B.CHROMIUM, B.LINUX, m, OTHER_ID) == [f"chrome-extension://{OTHER_ID}/"]
    assert doctor.host_arguments(B.CHROMIUM, B.WINDOWS, m, OTHER_ID)[1] == "--parent-window=0"
    assert doctor.host_arguments(B.FIREFOX, B.LINUX, m, "a@b") == [str(m), "a@b"]


# ---------------------------------------------------------------- other layouts (no ping)

def fake_exe(tmp_path, windows=False):
    """A fake interpreter with its codecatch-host console script beside it."""
    exe = tmp_path / ("py/python.exe" if windows else "venv/bin/python")
    host = tmp_path / ("py/Scripts/codecatch-host.exe" if windows else "venv/bin/codecatch-host")
    for f in (exe, host):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"#!/bin/sh\n")
        f.chmod(0o755)
    return exe


def test_windows_missing_key_and_py_path(tmp_path):
    home = tmp_path / "home"
    env = {"LOCALAPPDATA": str(home / "L"), "APPDATA": str(home / "R")}
    layout = B.Layout(B.WINDOWS, home, env, MemoryRegistry(), executable=fake_exe(tmp_path, True))
    (home / "L/Microsoft/Edge/User Data").mkdir(parents=True)
    (d,) = doctor.diagnose(layout, run_host=False)
    assert [c.name for c in d.checks if c.status == "fail"] == ["registry key"]
    assert d.checks[1].fix == "codecatch install --browser edge"

    (t,) = plan(layout)
    apply([t], layout)
    m = json.loads(t.manifest.path.read_text())
    m["path"] = str(tmp_path / "host.py")
    (tmp_path / "host.py").write_text("")
    t.manifest.path.write_text(json.dumps(m))
    (d,) = doctor.diagnose(layout, run_host=False)
    (bad,) = [c for c in d.checks if c.status == "fail"]
    assert bad.name == "host executable" and "not an .exe or .bat" in bad.message
    assert bad.fix == "codecatch install --browser edge --force"


def test_flatpak_sandbox_permission(tmp_path):
    home = tmp_path / "home"
    layout = B.Layout(B.LINUX, home, {}, root=tmp_path / "root", executable=fake_exe(tmp_path))
    (home / ".var/app/com.google.Chrome/config/google-chrome").mkdir(parents=True)
    apply(plan(layout, allow_flatpak_escape=True), layout)
    (d,) = doctor.diagnose(layout, run_host=False)
    sandbox = next(c for c in d.checks if c.name == "sandbox")
    assert sandbox.status == "fail"
    # The fix states the risk before the command that takes it (review: a fix pasted from
    # doctor must not skip what install asks).
    assert sandbox.fix == doctor.FLATPAK_RISK + "flatpak override --user --talk-name=org.freedesktop.Flatpak " \
                                                "com.google.Chrome"
    assert "run any command as you outside its sandbox" in sandbox.fix
    overrides = home / ".local/share/flatpak/overrides"
    overrides.mkdir(parents=True)
    (overrides / "com.google.Chrome").write_text("[Session Bus Policy]\norg.freedesktop.Flatpak=talk\n")
    (d,) = doctor.diagnose(layout, run_host=False)
    assert d.ok, d.checks


def test_a_flatpak_browser_install_skipped_is_a_warning_whose_fix_states_the_risk(tmp_path):
    home = tmp_path / "home"
    layout = B.Layout(B.LINUX, home, {}, root=tmp_path / "root", executable=fake_exe(tmp_path))
    (home / ".var/app/com.google.Chrome/config/google-chrome").mkdir(parents=True)
    apply(plan(layout), layout)   # without --allow-flatpak-escape: skipped
    (d,) = doctor.diagnose(layout, run_host=False)
    present = next(c for c in d.checks if c.name == "manifest present")
    assert present.status == "warn" and "--allow-flatpak-escape, a sandbox escape" in present.message
    assert present.fix.startswith(doctor.FLATPAK_RISK)
    assert present.fix.endswith("codecatch install --browser chrome-flatpak --allow-flatpak-escape")

"""The code is a credential: at the most verbose log level it reaches no log and no file."""

import json
import os
import subprocess
import sys

from hostproc import HostProcess
from codes import entra_code

BROKER = "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
SIGNIN = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
CODES = [entra_code("secretCodeNumberOne"), entra_code("secretCodeNumberTwo")]


def snapshot(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[path] = f.read()
    return found


def test_captures_at_debug_level_leave_no_code_anywhere(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, CODECATCH_LOG_LEVEL="DEBUG", HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_RUNTIME_DIR=str(tmp_path / "xdg-run"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"),
               CODECATCH_CONFIG_DIR=str(tmp_path / "cfg"), CODECATCH_RUNTIME_DIR=str(tmp_path / "run"),
               TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    host = HostProcess(env)
    assert host.recv()["type"] == "hello"
    # A subscriber, so every event really goes through the event-stream thread (with no
    # client it drops them unseen); its status line says when it is subscribed.
    watch = subprocess.Popen([sys.executable, "-m", "codecatch.cli", "watch", "--json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in watch.stderr:  # perhaps "waiting for a browser host to start" first
            if "listening to the browser host" in line:
                break
        else:
            raise AssertionError("the subscriber exited before subscribing")
        _captures(host)
        # The last event reaching the subscriber says the stream thread has handled (and
        # logged) everything before it: no sleep and hope.
        for line in watch.stdout:
            if json.loads(line).get("detail") == "last":
                break
        else:
            raise AssertionError("the subscriber stopped before the last event")
    finally:
        watch.kill()
        watch.wait(10)
    status, _, stderr = host.close()
    assert status == 0
    assert "DEBUG" in stderr and "capture" in stderr, "the log must be verbose for this test to mean anything"
    assert "0.AXkAs\u2026" not in stderr  # only a 6-character prefix
    for code in CODES:
        assert code not in stderr
        assert code[6:20] not in stderr
        for path, content in snapshot(tmp_path).items():
            assert code.encode() not in content, f"the code reached {path}"


def _captures(host):
    for i, code in enumerate(CODES):
        reply = host.request({"id": i, "type": "capture", "uri": f"{BROKER}?code={code}&state=s{i}",
                              "source": {"channel": "navigate", "page_url": SIGNIN, "tab_id": 2, "opener_tab_id": 1,
                                         "opener_url": "https://panel.example.com/"}})
        assert reply["result"]["response"]["code"] == code  # the reply itself carries it, by design
        host.request({"id": f"p{i}", "type": "parse", "text": f"{BROKER}?code={code}"})
        host.request({"id": f"r{i}", "type": "report", "capture_id": reply["result"]["capture_id"], "outcome": "filled"})
    # A refused capture and a bad frame are logged too; make sure those paths are covered.
    host.request({"id": "x", "type": "capture", "uri": f"{BROKER}?code={CODES[0]}", "source": {"page_url": "https://evil.example/"}})
    host.send_raw(b"\x05\x00\x00\x00{bad}")
    host.recv()
    host.request({"id": "last", "type": "report", "capture_id": reply["result"]["capture_id"], "outcome": "filled",
                  "detail": "last"})

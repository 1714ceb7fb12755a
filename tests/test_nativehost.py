"""The real codecatch-host, driven through its frames over stdin and stdout: framing,
error replies, exit statuses, and a whole conversation. The capture rules are
tests/test_capture.py's (in-process, on a fake clock)."""

import io
import json
import os

import pytest

from codecatch import protocol
from hostproc import HostProcess, frame
from codes import entra_code

BROKER = "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
SIGNIN = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=x"
CODE = entra_code("a-real-looking-code")


@pytest.fixture
def env(tmp_path, monkeypatch):
    import os

    return dict(os.environ, CODECATCH_CONFIG_DIR=str(tmp_path / "cfg"), CODECATCH_RUNTIME_DIR=str(tmp_path / "run"))


@pytest.fixture
def host(env):
    h = HostProcess(env)
    hello = h.recv()
    assert hello == {"type": "hello", "protocol": 1, "version": hello["version"], "host": "codecatch-host"}
    yield h
    if h.proc.poll() is None:
        h.proc.kill()


def capture(uri, **source):
    src = {"channel": "navigate", "page_url": SIGNIN, "tab_id": 7, "frame_id": 0, "proof": "navigate",
           "flow": "signin", "opener_tab_id": 3, "opener_url": "https://panel.example.com/tenants/42/edit",
           "opener_origin": "https://panel.example.com", "opener_by_page": True}
    src.update(source)
    return {"id": "c1", "type": "capture", "uri": uri, "source": src}


def test_full_conversation(host):
    assert host.request({"id": 1, "type": "ping"})["result"]["pong"] is True
    parsed = host.request({"id": 2, "type": "parse", "text": f"Failed to launch '{BROKER}?code={CODE}&state=s' because the scheme does not have a registered handler."})
    assert parsed["ok"] and parsed["result"]["code"] == CODE
    reply = host.request(capture(f"{BROKER}?code={CODE}&state=s1&session_state=x"))
    result = reply["result"]
    assert reply["id"] == "c1" and reply["ok"]
    assert result["fill"] == {
        "tab_id": 3, "target": "opener", "origin": "https://panel.example.com", "selector": None,
        "value": f"https://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code={CODE}&state=s1&session_state=x",
        "value_kind": "url", "save": None, "close_signin_tab": False,
    }
    assert result["expires_at"] - result["captured_at"] == 600_000
    assert result["duplicate"] is False
    # The same URI from a second channel is a duplicate and is not filled twice.
    again = host.request(capture(f"{BROKER}?code={CODE}&state=s1&session_state=x", channel="webrequest",
                                 proof="redirect"))["result"]
    assert again["duplicate"] is True and again["fill"] is None and again["fill_reason"] == "duplicate"
    assert host.request({"id": 9, "type": "report", "capture_id": result["capture_id"], "outcome": "filled"}) == {"id": 9, "ok": True, "result": {}}
    assert host.close()[0] == 0


@pytest.mark.parametrize("body,code", [
    (b"not json", 10),
    (b"[" * 30_000 + b"]" * 30_000, 10),  # deep enough to end json.loads in RecursionError
    (b'{"id": 1, "type": "ping", "x": ' + b"[" * 40 + b"]" * 40 + b"}", 10),
    (b"\xff\xfe\xfd", 11),
    (b"[1, 2]", 12),
    (b'"text"', 12),
    (b'{"type": "ping"}', 13),
    (b'{"id": true, "type": "ping"}', 13),
    (b'{"id": 1, "type": "teleport"}', 14),
    (b'{"id": 1}', 15),
    (b'{"id": 1, "type": "parse", "text": 5}', 15),
    (b'{"id": 1, "type": "capture", "uri": "x"}', 15),
    (b'{"id": 1, "type": "capture", "uri": "x", "source": {"tab_id": "seven"}}', 15),
    (b'{"id": 1, "type": "parse", "text": "javascript:alert(1)"}', 21),
    (b'{"id": 1, "type": "config.set", "config": {"panels": [{"origin": "javascript:alert(1)"}]}}', 40),
    # The capture rules themselves are tests/test_capture.py's (in-process, on a fake clock).
    (json.dumps(capture(f"{BROKER}?code={CODE}&state=s", page_url="https://evil.example/")).encode(), 30),
    (json.dumps(capture(f"{BROKER}?code={CODE}&state=s", frame_id=5)).encode(), 31),
])
def test_bad_input_gets_an_error_reply_and_the_host_keeps_serving(host, body, code):
    host.send_raw(frame(body))
    reply = host.recv()
    assert reply["ok"] is False and reply["error"]["code"] == code and reply["error"]["message"]
    assert host.request({"id": "after", "type": "ping"})["ok"] is True
    status, rest, stderr = host.close()
    assert status == 0 and rest == b"" and "Traceback" not in stderr


@pytest.mark.parametrize("size", [64 * 1024 + 1, 1024 * 1024 + 1])
def test_oversized_frame_is_dropped_refused_and_the_host_keeps_serving(host, size):
    # Its body is JSON with an id: never parsed, so the reply's id is still null.
    head, tail = b'{"id": 5, "type": "ping", "pad": "', b'"}'
    body = head + b"x" * (size - len(head) - len(tail)) + tail
    host.send_raw(frame(body))
    reply = host.recv()
    assert reply == {"id": None, "ok": False, "error": {
        "code": 16, "name": "too_large", "message": reply["error"]["message"]}}
    assert f"{size} bytes" in reply["error"]["message"] and "65536 bytes" in reply["error"]["message"]
    pong = host.request({"id": "after", "type": "ping"})
    assert pong["id"] == "after" and pong["ok"] is True and pong["result"]["pong"] is True
    status, rest, stderr = host.close()
    assert status == 0 and rest == b"" and "Traceback" not in stderr
    assert f"dropped a frame of {size} bytes" in stderr


@pytest.mark.parametrize("data", [
    protocol.header(1024 * 1024 + 1) + b"x" * 100_000,  # ends while being dropped
    protocol.header(0xFFFFFFFF),  # Firefox's largest announcement, then nothing
])
def test_truncated_oversized_frame_ends_cleanly(host, data):
    host.send_raw(data)
    status, rest, stderr = host.close()
    assert status == 4 and rest == b"" and "truncated oversized frame" in stderr and "Traceback" not in stderr


def test_largest_allowed_frame_is_served(host):
    text = "x" * (64 * 1024 - 60)
    reply = host.request({"id": 1, "type": "parse", "text": text})
    assert reply["error"]["code"] == 20


@pytest.mark.parametrize("data", [b"\x10\x00", protocol.header(100) + b'{"id": 1'])
def test_truncated_frame_ends_cleanly(host, data):
    host.send_raw(data)
    status, rest, stderr = host.close()
    assert status == 4 and rest == b"" and "truncated" in stderr and "Traceback" not in stderr


def test_end_of_input_exits_zero(host):
    assert host.close()[0] == 0


def test_stray_print_cannot_reach_the_frame_stream(env):
    # A handler that prints (a bug, a chatty library) must not corrupt the frames.
    import subprocess
    import sys

    script = (
        "import sys; from codecatch import nativehost\n"
        "orig = nativehost.Host.ping\n"
        "def noisy(self, request):\n"
        "    print('stray print from a handler'); sys.stdout.write('more noise'); sys.stdout.flush()\n"
        "    return orig(self, request)\n"
        "nativehost.Host.ping = noisy\n"
        "sys.exit(nativehost.main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], input=frame({"id": 1, "type": "ping"}),
                          capture_output=True, env=env, timeout=20)
    assert proc.returncode == 0
    out = io.BytesIO(proc.stdout)
    hello, pong = protocol.read_message(out), protocol.read_message(out)
    assert hello["type"] == "hello" and pong["result"]["pong"] is True and out.read() == b""
    assert b"stray print from a handler" in proc.stderr and b"more noise" in proc.stderr


def test_a_config_saved_elsewhere_is_seen_without_a_restart(env):
    # Two browsers, two hosts: one saves the panel rules, the other must follow.
    first, second = HostProcess(env), HostProcess(env)
    try:
        assert first.recv()["type"] == second.recv()["type"] == "hello"
        assert second.request({"id": 1, "type": "config.get"})["result"]["auto_fill"] is True
        assert first.request({"id": 2, "type": "config.set", "config": {"auto_fill": False}})["ok"]
        assert second.request({"id": 3, "type": "config.get"})["result"]["auto_fill"] is False
        result = second.request(capture(f"{BROKER}?code={CODE}&state=c2"))["result"]
        assert result["fill"] is None and result["fill_reason"] == "disabled"
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("body", [
    b'{"id":1,"type":"\\ud800"}',
    b'{"id":2,"type":"parse","text":"ms-appx-web://x/?code=abc&state=\\ud800"}',
    b'{"id":3,"type":"report","capture_id":"c","outcome":"filled","detail":"\\udfff"}',
])
def test_a_lone_surrogate_is_refused_and_the_host_goes_on(host, body):
    # JSON may spell one; encoding the reply (or the event stream's copy) used to raise
    # outside the handler and end the host.
    host.send_raw(frame(body))
    reply = host.recv()
    assert reply["ok"] is False and reply["error"]["name"] == "not_utf8"
    assert host.request({"id": 9, "type": "ping"})["result"]["pong"] is True


def test_a_surrogate_pair_is_text_like_any_other(host):
    reply = host.request({"id": 4, "type": "parse", "text": f"{BROKER}?code={CODE}&state=\U0001F600"})
    assert reply["ok"] and reply["result"]["state"] == "\U0001F600"


def test_an_unreadable_config_keeps_the_last_good_rules(tmp_path, monkeypatch):
    # A read can fail for a moment (a local user exhausting the host's file descriptors
    # through the event stream did it) or the file can be broken by hand: the running
    # host must not fall back to the defaults (auto_fill on, no panel rules).
    import json as _json

    from codecatch import config
    from codecatch.nativehost import Host

    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "config.json"
    path.write_text(_json.dumps({"auto_fill": False, "panels": [{"origin": "https://cp.example.com"}]}))
    host = Host()
    assert host.config()["auto_fill"] is False
    real_load = config.load
    monkeypatch.setattr(config, "load", lambda path=None: (dict(config.DEFAULTS, panels=[]), "EMFILE"))
    path.write_text(path.read_text() + " ")  # a new stamp: the host reads again, and fails
    os.utime(path, ns=(1, 1))
    assert host.config()["auto_fill"] is False and host.config()["panels"][0]["origin"] == "https://cp.example.com"
    monkeypatch.setattr(config, "load", real_load)
    path.write_text(_json.dumps({"auto_fill": True}))
    assert host.config()["auto_fill"] is True and host.config()["panels"] == []  # read again once readable


def test_a_config_deleted_after_a_broken_one_gives_the_defaults(tmp_path, monkeypatch):
    # The "read again" marker must not be None, the stamp of a missing file.
    import json as _json

    from codecatch.nativehost import Host

    monkeypatch.setenv("CODECATCH_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "config.json"
    path.write_text(_json.dumps({"auto_fill": False}))
    host = Host()
    assert host.config()["auto_fill"] is False
    path.write_text("{broken")
    assert host.config()["auto_fill"] is False  # the last good rules
    path.unlink()
    assert host.config()["auto_fill"] is True  # deleted: the defaults, as the CLI sees them


def test_a_number_too_long_to_convert_is_invalid_json(host):
    host.send_raw(frame(b'{"id": 1, "type": "ping", "n": ' + b"9" * 5000 + b"}"))
    reply = host.recv()
    assert reply["ok"] is False and reply["error"]["name"] == "invalid_json"


def test_the_event_stream_starts_after_the_warm_up_imports_in_the_same_thread(monkeypatch):
    """Two threads importing the same modules at once can get a partially initialised
    module (seen under load): the stream, which imports websockets, must start only
    after everything a request needs is imported, and a failed import must not raise."""
    import sys
    import threading

    from codecatch import config, nativehost

    seen = {}

    def start(host):
        seen["done"] = done.is_set()
        seen["thread"] = threading.current_thread()
        seen["loaded"] = all(f"codecatch.{m}" in sys.modules for m in ("capture", "config", "fill", "redirect"))

    monkeypatch.setattr(nativehost, "_start_event_stream", start)
    done = threading.Event()
    nativehost._warm_up(done, host=None)
    assert seen == {"done": True, "thread": threading.current_thread(), "loaded": True}

    def broken():
        raise ImportError("simulated: a partially initialised module")

    monkeypatch.setattr(config, "warm_up", broken)
    done = threading.Event()
    nativehost._warm_up(done, host=None)  # logs at debug level, never raises
    assert done.is_set() and seen["done"] is True


def test_frames_from_two_threads_never_interleave():
    """Replies (the main thread) and notices (the event stream's thread) share stdout: a
    frame is written whole under one lock, even by a file that takes a few bytes a call."""
    import threading
    import time

    from codecatch.nativehost import FrameWriter

    class Trickle:
        def __init__(self):
            self.data = bytearray()

        def write(self, view):
            self.data += bytes(view[:5])
            time.sleep(0)  # let the other thread in, as a partial write would
            return min(5, len(view))

    out = Trickle()
    writer = FrameWriter(out)
    sent = {"reply": [{"id": n, "ok": True, "result": {}} for n in range(200)],
            "notice": [{"type": "close_signin", "state": f"state-{n}"} for n in range(200)]}
    threads = [threading.Thread(target=lambda m=m: [writer.write(x) for x in m]) for m in sent.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stream, got = io.BytesIO(bytes(out.data)), []
    while (message := protocol.read_message(stream)) is not None:
        got.append(message)
    assert [m for m in got if "id" in m] == sent["reply"]
    assert [m for m in got if "id" not in m] == sent["notice"]

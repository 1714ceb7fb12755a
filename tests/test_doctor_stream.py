"""doctor's last check: the local event stream of the hosts running now."""

import json
import os
import socket

from codecatch.install import doctor
from hostproc import HostProcess, wait_for_advert


def test_no_host_running_is_not_a_fault(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(tmp_path / "run"))
    status, message, fix = doctor.check_event_stream()
    assert status == doctor.SKIP and "no browser host is running" in message and fix is None


def test_a_running_host_answers(tmp_path, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(run))
    host = HostProcess(dict(os.environ, CODECATCH_CONFIG_DIR=str(tmp_path / "cfg")))
    try:
        assert host.recv()["type"] == "hello"
        wait_for_advert(str(run))
        status, message, _ = doctor.check_event_stream()
        assert status == doctor.OK, message
        assert f"host {host.proc.pid} answers on 127.0.0.1:" in message
    finally:
        host.close()


def test_a_host_that_does_not_answer_is_named_with_a_fix(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(run))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    advert = run / f"host-{os.getpid()}.json"  # our own pid: alive, so not cleaned as stale
    advert.write_text(json.dumps({"pid": os.getpid(), "port": port, "token": "t", "stream": 1}))
    advert.chmod(0o600)
    status, message, fix = doctor.check_event_stream(timeout=1)
    assert status == doctor.FAIL and f"127.0.0.1:{port} did not answer" in message
    assert "restart the browser" in fix

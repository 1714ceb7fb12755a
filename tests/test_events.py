"""The local event stream with real hosts and real clients: `codecatch-host` processes
driven through their frames, `codecatch wait`/`watch` processes and websocket clients.

Every wait is bounded (WAIT_S); the CLI's stderr status lines ("listening to the
browser host ...", printed once claims are acknowledged) tell a test when a client
is subscribed, so no test sleeps and hopes.
"""

import asyncio
import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from hostproc import HostProcess, sigint_as_in_a_terminal

from codecatch import events, stream_client
from codes import entra_code

WAIT_S = 10
BROKER = "ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367"
SIGNIN = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=x"
PANEL = "https://panel.example.com/tenants/42/edit"


def code(n):
    return entra_code(f"-stream-secret-code-{n}")


def capture_request(state, n=1, error=False, request_id="c", proof="navigate"):
    query = (f"error=access_denied&error_description=AADSTS65004%3a+User+declined&state={state}" if error
             else f"code={code(n)}&state={state}")
    from urllib.parse import urlsplit

    panel_origin = "{0.scheme}://{0.netloc}".format(urlsplit(PANEL))
    return {"id": request_id, "type": "capture", "uri": f"{BROKER}?{query}",
            "source": {"channel": "navigate", "page_url": SIGNIN, "tab_id": 7, "frame_id": 0, "proof": proof,
                       "flow": "signin", "opener_tab_id": 3, "opener_url": PANEL, "opener_origin": panel_origin,
                       "opener_by_page": True}}


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path / "run"


@pytest.fixture
def env(tmp_path, run_dir, monkeypatch):
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(run_dir))  # for in-process discovery
    return dict(os.environ, CODECATCH_CONFIG_DIR=str(tmp_path / "cfg"), CODECATCH_RUNTIME_DIR=str(run_dir))


def until(predicate, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class RunningHost:
    """A real codecatch-host with its event stream advertised."""

    def __init__(self, env, run_dir, extra_env=None):
        self.proc = HostProcess(dict(env, **(extra_env or {})))
        assert self.proc.recv()["type"] == "hello"
        self.pid = self.proc.proc.pid
        self.path = run_dir / f"host-{self.pid}.json"
        until(self.path.exists, f"the advertise file of host {self.pid}")
        self.advert = json.loads(self.path.read_text())

    def capture(self, *args, **kwargs):
        reply = self.proc.request(capture_request(*args, **kwargs))
        assert reply["ok"], reply
        return reply["result"]

    def close(self):
        if self.proc.proc.poll() is None:
            return self.proc.close()
        return self.proc.proc.returncode, b"", ""


@pytest.fixture
def hosts(env, run_dir):
    started = []

    def start(**extra_env):
        host = RunningHost(env, run_dir, extra_env)
        started.append(host)
        return host

    yield start
    for host in started:
        if host.proc.proc.poll() is None:
            host.proc.proc.kill()
            host.proc.proc.wait(WAIT_S)


class Cli:
    """A `codecatch` command running in the background; stderr read line by line."""

    def __init__(self, env, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "codecatch.cli", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=sigint_as_in_a_terminal)  # it may be sent Ctrl-C
        self.err_lines = queue.Queue()
        self.err_seen = []
        self.out_lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err_lines), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out_lines), daemon=True).start()

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def expect_err(self, fragment, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.err_lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {fragment!r} on stderr; saw {self.err_seen}") from None
            if line is None:
                raise AssertionError(f"exited without {fragment!r} on stderr; saw {self.err_seen}")
            self.err_seen.append(line)
            if fragment in line:
                return line

    def listening_to(self, *hosts):
        """Wait until subscribed to each of `hosts` (claims acknowledged), in any order."""
        want = {str(h.pid) for h in hosts}
        while want:
            want.discard(self.expect_err("listening to the browser host with pid").rsplit(" ", 1)[1])

    def next_line(self, timeout=WAIT_S):
        line = self.out_lines.get(timeout=timeout)
        assert line is not None, f"stdout closed; stderr: {self.err_seen}"
        return line

    def finish(self, timeout=WAIT_S):
        status = self.proc.wait(timeout)
        out = []
        while True:
            line = self.out_lines.get(timeout=timeout)
            if line is None:
                return status, out
            out.append(line)

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(WAIT_S)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT_S)


@pytest.fixture
def cli(env):
    running = []

    def run(*args):
        c = Cli(env, *args)
        running.append(c)
        return c

    yield run
    for c in running:
        c.kill()


async def ws_connect(port, token=None, headers=None, address="127.0.0.1"):
    """A websocket to a host. With `token`, the stream's handshake is done (a nonce out,
    the host's proof checked, our proof back) and the host's hello is next to read."""
    from websockets.asyncio.client import connect

    extra = dict(headers or {})
    nonce = extra.setdefault(events.NONCE_HEADER, events.new_nonce()) if token is not None else None
    ws = await connect(f"ws://{address}:{port}/", additional_headers=extra, proxy=None,
                       open_timeout=WAIT_S, compression=None)
    if token is not None:
        challenge = json.loads(await ws.recv())
        assert challenge["type"] == "challenge" and challenge["stream"] == events.STREAM_VERSION
        assert challenge["proof"] == events.handshake_proof(token, "server", port, nonce, challenge["nonce"])
        await ws.send(json.dumps({"type": "auth", "proof": events.handshake_proof(
            token, "client", port, nonce, challenge["nonce"])}))
    return ws


def run_async(coro):
    return asyncio.run(asyncio.wait_for(coro, WAIT_S * 2))


# -- the advertise file ---------------------------------------------------------------


def test_advert_file_is_private_complete_and_removed_on_exit(hosts, run_dir):
    host = hosts()
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(host.path).st_mode) == 0o600
    assert os.stat(host.path).st_uid == os.getuid()
    advert = host.advert
    assert advert["pid"] == host.pid and advert["host"] == "127.0.0.1"
    assert 0 < advert["port"] < 65536 and len(advert["token"]) >= 40
    assert advert["stream"] == 2 and advert["protocol"] == 1 and advert["version"]
    assert abs(advert["started_at"] / 1000 - time.time()) < 60
    assert [p.name for p in run_dir.iterdir()] == [host.path.name]  # no temporary file left behind
    assert host.close()[0] == 0
    assert not host.path.exists()


def test_a_host_that_exits_while_the_stream_starts_leaves_no_file(env, run_dir):
    for _ in range(3):
        host = HostProcess(env)
        assert host.recv()["type"] == "hello"
        assert host.close()[0] == 0  # at once: the stream thread is still importing
        assert not run_dir.exists() or not list(run_dir.iterdir())


def test_an_existing_runtime_folder_is_made_private(tmp_path, env, run_dir):
    run_dir.mkdir(mode=0o755)
    os.chmod(run_dir, 0o755)
    host = RunningHost(env, run_dir)
    try:
        assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    finally:
        host.close()


def test_stale_adverts_are_ignored_and_removed(run_dir, hosts):
    live = hosts()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = run_dir / f"host-{dead.pid}.json"
    stale.write_text(json.dumps(dict(live.advert, pid=dead.pid)))
    os.chmod(stale, 0o600)
    (run_dir / "host-garbage.json").write_text("{not json")
    found = stream_client.discover(str(run_dir))
    assert [a.pid for a in found] == [live.pid]
    assert not stale.exists()


def test_client_refuses_a_runtime_folder_others_can_write(run_dir, cli):
    run_dir.mkdir()
    os.chmod(run_dir, 0o777)
    with pytest.raises(stream_client.StreamError):
        stream_client.discover(str(run_dir))
    status, out = cli("wait", "--timeout", "1").finish()
    assert status == 4 and out == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_host_ended_by_a_signal_removes_its_advertise_file(hosts, run_dir, sig):
    # Logout, shutdown or a browser ending its host: a file left behind would name a
    # port that another local user may bind later.
    host = hosts()
    host.proc.proc.send_signal(sig)
    assert host.proc.proc.wait(WAIT_S) == 128 + sig
    assert not host.path.exists()


def test_a_killed_host_leaves_a_file_that_clients_clean(hosts, run_dir):
    host = hosts()
    host.proc.proc.kill()  # SIGKILL: no cleanup can run
    host.proc.proc.wait(WAIT_S)
    assert host.path.exists()
    assert stream_client.discover(str(run_dir)) == []
    assert not host.path.exists()


# -- wait and watch ----------------------------------------------------------------------


def test_a_capture_reaches_wait_and_watch(hosts, cli):
    host = hosts()
    wait = cli("wait", "--format", "url", "--timeout", str(WAIT_S))
    watch = cli("watch")
    watch_json = cli("watch", "--json")
    for c in (wait, watch, watch_json):
        c.listening_to(host)
    result = host.capture("s1", 1)
    assert result["fill_reason"] == "opener"  # not claimed: the extension fills it as usual
    status, out = wait.finish()
    assert status == 0 and out == [result["https_url"]]
    line = watch.next_line()
    assert result["capture_id"] in line and code(1)[:6] in line and code(1) not in line
    assert "state s1" in line and "fill: opener" in line
    event = json.loads(watch_json.next_line())
    assert event["type"] == "capture" and event["host_pid"] == host.pid
    assert event["capture"]["capture_id"] == result["capture_id"]
    assert code(1) not in json.dumps(event)  # redacted unless --reveal
    # Reports are published too.
    host.proc.request({"id": "r", "type": "report", "capture_id": result["capture_id"], "outcome": "filled"})
    assert json.loads(watch_json.next_line()) == {"type": "report", "capture_id": result["capture_id"],
                                                  "outcome": "filled", "detail": None, "host_pid": host.pid}
    assert f"{result['capture_id']}: filled" in watch.next_line()
    # With the panel rule's save button: whether it was pressed (PROTOCOL.md `report`).
    host.proc.request({"id": "r2", "type": "report", "capture_id": result["capture_id"], "outcome": "filled",
                       "detail": "Filled input#code. Pressed the save button.", "saved": True})
    assert json.loads(watch_json.next_line())["saved"] is True
    assert "Pressed the save button." in watch.next_line()
    # Ctrl-C ends watch quietly with status 0.
    assert watch.interrupt() == 0
    assert not any("Traceback" in line for line in watch.err_seen)


def test_watch_reveal_and_wait_code_and_json(hosts, cli):
    host = hosts()
    watch = cli("watch", "--json", "--reveal")
    wait_code = cli("wait", "--format", "code", "--timeout", str(WAIT_S))
    wait_json = cli("wait", "--format", "json", "--timeout", str(WAIT_S))
    for c in (watch, wait_code, wait_json):
        c.listening_to(host)
    result = host.capture("s2", 2)
    assert json.loads(watch.next_line())["capture"]["response"]["code"] == code(2)
    assert wait_code.finish() == (0, [code(2)])
    status, out = wait_json.finish()
    printed = json.loads("\n".join(out))
    assert status == 0 and printed["capture_id"] == result["capture_id"]
    assert printed["response"]["code"] == code(2) and printed["host_pid"] == host.pid


def test_wait_exits_1_with_a_hint_on_an_error_response(hosts, cli):
    host = hosts()
    wait = cli("wait", "--timeout", str(WAIT_S))
    wait.listening_to(host)
    host.capture("s3", error=True)
    status, out = wait.finish()
    assert status == 1 and out == []
    wait.expect_err("access_denied (AADSTS65004)")
    wait.expect_err("hint: ")


def test_two_hosts_at_once(hosts, cli):
    first, second = hosts(), hosts()
    watch = cli("watch", "--json")
    wait = cli("wait", "--state", "from-second", "--format", "code", "--timeout", str(WAIT_S))
    for c in (watch, wait):
        c.listening_to(first, second)
    first.capture("from-first", 1)
    second.capture("from-second", 2)
    got = {json.loads(watch.next_line())["host_pid"] for _ in range(2)}
    assert got == {first.pid, second.pid}
    assert wait.finish() == (0, [code(2)])  # the first host's capture had another state


def test_a_host_started_after_wait_is_picked_up(hosts, cli):
    wait = cli("wait", "--format", "code", "--timeout", str(WAIT_S))
    wait.expect_err("waiting for a browser host to start")
    host = hosts()
    wait.listening_to(host)
    host.capture("late", 3)
    assert wait.finish() == (0, [code(3)])


def test_wait_times_out_with_status_3(hosts, cli):
    hosts()
    started = time.monotonic()
    status, out = cli("wait", "--timeout", "0.5").finish()
    assert status == 3 and out == []
    assert time.monotonic() - started < 5


def test_wait_tells_no_host_from_no_capture(hosts, cli):
    alone = cli("wait", "--timeout", "0.5")  # no host at all
    assert alone.finish() == (4, [])
    alone.expect_err("no browser host ran within 0.5 s")
    hosts()
    waited = cli("wait", "--timeout", "0.5")
    assert waited.finish() == (3, [])
    waited.expect_err("no capture within 0.5 s (listened to 1 browser host)")


def test_a_host_that_exits_is_reported_and_watch_keeps_going(hosts, cli):
    first = hosts()
    watch = cli("watch", "--json")
    watch.listening_to(first)
    first.close()
    watch.expect_err(f"the browser host with pid {first.pid} went away")
    watch.expect_err("waiting for a browser host to start")
    second = hosts()
    watch.listening_to(second)
    second.capture("again", 4)
    assert json.loads(watch.next_line())["host_pid"] == second.pid


# -- claims --------------------------------------------------------------------------------


def test_a_claimed_capture_is_not_filled_and_goes_to_wait(hosts, cli):
    first, second = hosts(), hosts()
    wait = cli("wait", "--state", "flow-state", "--claim", "--format", "code", "--timeout", str(WAIT_S))
    wait.listening_to(first, second)  # printed only once the claim is acknowledged
    other = second.capture("someone-else", 1)
    assert other["fill"] is not None and other["fill_reason"] == "opener"
    claimed = second.capture("flow-state", 2)  # whichever browser the sign-in ends in
    assert claimed["fill"] is None and claimed["fill_reason"] == "claimed"
    assert wait.finish() == (0, [code(2)])


def test_an_unverified_capture_reaches_only_the_client_that_claimed_its_state(hosts, cli):
    """Nothing proves Microsoft produced it (no proof): a plain `wait` never gets it, and
    `watch` does not see it; the flow that claimed its state (`login`) does."""
    host = hosts()
    plain = cli("wait", "--format", "code", "--timeout", str(WAIT_S))
    watch = cli("watch", "--json")
    claimant = cli("wait", "--state", "mine", "--claim", "--format", "code", "--timeout", str(WAIT_S))
    for c in (plain, watch, claimant):
        c.listening_to(host)
    injected = host.capture("not-mine", 1, proof=None)
    assert injected["verified"] is False and injected["fill"] is None and injected["fill_reason"] == "unverified"
    claimed = host.capture("mine", 2, proof=None)
    assert claimed["verified"] is False and claimed["fill_reason"] == "claimed"
    assert claimant.finish() == (0, [code(2)])
    proven = host.capture("later", 3)
    assert proven["verified"] is True
    assert plain.finish() == (0, [code(3)])  # the unverified capture before it was never offered
    first = json.loads(watch.next_line())
    assert first["capture"]["capture_id"] == claimed["capture_id"], first  # not the unclaimed one
    assert watch.interrupt() == 0


def test_claim_reaches_a_host_started_later(hosts, cli):
    wait = cli("wait", "--state", "late-flow", "--claim", "--timeout", str(WAIT_S))
    wait.expect_err("waiting for a browser host to start")
    host = hosts()
    wait.listening_to(host)
    result = host.capture("late-flow", 5)
    assert result["fill_reason"] == "claimed"
    assert wait.finish() == (0, [result["https_url"]])


def test_claim_message_is_acknowledged(hosts):
    host = hosts()

    async def go():
        async with await ws_connect(host.advert["port"], host.advert["token"]) as ws:
            hello = json.loads(await ws.recv())
            assert hello == {"type": "hello", "stream": 2, "protocol": 1, "version": hello["version"], "pid": host.pid}
            await ws.send(json.dumps({"type": "claim", "state": "abc", "id": 7}))
            assert json.loads(await ws.recv()) == {"type": "claimed", "id": 7, "state": "abc"}

    run_async(go())
    assert host.capture("abc")["fill_reason"] == "claimed"
    assert host.capture("abc", 2)["fill_reason"] == "opener"  # a claim is used once


# -- abandon: Ctrl-C in `codecatch login` closes the flow's sign-in tab ------------------------


async def _claimed(ws, state, request_id):
    await ws.send(json.dumps({"type": "claim", "state": state, "id": request_id}))
    assert json.loads(await ws.recv()) == {"type": "claimed", "id": request_id, "state": state}


def test_abandon_of_a_claimed_state_tells_the_extension_and_drops_the_claim(hosts):
    host = hosts()

    async def go():
        async with await ws_connect(host.advert["port"], host.advert["token"]) as ws:
            await ws.recv()  # hello
            await _claimed(ws, "flow-a", 1)
            await _claimed(ws, "flow-b", 2)
            await ws.send(json.dumps({"type": "abandon", "state": "flow-a", "id": "x"}))
            assert json.loads(await ws.recv()) == {"type": "abandoned", "id": "x", "state": "flow-a"}

    run_async(go())
    # The notice to the extension: no id, nothing but its type and the state (PROTOCOL.md "Notices").
    assert host.proc.recv() == {"type": "close_signin", "state": "flow-a"}
    assert host.capture("flow-a")["fill_reason"] == "opener"  # its claim went with it
    assert host.capture("flow-b", 2)["fill_reason"] == "claimed"  # the other flow's stays


def test_abandon_of_a_state_not_claimed_on_that_connection_is_refused(hosts):
    """One local program cannot close the sign-ins of another's flows: only the
    connection that claimed a state may abandon it, once."""
    from websockets.exceptions import ConnectionClosed

    host = hosts()

    async def refused(ws, state):
        await ws.send(json.dumps({"type": "abandon", "state": state, "id": 9}))
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.recv()
        return ws.close_code, ws.close_reason

    async def go():
        port, token = host.advert["port"], host.advert["token"]
        async with await ws_connect(port, token) as owner:
            await owner.recv()
            await _claimed(owner, "theirs", 1)
            async with await ws_connect(port, token) as other:
                await other.recv()
                assert await refused(other, "theirs") == (1008, "'state' was not claimed on this connection")
            async with await ws_connect(port, token) as other:
                await other.recv()
                assert (await refused(other, "never-claimed"))[0] == 1008
            # The owner may, once: its claim is gone after that.
            await owner.send(json.dumps({"type": "abandon", "state": "theirs", "id": 3}))
            assert json.loads(await owner.recv())["type"] == "abandoned"
            assert (await refused(owner, "theirs"))[0] == 1008

    run_async(go())
    # Only the owner's abandon reached the extension: the next frame after it answers a ping.
    assert host.proc.recv() == {"type": "close_signin", "state": "theirs"}
    assert host.proc.request({"id": "p", "type": "ping"})["id"] == "p"


def _stopped(pid):
    """Whether every thread of process `pid` is stopped (Linux: state T in /proc)."""
    tasks = f"/proc/{pid}/task"
    from pathlib import Path

    return all(Path(tasks, t, "stat").read_text().rsplit(")", 1)[1].split()[0] == "T" for t in os.listdir(tasks))


def test_in_flight_abandons_a_wait_from_another_thread_bounded_by_a_silent_host(hosts, run_dir):
    host = hosts()
    in_flight = stream_client.InFlight()
    ready, result = threading.Event(), []
    waiting = threading.Thread(target=lambda: result.append(stream_client.wait_for_capture(
        timeout=WAIT_S * 3, state="batch-flow", claim=True, on_ready=ready.set, folder=str(run_dir),
        in_flight=in_flight)), daemon=True)
    waiting.start()
    assert ready.wait(WAIT_S) and len(in_flight) == 1
    assert in_flight.abandon_all() == (1, 1)
    assert host.proc.recv() == {"type": "close_signin", "state": "batch-flow"}
    assert host.capture("batch-flow")["fill_reason"] == "opener"
    waiting.join(WAIT_S)  # the capture still reaches the wait (abandoning ends no subscription)
    assert result[0]["response"]["state"] == "batch-flow"

    # A host that no longer answers (stopped) costs the caller the timeout, not a hang.
    second = stream_client.InFlight()
    ready.clear()
    threading.Thread(target=lambda: stream_client.wait_for_capture(
        timeout=WAIT_S * 3, state="flow-2", claim=True, on_ready=ready.set, folder=str(run_dir),
        in_flight=second), daemon=True).start()
    assert ready.wait(WAIT_S)
    host.proc.proc.send_signal(signal.SIGSTOP)
    # The signal is delivered when the kernel next schedules the host: until it shows as
    # stopped, it could still answer (a race the parallel load runs found).
    until(lambda: _stopped(host.proc.proc.pid), "the host to be stopped")
    try:
        assert second.abandon_all(timeout=0.5) == (1, 0)
    finally:
        host.proc.proc.send_signal(signal.SIGCONT)


def test_wait_claim_needs_state(cli):
    status, _ = cli("wait", "--claim", "--timeout", "1").finish()
    assert status == 2


# -- security --------------------------------------------------------------------------------


def _refusal(coro):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as caught:
        run_async(coro)
    response = caught.value.response
    return response.status_code, response.body.decode()


def test_a_stream_1_client_is_told_to_update_and_a_bad_nonce_is_refused(hosts):
    host = hosts()
    # A stream-1 client sends the token itself; stream 2 never takes it.
    status, body = _refusal(ws_connect(host.advert["port"], headers={"Authorization": "Bearer " + host.advert["token"]}))
    assert status == 426 and "update codecatch" in body and events.NONCE_HEADER in body
    status, body = _refusal(ws_connect(host.advert["port"]))
    assert status == 426
    for nonce in ("short", "x" * 129, "a" * 30 + "!", "a" * 30 + " b"):
        status, body = _refusal(ws_connect(host.advert["port"], headers={events.NONCE_HEADER: nonce}))
        assert status == 400 and "URL-safe" in body, nonce


def test_a_client_without_the_token_gets_no_events_and_is_closed(hosts):
    from websockets.exceptions import ConnectionClosed

    host = hosts()

    async def attempt(answer):
        nonce = events.new_nonce()
        async with await ws_connect(host.advert["port"], headers={events.NONCE_HEADER: nonce}) as ws:
            challenge = json.loads(await ws.recv())
            await ws.send(json.dumps(answer(challenge, nonce)))
            received = []
            with pytest.raises(ConnectionClosed):
                while True:
                    received.append(await ws.recv())
            return received, ws.close_code

    def proof_with(token, role="client", port=None):
        return lambda c, n: {"type": "auth", "proof": events.handshake_proof(
            token, role, port or host.advert["port"], n, c["nonce"])}

    token = host.advert["token"]
    for answer in (proof_with("wrong"), proof_with(token[:-1]),
                   proof_with(token, role="server"),  # the host's own proof sent back
                   proof_with(token, port=1),  # a proof made for another port
                   lambda c, n: {"type": "auth", "proof": c["proof"]},
                   lambda c, n: {"type": "claim", "state": "abc", "id": 1},
                   lambda c, n: {"type": "auth"}):
        received, close_code = run_async(attempt(answer))
        assert received == [] and close_code == events.CLOSE_AUTH
    assert host.capture("abc")["fill_reason"] == "opener"  # the claim sent instead of a proof was not taken


def test_a_connection_with_an_origin_header_is_refused(hosts):
    host = hosts()
    for origin in ("https://evil.example", "null", "chrome-extension://abc", "http://127.0.0.1"):
        status, body = _refusal(ws_connect(host.advert["port"], host.advert["token"],
                                           headers={"Origin": origin, events.NONCE_HEADER: events.new_nonce()}))
        assert status == 403 and "Origin" in body, origin


def _own_addresses():
    """This machine's non-loopback addresses (nothing is sent anywhere else)."""
    import socket

    found = set()
    try:
        found.update(subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None))
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127.") and a != "::1" and not a.startswith("fe80"))


def test_the_server_listens_on_loopback_only(hosts):
    import socket

    host = hosts()
    port = host.advert["port"]
    # The kernel's own table: the one listening socket on this port is 127.0.0.1.
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            for row in f.read().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, port_hex = local.split(":")
                if int(port_hex, 16) == port and state == "0A":  # LISTEN
                    listening.append((table, address))
    if os.path.exists("/proc/net/tcp"):
        assert listening == [("/proc/net/tcp", "0100007F")]
    addresses = _own_addresses()
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            with pytest.raises(OSError):  # connection refused: nothing listens there
                s.connect((address, port))
    if not addresses and not listening:
        pytest.skip("no non-loopback address and no /proc to check the bound address")


def test_bad_messages_close_the_connection_with_a_reason(hosts):
    from websockets.exceptions import ConnectionClosed

    host = hosts()

    async def closed_by(message):
        async with await ws_connect(host.advert["port"], host.advert["token"]) as ws:
            await ws.recv()  # hello
            await ws.send(message)
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.recv()
            return ws.close_code, ws.close_reason

    close_code, reason = run_async(closed_by("x" * 5000))
    assert close_code == 1009 and "4096" in reason  # websockets says "exceeds limit of 4096 bytes"
    assert run_async(closed_by(b"\x00binary"))[0] == 1003
    assert run_async(closed_by("not json")) == (1007, "not JSON")
    assert run_async(closed_by("[1]")) == (1007, "a message must be a JSON object")
    assert run_async(closed_by('{"type": "subscribe"}')) == (1008, "unknown message type 'subscribe'")
    assert run_async(closed_by('{"type": "claim", "state": 5}'))[0] == 1008
    # The host keeps serving the browser and other subscribers.
    assert host.proc.request({"id": 1, "type": "ping"})["result"]["pong"] is True
    assert host.capture("still-fine")["fill_reason"] == "opener"


def test_neither_code_nor_token_reaches_the_host_log(hosts, cli):
    host = hosts(CODECATCH_LOG_LEVEL="DEBUG")
    wait = cli("wait", "--state", "logged", "--claim", "--format", "code", "--timeout", str(WAIT_S))
    wait.listening_to(host)
    host.capture("logged", 9)
    assert wait.finish() == (0, [code(9)])

    async def wrong_proof():  # the host's side of a failed handshake is logged, without secrets
        nonce = events.new_nonce()
        async with await ws_connect(host.advert["port"], headers={events.NONCE_HEADER: nonce}) as ws:
            challenge = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "auth", "proof": events.handshake_proof(
                "wrong-token", "client", host.advert["port"], nonce, challenge["nonce"])}))
            await ws.wait_closed()
            return ws.close_code

    assert run_async(wrong_proof()) == events.CLOSE_AUTH
    status, _, stderr = host.close()
    assert status == 0
    assert code(9) not in stderr and code(9)[:12] not in stderr
    assert host.advert["token"] not in stderr and "logged" not in stderr  # the state is the flow's secret
    assert "refused a local subscriber that did not prove it knows the token" in stderr
    assert code(9) not in "\n".join(wait.err_seen)


# -- in process: a stuck subscriber never blocks publishing -----------------------------------


class FakeHost:
    def __init__(self):
        self.subscribers = None
        self.claims = []

    def claim(self, state):
        self.claims.append(state)


def test_a_stuck_client_is_dropped_and_publishing_never_blocks(tmp_path, caplog):
    import logging
    import socket

    caplog.set_level(logging.DEBUG)
    fake = FakeHost()
    stream = events.EventStream(fake, str(tmp_path / "run")).start()
    assert stream.ready.wait(WAIT_S) and stream.error is None
    assert fake.subscribers is stream
    try:
        # A client that handshakes and then never reads, with a tiny receive buffer.
        async def stall():
            advert = stream_client.Advert("-", {"pid": os.getpid(), "port": stream.port, "token": stream.token})
            ws, _hello = await stream_client._open(advert, WAIT_S)
            ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            ws.transport.pause_reading()
            until(lambda: len(stream._clients) == 1, "the stuck client to subscribe")
            big = {"type": "capture", "capture": {"pad": "x" * 200_000, "response": {"code": code(0)}}}
            started = time.monotonic()
            for _ in range(QUEUE_ROUNDS):
                stream.publish(big)
            assert time.monotonic() - started < 2  # publish hands over and returns
            until(lambda: not stream._clients, "the stuck client to be dropped")
            ws.transport.abort()

        run_async(stall())
        assert code(0) not in caplog.text and stream.token not in caplog.text
    finally:
        stream.stop()
    assert not os.listdir(tmp_path / "run")


QUEUE_ROUNDS = events.QUEUE_LIMIT + 100


def test_redacted_events_carry_no_code_look_alike():
    from codecatch import stream_client

    code = "0.AXkAverysecretcode_1234567890"
    url = f"https://Microsoft.AAD.BrokerPlugin/x?code={code}&state=s"
    event = {"type": "capture", "capture": {
        "https_url": url,
        "response": {"code": code, "code_redacted": "0.AXkA\u2026 (30 chars)", "https_url": url,
                     "original_uri": url.replace("https", "ms-appx-web", 1)},
        "fill": {"value": code, "value_kind": "code"}}}
    shown = stream_client.redact_event(event)
    text = json.dumps(shown)
    assert code not in text and "verysecret" not in text
    assert shown["capture"]["response"]["code"] is None and shown["capture"]["fill"]["value"] is None
    assert shown["capture"]["response"]["code_redacted"].startswith("0.AXkA")
    assert event["capture"]["response"]["code"] == code  # the original is left alone


def test_no_private_runtime_folder_is_a_clear_exit_4(cli, monkeypatch):
    # Without XDG_RUNTIME_DIR, platformdirs falls back to /tmp/runtime-<uid>, which
    # another user may have created first: platformdirs then raises PermissionError.
    import platformdirs

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/tmp/runtime-1000")

    monkeypatch.delenv("CODECATCH_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(platformdirs, "user_runtime_dir", refused)
    with pytest.raises(stream_client.StreamError, match="XDG_RUNTIME_DIR"):
        stream_client.discover()
    with pytest.raises(stream_client.StreamError, match="runtime folder"):
        stream_client.wait_for_capture(timeout=0.1)
    from click.testing import CliRunner

    from codecatch.cli import main

    result = CliRunner().invoke(main, ["wait", "--timeout", "1"])
    assert result.exit_code == 4 and "XDG_RUNTIME_DIR" in result.output


def test_ctrl_c_on_one_claimed_wait_abandons_its_flow(hosts, cli):
    """`codecatch login` (one tenant) and `wait --claim` wait for one flow: Ctrl-C gives it
    up on the host, which tells the extension to close that flow's sign-in tab."""
    host = hosts()
    wait = cli("wait", "--state", "one-flow", "--claim", "--timeout", str(WAIT_S))
    wait.listening_to(host)
    assert wait.interrupt() == 130
    notices = queue.Queue()  # read in a thread: without the notice, fail, never hang
    threading.Thread(target=lambda: notices.put(host.proc.recv()), daemon=True).start()
    assert notices.get(timeout=WAIT_S) == {"type": "close_signin", "state": "one-flow"}
    assert host.capture("one-flow")["fill_reason"] == "opener"  # the claim went with it

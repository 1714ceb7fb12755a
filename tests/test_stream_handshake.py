"""The event stream's handshake against impostors (PROTOCOL.md, "Local event stream";
SECURITY.md).

A host killed outright leaves its advertise file behind, and another local program
may listen on its port since. The client sends that listener nothing but a random
nonce: the listener must prove it knows the token (an HMAC over the nonce, its own
nonce and the port) before the client says anything else, and the token itself never
crosses the socket. These tests stand such a listener on the advertised port, with no
other check in the way (the client has no /proc check any more, on any OS).
"""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from codecatch import events, stream_client
from codecatch.install import doctor

WAIT_S = 10
TOKEN = "the-dead-hosts-token-" + "k" * 22


class Impostor:
    """A websocket server on a free loopback port that plays a host without knowing its
    token: it answers the upgrade, sends a challenge with `proof(client_nonce,
    server_nonce, port)`, then a hello and a forged capture, and records every header
    and message it is sent."""

    def __init__(self, proof, first=None):
        from websockets.sync.server import serve

        self.proof = proof
        self.first = first  # a first message of its own instead of a challenge
        self.headers = []
        self.messages = []
        self.connections = threading.Semaphore(0)
        self.server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, ws):
        from websockets.exceptions import ConnectionClosed

        self.headers.append(list(ws.request.headers.raw_items()))
        nonce = ws.request.headers.get(events.NONCE_HEADER, "")
        server_nonce = events.new_nonce()
        try:
            ws.send(self.first if self.first is not None else json.dumps({
                "type": "challenge", "stream": events.STREAM_VERSION, "nonce": server_nonce,
                "proof": self.proof(nonce, server_nonce, self.port)}))
            ws.send(json.dumps({"type": "hello", "stream": events.STREAM_VERSION, "pid": os.getpid()}))
            ws.send(json.dumps({"type": "capture", "capture": {
                "capture_id": "forged", "verified": True, "response": {"kind": "code", "code": "forged-code"}}}))
            for message in ws:
                self.messages.append(message)
        except ConnectionClosed:
            pass
        finally:
            self.connections.release()

    def wire(self):
        """Everything the clients sent, as one text."""
        return json.dumps([self.headers, self.messages])

    def close(self):
        self.server.shutdown()
        self.thread.join(WAIT_S)


def random_proof(nonce, server_nonce, port):
    return os.urandom(32).hex()


def knows_token_but(**changed):
    """A proof made with the right token but for another connection: what a relay or a
    replay would have to offer. Bound to its nonces, role and port, it is worth nothing."""
    def make(nonce, server_nonce, port):
        parts = dict(role="server", port=port, client_nonce=nonce, server_nonce=server_nonce)
        parts.update(changed)
        return events.handshake_proof(TOKEN, parts["role"], parts["port"], parts["client_nonce"],
                                      parts["server_nonce"])
    return make


IMPOSTORS = {
    "random proof": random_proof,
    "no proof": lambda nonce, server_nonce, port: "",
    "proof for another port": knows_token_but(port=1),
    "proof for another client nonce": knows_token_but(client_nonce=events.new_nonce()),
    "proof for another server nonce": knows_token_but(server_nonce=events.new_nonce()),
    "the client's proof instead of the host's": knows_token_but(role="client"),
}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("CODECATCH_RUNTIME_DIR", str(run))
    return run


@pytest.fixture
def impostor(request):
    started = []

    def start(proof, first=None):
        fake = Impostor(proof, first)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()


def advertise(run_dir, port, token=TOKEN):
    """The advertise file a killed host left behind; its pid is ours, so it looks alive."""
    path = run_dir / f"host-{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "host": "127.0.0.1", "port": port, "token": token,
                                "stream": events.STREAM_VERSION}))
    path.chmod(0o600)
    return path


# Impostors that do not even try the challenge: what they send first.
OPENINGS = {
    "a hello instead of a challenge": json.dumps({"type": "hello", "stream": events.STREAM_VERSION, "pid": 1}),
    "not JSON": "hello?",
    "a JSON list": "[1, 2]",
}


@pytest.mark.parametrize("kind", sorted(IMPOSTORS) + sorted(OPENINGS))
def test_an_impostor_on_the_advertised_port_never_receives_the_token(run_dir, impostor, kind):
    fake = impostor(IMPOSTORS.get(kind, random_proof), OPENINGS.get(kind))
    advertise(run_dir, fake.port)
    statuses = []
    capture = stream_client.wait_for_capture(timeout=1.5, state="flow-state", claim=True,
                                             on_status=lambda k, a: statuses.append(k), folder=str(run_dir))
    assert capture is None  # the forged capture was never believed
    assert fake.connections.acquire(timeout=WAIT_S)  # the client did connect, then left
    assert "untrusted" in statuses and "connected" not in statuses
    assert fake.messages == []  # no proof, no claim: nothing after the nonce
    assert TOKEN not in fake.wire() and "flow-state" not in fake.wire()
    (headers,) = fake.headers  # tried once, then that advertise file is ignored
    assert not any(name.lower() == "authorization" for name, _ in headers)


def test_the_host_s_own_proof_is_accepted(tmp_path, run_dir):
    # The same client against a real stream: the handshake the impostors fail.
    host = FakeHost()
    stream = events.EventStream(host, str(run_dir)).start()
    assert stream.ready.wait(WAIT_S) and stream.error is None
    try:
        results = stream_client.probe_hosts(timeout=WAIT_S, folder=str(run_dir))
        assert [(ok, message) for _, ok, message in results] == [
            (True, f"host {os.getpid()} answers on 127.0.0.1:{stream.port} (codecatch {events.__version__})")]
    finally:
        stream.stop()


def test_wait_warns_about_the_impostor_and_exits_4(run_dir, impostor):
    fake = impostor(random_proof)
    advertise(run_dir, fake.port)
    result = subprocess.run([sys.executable, "-m", "codecatch.cli", "wait", "--timeout", "1.5"],
                            capture_output=True, text=True, timeout=WAIT_S * 3, env=dict(os.environ))
    assert result.returncode == 4, result.stderr
    assert f"on 127.0.0.1:{fake.port} (host {os.getpid()}), a program on an advertised port could not prove" \
           in result.stderr
    assert result.stderr.count("could not prove") == 1  # warned once, not at every retry
    assert result.stdout == "" and "forged" not in result.stderr
    assert TOKEN not in fake.wire()


def test_doctor_names_the_impostor(run_dir, impostor):
    fake = impostor(random_proof)
    advertise(run_dir, fake.port)
    status, message, fix = doctor.check_event_stream(timeout=2)
    assert status == doctor.FAIL
    assert f"127.0.0.1:{fake.port}" in message and "does not know that host's token" in message
    assert TOKEN not in fake.wire()


class FakeHost:
    subscribers = None

    def claim(self, state):
        pass


def test_a_client_that_never_proves_itself_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "AUTH_TIMEOUT_S", 0.3)
    host = FakeHost()
    stream = events.EventStream(host, str(tmp_path / "run")).start()
    assert stream.ready.wait(WAIT_S) and stream.error is None

    async def silent():
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        async with connect(f"ws://127.0.0.1:{stream.port}/", proxy=None,
                           additional_headers={events.NONCE_HEADER: events.new_nonce()}) as ws:
            challenge = json.loads(await ws.recv())
            assert challenge["type"] == "challenge"
            stream.publish({"type": "capture", "capture": {"capture_id": "c1"}})
            with pytest.raises(ConnectionClosed):
                while True:
                    assert json.loads(await ws.recv())["type"] != "capture"
            return ws.close_code, ws.close_reason

    try:
        assert asyncio.run(asyncio.wait_for(silent(), WAIT_S)) == (events.CLOSE_AUTH, "authentication failed")
        # The host's side finishes closing just after the client has seen the close.
        deadline = time.monotonic() + WAIT_S
        while stream._pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not stream._pending and not stream._clients
    finally:
        stream.stop()


def test_connections_that_never_prove_themselves_cannot_lock_out_a_real_client(tmp_path, monkeypatch):
    """Another local user may open connections without the token and hold them: they
    never take a subscriber's place, and beyond MAX_PENDING the oldest is dropped, so a
    real client still gets in."""
    monkeypatch.setattr(events, "MAX_PENDING", 4)
    monkeypatch.setattr(events, "MAX_CLIENTS", 2)
    host = FakeHost()
    run = tmp_path / "run"
    stream = events.EventStream(host, str(run)).start()
    assert stream.ready.wait(WAIT_S) and stream.error is None

    async def crowd_then_join():
        from websockets.asyncio.client import connect

        squatters = []
        for _ in range(events.MAX_PENDING + 3):
            ws = await connect(f"ws://127.0.0.1:{stream.port}/", proxy=None,
                               additional_headers={events.NONCE_HEADER: events.new_nonce()})
            await ws.recv()  # the challenge; never answered
            squatters.append(ws)
        advert = stream_client.Advert("-", {"pid": os.getpid(), "port": stream.port, "token": stream.token})
        most_pending = len(stream._pending)
        joined = []
        for _ in range(events.MAX_CLIENTS):
            ws, hello = await stream_client._open(advert, WAIT_S)
            assert hello["type"] == "hello"
            joined.append(ws)
        for ws in squatters + joined:
            await ws.close()
        return most_pending, len(joined)

    try:
        most_pending, joined = asyncio.run(asyncio.wait_for(crowd_then_join(), WAIT_S))
        assert most_pending == events.MAX_PENDING  # the oldest made room: held, never piled up
        assert joined == events.MAX_CLIENTS  # every real client got in despite the crowd
    finally:
        stream.stop()


def test_a_host_of_an_older_codecatch_is_named_with_the_fix(run_dir):
    """A stream-1 host (the browser still runs the codecatch from before an update)
    answers 401 to a client without its token: restart the browser, not "no host"."""
    from websockets.sync.server import serve

    def stream_1(connection, request):
        return connection.respond(401, "Refused: no token.\n")

    server = serve(lambda ws: None, "127.0.0.1", 0, process_request=stream_1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        advertise(run_dir, server.socket.getsockname()[1])
        ((_advert, ok, message),) = stream_client.probe_hosts(timeout=WAIT_S, folder=str(run_dir))
    finally:
        server.shutdown()
    assert not ok and "runs an older codecatch (stream 1): restart the browser" in message

"""The host's local event stream: captures and reports over a websocket (PROTOCOL.md,
"Local event stream").

The native host imports this module right after its greeting; the module itself only
needs the standard library's cheap modules. asyncio and websockets (about 86 ms, see
docs/browser-notes.md section 4) are imported in the stream's own daemon thread, which runs
its own event loop, so the browser's requests never wait for them.

The host's main thread hands events over with `loop.call_soon_threadsafe`; each client
has a bounded queue and a client that falls behind is dropped, never waited for.

Security (SECURITY.md; PROTOCOL.md, "Local event stream"): the server binds 127.0.0.1 only, on a port
the OS picks; the port and a random token go into a file only the user can read. The
token itself never crosses the socket: the client sends a fresh nonce in the upgrade
request, the server answers with an HMAC over it (proving it knows the token) and its
own nonce, and only then does the client answer with its own HMAC (`handshake_proof`).
So a program that took over the port of a host killed outright learns nothing from a
client. Any request carrying an `Origin` header, which every browser adds to a page's
websocket, is refused. A client may abandon only a state it claimed on its own
connection (the host then tells the extension to close that flow's sign-in tab).
"""

import atexit
import json
import os
import threading
import time

from . import PROTOCOL_VERSION, __version__
from .hostlog import HostLog

log = HostLog("codecatch-host")

STREAM_VERSION = 2  # the event stream's own protocol number (PROTOCOL.md); 2: the HMAC handshake
BIND_ADDRESS = "127.0.0.1"
MAX_CLIENT_MESSAGE = 4096  # a claim is tiny; anything bigger is a confused or hostile peer
MAX_CLIENTS = 32
QUEUE_LIMIT = 64  # events waiting for one client before it is dropped as too slow
MAX_STATE = 512
RUNTIME_ENV = "CODECATCH_RUNTIME_DIR"
ADVERT_PREFIX = "host-"
NONCE_HEADER = "X-Codecatch-Nonce"  # the client's nonce, in the upgrade request
AUTH_TIMEOUT_S = 2.0  # a client that has not proven itself by then is dropped (a real one takes ms)
MAX_PENDING = 64  # connections still proving themselves; a new one beyond evicts the oldest
_NONCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# Close codes (RFC 6455 section 7.4.1); websockets itself sends 1009 for oversized
# messages and 1001 when the host exits.
CLOSE_UNSUPPORTED = 1003  # a binary message
CLOSE_INVALID = 1007  # not JSON, or not a JSON object
CLOSE_POLICY = 1008  # an unknown message type or an invalid field
CLOSE_TOO_SLOW = 1013  # the client did not keep up; events were dropped
CLOSE_AUTH = 4001  # the client's proof was missing, late or wrong

_running = None  # the EventStream of this process, for stop()


# -- the handshake (both sides) ---------------------------------------------------------


def new_nonce():
    import secrets

    return secrets.token_urlsafe(32)


def valid_nonce(value):
    """A nonce is 22 to 128 URL-safe base64 characters (secrets.token_urlsafe)."""
    return isinstance(value, str) and 22 <= len(value) <= 128 and set(value) <= _NONCE_CHARS


def handshake_proof(token, role, port, client_nonce, server_nonce):
    """HMAC-SHA256 (hex) of the token over both nonces, the side that speaks ("server" or
    "client") and the port: a proof made for one side, connection or port is worth
    nothing for another (PROTOCOL.md, "Local event stream")."""
    import hashlib
    import hmac

    message = "\n".join(("codecatch-stream-2", role, str(port), client_nonce, server_nonce))
    return hmac.new(token.encode("utf-8"), message.encode("ascii"), hashlib.sha256).hexdigest()


def proof_matches(expected, given):
    import hmac

    return isinstance(given, str) and hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


# -- the advertise file -----------------------------------------------------------


class RuntimeDirError(OSError):
    """The runtime folder is not private to this user."""


def runtime_dir():
    """The folder holding one advertise file per running host (created 0700)."""
    path = os.environ.get(RUNTIME_ENV)
    if not path:
        base = os.environ.get("XDG_RUNTIME_DIR")
        if base:
            path = os.path.join(base, "codecatch")
        else:
            import warnings

            import platformdirs

            with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set, falling back to ..."
                warnings.simplefilter("ignore")
                try:
                    path = platformdirs.user_runtime_dir("codecatch", appauthor=False)
                except OSError as exc:
                    # No XDG_RUNTIME_DIR: platformdirs falls back to /tmp/runtime-<uid>,
                    # which another user may have created first.
                    raise RuntimeDirError(f"no private runtime folder ({exc}); set XDG_RUNTIME_DIR "
                                          f"or {RUNTIME_ENV} to a folder only you can write") from None
    return path


def ensure_private_dir(path):
    """Create `path` 0700, or check that an existing one is ours and private."""
    from .files import NotPrivate, private_dir

    try:
        return private_dir(path)
    except NotPrivate as exc:
        raise RuntimeDirError(str(exc)) from None


def advert_path(folder, pid=None):
    return os.path.join(folder, f"{ADVERT_PREFIX}{pid or os.getpid()}.json")


def write_advert(folder, advert):
    """Write the advertise file atomically, mode 0600 from its creation on."""
    ensure_private_dir(folder)
    final = advert_path(folder, advert["pid"])
    temp = os.path.join(folder, f".{ADVERT_PREFIX}{advert['pid']}.{time.monotonic_ns()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(advert, f)
        os.replace(temp, final)
    except BaseException:
        _unlink(temp)
        raise
    return final


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- the server ---------------------------------------------------------------------


class _Client:
    def __init__(self, connection, queue):
        self.connection = connection
        self.queue = queue
        self.dropped = False
        # The states this connection claimed: the only ones it may abandon, so one local
        # program cannot close the sign-ins of another's flows (SECURITY.md).
        self.claims = set()


class EventStream:
    """One host's websocket server. `publish` is the only method other threads call."""

    def __init__(self, host, folder=None):
        self.host = host
        self.folder = folder
        self.token = None
        self.port = None
        self.advert_file = None
        self.ready = threading.Event()  # set once advertised (or failed)
        self.error = None
        self._clients = set()
        self._pending = {}  # open websockets still proving themselves, oldest first (dict order)
        self._loop = None
        self._stop = None
        self._done = threading.Event()
        self._stopping = False

    # -- called from the host's main thread --

    def start(self):
        # A bare daemon thread: threading.Thread.start() waits until the new thread holds
        # the GIL once, which cost the host's first reply about 2 ms (median, measured
        # beside the host's warm-up thread). Like a daemon, it never delays exit.
        import _thread

        _thread.start_new_thread(self._run, ())
        return self

    def publish(self, event):
        """Hand one event to every client. Never blocks; drops it if nobody listens."""
        loop = self._loop
        if loop is None or not self._clients or self._done.is_set():
            return
        # Serialised here, once, so the loop never shares a dict with the host's thread.
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        try:
            loop.call_soon_threadsafe(self._fan_out, text)
        except RuntimeError:  # the loop closed meanwhile (the host is exiting)
            pass

    def stop(self, timeout=0.5):
        """Remove the advertise file, then close the clients (1001) briefly."""
        self._stopping = True
        # A host that exits while the stream is still starting waits for it briefly, so
        # the file is not written after this cleanup ran.
        self.ready.wait(timeout)
        if self.advert_file:
            _unlink(self.advert_file)
            self.advert_file = None
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not self._done.is_set():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                return
            self._done.wait(timeout)

    # -- the stream's own thread --

    def _run(self):
        import asyncio

        try:
            asyncio.run(self._serve())
        except Exception as exc:  # the host keeps capturing and filling without us
            self.error = exc
            log.error("local event stream stopped: %s", exc)
        finally:
            self._done.set()
            self.ready.set()
            if self.advert_file:
                _unlink(self.advert_file)

    async def _serve(self):
        import asyncio
        import logging
        import secrets

        from websockets.asyncio.server import serve

        # websockets logs every frame and header at DEBUG level; frames carry codes and
        # the handshake carries the token: its logger never goes below INFO.
        wire_log = logging.getLogger("codecatch.events.wire")
        wire_log.setLevel(logging.INFO)
        self.folder = self.folder or runtime_dir()
        self.token = secrets.token_urlsafe(32)
        self._stop = asyncio.Event()
        server = await serve(
            self._handle,
            BIND_ADDRESS,
            0,  # the OS picks a free port
            process_request=self._check_request,
            compression=None,
            max_size=MAX_CLIENT_MESSAGE,
            max_queue=4,
            close_timeout=1,
            # A local client sends its handshake at once; one that does not (a local
            # user holding sockets open) is dropped after 2 s instead of websockets' 10.
            open_timeout=2,
            server_header=None,
            logger=wire_log,
        )
        try:
            self.port = server.sockets[0].getsockname()[1]
            self._loop = asyncio.get_running_loop()
            self.advert_file = write_advert(self.folder, {
                "pid": os.getpid(),
                "host": BIND_ADDRESS,
                "port": self.port,
                "token": self.token,
                "stream": STREAM_VERSION,
                "protocol": PROTOCOL_VERSION,
                "version": __version__,
                "started_at": int(time.time() * 1000),
            })
            if self._stopping:
                return
            self.host.subscribers = self
            self.ready.set()
            log.debug("local event stream on %s:%d", BIND_ADDRESS, self.port)
            await self._stop.wait()
        finally:
            self.host.subscribers = None
            server.close()  # 1001 going away to every client
            await server.wait_closed()

    def _check_request(self, connection, request):
        """Refuse web pages, old clients and crowds before the websocket opens."""
        headers = request.headers
        if headers.get_all("Origin"):
            return connection.respond(403, "Refused: a request with an Origin header (a web page) may not subscribe.\n")
        nonces = headers.get_all(NONCE_HEADER)
        if not nonces:
            # A stream-1 client sends its token in an Authorization header instead.
            return connection.respond(426, f"Refused: this host speaks stream {STREAM_VERSION}, which needs a "
                                           f"{NONCE_HEADER} header and never takes the token itself: "
                                           "update codecatch.\n")
        if len(nonces) != 1 or not valid_nonce(nonces[0]):
            return connection.respond(400, f"Refused: {NONCE_HEADER} must be 22 to 128 URL-safe base64 characters.\n")
        if len(self._clients) >= MAX_CLIENTS:
            return connection.respond(503, "Refused: too many subscribers.\n")
        return None

    async def _authenticate(self, connection):
        """Prove the token to the client, then take its proof; False to drop it."""
        import asyncio

        client_nonce = connection.request.headers[NONCE_HEADER]
        server_nonce = new_nonce()
        await connection.send(json.dumps({
            "type": "challenge", "stream": STREAM_VERSION, "nonce": server_nonce,
            "proof": handshake_proof(self.token, "server", self.port, client_nonce, server_nonce),
        }))
        try:
            answer = json.loads(await asyncio.wait_for(connection.recv(), AUTH_TIMEOUT_S))
        except (asyncio.TimeoutError, ValueError, TypeError):
            answer = None
        expected = handshake_proof(self.token, "client", self.port, client_nonce, server_nonce)
        if not (isinstance(answer, dict) and answer.get("type") == "auth"
                and proof_matches(expected, answer.get("proof"))):
            log.warning("refused a local subscriber that did not prove it knows the token")
            await connection.close(CLOSE_AUTH, "authentication failed")
            return False
        return True

    async def _handle(self, connection):
        import asyncio

        from websockets.exceptions import ConnectionClosed

        # Connections that have not proven themselves never take a subscriber's place, and
        # cannot crowd out a real client either: beyond MAX_PENDING the oldest is dropped,
        # and a real client proves itself within a round trip.
        if len(self._pending) >= MAX_PENDING:
            oldest = next(iter(self._pending))
            self._pending.pop(oldest)
            asyncio.get_running_loop().create_task(oldest.close(CLOSE_AUTH, "authentication failed"))
        self._pending[connection] = None
        try:
            if not await self._authenticate(connection):
                return
        except ConnectionClosed:
            return
        finally:
            self._pending.pop(connection, None)
        client = _Client(connection, asyncio.Queue(maxsize=QUEUE_LIMIT))
        client.queue.put_nowait(json.dumps({
            "type": "hello", "stream": STREAM_VERSION, "protocol": PROTOCOL_VERSION,
            "version": __version__, "pid": os.getpid(),
        }))
        self._clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            async for message in connection:
                problem = self._on_message(client, message)
                if problem:
                    await connection.close(*problem)
                    break
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            sender.cancel()

    def _on_message(self, client, message):
        """Act on one client message; return (close code, reason) to end the connection."""
        if isinstance(message, bytes):
            return CLOSE_UNSUPPORTED, "binary messages are not accepted"
        try:
            request = json.loads(message)
        except ValueError:
            return CLOSE_INVALID, "not JSON"
        if not isinstance(request, dict):
            return CLOSE_INVALID, "a message must be a JSON object"
        kind = request.get("type")
        if kind not in ("claim", "abandon"):
            return CLOSE_POLICY, f"unknown message type {str(kind)[:40]!r}"[:120]
        state = request.get("state")
        if not isinstance(state, str) or not 0 < len(state) <= MAX_STATE:
            return CLOSE_POLICY, f"'state' must be a string of 1 to {MAX_STATE} characters"
        request_id = request.get("id")
        if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, (str, int))):
            return CLOSE_POLICY, "'id' must be a string or an integer"
        # The state is the flow's secret: never logged.
        if kind == "claim":
            self.host.claim(state)
            client.claims.add(state)
            log.info("a local subscriber claimed a capture")
            self._enqueue(client, json.dumps({"type": "claimed", "id": request_id, "state": state}))
            return None
        if state not in client.claims:
            log.warning("refused a local subscriber's abandon of a state it did not claim")
            return CLOSE_POLICY, "'state' was not claimed on this connection"
        client.claims.discard(state)
        told = self.host.abandon(state)
        log.info("a local subscriber abandoned its flow; the extension %s", "was told" if told else "is not connected")
        self._enqueue(client, json.dumps({"type": "abandoned", "id": request_id, "state": state}))
        return None

    def _fan_out(self, text):
        for client in list(self._clients):
            self._enqueue(client, text)

    def _enqueue(self, client, text):
        import asyncio

        if client.dropped:
            return
        try:
            client.queue.put_nowait(text)
        except asyncio.QueueFull:
            client.dropped = True
            self._clients.discard(client)
            log.warning("dropped a local subscriber that did not keep up")
            asyncio.get_running_loop().create_task(
                client.connection.close(CLOSE_TOO_SLOW, "too slow: events were dropped"))

    async def _send_loop(self, client):
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await client.connection.send(await client.queue.get())
        except ConnectionClosed:
            pass


def start_in_thread(host, folder=None):
    """Start the stream for `host` in a daemon thread; return at once."""
    global _running
    stream = EventStream(host, folder)
    _running = stream
    return stream.start()


def stop():
    """Called when the host exits: the advertise file must not outlive the process."""
    global _running
    stream, _running = _running, None
    if stream is not None:
        stream.stop()


# nativehost.main() calls stop() on its way out; atexit covers an embedding that does
# not. A host ended by a signal leaves its file behind: clients clean it (dead pid).
atexit.register(stop)

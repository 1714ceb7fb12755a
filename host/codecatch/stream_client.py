"""The local event stream's client side: find running hosts, subscribe to all of them.

Used by `codecatch watch`, `codecatch wait` and `codecatch login` (PROTOCOL.md,
"Local event stream"). Each browser runs its own host, so a client follows every
advertise file in the runtime folder and keeps rescanning it: a host started after
the client is picked up within `SCAN_INTERVAL_S`. Stale files (the process is gone)
are removed.

Nothing here prints: the commands pass callbacks. asyncio and websockets are imported
only when a subscription starts.
"""

import json
import os
import re
import stat
import time

from . import events

SCAN_INTERVAL_S = 0.25
CONNECT_TIMEOUT_S = 2.0
RETRY_AFTER_S = 1.0  # a host whose connection failed is tried again this much later
READY_TIMEOUT_S = 3.0  # how long the first scan waits for hosts to acknowledge claims
ABANDON_TIMEOUT_S = 2.0  # how long Ctrl-C waits for hosts to acknowledge an abandon
MAX_EVENT = 2 * 1024 * 1024  # a capture is at most about 1 MiB (the native cap)


class StreamError(Exception):
    """The event stream cannot be used (for example the runtime folder is not private)."""


# -- discovery (plain functions over the file system) --------------------------------


class Advert:
    """One running host, as its advertise file describes it."""

    def __init__(self, path, data):
        self.path = path
        self.pid = data["pid"]
        self.port = data["port"]
        self.token = data["token"]
        self.stream = data.get("stream")
        self.version = data.get("version")
        self.started_at = data.get("started_at")

    @property
    def key(self):
        return (self.pid, self.port, self.token)

    @property
    def url(self):
        # Always loopback, whatever the file says: the token never leaves the machine.
        return f"ws://{events.BIND_ADDRESS}:{self.port}/"

    def __repr__(self):
        return f"Advert(pid={self.pid}, port={self.port})"


def pid_alive(pid):
    if os.name == "nt":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Alive, but another user's: our host runs as us, so the pid was reused and the
        # port may now belong to someone else. Never hand them the token.
        return False
    return True


def check_private(folder):
    """Refuse a runtime folder (or file) another user could write: it could point us at
    a fake host that hands out forged codes or collects claimed states."""
    if os.name != "posix":
        return
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise StreamError(f"{folder} is not a private folder of this user (it must be 0700 and yours); "
                          "codecatch will not trust advertise files there.")


def _folder(folder):
    """The given runtime folder, or the default one; StreamError when none can be had."""
    try:
        return folder or events.runtime_dir()
    except OSError as exc:  # RuntimeDirError: no private folder to be had
        raise StreamError(f"the hosts' runtime folder cannot be used: {exc}") from None


def _check_folder(folder):
    """The runtime folder, refused (StreamError) when it cannot be found or trusted."""
    check = _folder(folder)
    if os.path.isdir(check):
        check_private(check)
    return check


class ImpostorError(StreamError):
    """The program on an advertised port could not prove it knows the host's token."""


async def _open(advert, timeout, max_size=MAX_EVENT):
    """Connect to one advertised host and run the stream's handshake; return the open
    websocket and the host's hello. Raises ImpostorError when the listener cannot prove
    it knows the token: a host killed outright leaves its advertise file, and another
    program may take its port since. The token never crosses the socket; such a
    listener sees one random nonce (PROTOCOL.md, "Local event stream")."""
    import asyncio
    import logging

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    wire_log = logging.getLogger("codecatch.stream.wire")
    wire_log.setLevel(logging.INFO)  # websockets logs frames (codes) at DEBUG

    client_nonce = events.new_nonce()
    try:
        ws = await connect(
            advert.url,
            additional_headers={events.NONCE_HEADER: client_nonce},
            proxy=None,  # never through a proxy from the environment
            compression=None,
            max_size=max_size,
            open_timeout=timeout,
            close_timeout=1,
            user_agent_header=None,
            logger=wire_log,
        )
    except InvalidStatus as exc:
        if exc.response.status_code == 401:  # a stream-1 host: it wants the token itself
            raise StreamError(f"host {advert.pid} runs an older codecatch (stream 1): restart the browser so "
                              "that it starts the codecatch installed now") from None
        raise
    try:
        try:
            challenge = _json_object(await asyncio.wait_for(ws.recv(), timeout))
        except ValueError:
            challenge = {}
        if challenge.get("type") == "challenge" and challenge.get("stream") != events.STREAM_VERSION:
            raise StreamError(f"host {advert.pid} speaks stream {challenge.get('stream')!r}, "
                              f"not {events.STREAM_VERSION}: update codecatch")
        server_nonce = challenge.get("nonce")
        expected = None
        if challenge.get("type") == "challenge" and events.valid_nonce(server_nonce):
            expected = events.handshake_proof(advert.token, "server", advert.port, client_nonce, server_nonce)
        # Anything but a challenge with the right proof, garbage included, is not our host.
        if expected is None or not events.proof_matches(expected, challenge.get("proof")):
            raise ImpostorError(f"the program on 127.0.0.1:{advert.port}, the port host {advert.pid} advertised, "
                                "does not know that host's token (the host was stopped and another program "
                                "took its port): not trusted, and nothing was sent to it")
        await ws.send(json.dumps({"type": "auth", "proof": events.handshake_proof(
            advert.token, "client", advert.port, client_nonce, server_nonce)}))
        hello = _json_object(await asyncio.wait_for(ws.recv(), timeout))
        if hello.get("type") != "hello":
            raise StreamError(f"host {advert.pid} sent {str(hello.get('type'))[:40]!r} instead of its hello")
    except BaseException:
        await ws.close()
        raise
    return ws, hello


def _json_object(message):
    value = json.loads(message)
    if not isinstance(value, dict):
        raise ValueError("a stream message must be a JSON object")
    return value


def discover(folder=None, clean=True):
    """The advertise files of running hosts, oldest first; stale ones are removed."""
    folder = _folder(folder)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    except OSError as exc:  # a folder we may not read
        raise StreamError(f"the hosts' runtime folder cannot be used: {exc}") from None
    check_private(folder)
    found = []
    for name in names:
        if not (name.startswith(events.ADVERT_PREFIX) and name.endswith(".json")):
            continue
        path = os.path.join(folder, name)
        advert = _read_advert(path)
        if advert is None:
            continue
        if not pid_alive(advert.pid):
            if clean:
                _unlink(path)
            continue
        found.append(advert)
    found.sort(key=lambda a: (a.started_at or 0, a.pid))
    return found


def _read_advert(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        if os.name == "posix" and os.fstat(f.fileno()).st_uid != os.getuid():
            return None
        try:
            data = json.load(f)
        except ValueError:
            return None
    valid = (
        isinstance(data, dict)
        and isinstance(data.get("pid"), int) and data["pid"] > 0
        and isinstance(data.get("port"), int) and 0 < data["port"] < 65536
        and isinstance(data.get("token"), str) and data["token"]
    )
    return Advert(path, data) if valid else None


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# -- presenting events (pure) ----------------------------------------------------------

_CODE_IN_URL = re.compile(r"([?&#]code=)([^&#]*)")


def redact_url(url):
    return _CODE_IN_URL.sub(lambda m: m.group(1) + m.group(2)[:6] + "\u2026", url) if url else url


def redact_event(event):
    """A copy of a stream event with the code cut to its redacted prefix everywhere."""
    event = json.loads(json.dumps(event))
    capture = event.get("capture")
    if isinstance(capture, dict):
        response = capture.get("response") or {}
        if response.get("code") is not None:
            response["code"] = None  # never a look-alike a script could take for the code
        for holder, name in ((response, "original_uri"), (response, "https_url"), (capture, "https_url")):
            if isinstance(holder.get(name), str):
                holder[name] = redact_url(holder[name])
        fill = capture.get("fill")
        if isinstance(fill, dict) and isinstance(fill.get("value"), str):
            fill["value"] = redact_url(fill["value"]) if fill.get("value_kind") == "url" else None
    return event


def describe_event(event, reveal=False):
    """One line for `codecatch watch`."""
    clock = time.strftime("%H:%M:%S")
    if event.get("type") == "report":
        detail = f" ({event['detail']})" if event.get("detail") else ""
        return f"{clock}  report   {event.get('capture_id')}: {event.get('outcome')}{detail}"
    capture = event.get("capture") or {}
    response = capture.get("response") or {}
    parts = [clock, " capture", capture.get("capture_id", "?")]
    if response.get("kind") == "code":
        parts.append("code " + (response["code"] if reveal else response.get("code_redacted") or "?"))
    else:
        parts.append(f"error {response.get('error')}" + (f" {response['aadsts']}" if response.get("aadsts") else ""))
    if response.get("state") is not None:
        parts.append(f"state {response['state']}")
    if response.get("app"):
        parts.append(response["app"])
    parts.append(f"fill: {capture.get('fill_reason')}")
    parts.append(f"host {event.get('host_pid')}")
    return "  ".join(str(p) for p in parts)


# -- the subscription (asyncio) ---------------------------------------------------------


class Subscription:
    """Follow every running host; `await next_event()` yields captures and reports.

        async with Subscription(claims=[state]) as sub:
            await sub.ready()           # claims acknowledged by the hosts found
            event = await sub.next_event(timeout=30)

    Status changes go to `on_status(kind, advert)`: "connected" (subscribed, every claim
    acknowledged), "lost" (that host went away), "no_hosts" (none to follow) and
    "untrusted" (the program on an advertised port could not prove it knows the token:
    said once, and that advertise file is ignored from then on).
    """

    def __init__(self, folder=None, claims=(), on_status=None, scan_interval=SCAN_INTERVAL_S):
        self.folder = folder
        self.claims = [c for c in claims if c]
        self.on_status = on_status or (lambda kind, advert: None)
        self.scan_interval = scan_interval
        self.connected = {}  # advert key -> Advert
        self._sockets = {}  # advert key -> the open websocket, once its claims are sent
        self._acks = {}  # id of an abandon -> the future its `abandoned` resolves
        self._next_ack = 0
        self.last_error = {}  # advert key -> why the last connection failed (for doctor-like use)
        self._tasks = {}
        self._retry_at = {}
        self._settled = {}
        self._untrusted = set()  # advert keys whose listener failed the handshake

    async def __aenter__(self):
        import asyncio

        self._queue = asyncio.Queue()
        self._first_scan = asyncio.Event()
        self._scanner = asyncio.create_task(self._scan_forever())
        return self

    async def __aexit__(self, *exc):
        import asyncio

        self.on_status = lambda kind, advert: None  # leaving: no more news for the caller
        tasks = [self._scanner, *self._tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def ready(self, timeout=READY_TIMEOUT_S):
        """Wait until the hosts found by the first scan are connected and have
        acknowledged every claim (or failed, or `timeout` passed)."""
        import asyncio

        try:
            await asyncio.wait_for(self._first_scan.wait(), timeout)
            pending = [e.wait() for e in self._settled.values()]
            if pending:
                await asyncio.wait_for(asyncio.gather(*pending), timeout)
        except asyncio.TimeoutError:
            pass
        if not self.connected:
            self.on_status("no_hosts", None)
        return len(self.connected)

    async def next_event(self, timeout=None):
        """The next capture or report from any host; None when `timeout` passes."""
        import asyncio

        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def abandon(self, state, timeout=ABANDON_TIMEOUT_S):
        """Give up the flow of `state`: every host this subscription claimed it on drops
        the claim and tells its extension to close that flow's sign-in tab (PROTOCOL.md,
        "Local event stream"). Returns how many hosts acknowledged within `timeout`; a
        host that is gone or silent costs at most that."""
        import asyncio

        if state not in self.claims:
            return 0
        self.claims.remove(state)  # a host found from now on is not claimed for it either
        waiting = []
        for ws in list(self._sockets.values()):
            self._next_ack += 1
            ack_id = f"abandon-{self._next_ack}"
            future = asyncio.get_running_loop().create_future()
            self._acks[ack_id] = future
            try:
                await asyncio.wait_for(ws.send(json.dumps({"type": "abandon", "state": state, "id": ack_id})), timeout)
            except Exception:  # closed, or stuck: that host cannot be told
                self._acks.pop(ack_id, None)
                continue
            waiting.append(future)
        if not waiting:
            return 0
        done, _ = await asyncio.wait(waiting, timeout=timeout)
        for future in waiting:
            if not future.done():
                future.cancel()
        return sum(1 for f in done if not f.cancelled())

    async def _scan_forever(self):
        import asyncio

        while True:
            now = time.monotonic()
            try:
                adverts = discover(self.folder)
            except (OSError, StreamError):
                adverts = []  # checked before subscribing; a folder gone or changed meanwhile
            for advert in adverts:
                task = self._tasks.get(advert.key)
                if task is not None and not task.done():
                    continue
                if now < self._retry_at.get(advert.key, 0):
                    continue
                self._settled[advert.key] = asyncio.Event()
                self._tasks[advert.key] = asyncio.create_task(self._follow(advert))
            self._first_scan.set()
            await asyncio.sleep(self.scan_interval)

    def _settle(self, advert, settled):
        # "connected" means subscribed with every claim acknowledged: from now on this
        # host publishes to us and will not fill a claimed capture.
        if not settled.is_set():
            settled.set()
            self.on_status("connected", advert)

    async def _follow(self, advert):
        import asyncio

        from websockets.exceptions import ConnectionClosed, WebSocketException

        settled = self._settled[advert.key]
        was_connected = False
        try:
            ws, _hello = await _open(advert, CONNECT_TIMEOUT_S)
            async with ws:
                waiting = set()
                claimed = list(self.claims)
                for n, state in enumerate(claimed):
                    await ws.send(json.dumps({"type": "claim", "state": state, "id": n}))
                    waiting.add(n)
                self.connected[advert.key] = advert
                self._sockets[advert.key] = ws
                for state in claimed:  # abandoned while its claim was on its way here
                    if state not in self.claims:
                        await ws.send(json.dumps({"type": "abandon", "state": state}))
                was_connected = True
                self.last_error.pop(advert.key, None)
                if not waiting:
                    self._settle(advert, settled)
                async for message in ws:
                    event = json.loads(message)
                    if not isinstance(event, dict):
                        continue
                    if event.get("type") == "claimed":
                        waiting.discard(event.get("id"))
                        if not waiting:
                            self._settle(advert, settled)
                    elif event.get("type") == "abandoned":
                        future = self._acks.pop(event.get("id"), None)
                        if future is not None and not future.done():
                            future.set_result(True)
                    elif event.get("type") in ("capture", "report"):
                        event["host_pid"] = advert.pid
                        self._queue.put_nowait(event)
        except (OSError, asyncio.TimeoutError, WebSocketException, ValueError, StreamError) as exc:
            self.last_error[advert.key] = exc if not isinstance(exc, ConnectionClosed) else None
            if isinstance(exc, ImpostorError) and advert.key not in self._untrusted:
                self._untrusted.add(advert.key)
                self.on_status("untrusted", advert)
        finally:
            settled.set()  # failed or closed: nothing more to wait for here
            self._sockets.pop(advert.key, None)
            # An impostor's advertise file is ignored from now on (a restarted host writes
            # a new one); any other failure is tried again shortly.
            self._retry_at[advert.key] = float("inf") if advert.key in self._untrusted else \
                time.monotonic() + RETRY_AFTER_S
            if self.connected.pop(advert.key, None) is not None and was_connected:
                self.on_status("lost", advert)
                if not self.connected:
                    self.on_status("no_hosts", None)


# -- blocking helpers for the CLI and `login` -------------------------------------------


def _matches(event, state):
    if event.get("type") != "capture":
        return False
    if state is None:
        # Without a state of its own, a script takes only what Microsoft produced
        # (the host publishes an unverified capture only to the client that claimed it).
        return event["capture"].get("verified", True) is not False
    return (event["capture"].get("response") or {}).get("state") == state


async def _wait(timeout, state, claim, on_ready, on_status, folder, in_flight=None):
    import asyncio

    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    claims = [state] if (claim and state) else []
    async with Subscription(folder, claims=claims, on_status=on_status) as sub:
        if in_flight is not None and claims:
            in_flight.add(state, asyncio.get_running_loop(), sub)
        try:
            await sub.ready(READY_TIMEOUT_S if timeout is None else min(READY_TIMEOUT_S, timeout))
            if on_ready:
                on_ready()
            while True:
                left = None if deadline is None else deadline - asyncio.get_running_loop().time()
                if left is not None and left <= 0:
                    return None
                event = await sub.next_event(left)
                if event is None:
                    return None
                if _matches(event, state):
                    return event
        except asyncio.CancelledError:
            # Ctrl-C during one sign-in (`codecatch login`, `wait --claim`): its flow is
            # abandoned, so the extension closes its sign-in tab; a batch does this itself
            # for all its flows (InFlight). A second Ctrl-C cuts it short.
            if claims and in_flight is None:
                try:
                    await asyncio.wait_for(sub.abandon(state), ABANDON_TIMEOUT_S + 0.5)
                except (Exception, asyncio.CancelledError):
                    pass
            raise
        finally:
            if in_flight is not None and claims:
                in_flight.remove(state)


def wait_for_event(timeout=None, state=None, claim=False, on_ready=None, on_status=None, folder=None,
                   in_flight=None):
    """Block until the next capture event (with `state`, if given); None on timeout.

    With `claim`, the state is claimed on every host (now and any that starts later)
    so the extension does not fill that capture into a panel. `on_ready()` is called
    once the hosts running now have acknowledged the claim. `in_flight` (an InFlight)
    holds the subscription while it waits, so another thread can abandon the flow.
    """
    import asyncio

    _check_folder(folder)
    return asyncio.run(_wait(timeout, state, claim, on_ready, on_status, folder, in_flight))


def wait_for_capture(timeout=None, state=None, claim=False, on_ready=None, on_status=None, folder=None,
                     in_flight=None):
    """As `wait_for_event`, but return the capture result itself (it holds "response");
    the event's `source` and `host_pid` are kept under those names."""
    event = wait_for_event(timeout, state, claim, on_ready, on_status, folder, in_flight)
    if event is None:
        return None
    return dict(event["capture"], source=event.get("source"), host_pid=event.get("host_pid"))


class InFlight:
    """The claimed flows whose waits are under way, each in its own thread's event loop
    (batch sign-ins run one per worker thread): what Ctrl-C abandons.

        in_flight = InFlight()
        # workers: wait_for_capture(..., claim=True, in_flight=in_flight)
        # Ctrl-C, in the main thread:
        asked, told = in_flight.abandon_all()
    """

    def __init__(self):
        import threading

        self._lock = threading.Lock()
        self._waits = {}  # state -> (event loop, Subscription)

    def add(self, state, loop, subscription):
        with self._lock:
            self._waits[state] = (loop, subscription)

    def remove(self, state):
        with self._lock:
            self._waits.pop(state, None)

    def __len__(self):
        with self._lock:
            return len(self._waits)

    def abandon_all(self, timeout=ABANDON_TIMEOUT_S):
        """Abandon every flow in flight, each in its own loop; return (flows, flows at
        least one host acknowledged). Bounded by `timeout` altogether: a host that is
        gone or silent, or a wait that ended meanwhile, never holds the caller longer."""
        import asyncio
        import concurrent.futures

        with self._lock:
            waits = list(self._waits.items())
        futures = []
        for state, (loop, subscription) in waits:
            coro = subscription.abandon(state, timeout)
            try:
                futures.append(asyncio.run_coroutine_threadsafe(coro, loop))
            except RuntimeError:  # that wait ended and its loop closed meanwhile
                coro.close()
        done, not_done = concurrent.futures.wait(futures, timeout=timeout + 0.5)
        for future in not_done:
            future.cancel()
        told = sum(1 for f in done if not f.cancelled() and f.exception() is None and f.result())
        return len(waits), told


async def _watch(on_event, on_status, folder):
    async with Subscription(folder, on_status=on_status) as sub:
        await sub.ready()
        while True:
            on_event(await sub.next_event())


def watch(on_event, on_status=None, folder=None):
    """Call `on_event(event)` for every capture and report until interrupted."""
    import asyncio

    _check_folder(folder)
    asyncio.run(_watch(on_event, on_status, folder))


# -- a one-shot check of the running hosts (for `codecatch doctor`) ---------------------


async def _probe_one(advert, timeout):
    try:
        ws, hello = await _open(advert, timeout)
        await ws.close()
    except ImpostorError as exc:
        return advert, False, str(exc)
    except Exception as exc:  # any failure is the answer: refused, timed out, garbage
        return advert, False, f"host {advert.pid} on 127.0.0.1:{advert.port} did not answer ({exc.__class__.__name__}: {exc})"
    return advert, True, f"host {advert.pid} answers on 127.0.0.1:{advert.port} (codecatch {hello.get('version')})"


def probe_hosts(timeout=2.0, folder=None):
    """[(advert, ok, message)] for every advertised running host. Raises StreamError
    when the runtime folder is not private."""
    import asyncio

    adverts = discover(folder)
    if not adverts:
        return []

    async def run():
        return await asyncio.gather(*(_probe_one(a, timeout) for a in adverts))

    return list(asyncio.run(run()))

"""`codecatch-host`: the native-messaging host the browser starts (PROTOCOL.md).

Start-up is kept cheap (the first capture should not wait for it): only the standard
library modules this file needs are imported here; msal and websockets never are,
and the event stream starts in a thread after the greeting has gone out.
"""

import os
import sys
import threading
import time

from . import protocol
from .errors import CodecatchError
from .hostlog import HostLog

log = HostLog("codecatch-host")

_SOURCE_FIELDS = {
    "channel": str,
    "page_url": str,
    "frame_url": str,
    "tab_id": int,
    "frame_id": int,
    "opener_tab_id": int,
    "opener_url": str,
    "armed_tab_id": int,
    "armed_url": str,
    "observed_at": int,
    "opener_by_page": bool,
    "opener_origin": str,
    "proof": str,
    "flow": str,
    "flow_via": str,
    "flow_started_at": int,
    "armed_origin": str,
    "armed_at": int,
    "armed_until": int,
}
_OUTCOMES = {"filled", "no_field", "no_permission", "tab_gone", "copied", "failed"}
_REREAD = object()  # a config stamp that forces the next read


def _warm_up(done, host):
    """Import what requests need, then start the event stream: off the critical path
    of the first reply, and in one thread.

    Requests wait for the imports (`done`), and the stream, which imports websockets
    and asyncio, starts only after them: two threads importing the same modules at once
    can meet in the middle, and Python then hands one of them a partially initialised
    module ("cannot import name … most likely due to a circular import"). Seen in full
    test runs under load, between a request and the warm-up, then between the warm-up
    and the stream's start. Waiting costs a request no more than importing them itself.
    """
    try:
        from . import capture, clouds, config, fill, redirect  # noqa: F401
        import hashlib, secrets  # noqa: E401,F401
        config.warm_up()
    except Exception as exc:  # the request that needs a module imports it again, and says why
        log.debug("warm-up import failed: %s: %s", type(exc).__name__, exc)
    finally:
        done.set()
    _start_event_stream(host)


class Host:
    """The host's state and request handlers. I/O-free apart from the config file."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._config = None
        self._config_stamp = None
        self._problem_stamp = object()  # the stamp of the last unusable file we warned about
        self._memory = None  # capture.Memory: URIs seen (as hashes) and claims; made on first use
        self._lock = threading.Lock()
        self.subscribers = None  # the local event stream, when running
        self.to_browser = None  # writes a notice to the extension (serve's FrameWriter.write)
        self.handlers = {
            "ping": self.ping,
            "parse": self.parse,
            "capture": self.capture,
            "config.get": self.config_get,
            "config.set": self.config_set,
            "report": self.report,
        }

    # -- dispatch -------------------------------------------------------------

    def handle_frame(self, body):
        """One frame in, one reply out (a dict). Never raises."""
        request_id = None
        try:
            request_id, request = protocol.decode_request(body)
            handler = self.handlers.get(request["type"])
            if handler is None:
                raise CodecatchError(
                    "unknown_type",
                    f"Unknown request type '{request['type'][:40]}': update codecatch "
                    f"(this host speaks protocol {protocol.PROTOCOL_VERSION}).",
                )
            return protocol.result_reply(request_id, handler(request))
        except protocol.ProtocolError as exc:
            return protocol.error_reply(exc.request_id, exc.name, exc.message, exc.field)
        except CodecatchError as exc:
            return protocol.error_reply(request_id, exc.name, exc.message, exc.field)
        except Exception:  # a bug must not end the conversation
            log.exception("internal error handling a request")
            return protocol.error_reply(request_id, "internal", "Internal error in codecatch-host; see the browser's log of the host.")

    # -- requests ---------------------------------------------------------------

    def ping(self, request):
        return {"pong": True, "protocol": protocol.PROTOCOL_VERSION, "version": protocol.__version__}

    def parse(self, request):
        from . import redirect

        return redirect.parse(protocol.field(request, "text", str))

    def capture(self, request):
        """Admission, timing, de-duplication and claims are `capture`'s (pure); the fill
        decision is `fill`'s. Here: the state, the lock, the configuration, the log."""
        import secrets

        from . import capture as judging, redirect
        from .fill import decide_fill, is_proven

        uri = protocol.field(request, "uri", str).strip()
        source = _checked_source(request)
        response = redirect.analyse(uri)
        refused = judging.refusal(source)
        if refused is not None:
            if refused.name == "framed_signin":
                log.warning("refused a capture via %s from a framed sign-in page (frame %s)",
                            source.get("channel"), source.get("frame_id"))
            else:
                log.warning("refused a capture via %s from a page that is not a Microsoft sign-in host",
                            source.get("channel"))
            raise refused
        now = self.clock()
        with self._lock:
            self._memory, judged = judging.judge(self._memory or judging.Memory(), uri, response, source, now)
        config = self.config()
        fill, reason = decide_fill(response, source, config, claimed=judged.claimed, duplicate=judged.duplicate,
                                   expired=judged.expired, now_ms=int(now * 1000))
        result = {
            "capture_id": secrets.token_hex(8),
            "response": response,
            "https_url": response["https_url"],
            "captured_at": int(judged.captured * 1000),
            "expires_at": int(judged.expires * 1000),
            "duplicate": judged.duplicate,
            "verified": is_proven(source),
            # A local client (codecatch login) claimed this flow's state: the capture is
            # theirs, and the sign-in tab has done its job (the extension closes it).
            "claimed": judged.claimed,
            "fill": fill,
            "fill_reason": reason,
        }
        log.info(
            "capture %s via %s: %s %s, fill: %s",
            result["capture_id"], source.get("channel"), response["kind"],
            response["code_redacted"] or response["aadsts"] or response["error"], reason,
        )
        # A capture nothing proves Microsoft produced reaches local subscribers only when
        # its state was claimed: the flow of the client that claimed it (PROTOCOL.md).
        if judging.is_published(judged, result["verified"]):
            self.publish({"type": "capture", "capture": result, "source": source})
        return result

    def config(self):
        """The configuration, read again when the file changed: another browser's host
        (options page) or the CLI may have saved it since."""
        from . import config

        try:
            stamp = os.stat(config.config_path()).st_mtime_ns
        except OSError:
            stamp = None
        if self._config is None or stamp != self._config_stamp:
            loaded, problem = config.load()
            if not problem:
                self._config, self._config_stamp = loaded, stamp
            else:
                # Keep the last good rules rather than the defaults (auto_fill on, no
                # panels): a read can fail for a moment (no file descriptors left), and a
                # file broken by hand should not change what a running host does.
                # The stamp is not taken, so the next capture reads the file again.
                if stamp != self._problem_stamp:
                    kept = "keeping the rules read before" if self._config is not None else "using the defaults"
                    log.warning("%s; %s until it can be read", problem, kept)
                    self._problem_stamp = stamp
                if self._config is None:
                    self._config = loaded
                self._config_stamp = _REREAD  # matches no stamp (not even None, a missing file)
        return self._config

    def config_get(self, request):
        from . import config

        return dict(self.config(), path=config.config_path())

    def config_set(self, request):
        from . import config

        saved = config.save(protocol.field(request, "config", dict))
        self._config = None  # read back (and its stamp taken) on next use
        return dict(saved, path=config.config_path())

    def report(self, request):
        capture_id = protocol.field(request, "capture_id", str)
        outcome = protocol.field(request, "outcome", str)
        if outcome not in _OUTCOMES:
            raise CodecatchError("invalid_field", f"'outcome' must be one of {', '.join(sorted(_OUTCOMES))}.",
                                 field="outcome")
        detail = protocol.field(request, "detail", str, required=False)
        saved = protocol.field(request, "saved", bool, required=False)  # the panel rule's save button
        log.info("capture %s: %s%s", capture_id[:16], outcome, "" if saved is None else f" (saved: {saved})")
        event = {"type": "report", "capture_id": capture_id, "outcome": outcome, "detail": detail}
        if saved is not None:
            event["saved"] = saved
        self.publish(event)
        return {}

    # -- the local event stream's side ------------------------------------------

    def claim(self, state, ttl_s=None):
        """A local client claims the capture with this state: it is not filled
        (for `capture.CLAIM_TTL_S` unless `ttl_s` says otherwise)."""
        from . import capture as judging

        with self._lock:
            now = self.clock()
            self._memory = judging.claim(self._memory or judging.Memory(), state, now,
                                         judging.CLAIM_TTL_S if ttl_s is None else ttl_s)

    def abandon(self, state):
        """The local client that claimed `state` gave its flow up (Ctrl-C in `codecatch
        login`): its claim goes, and the extension is told to close that flow's sign-in
        tab (PROTOCOL.md, "Notices"). Called from the event stream's thread; the events
        module checked that this client claimed `state` on its connection."""
        from . import capture as judging

        with self._lock:
            self._memory = judging.drop_claim(self._memory or judging.Memory(), state)
        return self.notify({"type": "close_signin", "state": state})

    def notify(self, notice):
        """Send a notice (a message that answers no request) to the extension; False
        when there is no browser to send it to."""
        if self.to_browser is None:
            return False
        try:
            self.to_browser(notice)
        except (OSError, ValueError):  # the browser closed the port (or the file) meanwhile
            log.debug("could not send a %s notice: the browser has gone", notice.get("type"))
            return False
        return True

    def publish(self, event):
        if self.subscribers is not None:
            try:
                self.subscribers.publish(event)
            except Exception:
                log.exception("could not publish an event to local subscribers")


def _checked_source(request):
    source = protocol.field(request, "source", dict)
    clean = {}
    for name, kind in _SOURCE_FIELDS.items():
        value = source.get(name)
        if value is None:
            continue
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise CodecatchError("invalid_field", f"'source.{name}' must be a {kind.__name__}.",
                                 field=f"source.{name}")
        clean[name] = value
    return clean


# -- the process ---------------------------------------------------------------


def _guard_stdout():
    """Keep the real stdout for frames only; anything else printed goes to stderr.

    A stray print on fd 1 would corrupt the framed stream (Plasma's host does the same).
    """
    frames = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return frames


_stream_lock = threading.Lock()  # the stream's start and stop never overlap
_stream_stopped = threading.Event()  # set once the host is ending: a late start does nothing


def _start_event_stream(host):
    """Start the local websocket stream in a thread (issue 7), after the greeting."""
    if os.environ.get("CODECATCH_EVENTS", "1") == "0":
        return
    with _stream_lock:
        if _stream_stopped.is_set():
            return
        try:
            from . import events
        except ImportError:
            return
        try:
            events.start_in_thread(host)  # imports websockets in its own daemon thread
        except Exception:
            log.exception("the local event stream could not start; captures still work")


def _stop_event_stream():
    """Remove the stream's advertise file before the process ends (issue 7). Waits for
    a start under way, so the events module is never seen half imported."""
    with _stream_lock:
        _stream_stopped.set()
        events = sys.modules.get(f"{__package__}.events")
        if events is not None:
            events.stop()


class FrameWriter:
    """The one way to the browser: replies from the main thread, notices from the event
    stream's. Each frame goes out in one locked write, so two threads never interleave
    their bytes in the framed stream."""

    def __init__(self, frames):
        self._frames = frames
        self._lock = threading.Lock()

    def write(self, message):
        data = memoryview(protocol.encode_frame(message))
        with self._lock:
            while data:  # an unbuffered write may take part of a frame (a signal meanwhile)
                data = data[self._frames.write(data):]


def serve(stdin, frames, host=None):
    """Serve frames until the stream ends; return the exit status."""
    host = host or Host()
    writer = FrameWriter(frames)
    writer.write(protocol.hello())
    host.to_browser = writer.write
    warmed = threading.Event()
    threading.Thread(target=_warm_up, args=(warmed, host), name="warm-up", daemon=True).start()
    while True:
        try:
            body = protocol.read_frame(stdin)
        except protocol.StreamEnded as end:
            if end.status:
                log.error("closing: %s", end.reason)
            else:
                log.debug("closing: %s", end.reason)
            return end.status
        except protocol.FrameTooLarge as exc:  # dropped unread: refuse it and go on
            log.warning("dropped a frame of %d bytes (over the %d-byte limit)", exc.length, protocol.MAX_IN)
            reply = protocol.error_reply(None, exc.name, exc.message)
        else:
            warmed.wait(10)  # bounded: a stuck import must not stop the host
            reply = host.handle_frame(body)
        writer.write(reply)


def _exit_on(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    try:
        import _signal as signal  # the C module behind `signal`, without its enums (0.5 ms)
    except ImportError:
        import signal

    # SIGTERM (logout, shutdown, a browser killing its host) and SIGHUP end the host
    # through `finally`, so the event stream's advertise file goes with it: a stale one
    # names a port that anyone may bind later.
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit_on)
    frames = _guard_stdout()
    # Chrome passes the caller's origin, Firefox the manifest path and add-on id.
    log.debug("started for %s", " ".join(sys.argv[1:]) or "an unnamed caller")
    try:
        status = serve(sys.stdin.buffer, frames)
    except BrokenPipeError:
        status = 0  # the browser closed the port while we were writing
    except KeyboardInterrupt:
        status = 130
    finally:
        _stop_event_stream()
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Drive a real `codecatch-host` process through its frames (shared by tests)."""

import os
import signal
import subprocess
import sys

from codecatch import protocol


def sigint_as_in_a_terminal():
    """`preexec_fn` for a child a test will interrupt with SIGINT (Ctrl-C).

    A command typed in a terminal starts with SIGINT at its default. A test suite started
    in the background of a non-interactive shell (`pytest &` in a script, two suites run
    side by side, some CI wrappers) inherits SIGINT *ignored* (POSIX: "If job control is
    disabled, ... the signals SIGINT and SIGQUIT shall be ignored" for an asynchronous
    list), and exec keeps an ignored signal ignored. Python then installs no
    KeyboardInterrupt handler, asyncio.run() none either, and the child never sees the
    test's Ctrl-C: the test would wait out its timeout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def host_command():
    # The console script next to this interpreter (not a PATH shim).
    candidate = os.path.join(os.path.dirname(sys.executable), "codecatch-host")
    return [candidate] if os.path.exists(candidate) else [sys.executable, "-m", "codecatch.nativehost"]


def frame(obj):
    """A request as a frame: an object is encoded, bytes (a malformed body) are framed as they are."""
    return protocol.frame(obj) if isinstance(obj, bytes) else protocol.encode_request(obj)


class HostProcess:
    def __init__(self, env=None, args=()):
        self.proc = subprocess.Popen(
            host_command() + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env,
        )

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj):
        self.send_raw(frame(obj))

    def recv(self):
        message = protocol.read_message(self.proc.stdout)
        assert message is not None, f"host closed stdout; stderr: {self.proc.stderr.read().decode()}"
        return message

    def request(self, obj):
        self.send(obj)
        return self.recv()

    def close(self, timeout=10):
        """Close stdin; return (exit status, remaining stdout bytes, stderr text)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        out = self.proc.stdout.read()
        status = self.proc.wait(timeout=timeout)
        return status, out, self.proc.stderr.read().decode()


def wait_for_advert(folder, timeout=10):
    """Wait until a running host advertises its event stream in `folder`."""
    import time

    from codecatch import stream_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.isdir(folder) and stream_client.discover(folder):
            return
        time.sleep(0.05)
    raise AssertionError("the host never advertised its event stream")

#!/usr/bin/env python3
"""Spawn-to-first-reply of `codecatch-host`, beside a bare Python echo host.

Both hosts are spawned the way a browser spawns one: a fresh process from an
executable path, a `ping` frame written to its stdin at once, and the clock stopped
when the reply to that ping has been read (codecatch-host's greeting, which comes
first, is read on the way). The baseline is a minimal host in the same interpreter
that reads one frame and echoes it back (imports sys, struct, json only): the floor
any Python host pays. Runs alternate between the hosts so drift on a noisy machine
hits both alike.

    python bench/host_startup.py [--runs 40] [--host PATH]

Target (issue 2): median(codecatch-host) / median(echo) <= 1.5.
"""

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ECHO_HOST = """\
import json, struct, sys
n = struct.unpack('=I', sys.stdin.buffer.read(4))[0]
msg = json.loads(sys.stdin.buffer.read(n))
out = json.dumps({"id": msg["id"], "ok": True, "result": {"pong": True}}).encode()
sys.stdout.buffer.write(struct.pack('=I', len(out)) + out)
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
"""


def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack("=I", len(body)) + body


def read_frame(stream):
    header = stream.read(4)
    if len(header) < 4:
        raise RuntimeError("host closed its stdout before replying")
    (n,) = struct.unpack("=I", header)
    return json.loads(stream.read(n))


def spawn_to_reply(argv, env):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    proc.stdin.write(frame({"id": 1, "type": "ping"}))
    proc.stdin.flush()
    while True:
        message = read_frame(proc.stdout)
        if message.get("id") == 1:
            break
    elapsed = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=10)
    return elapsed * 1000


def default_host():
    # The real console script next to this interpreter, not a PATH shim (pyenv's
    # shims are shell scripts that would add their own start-up to the figure).
    candidate = os.path.join(os.path.dirname(sys.executable), "codecatch-host")
    return candidate if os.path.exists(candidate) else shutil.which("codecatch-host")


def summary(samples):
    q = statistics.quantiles(samples, n=20)
    return {
        "median": statistics.median(samples),
        "p5": q[0],
        "p95": q[-1],
        "stdev": statistics.stdev(samples),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--host", default=default_host())
    args = parser.parse_args()
    if not args.host:
        sys.exit("codecatch-host not found: pip install . first")

    tmp = tempfile.mkdtemp(prefix="cc-bench-")
    echo = os.path.join(tmp, "echo_host.py")
    with open(echo, "w") as f:
        f.write(ECHO_HOST)
    env = dict(os.environ, CODECATCH_RUNTIME_DIR=os.path.join(tmp, "run"), CODECATCH_CONFIG_DIR=os.path.join(tmp, "cfg"))
    env.pop("CODECATCH_LOG_LEVEL", None)
    variants = {
        "echo host (baseline)": ([sys.executable, echo], env),
        "codecatch-host": ([args.host], env),
        "codecatch-host, no stream": ([args.host], dict(env, CODECATCH_EVENTS="0")),
    }
    results = {name: [] for name in variants}
    for argv, e in variants.values():  # warm the page cache once each
        spawn_to_reply(argv, e)
    for _ in range(args.runs):
        for name, (argv, e) in variants.items():
            results[name].append(spawn_to_reply(argv, e))
    shutil.rmtree(tmp, ignore_errors=True)

    base = statistics.median(results["echo host (baseline)"])
    print(f"spawn to first reply, {args.runs} runs each, interleaved ({args.host})")
    print(f"{'':28} {'median':>8} {'p5':>8} {'p95':>8} {'stdev':>8} {'ratio':>7}")
    for name, samples in results.items():
        s = summary(samples)
        print(f"{name:28} {s['median']:7.1f}ms {s['p5']:7.1f}ms {s['p95']:7.1f}ms {s['stdev']:7.1f}ms {s['median'] / base:6.2f}x")
    ratio = statistics.median(results["codecatch-host"]) / base
    print(f"ratio codecatch-host / echo host: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`codecatch login` over N tenants: wall time with --parallel 1 and --parallel 4 in the
same run, and codecatch's own time per tenant beyond the identity provider's.

Real parts: the CLI command (in this process, stdout to a pipe: plain lines), MSAL,
a real `codecatch-host` with its event stream (each sign-in claims its state there and
receives its capture from it), one token cache file per tenant. Stand-ins: the mock
identity provider of tests/idp.py, which holds every authorize answer back --delay
seconds (a provider, and a user's browser, that take their time), and a "browser"
(webbrowser.open replaced) that follows the authorization URL and sends the host the
`capture` frame the extension would send (PROTOCOL.md).

A tenant's overhead is its time in the report minus that browser's round trip for its
sign-in (the provider's delay, measured), i.e. everything codecatch does around it:
the cache, the OpenID configuration, the subscription and claim, the capture through
the host, redeeming the code, writing the cache.

    python bench/batch_login.py [--tenants 50] [--delay 0.5] [--runs 3]

Each run does --parallel 1 then --parallel 4 (alternating, so both see the same machine);
the figures are the median over the runs with their range, and the per-tenant overhead
is pooled over every tenant of every run.

Targets (issue 16): wall(--parallel 1) / wall(--parallel 4) >= 3, and the median
overhead <= 200 ms per tenant.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from hostproc import HostProcess, wait_for_advert  # noqa: E402
from idp import MockIdP, Tenant  # noqa: E402

SIGNIN = "login.microsoftonline.com"


def run_batch(idp, host, ca, tenants, parallel, workdir):
    """One `codecatch login` over `tenants`; (wall seconds, report rows, browser seconds by tenant)."""
    import webbrowser

    from codecatch import cli

    session = idp.session(ca)
    host_lock = threading.Lock()
    browser_s = {}

    def fake_open(url, *args, **kwargs):
        # The browser: the provider's answer (after its delay), then the extension's frame.
        tenant = urllib.parse.urlsplit(url).path.split("/")[1]
        direct = url.replace(f"https://{SIGNIN}/", f"https://{idp.host}/", 1)

        def browse():
            started = time.perf_counter()
            uri = session.get(direct, allow_redirects=False).headers["Location"]
            browser_s[tenant] = time.perf_counter() - started
            with host_lock:
                reply = host.request({"id": 1, "type": "capture", "uri": uri, "source": {
                    "channel": "webrequest", "proof": "redirect", "tab_id": 7, "frame_id": 0, "flow": "signin",
                    "page_url": url}})
            assert reply["ok"] and reply["result"]["fill_reason"] == "claimed", reply

        threading.Thread(target=browse, daemon=True).start()
        return True

    tenant_file = os.path.join(workdir, "tenants.txt")
    with open(tenant_file, "w", encoding="utf-8") as f:
        f.write("\n".join(tenants) + "\n")
    report = os.path.join(workdir, f"report-{parallel}.json")
    args = ["login", "--client", "teams-powershell", "--authority-host", idp.host, "--ca-bundle", ca,
            "--tenant-file", tenant_file, "--cache-dir", os.path.join(workdir, f"caches-{parallel}"),
            "--parallel", str(parallel), "--prompt", "none", "--report", report, "--timeout", "60"]
    real_open, webbrowser.open = webbrowser.open, fake_open
    out = io.StringIO()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            cli.main(args, standalone_mode=False)
    except SystemExit as exc:
        status = exc.code
    else:
        status = 0
    finally:
        webbrowser.open = real_open
    wall = time.perf_counter() - started
    with open(report, encoding="utf-8") as f:
        rows = json.load(f)["tenants"]
    if status != 0 or any(r["outcome"] != "signed_in" for r in rows):
        raise SystemExit(f"the batch failed (exit {status}):\n{out.getvalue()}")
    return wall, rows, browser_s


def spread(values):
    return f"median {statistics.median(values) * 1000:6.0f} ms  (p10 {quantile(values, 0.1) * 1000:.0f}, " \
           f"p90 {quantile(values, 0.9) * 1000:.0f}, max {max(values) * 1000:.0f})"


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5, help="the provider's delay per sign-in (s)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each configuration")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="codecatch-bench-") as tmp:
        runtime = os.path.join(tmp, "run")
        os.mkdir(runtime, 0o700)
        os.makedirs(os.path.join(tmp, "config"))
        os.environ.update(CODECATCH_RUNTIME_DIR=runtime, CODECATCH_CONFIG_DIR=os.path.join(tmp, "config"),
                          CODECATCH_EVENTS="1")
        tenants = [f"customer{n:02d}.test" for n in range(args.tenants)]
        host = HostProcess(env=dict(os.environ))
        try:
            assert host.recv()["type"] == "hello"
            wait_for_advert(runtime)
            with MockIdP(hostnames=("127.0.0.1", "localhost", SIGNIN), authorize_host=SIGNIN,
                         tenants=[Tenant(t) for t in tenants], delay_s=args.delay) as idp:
                ca = idp.ca_file(tmp)
                results = {1: [], 4: []}
                for run in range(args.runs):
                    for parallel in (1, 4):
                        work = os.path.join(tmp, f"run{run}")
                        os.makedirs(work, exist_ok=True)
                        results[parallel].append(run_batch(idp, host, ca, tenants, parallel, work))
        finally:
            host.close()

    print(f"codecatch login over {args.tenants} tenants, provider delay {args.delay:g} s per sign-in, "
          f"{args.runs} runs of each")
    walls = {}
    for parallel, runs in results.items():
        walls[parallel] = [wall for wall, _rows, _browser in runs]
        overhead = [r["seconds"] - browser_s[r["tenant"]] for _wall, rows, browser_s in runs for r in rows]
        provider = [s for _wall, _rows, browser_s in runs for s in browser_s.values()]
        print(f"  --parallel {parallel}: wall median {statistics.median(walls[parallel]):6.2f} s "
              f"(range {min(walls[parallel]):.2f}-{max(walls[parallel]):.2f}; "
              f"{statistics.median(walls[parallel]) / args.tenants * 1000:.0f} ms per tenant)")
        print(f"      provider (browser round trip) {spread(provider)}")
        print(f"      codecatch's own per tenant    {spread(overhead)}")
    speedups = [one / four for one, four in zip(walls[1], walls[4], strict=True)]
    own = statistics.median(r["seconds"] - browser_s[r["tenant"]] for _wall, rows, browser_s in results[1]
                            for r in rows)
    print(f"speed-up 4-way over 1-way: median {statistics.median(speedups):.2f}x "
          f"(range {min(speedups):.2f}-{max(speedups):.2f}; target >= 3)")
    print(f"codecatch's own time per tenant, median at --parallel 1: {own * 1000:.0f} ms (target <= 200)")


if __name__ == "__main__":
    main()

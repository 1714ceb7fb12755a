#!/usr/bin/env python3
"""Click-to-field-filled latency of codecatch, beside the floor, in a real headless
browser with the real extension and host (installed by `codecatch install`) against
the mock sign-in and panel (codecatch.mocksite).

    python bench/capture_latency.py [-n 20] [--style 302 --style cmsi] [--json FILE]

What is measured, per sign-in (all stamps are milliseconds since the epoch, taken as
close to the event as possible; same machine, so the clocks agree to well under 1 ms):

- click: the user's last action. For the 302 style that is the click on the panel's
  "get Authorization Code" link (the panel page stamps it in its own click listener);
  for Confirm-My-Sign-In it is the click on Continue (the sign-in page stamps it and
  posts the stamp with the form).
- navigation (the floor): the moment the custom-scheme navigation exists, with no
  native round trip and no extension work. For 302, the moment the mock finished
  writing the 302 response (the browser cannot learn of the redirect earlier). For
  Confirm-My-Sign-In, the page's own Navigation API `navigate` listener in the
  /appverify page, which fires when its inline `document.location.replace(...)` runs;
  that is the earliest any script can observe it.
- filled: the panel page's own `input` event listener on the Authorization Code field
  (the extension sets the value, then dispatches `input` and `change`).

`floor` = navigation - click; `filled` = filled - click; `overhead` = filled - navigation
for each sign-in: the cost of everything codecatch adds (capture channel, message to
the background, native round trip to the host, fill via scripting). Medians and 95th
percentiles (nearest rank) over N sign-ins per style, after 2 unrecorded warm-ups.
The overhead is split at `observed`, the moment the extension's capture channel saw
the redirect (its `received_at`, from the status message): before it, the browser's
own delivery of the event (webRequest, the content script's message); after it,
what codecatch does (native round trip to the host, the fill via scripting).
Every sign-in runs in a fresh panel tab (Chromium swallows trusted clicks in a tab that
showed the "Open xdg-open?" prompt, docs/browser-notes.md section 3).

Browsers are columns: RUNNERS maps a browser name to a runner with the same
`signin(style) -> Sample` method, so a Firefox runner (issue 5) adds a column without
changing the method.
"""

import argparse
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite import MockSite
from codecatch.mocksite import browser as mockbrowser
from codecatch.mocksite.panel import AUTH_FIELD_ID, SIGNIN_LINK_ID

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the Firefox runner alone needs no Playwright
    PlaywrightTimeout = TimeoutError

STYLES = ("302", "cmsi")
POLL_S = 0.1  # how often the runner looks for the page's stamps
METRICS = ("floor", "total", "overhead", "delivery", "extension")
WARMUP = 2


@dataclasses.dataclass
class Sample:
    style: str
    click: float
    navigation: float
    filled: float
    observed: float = math.nan  # when the extension's capture channel saw the redirect

    @property
    def floor(self):
        return self.navigation - self.click

    @property
    def total(self):
        return self.filled - self.click

    @property
    def overhead(self):
        return self.filled - self.navigation

    @property
    def delivery(self):
        return self.observed - self.navigation

    @property
    def extension(self):
        return self.filled - self.observed


class ChromiumRunner:
    name = "chromium"

    def __init__(self, site, executable, workdir, timeout=10.0):
        self.site, self.timeout = site, timeout
        from playwright.sync_api import sync_playwright

        source = mockbrowser.repo_root()
        if source is None:
            sys.exit("run the benchmark from a codecatch source tree")
        extension = mockbrowser.prepare_extension(source, workdir / "extension")
        env = mockbrowser.isolated_env(workdir / "env")
        mockbrowser.install_host(workdir / "profile", env)
        self._pw = sync_playwright().start()
        self.context = self._pw.chromium.launch_persistent_context(
            str(workdir / "profile"), **mockbrowser.launch_options(site, extension, executable, env=env))
        if not any(CHROMIUM_EXTENSION_ID in w.url for w in self.context.service_workers):
            self.context.wait_for_event("serviceworker", timeout=10_000,
                                        predicate=lambda w: CHROMIUM_EXTENSION_ID in w.url)
        # The extension's status straight from its service worker: no popup page left
        # open (it refreshes itself every second) to compete with what is measured.
        self._worker = next(w for w in self.context.service_workers if CHROMIUM_EXTENSION_ID in w.url)
        self._wait(lambda: self._status().get("connection", {}).get("state") == "connected",
                   "the extension never connected to the host")

    def _status(self):
        return self._worker.evaluate("globalThis.codecatch.status()") or {}

    def signin(self, style):
        panel = self.context.new_page()
        signin = None
        try:
            panel.goto(self.site.panel_url("panel.test", outcome=style), wait_until="load")
            state = panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")
            # The panel page logs each event it records (mocksite/panel.html): waiting for
            # that console message leaves the panel's renderer alone until the fill is in.
            filled_event = panel.expect_console_message(
                lambda m: m.text == f"mock-event input {AUTH_FIELD_ID}", timeout=self.timeout * 1000)
            with filled_event:
                if style == "cmsi":
                    with self.context.expect_page(timeout=self.timeout * 1000) as info:
                        panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
                    signin = info.value
                    signin.wait_for_selector("#idSIButton9")
                    signin.click("#idSIButton9", no_wait_after=True)
                else:
                    panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
            filled = self._input_at(panel)
            issued = self.site.issued_for_state(state)[-1]
            if style == "cmsi":
                click = issued.clicked_at
                navigation = signin.evaluate("window.__mockNavigateAt || null") or issued.responded_at
            else:
                click = next(e["at"] for e in panel.evaluate("window.__mockEvents")
                             if e["type"] == "click")
                navigation = issued.responded_at
            if panel.evaluate(f"document.getElementById('{AUTH_FIELD_ID}').value") != issued.https_url:
                raise RuntimeError("the field holds something other than what the sign-in issued")
            latest = self._status()["latest"]
            return Sample(style, click, navigation, filled, latest.get("received_at") or math.nan)
        except PlaywrightTimeout:
            raise RuntimeError(f"{style}: the field was not filled within {self.timeout:.0f} s") from None
        finally:
            for page in (signin, panel):
                if page is not None and not page.is_closed():
                    page.close()

    def _input_at(self, panel):
        return next((e["at"] for e in panel.evaluate("window.__mockEvents || []")
                     if e["type"] == "input" and e["target"] == AUTH_FIELD_ID), None)

    def _wait(self, predicate, message):
        # Every stamp is taken inside the pages, so how often we look only decides when
        # we notice; looking every 10 ms kept the panel's renderer busy with our own
        # evaluate calls, slowing the very fill being measured (2-core machine). The
        # Chromium runner no longer polls during a sign-in (the console message above).
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(POLL_S)
        raise RuntimeError(message)

    def close(self):
        self.context.close()
        self._pw.stop()


class FirefoxRunner:
    """The same method in Firefox ESR (Selenium + geckodriver, the recipe of
    tests/e2e/firefox_driver.py). URLs carry the mock's port (no remapping in Firefox).
    Firefox's Navigation API does not fire `navigate` for the custom scheme, so the
    Confirm-My-Sign-In floor is the mock's send time of the /appverify page: a little
    earlier than the script's navigation, so Firefox's cmsi overhead is slightly
    overstated, never understated."""
    name = "firefox"

    def __init__(self, site, executable, workdir, timeout=10.0):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from e2e.firefox_driver import FirefoxDriver, install_host_firefox, launch_firefox

        self.site, self.timeout = site, timeout
        source = mockbrowser.repo_root()
        if source is None:
            sys.exit("run the benchmark from a codecatch source tree")
        extension = mockbrowser.prepare_extension(source, workdir / "extension")
        env = mockbrowser.isolated_env(workdir / "env")
        install_host_firefox(env, mockbrowser.codecatch_command())
        self._launch = launch_firefox(executable, extension, site.hostnames, env)
        self.wd, _ = self._launch.__enter__()
        self.driver = FirefoxDriver(self.wd, extension)
        self._wait(lambda: self.driver.extension_status().get("connection", {}).get("state") == "connected",
                   "the extension never connected to the host")

    def signin(self, style):
        d, wd = self.driver, self.wd
        panel = d.open_panel(self.site.panel_url("panel.test", with_port=True, outcome=style))
        signin = None
        try:
            state = d.link_state(panel)
            signin = d.click_signin(panel, want_tab=True)
            if style == "cmsi":
                d.click_continue(signin)
            filled = self._wait(lambda: self._input_at(panel), f"{style}: the field was not filled")
            issued = self.site.issued_for_state(state)[-1]
            if style == "cmsi":
                click, navigation = issued.clicked_at, issued.responded_at
            else:
                click = next(e["at"] for e in d.page_events(panel) if e["type"] == "click")
                navigation = issued.responded_at
            if d.field_value(panel) != issued.https_url:
                raise RuntimeError("the field holds something other than what the sign-in issued")
            latest = d.extension_status()["latest"]
            return Sample(style, click, navigation, filled, latest.get("received_at") or math.nan)
        finally:
            for handle in (signin, panel):
                if handle in wd.window_handles:
                    wd.switch_to.window(handle)
                    wd.close()
            wd.switch_to.window(wd.window_handles[0])

    def _input_at(self, panel):
        return next((e["at"] for e in self.driver.page_events(panel)
                     if e["type"] == "input" and e["target"] == AUTH_FIELD_ID), None)

    _wait = ChromiumRunner._wait

    def close(self):
        self._launch.__exit__(None, None, None)


def default_executable(name, explicit=None):
    if name == "firefox":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from e2e.firefox_driver import find_firefox
        return find_firefox()
    return explicit or mockbrowser.find_chromium_family()[2]


RUNNERS = {"chromium": ChromiumRunner, "firefox": FirefoxRunner}


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summarize(samples):
    out = {}
    for metric in METRICS:
        values = [getattr(s, metric) for s in samples]
        if any(math.isnan(v) for v in values):
            continue
        out[metric] = {"median": statistics.median(values), "p95": p95(values)}
    out["n"] = len(samples)
    return out


def table(results):
    """results: {browser: {style: summary}} -> text, one column per browser."""
    browsers = list(results)
    label = {"floor": "floor: click -> navigation", "total": "click -> field filled",
             "overhead": "codecatch overhead (filled - navigation)",
             "delivery": "  of which: browser -> extension sees it",
             "extension": "  of which: extension -> field (host, fill)"}
    lines = [f"{'':46}" + "".join(f"{b:>22}" for b in browsers),
             f"{'':46}" + "".join(f"{'median / p95 ms':>22}" for _ in browsers)]
    styles = sorted({s for r in results.values() for s in r}, key=STYLES.index)
    for style in styles:
        n = "/".join(str(results[b][style]["n"]) for b in browsers if style in results[b])
        lines.append(f"{'302 redirect' if style == '302' else 'Confirm My Sign-In'} (n={n})")
        for metric in METRICS:
            cells = []
            for b in browsers:
                m = results[b].get(style, {}).get(metric)
                cells.append(f"{m['median']:8.1f} / {m['p95']:7.1f}" if m else f"{'-':>19}")
            lines.append(f"  {label[metric]:44}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="sign-ins per style (default 20)")
    parser.add_argument("--style", action="append", choices=STYLES, help="default: both")
    parser.add_argument("--browser", action="append", choices=sorted(RUNNERS),
                        help="default: every browser with a runner")
    parser.add_argument("--executable", help="Chromium-family executable (default: found; "
                        "Firefox: $CODECATCH_FIREFOX or /usr/bin/firefox-esr)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw samples as JSON")
    args = parser.parse_args(argv)
    styles = args.style or list(STYLES)
    results, raw = {}, {}
    with MockSite() as site:
        for name in args.browser or list(RUNNERS):
            executable = default_executable(name, args.executable)
            with tempfile.TemporaryDirectory(prefix="codecatch-bench-") as tmp:
                runner = RUNNERS[name](site, executable, Path(tmp))
                try:
                    results[name], raw[name] = {}, {}
                    for style in styles:
                        for _ in range(WARMUP):
                            runner.signin(style)
                        samples = [runner.signin(style) for _ in range(args.n)]
                        results[name][style] = summarize(samples)
                        raw[name][style] = [dataclasses.asdict(s) for s in samples]
                        print(f"{name} {style}: {args.n} sign-ins done", file=sys.stderr)
                finally:
                    runner.close()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": results, "samples": raw}, indent=2))


if __name__ == "__main__":
    main()

"""`codecatch demo`: the whole flow, end to end, in a headless browser against the
built-in mock sign-in and panel pages (codecatch.mocksite), narrated step by step.

Nothing here touches the user's own browser profiles or configuration: the browser
gets a throwaway profile, HOME and config folder, and the host is registered in that
profile by the real installer (`codecatch install --user-data-dir`).

The library never prints: `run(say=...)` reports each step through `say(text)`.
"""

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from .mocksite.browser import wait_for

STYLES = {
    "302": "the sign-in answers 302 to the custom-scheme redirect URI",
    "cmsi": "the \"Confirm My Sign-In\" page; Continue leads to a script navigation",
}


class DemoError(Exception):
    """Something the user must fix; the message says what."""


def redact_value(value):
    """The field's value with the code shown as its first 6 characters and its length."""
    def redact(m):
        code = m.group(2)
        return f"{m.group(1)}{code[:6]}…({len(code)} chars)"
    return re.sub(r"([?#&]code=)([^&#]+)", redact, value)


class _Clock:
    def __init__(self, say):
        self.say = say
        self.t0 = time.monotonic()
        self.last = self.t0

    def step(self, text):
        now = time.monotonic()
        self.say(f"[{(now - self.t0) * 1000:7.0f} ms] (+{(now - self.last) * 1000:5.0f} ms) {text}")
        self.last = now


def run(say, styles=("302", "cmsi"), browser=None, headless=True, timeout=15.0):
    """Run the demo; returns a list of {style, value, elapsed_ms}. Raises DemoError."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        from .install.doctor import LOCKED_INSTALL

        raise DemoError(f"the demo needs Playwright and trustme: in your codecatch clone, {LOCKED_INSTALL}") from exc
    from .identity import CHROMIUM_EXTENSION_ID
    from .mocksite import MockSite
    from .mocksite import browser as mockbrowser
    from .mocksite.panel import AUTH_FIELD_ID, SIGNIN_LINK_ID

    clock = _Clock(say)
    try:
        label, install_name, executable = mockbrowser.find_chromium_family(browser)
    except mockbrowser.BrowserNotFound as exc:
        raise DemoError(str(exc)) from exc
    clock.step(f"browser: {label} ({executable})")
    source = mockbrowser.repo_root()
    if source is None:
        raise DemoError("the demo loads the extension from codecatch's source tree "
                        "(manifest.json and extension/), which this installation lacks: "
                        "run it inside a clone of codecatch (cd codecatch && codecatch demo).")

    results = []
    with tempfile.TemporaryDirectory(prefix="codecatch-demo-") as tmp, MockSite() as site:
        tmp = Path(tmp)
        clock.step(f"mock sign-in and panel serving TLS on 127.0.0.1:{site.port} as "
                   "login.microsoftonline.com and panel.test")
        extension = mockbrowser.prepare_extension(source, tmp / "extension")
        clock.step(f"extension copied from {source}, with https://panel.test/* granted")
        env = mockbrowser.isolated_env(tmp / "env")
        profile = tmp / "profile"
        try:
            manifest = mockbrowser.install_host(profile, env, browser=install_name)
        except RuntimeError as exc:
            raise DemoError(f"installing the host failed: {exc}") from exc
        clock.step(f"host registered by `codecatch install` in a throwaway profile: {manifest}")
        if not headless and os.name == "posix" and sys.platform != "darwin" and not (
                os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise DemoError("--headed needs a display (DISPLAY or WAYLAND_DISPLAY is not set); "
                            "run it in a desktop session, under xvfb-run, or without --headed")
        with sync_playwright() as pw:
            try:
                context = pw.chromium.launch_persistent_context(
                    str(profile), timeout=timeout * 1000, **mockbrowser.launch_options(
                        site, extension, executable, headless=headless, env=env))
            except PlaywrightError as exc:
                raise DemoError(f"{label} did not start: {str(exc).splitlines()[0]}") from exc
            try:
                if not any(CHROMIUM_EXTENSION_ID in w.url for w in context.service_workers):
                    context.wait_for_event("serviceworker", timeout=timeout * 1000,
                                           predicate=lambda w: CHROMIUM_EXTENSION_ID in w.url)
                clock.step(f"{label} started headless={headless}; the extension's service worker is up")
                status_page = context.new_page()
                status_page.goto(f"chrome-extension://{CHROMIUM_EXTENSION_ID}/{_popup(extension)}")
                connection = wait_for(lambda: _connection(status_page, "connected"), timeout)
                if not connection:
                    raise DemoError("the extension did not reach the native host: "
                                    + json.dumps(_status(status_page).get("connection")))
                host = connection.get("host") or {}
                clock.step(f"extension connected to {host.get('host')} {host.get('version')} "
                           f"(protocol {host.get('protocol')})")
                for style in styles:
                    results.append(_one_signin(context, site, style, clock, timeout, status_page,
                                               AUTH_FIELD_ID, SIGNIN_LINK_ID))
            finally:
                context.close()
        clock.step("browser closed, mock stopped, throwaway profile removed")
    return results


def _one_signin(context, site, style, clock, timeout, status_page, field_id, link_id):
    say = clock.step
    say(f"--- sign-in ending in {style}: {STYLES[style]}")
    panel = context.new_page()
    panel.goto(site.panel_url("panel.test", outcome=style))
    say("panel: MachPanel's Edit Tenant page open on https://panel.test")
    clicked = time.monotonic()  # a fallback only: the pages' own stamps are sharper
    if style == "cmsi":
        with context.expect_page(timeout=timeout * 1000) as info:
            panel.click(f"#{link_id}", no_wait_after=True)
        signin = info.value
        signin.wait_for_selector("#idSIButton9", timeout=timeout * 1000)
        say("sign-in tab shows \"Are you trying to sign in to Teams PowerShell?\"; pressing Continue")
        clicked = time.monotonic()
        signin.click("#idSIButton9", no_wait_after=True)
    else:
        panel.click(f"#{link_id}", no_wait_after=True)
        say("clicked \"Click here to get Authorization Code\": the sign-in opens in a new tab")
    value = wait_for(lambda: panel.evaluate(f"document.getElementById('{field_id}').value"), timeout)
    elapsed = _page_elapsed(panel, site, style, field_id)
    if elapsed is None:
        elapsed = (time.monotonic() - clicked) * 1000
    if not value:
        status = _status(status_page)
        raise DemoError("the field was not filled within "
                        f"{timeout:g} s; the extension says: {json.dumps(status.get('latest'))}")
    issued = site.issued[-1]
    say(f"mock sign-in issued code {issued.code_redacted}; the extension captured it and the "
        f"host rewrote the scheme")
    match = "matches" if value == issued.https_url else "DOES NOT match"
    say(f"panel field filled {elapsed:.0f} ms after the click ({match} what the sign-in issued)")
    say(f"Authorization Code field: {redact_value(value)}")
    panel.close()
    return {"style": style, "value": value, "elapsed_ms": elapsed}


def _page_elapsed(panel, site, style, field_id):
    """Click to the field's `input` event, both stamped by the pages themselves (the
    panel records its events; the Confirm page posts when Continue was pressed)."""
    events = panel.evaluate("window.__mockEvents || []")
    filled = next((e["at"] for e in events if e["type"] == "input" and e["target"] == field_id), None)
    if style == "cmsi":
        clicked = site.issued[-1].clicked_at if site.issued else None
    else:
        clicked = next((e["at"] for e in events if e["type"] == "click"), None)
    return filled - clicked if filled and clicked else None


def _popup(extension):
    manifest = json.loads((extension / "manifest.json").read_text(encoding="utf-8"))
    return (manifest.get("action") or {}).get("default_popup", "extension/popup/popup.html")


def _status(page):
    try:
        return page.evaluate("chrome.runtime.sendMessage({type: 'status'})") or {}
    except Exception:  # the extension page may be reloading; the caller waits again
        return {}


def _connection(page, state):
    connection = _status(page).get("connection") or {}
    return connection if connection.get("state") == state else None



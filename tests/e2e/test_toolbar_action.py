"""The real toolbar action and its activeTab grant (issue 6), in real headless Chromium.

test_ui.py opens the popup page as an ordinary tab, and the shared `extension_dir`
lists panel.test in host_permissions, so neither the toolbar action nor activeTab is
ever exercised there. Here:

- the extension is copied with `grant_hosts=()`: only the sign-in hosts of the real
  manifest are granted, panel.test is NOT (checked with `permissions.contains`);
- the host is installed by the real `codecatch install --browser chromium
  --user-data-dir DIR` (the `chromium_profile` fixture);
- Chromium is started by this file (not by Playwright) with `--remote-debugging-port=0`
  and the flags of `mockbrowser.launch_options`, then reached with
  `connect_over_cdp`, because `Extensions.triggerAction` needs a browser-level CDP
  session, which a persistent context does not have (docs/browser-notes.md section 3b).

What was found while writing this (Chromium 156.0.8078.108, Debian):

- `Extensions.triggerAction` needs no `--enable-unsafe-extension-debugging`.
- `Target.getTargets` without a filter lists only `page`, `service_worker` and
  `browser_ui` targets; triggerAction with the page's targetId answers
  "Action can only be triggered on a tab target." The `tab` target shows up with
  `Target.getTargets {filter: [{}]}` (its own targetId, same URL as the page, no
  parentId linking the two), and triggerAction on it answers `{}` and opens the
  real popup.
- The real popup is a `page` target at .../popup/popup.html that Playwright's
  connect_over_cdp context never lists (no `page` event either), so it is driven
  over its own DevTools websocket (`/devtools/page/<targetId>`); the click on
  "Arm this tab" is a real `Input.dispatchMouseEvent` press and release.
- This test found that the real popup never knew its tab: popup.js read `?tab=` with
  `Number(null)`, which is 0, so it looked up tab 0 and showed "This tab shows no web
  page to fill" with Arm disabled (fixed in extension/popup/popup.js findThisTab).
"""

import json
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite import browser as mockbrowser
from codecatch.mocksite.panel import AUTH_FIELD_ID, SIGNIN_LINK_ID

from .scenarios import issued_for, wait_for

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
BASE = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/extension"
POPUP = f"{BASE}/popup/popup.html"
PANEL_ORIGIN = "https://panel.test"
ARMED_HERE = "Armed: this tab takes the next sign-in you start, once"
QUIET_S = 2.0  # a fill takes well under 0.5 s here (scenarios.QUIET_S)


# ---- the browser, started by hand so that CDP has a browser-level session ----------------


@pytest.fixture(scope="module")
def ungranted_extension(tmp_path_factory):
    """The extension as a user installs it: no panel host in host_permissions."""
    ext = mockbrowser.prepare_extension(REPO, tmp_path_factory.mktemp("ungranted") / "ext", grant_hosts=())
    manifest = json.loads((ext / "manifest.json").read_text(encoding="utf-8"))
    granted = manifest["host_permissions"]
    assert not [p for p in granted if "panel" in p], granted
    assert "https://login.microsoftonline.com/*" in granted
    return ext


class CdpBrowser:
    """Chromium started with --remote-debugging-port, reached with connect_over_cdp."""

    def __init__(self, port, browser):
        self.port = port
        self.browser = browser
        self.context = browser.contexts[0]
        self.cdp = browser.new_browser_cdp_session()  # the browser-level session

    # -- the extension's service worker (status, permissions) --

    def worker(self):
        found = [w for w in self.context.service_workers if CHROMIUM_EXTENSION_ID in w.url]
        if found:
            return found[0]
        return self.context.wait_for_event(
            "serviceworker", predicate=lambda w: CHROMIUM_EXTENSION_ID in w.url, timeout=10_000)

    def status(self):
        return self.worker().evaluate("globalThis.codecatch.status()")

    def origin_granted(self, origin):
        return self.worker().evaluate(
            "(o) => chrome.permissions.contains({origins: [o + '/*']})", origin)

    def tab_id(self, url):
        ids = self.worker().evaluate(
            "(u) => chrome.tabs.query({}).then((t) => t.filter((x) => x.url === u).map((x) => x.id))", url)
        assert len(ids) == 1, f"expected one tab at {url}, found {ids}"
        return ids[0]

    # -- targets --

    def targets(self, **filter_):
        # Without a filter Chromium leaves out the `tab` targets triggerAction wants.
        return self.cdp.send("Target.getTargets", {"filter": [filter_]})["targetInfos"]

    def tab_target(self, url):
        tabs = [t for t in self.targets(type="tab") if t["url"] == url]
        assert len(tabs) == 1, f"expected one tab target at {url}: {self.targets()}"
        return tabs[0]["targetId"]

    def trigger_action(self, page):
        """What a click on the toolbar button does: the popup over `page`'s tab, and
        activeTab granted for that tab."""
        page.bring_to_front()
        return self.cdp.send("Extensions.triggerAction",
                             {"id": CHROMIUM_EXTENSION_ID, "targetId": self.tab_target(page.url)})

    def popup_targets(self):
        return [t for t in self.targets() if t["type"] == "page" and t["url"].startswith(POPUP)]

    def real_popup(self, timeout=10.0):
        found = wait_for(self.popup_targets, timeout)
        assert found, f"the toolbar action opened no popup; targets: {self.targets()}"
        assert len(found) == 1, found
        assert not [p for p in self.context.pages if p.url.startswith(POPUP)], \
            "the popup is a tab: this is not the real toolbar popup"
        return DevtoolsPage(f"ws://127.0.0.1:{self.port}/devtools/page/{found[0]['targetId']}")


class DevtoolsPage:
    """A page Playwright does not list, driven over its own DevTools websocket."""

    def __init__(self, ws_url):
        try:
            import websocket  # websocket-client, which selenium (the test extra) requires
        except ImportError:
            pytest.fail("websocket-client is missing: install the test extra (pip install -e .[test])",
                        pytrace=False)
        # Chromium refuses websocket clients that send an Origin it does not allow.
        self.ws = websocket.create_connection(ws_url, timeout=10, suppress_origin=True)
        self.last_id = 0

    def close(self):
        self.ws.close()

    def send(self, method, params=None):
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression):
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def text(self, element_id):
        return self.evaluate(f"document.getElementById({json.dumps(element_id)})?.textContent ?? null")

    def wait_text(self, element_id, wanted, timeout=10.0):
        ok = wait_for(lambda: wanted in (self.text(element_id) or ""), timeout)
        assert ok, f"#{element_id} never said {wanted!r}: {self.text(element_id)!r}"

    def click(self, element_id):
        """A person's click: mouse pressed and released over the element's middle."""
        box = self.evaluate(f"""(() => {{
            const e = document.getElementById({json.dumps(element_id)});
            const r = e.getBoundingClientRect();
            return {{x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height,
                     disabled: e.disabled, hidden: e.hidden}};
        }})()""")
        assert box["w"] > 0 and box["h"] > 0 and not box["disabled"] and not box["hidden"], box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                   "button": "left", "clickCount": 1})


@pytest.fixture
def cdp_browser(chromium_executable, chromium_profile, ungranted_extension, mock_site, browser_env, tmp_path):
    from playwright.sync_api import sync_playwright

    assert (chromium_profile / "NativeMessagingHosts" / "com.codecatch.host.json").is_file()
    options = mockbrowser.launch_options(mock_site, ungranted_extension, chromium_executable, env=browser_env)
    args = [
        chromium_executable, "--headless", f"--user-data-dir={chromium_profile}",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        *options["args"],
        # Playwright's own defaults that matter for background tabs in headless.
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
        "--disable-renderer-backgrounding", "--disable-popup-blocking", "--password-store=basic",
        "--window-size=1100,800",
        "about:blank",
    ]
    port_file = chromium_profile / "DevToolsActivePort"
    log = tmp_path / "chromium-stderr.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(args, env=browser_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        started = wait_for(lambda: port_file.is_file() and port_file.read_text().strip(), 20.0)
        if not started:
            pytest.fail(f"Chromium wrote no DevToolsActivePort (exit {proc.poll()}): "
                        f"{log.read_text(errors='replace')[-2000:]}", pytrace=False)
        port = int(port_file.read_text().split()[0])
        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            try:
                cdp_browser = CdpBrowser(port, browser)
                assert wait_for(lambda: cdp_browser.status()["connection"]["state"] == "connected", 10.0), \
                    cdp_browser.status()["connection"]
                yield cdp_browser
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# ---- helpers ----------------------------------------------------------------------------


def open_panel(browser, site):
    """The panel page in the tab Chromium started with (so it is the active tab)."""
    panel = browser.context.pages[0] if browser.context.pages else browser.context.new_page()
    panel.goto(site.panel_url("panel.test", outcome="302"))
    panel.bring_to_front()
    return panel, panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")


def field(page):
    return page.evaluate("(id) => document.getElementById(id).value", AUTH_FIELD_ID)


def sign_in_from(panel):
    """The panel's own sign-in link: a new tab, whose authorize answers 302 to the
    custom scheme (mock_outcome=302)."""
    panel.bring_to_front()
    panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)


def latest_settled(browser):
    """The latest capture once the extension has acted on it (filled or kept waiting)."""
    def settled():
        latest = browser.status()["latest"]
        if latest and (latest["outcome"] == "filled" or (latest["outcome"] == "waiting" and latest["outcome_detail"])):
            return latest
        return None
    latest = wait_for(settled, 10.0)
    assert latest, f"no settled capture: {browser.status()}"
    return latest


# ---- the tests ------------------------------------------------------------------------------


def test_toolbar_action_grants_active_tab_and_armed_fill_works(cdp_browser, site):
    """The real user flow: on the panel tab, click the toolbar button, press "Arm this
    tab" in the real popup, sign in from the panel: the field gets the https URL
    although panel.test was never granted."""
    panel, state = open_panel(cdp_browser, site)
    assert cdp_browser.origin_granted(PANEL_ORIGIN) is False
    panel_tab = cdp_browser.tab_id(panel.url)

    assert cdp_browser.trigger_action(panel) == {}
    popup = cdp_browser.real_popup()
    try:
        popup.wait_text("host-status", "Connected to the codecatch host")
        # The real popup stands over the active tab: the panel.
        popup.wait_text("armed-line", "Arm this tab to fill the next sign-in you start (in the next 10 minutes) into panel.test.")
        popup.click("arm")
        popup.wait_text("armed-line", ARMED_HERE)
    finally:
        popup.close()
    armed = cdp_browser.status()["armed"]
    assert armed and armed["tab_id"] == panel_tab, armed

    sign_in_from(panel)
    issued = issued_for(site, state)
    assert issued.kind == "code", issued
    assert wait_for(lambda: field(panel) == issued.https_url, 10.0), (
        f"field={field(panel)!r}; status={json.dumps(cdp_browser.status())[:1500]}")

    latest = latest_settled(cdp_browser)
    assert latest["outcome"] == "filled" and latest["fill_reason"] == "armed", latest
    assert latest["fill_target"] == {"tab_id": panel_tab, "target": "armed", "origin": PANEL_ORIGIN}, latest
    events = [e["type"] for e in panel.evaluate("window.__mockEvents") if e.get("target") == AUTH_FIELD_ID]
    assert "input" in events and "change" in events, events
    # activeTab is a grant for this tab only, not a host permission.
    assert cdp_browser.origin_granted(PANEL_ORIGIN) is False


@pytest.mark.parametrize("armed", [True, False], ids=["armed_from_popup_tab", "not_armed"])
def test_without_the_toolbar_action_nothing_is_filled(cdp_browser, site, armed):
    """Control: the same panel and sign-in, but the toolbar action never ran. Armed
    from the popup page opened as a tab (what test_ui.py does) or not armed at all
    (the panel is the opener): no activeTab, no host permission, so no fill; the
    capture is kept, waiting, and the status says why."""
    panel, state = open_panel(cdp_browser, site)
    panel_tab = cdp_browser.tab_id(panel.url)
    if armed:
        page = cdp_browser.context.new_page()
        page.goto(f"{POPUP}?tab={panel_tab}")
        expect(page.locator("#host-status")).to_contain_text("Connected to the codecatch host", timeout=10_000)
        page.get_by_role("button", name="Arm this tab").click()
        expect(page.locator("#armed-line")).to_contain_text(ARMED_HERE)
        page.close()
        assert cdp_browser.status()["armed"]["tab_id"] == panel_tab

    sign_in_from(panel)
    issued = issued_for(site, state)
    assert issued.kind == "code", issued
    latest = latest_settled(cdp_browser)
    assert latest["outcome"] == "waiting", latest
    assert latest["fill_reason"] == ("armed" if armed else "opener"), latest
    assert latest["fill_target"]["tab_id"] == panel_tab, latest
    detail = latest["outcome_detail"]
    if armed:  # the injection was tried and Chromium refused it
        assert "Cannot access contents of url" in detail and "panel.test" in detail, detail
    else:  # the extension knows it has no permission and does not try
        assert detail == f"codecatch has no permission for {PANEL_ORIGIN}.", detail
    time.sleep(QUIET_S)
    assert field(panel) == ""
    assert latest_settled(cdp_browser)["outcome"] == "waiting"
    assert cdp_browser.origin_granted(PANEL_ORIGIN) is False
    assert len(cdp_browser.status()["captures"]) == 1

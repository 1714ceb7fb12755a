"""The scenarios' driver for Chromium (Playwright for Python, persistent context)."""

import json

from codecatch.identity import CHROMIUM_EXTENSION_ID
from codecatch.mocksite.panel import AUTH_FIELD_ID, SIGNIN_LINK_ID


class ChromiumDriver:
    name = "chromium"
    needs_port = False  # --host-resolver-rules maps names to the mock's port

    def __init__(self, context, extension_dir, extension_id=CHROMIUM_EXTENSION_ID):
        self.context = context
        self.extension_id = extension_id
        self.extension_dir = extension_dir
        self._status_page = None

    # -- panel and sign-in tabs ------------------------------------------------------

    def open_panel(self, url):
        page = self.context.new_page()
        page.goto(url, wait_until="load")
        return page

    def link_state(self, panel):
        return panel.get_attribute(f"#{SIGNIN_LINK_ID}", "data-state")

    def click_signin(self, panel, want_tab=False):
        """A trusted click on the panel's link. With `want_tab` (the sign-in shows a
        page, as Confirm-My-Sign-In does), waits for and returns the new tab; else
        returns None at once: Chromium closes a tab whose first navigation is a 302 to
        a custom scheme, often before Playwright ever reports it."""
        if not want_tab:
            panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
            return None
        with self.context.expect_page(timeout=10_000) as info:
            panel.click(f"#{SIGNIN_LINK_ID}", no_wait_after=True)
        return info.value

    def click_continue(self, signin):
        signin.wait_for_selector("#idSIButton9", state="visible", timeout=10_000)
        # A fresh tab, so a trusted click is not swallowed (docs/browser-notes.md section 3).
        signin.click("#idSIButton9", no_wait_after=True)

    def field_value(self, panel):
        return panel.evaluate(f"document.getElementById({json.dumps(AUTH_FIELD_ID)}).value")

    def page_events(self, panel):
        return panel.evaluate("window.__mockEvents || []")

    # -- any page, scripted as a page would script itself (hostile-page tests) ------------

    def open_page(self, url):
        page = self.context.new_page()
        page.goto(url, wait_until="load")
        return page

    def js(self, page, body, *args):
        """Run `body` (a function body that reads `arguments`) in the page."""
        return page.evaluate(f"(a) => (function () {{ {body} }}).apply(null, a)", list(args))

    def js_opening(self, page, body, *args):
        """Run `body` in the page; return the window it opened."""
        with self.context.expect_page(timeout=10_000) as info:
            self.js(page, body, *args)
        return info.value

    def wait_selector(self, page, selector):
        page.wait_for_selector(selector, timeout=10_000)

    def wait_url(self, page, prefix, timeout=10.0):
        from .scenarios import wait_for

        def there():
            try:  # an evaluate, not page.url: it lets the sync API take in the navigation
                return page.evaluate("document.readyState === 'complete' && location.href").startswith(prefix)
            except Exception:  # the document is being replaced
                return False

        assert wait_for(there, timeout), f"{page.url} is not {prefix}"

    def tab_id(self, url_prefix):
        self.extension_status()
        return self._status_page.evaluate(
            "(p) => chrome.tabs.query({}).then((t) => t.find((x) => (x.url || '').startsWith(p)).id)",
            url_prefix)

    def send_message(self, message):
        self.extension_status()
        return self._status_page.evaluate("(m) => chrome.runtime.sendMessage(m)", message)

    # -- the extension ---------------------------------------------------------------------

    def extension_page_url(self):
        manifest = json.loads((self.extension_dir / "manifest.json").read_text())
        page = ((manifest.get("action") or {}).get("default_popup")
                or (manifest.get("options_ui") or {}).get("page")
                or manifest.get("options_page"))
        if not page:
            raise RuntimeError("the extension declares no popup or options page to ask for status")
        return f"chrome-extension://{self.extension_id}/{page.lstrip('/')}"

    def extension_status(self):
        """Ask the background, from an extension page, as the popup does."""
        if self._status_page is None or self._status_page.is_closed():
            self._status_page = self.context.new_page()
            self._status_page.goto(self.extension_page_url(), wait_until="load")
        return self._status_page.evaluate(
            "chrome.runtime.sendMessage({type: 'status'})")

    def service_worker(self, timeout=10_000):
        for worker in self.context.service_workers:
            if self.extension_id in worker.url:
                return worker
        return self.context.wait_for_event(
            "serviceworker", predicate=lambda w: self.extension_id in w.url, timeout=timeout)

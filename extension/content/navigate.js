// Content script on Microsoft's sign-in hosts (manifest.json), top frames only (a
// sign-in inside another page's frame is never taken: background.js), from
// document_start: the Navigation API's `navigate` event reports page-initiated
// navigations (location.replace, links, forms, meta refresh) to the native redirect
// 3-15 ms after they start, and cancelling it spares the user the browser's "Open
// xdg-open?" or "Failed to launch" dead end (docs/browser-notes.md).
// https://html.spec.whatwg.org/multipage/nav-history-apis.html#the-navigate-event
//
// A classic script (content_scripts cannot be modules) and the check must be
// synchronous to cancel, so the recogniser is inlined here. It mirrors
// extension/lib/redirect.js (tests/node/content_navigate.test.js holds them together);
// the background checks again with that module and takes the frame's URL from the
// browser (sender.url), never from this message.
(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  if (!api?.runtime?.sendMessage) return;

  // What this page's own scripts will navigate to: Firefox fires no `navigate` for a
  // custom scheme, so a failed launch there is Microsoft's only when its URI is one the
  // page itself carries (the Confirm-My-Sign-In page's `document.location.replace("…")`).
  // The background reads the URIs out of these texts (lib/provenance.js declaredUris).
  // The observer sees a parser-inserted script before it runs (a microtask checkpoint
  // comes first: https://html.spec.whatwg.org/multipage/parsing.html#scriptEndTag).
  const HINT = /ms-appx-web|msauth|msal|brk-|urn:ietf|nativeclient/i;
  const sent = new Set();
  function declare(nodes) {
    const scripts = [];
    for (const added of nodes) {
      // A script's text may arrive in pieces: read the whole element each time.
      const node = added.nodeType === Node.TEXT_NODE ? added.parentNode : added;
      const text = node?.nodeName === 'SCRIPT' ? (node.textContent ?? '').slice(0, 65536) : '';
      if (!HINT.test(text) || sent.has(text)) continue;
      sent.add(text);
      scripts.push(text);
    }
    if (scripts.length) api.runtime.sendMessage({ type: 'declare', scripts }).catch(() => {});
  }
  const observer = new MutationObserver((records) => declare(records.flatMap((r) => [...r.addedNodes])));
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', () => {
    declare(document.scripts);
    observer.disconnect();
  }, { once: true });

  if (!globalThis.navigation?.addEventListener) return;

  const NATIVE = /^(?:ms-appx-web:\/\/|msauth[a-z0-9.+-]*:\/\/|msal(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):\/\/|brk-[a-z0-9.+-]+:\/\/|urn:ietf:wg:oauth:2\.0:oob(?:[:?#]|$))/i;
  const NATIVECLIENT = /^(?:\/[^/]+)?\/oauth2\/nativeclient\/?$/i;

  function isNativeRedirect(url) {
    if (NATIVE.test(url)) return true;
    try {
      const u = new URL(url);
      // Only the page's own host: the manifest limits this script to sign-in hosts.
      return u.protocol === 'https:' && u.hostname === location.hostname && NATIVECLIENT.test(u.pathname);
    } catch {
      return false;
    }
  }

  globalThis.navigation.addEventListener('navigate', (event) => {
    const url = event.destination?.url;
    if (typeof url !== 'string' || !isNativeRedirect(url)) return;
    const message = { type: 'capture', channel: 'navigate', uri: url };
    // A cancelled navigation reaches no other channel, so try twice: the first send
    // can fail while the service worker is being restarted.
    api.runtime.sendMessage(message)
      .catch(() => new Promise((r) => setTimeout(r, 250)).then(() => api.runtime.sendMessage(message)))
      .catch(() => console.warn('codecatch: could not hand the redirect to the extension'));
    if (event.cancelable) event.preventDefault();
  });
})();

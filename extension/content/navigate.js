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
  // Firefox does not fire `navigate` for custom schemes; its background channels cover it.
  if (!globalThis.navigation?.addEventListener || !api?.runtime?.sendMessage) return;

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

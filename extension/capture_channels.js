// Every channel through which the browser shows us a native redirect
// (docs/browser-notes.md), reduced to one call: onCapture({channel, uri, pageUrl,
// tabId, frameId}). `pageUrl` is always what the browser says the producing frame
// was on; background.js decides whether that is a sign-in host.
//
//   Chromium: content script `navigate` (content/navigate.js), webRequest
//             onBeforeRedirect / onHeadersReceived (302s), webNavigation.onErrorOccurred.
//   Firefox:  webRequest onBeforeRedirect (302s), webNavigation.onBeforeNavigate and
//             onErrorOccurred (script navigations); the Navigation API's `navigate`
//             does not fire for custom schemes there. A 302 from a host outside our
//             permissions arrives with uri: null (see isUnseenLaunch).
// Listeners are added synchronously at start-up so that an event can wake the MV3
// worker (https://developer.chrome.com/docs/extensions/develop/concepts/service-workers/events).

import { isNativeRedirect } from './lib/redirect.js';
import { SIGNIN_MATCH_PATTERNS, isSigninUrl } from './lib/signin_hosts.js';

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export function listenForCaptures(api, onCapture, onDeclare = () => {}) {
  // Top frames only: a sign-in in a frame is refused anyway (background.js).
  const filter = { urls: SIGNIN_MATCH_PATTERNS, types: ['main_frame'] };

  // 1. The content script's message. sender.url is the frame's URL from the browser.
  api.runtime.onMessage.addListener((message, sender) => {
    if (!sender.tab || sender.id !== api.runtime.id) return undefined;
    if (message?.type === 'declare' && (sender.frameId ?? 0) === 0) {
      // What the sign-in page's own scripts will navigate to (content/navigate.js).
      onDeclare(sender.tab.id, sender.url ?? '', message.scripts);
      return undefined;
    }
    if (message?.type !== 'capture') return undefined;
    if (typeof message.uri !== 'string') return undefined;
    onCapture({
      channel: 'navigate', uri: message.uri, pageUrl: sender.url ?? '', tabId: sender.tab.id, frameId: sender.frameId ?? 0,
    });
    return undefined; // no reply: the page learns nothing back
  });

  // 2. A 302 from the sign-in host. details.url is the request that answered it, on a
  //    sign-in host by the filter.
  api.webRequest.onBeforeRedirect.addListener((d) => {
    if (isNativeRedirect(d.redirectUrl)) {
      onCapture({ channel: 'webrequest', uri: d.redirectUrl, pageUrl: d.url, tabId: d.tabId, frameId: d.frameId });
    }
  }, filter);
  // The raw Location header, seen before Chromium abandons the redirect.
  api.webRequest.onHeadersReceived.addListener((d) => {
    if (!REDIRECT_STATUS.has(d.statusCode)) return;
    const location = d.responseHeaders?.find((h) => h.name.toLowerCase() === 'location')?.value;
    if (location && isNativeRedirect(location)) {
      onCapture({ channel: 'webrequest', uri: location, pageUrl: d.url, tabId: d.tabId, frameId: d.frameId });
    }
  }, filter, ['responseHeaders']);

  // 3. webNavigation carries the target URL; the producing frame is whatever that
  //    frame still shows, which only the browser can tell (getFrame).
  const fromNavigation = (channel) => async (d) => {
    if (!isNativeRedirect(d.url)) return;
    // A closed tab has no frame: the capture is then refused unless the URI is a
    // nativeclient URL (a faster channel has usually handled it already).
    const frame = await api.webNavigation.getFrame({ tabId: d.tabId, frameId: d.frameId }).catch(() => null);
    const pageUrl = frame?.url ?? '';
    onCapture({ channel, uri: d.url, pageUrl, tabId: d.tabId, frameId: d.frameId });
  };
  // Chromium filters custom schemes out of onBeforeNavigate; Firefox reports them there.
  api.webNavigation.onBeforeNavigate.addListener(fromNavigation('before_navigate'));
  const errorOccurred = fromNavigation('error_occurred');
  api.webNavigation.onErrorOccurred.addListener((d) => {
    if (isUnseenLaunch(d)) {
      // Firefox: a 302 to an unknown scheme from a host we have no permission for.
      // webRequest stays silent and webNavigation names only the https request, so
      // the target is unknown (uri: null). Sign-in hosts are covered by webRequest.
      onCapture({ channel: 'error_occurred', uri: null, pageUrl: d.url, tabId: d.tabId, frameId: d.frameId });
      return undefined;
    }
    return errorOccurred(d);
  });
}

// NS_ERROR_UNKNOWN_PROTOCOL (0x804B0012), as Firefox's webNavigation.onErrorOccurred
// spells it: "Error code 2152398866".
const UNKNOWN_PROTOCOL = /\b(2152398866|NS_ERROR_UNKNOWN_PROTOCOL)\b/;

/** A failed launch of an unknown scheme reported on an https URL (Firefox, 302 case). */
export function isUnseenLaunch(d) {
  return UNKNOWN_PROTOCOL.test(String(d.error ?? ''))
    && !isNativeRedirect(d.url) && !isSigninUrl(d.url) && /^https?:/i.test(String(d.url ?? ''));
}

/**
 * Who opened which tab: tab.openerTabId where the browser sets it, and
 * onCreatedNavigationTarget's sourceTabId, which also covers Firefox's popup windows
 * (docs/browser-notes.md). Chromium may close a tab whose first navigation was a
 * 302 to the custom scheme before we look, so this is recorded as tabs appear.
 */
export function listenForOpeners(api, remember, forget) {
  api.tabs.onCreated.addListener((tab) => {
    if (tab.openerTabId !== undefined && tab.id !== undefined) remember(tab.id, tab.openerTabId);
  });
  api.webNavigation.onCreatedNavigationTarget.addListener((d) => {
    // Only a page (a link, window.open) creates a navigation target: `byPage` says so.
    if (d.sourceTabId !== undefined && d.sourceTabId !== d.tabId) remember(d.tabId, d.sourceTabId, true);
  });
  api.tabs.onRemoved.addListener((tabId) => forget(tabId));
}

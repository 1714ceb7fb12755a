// Who produced a capture, and whose flow it is: the rules of SECURITY.md ("What proves
// that Microsoft produced a redirect"), as plain functions of what the browser reported.
// The host checks the same facts again (host/codecatch/fill.py); the cases both suites
// run are in tests/cases/provenance.json.
//
// A frame's URL being on a sign-in host proves nothing: any page holding a reference to
// that window (a popup it opened, its opener, a window found by name) can navigate it,
// and webNavigation still names Microsoft's page as the frame's. What proves it:
//   redirect  a 3xx whose request was to a sign-in host (webRequest: `details.url` is the
//             request that answered with the Location);
//   navigate  the Navigation API's `navigate` event in the sign-in page's own document
//             (content/navigate.js): it fires for what that document starts, not for a
//             navigation another window starts;
//   declared  a failed launch (webNavigation) whose URI the sign-in page's own scripts
//             carry, byte for byte (Firefox, whose `navigate` does not fire for custom
//             schemes: content/navigate.js reads the Confirm-My-Sign-In page's target).

import { isSigninUrl } from './signin_hosts.js';

export const PROOFS = Object.freeze(['redirect', 'navigate', 'declared']);
const WEBNAVIGATION = new Set(['before_navigate', 'error_occurred']);

/**
 * The proof a channel's report carries, or null.
 * @param {object} r {channel, uri, pageUrl (the frame's URL), requestUrl (webrequest: the
 *   request that answered), frameId, declared (URIs the frame's document declared, or null)}
 */
export function proofOf(r) {
  if (r.frameId !== 0 || typeof r.uri !== 'string') return null;
  if (r.channel === 'webrequest') return isSigninUrl(r.requestUrl) ? 'redirect' : null;
  if (!isSigninUrl(r.pageUrl)) return null;
  if (r.channel === 'navigate') return 'navigate';
  if (WEBNAVIGATION.has(r.channel) && r.declared?.includes(r.uri)) return 'declared';
  return null;
}

/** scheme://host[:port] of an http(s) URL (the port only when not the default), else null. */
export function originOf(url) {
  try {
    const u = new URL(url);
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

// ---- the flow: who started a sign-in tab, and where it went ----------------------------
//
// A flow is a plain object kept per sign-in tab:
//   {opener_tab_id, opener_origin, by_page, started_at, phase, via}
// phase: 'start'   not yet on a sign-in host (it may show its opener's origin: a panel's
//                  own redirector, or about:blank)
//        'signin'  on sign-in hosts only, since its first sign-in page
//        'left'    it went from a sign-in host to another web host (`via`)
//        'foreign' before the sign-in it showed a web origin other than its opener's
//                  (`via`): another page started this sign-in

// Navigations the user made in the address bar or from a bookmark: a new flow of the user's.
const USER_TRANSITIONS = new Set(['typed', 'auto_bookmark', 'generated', 'keyword', 'keyword_generated']);

export function newFlow({ openerTabId = null, openerOrigin = null, byPage = false, now = Date.now() } = {}) {
  return { opener_tab_id: openerTabId, opener_origin: openerOrigin, by_page: byPage, started_at: now, phase: 'start', via: null };
}

/** The flow after its top frame went to `url` (a navigation, a redirect, a commit). */
export function advance(flow, url) {
  const origin = originOf(url);
  if (origin === null || flow.phase === 'left' || flow.phase === 'foreign') return flow;
  if (isSigninUrl(url)) return flow.phase === 'signin' ? flow : { ...flow, phase: 'signin' };
  const host = new URL(url).host;
  if (flow.phase === 'signin') return { ...flow, phase: 'left', via: host };
  return origin === flow.opener_origin ? flow : { ...flow, phase: 'foreign', via: host };
}

/** True for a commit the user made (address bar, bookmark): it starts a new flow. */
export function isUserNavigation({ transitionType, transitionQualifiers = [] } = {}) {
  return USER_TRANSITIONS.has(transitionType) || transitionQualifiers.includes('from_address_bar');
}

/**
 * Whether an armed tab may take a capture from this flow: the user armed it less than
 * its lifetime ago, and started this sign-in after arming (not a page: a link or
 * window.open in any tab but the armed one).
 */
export function armedTakes(armed, flow, now = Date.now()) {
  if (!armed || !flow || now >= armed.until) return false;
  if (flow.started_at < armed.at) return false;
  return !flow.by_page || flow.opener_tab_id === armed.tab_id;
}

export const ARM_LIFETIME_MS = 10 * 60 * 1000;

// ---- what the sign-in page declares ----------------------------------------------------

const NATIVE_LITERAL = /(["'])((?:ms-appx-web|msauth[a-z0-9.+-]*|msal[0-9a-f-]{32,36}|brk-[a-z0-9.+-]+|urn|https)(?::|\\u003a)(?:(?!\1)[^\\\n]|\\.){1,16384})\1/gi;

function unescapeJs(s) {
  return s.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e) => {
    if (e[0] === 'u' && e.length > 1) return String.fromCodePoint(parseInt(e.replace(/[u{}]/g, ''), 16));
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' }[e] ?? e;
  });
}

/**
 * The string literals in a script's text that are URIs (JavaScript escapes undone), as
 * the page would navigate to them: `"ms-appx-web:\/\/…\u0026state=…"` gives
 * `ms-appx-web://…&state=…`. Which of them is a native redirect is redirect.js's call.
 */
export function declaredUris(scriptText) {
  const found = [];
  for (const m of String(scriptText).slice(0, 262144).matchAll(NATIVE_LITERAL)) found.push(unescapeJs(m[2]));
  return found;
}

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

/**
 * The admission rule for one report: {refused: 'not_signin_host' | 'framed_signin'} when
 * it is never taken, else {refused: null, proof} (proof null: not proven yet). Only from a
 * Microsoft sign-in page, as the browser reported the frame or the request (a
 * nativeclient URL is no exception), and only a tab's own page: a page that frames a
 * sign-in page can navigate the frame. The host's half is codecatch.capture.refusal and
 * codecatch.fill.is_proven, on the same cases (tests/cases/provenance.json).
 */
export function admission(r) {
  if (!isSigninUrl(r.channel === 'webrequest' ? (r.requestUrl ?? r.pageUrl) : r.pageUrl)) return { refused: 'not_signin_host' };
  if (r.frameId !== 0) return { refused: 'framed_signin' };
  return { refused: null, proof: proofOf(r) };
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
//   {opener_tab_id, opener_origin, by_page, started_at, phase, via[, state]}
// (`state`: its first authorization request's OAuth state, see noteAuthorize)
// phase: 'start'   not yet on a sign-in host (it may show its opener's origin: a panel's
//                  own redirector, or about:blank)
//        'signin'  on sign-in hosts only, since its first sign-in page
//        'left'    it went from a sign-in host to another web host (`via`)
//        'foreign' before the sign-in it showed a web origin other than its opener's
//                  (`via`): another page started this sign-in

// Microsoft's own identity pages that a sign-in may pass through on its way (personal
// account checks, MFA registration, password reset, device sign-in, seamless SSO): no one
// else can put a page there, so a tab that visits them is still on Microsoft's sign-in.
// They are never a source of captures (signin_hosts.js is). A tenant's own identity
// provider (AD FS, Okta) is not one of them: SECURITY.md "What is left".
export const PASS_THROUGH_HOSTS = Object.freeze([
  'account.live.com',
  'mysignins.microsoft.com',
  'passwordreset.microsoftonline.com',
  'device.login.microsoftonline.com',
  'autologon.microsoftazuread-sso.com',
]);
const PASS_THROUGH = new Set(PASS_THROUGH_HOSTS);

/** True for an https URL on a sign-in host or one of Microsoft's pass-through pages. */
export function isMicrosoftIdentityUrl(url) {
  if (isSigninUrl(url)) return true;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && PASS_THROUGH.has(u.hostname.toLowerCase());
  } catch {
    return false;
  }
}

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
  if (flow.phase === 'signin' && isMicrosoftIdentityUrl(url)) return flow;
  const host = new URL(url).host;
  if (flow.phase === 'signin') return { ...flow, phase: 'left', via: host };
  return origin === flow.opener_origin ? flow : { ...flow, phase: 'foreign', via: host };
}

/**
 * The flow after a request to a sign-in host that the page `initiator` (an origin, or
 * "null" for an opaque one) started in this tab. Only Microsoft's pages, and the opener
 * before the sign-in, may start the navigations of a sign-in tab: a page holding a handle
 * on the window that sends it to Microsoft's authorize endpoint with parameters of its
 * own has started another flow.
 */
export function startedBy(flow, initiator) {
  if (typeof initiator !== 'string' || flow.phase === 'left' || flow.phase === 'foreign') return flow;
  if (initiator !== 'null' && !/^https?:/i.test(initiator)) return flow; // an extension, the browser
  const origin = initiator === 'null' ? null : originOf(initiator);
  if (origin !== null && (isMicrosoftIdentityUrl(`${origin}/`) || origin === flow.opener_origin)) return flow;
  return { ...flow, phase: 'foreign', via: origin ? new URL(origin).host : 'an opaque origin' };
}

// Microsoft's authorization endpoints: /{tenant}/oauth2/v2.0/authorize, the v1
// /{tenant}/oauth2/authorize, and the personal accounts' /oauth20_authorize.srf.
const AUTHORIZE_PATH = /^(?:\/[^/]+\/oauth2(?:\/v2\.0)?\/authorize|\/oauth20_authorize\.srf)\/?$/i;
export const MAX_STATE = 512; // as the host's event stream takes it (events.MAX_STATE)

/**
 * The flow with the `state` of its first authorization request to a sign-in host (null
 * when that request carried none, or more than one, or one over MAX_STATE); once set it
 * never changes, so a later request in the tab (another page sending it to Microsoft)
 * cannot make the tab another flow's. What `closeSignin` goes by (flows.js).
 */
export function noteAuthorize(flow, url) {
  if (flow.state !== undefined || !isSigninUrl(url)) return flow;
  const u = new URL(url);
  if (!AUTHORIZE_PATH.test(u.pathname)) return flow;
  const states = u.searchParams.getAll('state');
  const state = states.length === 1 && states[0] && states[0].length <= MAX_STATE ? states[0] : null;
  return { ...flow, state };
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

// A string literal the script navigates to: `location.replace("…")`, `location.assign("…")`,
// `location.href = "…"`, `location = "…"` (the Confirm-My-Sign-In page's own form). Only
// these: a literal elsewhere in a page (its configuration, a reflected parameter) is data,
// not a navigation the page will make.
const NAVIGATION_LITERAL = /\blocation(?:\s*\.\s*(?:replace|assign)\s*\(|(?:\s*\.\s*href)?\s*=(?!=))\s*(["'])((?:(?!\1)[^\\\n]|\\.){1,16384})\1/g;

function unescapeJs(s) {
  return s.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e) => {
    if (e[0] === 'u' && e.length > 1) return String.fromCodePoint(parseInt(e.replace(/[u{}]/g, ''), 16));
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' }[e] ?? e;
  });
}

/**
 * The URIs a script navigates its page to (JavaScript escapes undone), as the page would
 * navigate to them: `document.location.replace("ms-appx-web:\/\/…\u0026state=…")` gives
 * `ms-appx-web://…&state=…`. Which of them is a native redirect is redirect.js's call.
 */
export function declaredUris(scriptText) {
  const found = [];
  for (const m of String(scriptText).slice(0, 262144).matchAll(NAVIGATION_LITERAL)) found.push(unescapeJs(m[2]));
  return found;
}

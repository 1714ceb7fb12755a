// Chromium only: a session rule that removes the `Location` header from a sign-in
// host's redirect to a native scheme. The browser then never tries to launch the
// custom scheme: no "Open xdg-open?" prompt on Linux, no tab left stuck under it, and
// no browser busy with an external-protocol launch while the capture is being filled
// (docs/browser-notes.md). webRequest.onHeadersReceived still sees the original
// header, so the capture is unchanged (capture_channels.js).
//
// Not in Firefox: there the same rule hides the URI from every webRequest event.
// Not before Chrome 128: versions 121-127 ignored the responseHeaders condition and
// applied the rule to every response (https://crbug.com/347186592), which would
// break every sign-in redirect.
// https://developer.chrome.com/docs/extensions/reference/api/declarativeNetRequest#type-HeaderInfo

import { SIGNIN_HOSTS } from './lib/signin_hosts.js';

export const RULE_ID = 1;
// The same shapes as lib/redirect.js isNativeRedirect, so the guard never holds back a
// redirect that no capture channel would take ('*' and '?' are the only wildcards, and
// matching is case-insensitive). One exception: DNR has no literal '?', so 'oob?*' also
// covers 'oob' plus any one character, a URN nobody registers.
const GUID_DASHED = '????????-????-????-????-????????????';
const GUID_PLAIN = '?'.repeat(32);
export const NATIVE_LOCATIONS = [
  'ms-appx-web://*', 'msauth*://*', `msal${GUID_DASHED}://*`, `msal${GUID_PLAIN}://*`, 'brk-*://*',
  'urn:ietf:wg:oauth:2.0:oob', 'urn:ietf:wg:oauth:2.0:oob?*', 'urn:ietf:wg:oauth:2.0:oob#*', 'urn:ietf:wg:oauth:2.0:oob:*',
];

/** The Chromium major version from a user agent, or null (Firefox, unknown). */
export function chromiumMajor(userAgent) {
  if (/Firefox\//.test(userAgent)) return null;
  const m = /Chrom(?:e|ium)\/(\d+)/.exec(userAgent);
  return m ? Number(m[1]) : null;
}

export function guardRule() {
  return {
    id: RULE_ID,
    priority: 1,
    action: { type: 'modifyHeaders', responseHeaders: [{ header: 'location', operation: 'remove' }] },
    condition: {
      requestDomains: [...SIGNIN_HOSTS],
      resourceTypes: ['main_frame', 'sub_frame'],
      responseHeaders: [{ header: 'location', values: NATIVE_LOCATIONS }],
    },
  };
}

/** Installs the rule where it is safe; returns whether it did. */
export async function guardNativeRedirects(api, userAgent = globalThis.navigator?.userAgent ?? '') {
  const dnr = api.declarativeNetRequest;
  const major = chromiumMajor(userAgent);
  if (!dnr?.updateSessionRules || major === null || major < 128) return false;
  try {
    await dnr.updateSessionRules({ removeRuleIds: [RULE_ID], addRules: [guardRule()] });
    return true;
  } catch {
    return false; // an older engine that rejects the condition: launches stay as they were
  }
}

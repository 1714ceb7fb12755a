// Recognising Microsoft's native redirect URIs (docs/browser-notes.md). The host
// does the real parsing and rewriting (PROTOCOL.md); this only decides whether a URL a
// channel saw is worth sending to it, and how to name it without leaking the code.

import { isSigninUrl } from './signin_hosts.js';

// Schemes are case-insensitive (RFC 3986 section 3.1), so every test lowercases first.
const CUSTOM_SCHEME = [
  /^ms-appx-web:\/\//, // the WAM broker: ms-appx-web://Microsoft.AAD.BrokerPlugin/<client id>
  /^msauth[a-z0-9.+-]*:\/\//, // msauth://, msauth.com.msauth.unsignedapp://auth, msauth.<bundle>://
  /^msal(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):\/\//, // MSAL's default: msal<client id>://auth
  /^brk-[a-z0-9.+-]+:\/\//, // broker redirect: brk-<client id>://<host>
];
const OOB = /^urn:ietf:wg:oauth:2\.0:oob(?:[:?#]|$)/;

/** True for a URL that is one of Microsoft's native (non-web) redirect URIs. */
export function isNativeRedirect(url) {
  if (typeof url !== 'string' || url.length === 0 || url.length > 65536) return false;
  const lower = url.trimStart().toLowerCase();
  if (CUSTOM_SCHEME.some((re) => re.test(lower)) || OOB.test(lower)) return true;
  return isNativeclientUrl(url);
}

/** True for https://<sign-in host>/<tenant>/oauth2/nativeclient (the old desktop redirect). */
export function isNativeclientUrl(url) {
  if (!isSigninUrl(url)) return false;
  const path = new URL(url).pathname.toLowerCase();
  return /^(?:\/[^/]+)?\/oauth2\/nativeclient\/?$/.test(path);
}

/** The URI's scheme, lowercased ('ms-appx-web', 'urn', ...). */
export function schemeOf(url) {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1].toLowerCase() : '';
}

/**
 * A key that is the same for one redirect whichever channel reported it. Channels may
 * hand over the URI parsed (navigate, webRequest.redirectUrl) or raw (the Location
 * header), so the scheme's case and percent-encoding can differ; the code, or for an
 * error response its error fields, identify the redirect.
 */
export function dedupeKey(url) {
  const params = responseParams(url);
  const code = params.get('code');
  if (code) return `code:${code}`;
  const error = params.get('error');
  if (error) {
    return ['error', error, params.get('state'), params.get('trace_id'), params.get('correlation_id'), params.get('timestamp')].join('|');
  }
  return `uri:${url.toLowerCase()}`;
}

function responseParams(url) {
  const q = url.indexOf('?');
  const h = url.indexOf('#');
  const parts = [];
  if (q >= 0) parts.push(url.slice(q + 1, h > q ? h : undefined));
  if (h >= 0) parts.push(url.slice(h + 1));
  const out = new URLSearchParams();
  for (const part of parts) {
    for (const [k, v] of new URLSearchParams(part)) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

/** First 6 characters, an ellipsis and the length: all a log may show of a code. */
export function redactCode(code) {
  if (typeof code !== 'string' || code.length === 0) return '';
  return `${code.slice(0, 6)}…(${code.length})`;
}

/** The URI with its code (and other secrets) redacted, for logs and status. */
export function redactUri(url) {
  if (typeof url !== 'string') return '';
  return url.replace(/([?#&](?:code|client_info|session_state|id_token|access_token)=)([^&#]*)/gi,
    (_, name, value) => name + redactCode(decodeSafe(value)));
}

function decodeSafe(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// Microsoft's sign-in hosts, every cloud (docs/browser-notes.md). A capture is
// accepted only from a frame on one of these; manifest.json lists the same hosts
// (tests/node/manifest.test.js keeps them in step).

export const SIGNIN_HOSTS = Object.freeze([
  // public cloud
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login-us.microsoftonline.com',
  // US Government (GCC High, DoD)
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  // China (21Vianet)
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  // personal accounts
  'login.live.com',
]);

const HOSTS = new Set(SIGNIN_HOSTS);

/** Match patterns for host_permissions and content_scripts. */
export const SIGNIN_MATCH_PATTERNS = Object.freeze(SIGNIN_HOSTS.map((h) => `https://${h}/*`));

/**
 * True when `url` (a string the browser reported) is an https page on a sign-in host.
 * Exact host match only: `login.microsoftonline.com.evil.test` is not one.
 */
export function isSigninUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && HOSTS.has(parsed.hostname.toLowerCase());
}

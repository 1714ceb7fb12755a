// What the popup says about the host and a capture: plain functions of the
// background's status (extension/README.md), worded through _locales.

import { describeOutcome, timeLeft } from '../lib/summary.js';
import { t } from './i18n.js';

// Sign-in host -> cloud (docs/browser-notes.md).
const CLOUDS = {
  'login.microsoftonline.com': 'cloudPublic',
  'login.windows.net': 'cloudPublic',
  'login.microsoft.com': 'cloudPublic',
  'sts.windows.net': 'cloudPublic',
  'login-us.microsoftonline.com': 'cloudPublic',
  'login.microsoftonline.us': 'cloudUsGov',
  'login.usgovcloudapi.net': 'cloudUsGov',
  'login.partner.microsoftonline.cn': 'cloudChina',
  'login.chinacloudapi.cn': 'cloudChina',
  'login.live.com': 'cloudPersonal',
};

export function cloudOf(host) {
  const key = CLOUDS[String(host ?? '').toLowerCase()];
  return key ? t(key) : null;
}

/** {text, problem: bool} for the host line. */
export function hostLine(connection) {
  const c = connection ?? {};
  if (c.state === 'connected') return { text: t('hostConnected', c.host?.version ?? '?', c.host?.protocol ?? '?'), problem: false };
  if (c.problem) {
    const own = PROBLEM_TEXT[c.problem.code];
    // The connection's message names its fix in backticks; the fix block shows it instead.
    return { text: own ? t(own) : String(c.problem.message ?? '').replaceAll('`', ''), problem: true };
  }
  return { text: t(c.state === 'backoff' ? 'hostRetrying' : 'hostConnecting'), problem: false };
}

const PROBLEM_TEXT = {
  host_missing: 'hostMissing', host_forbidden: 'hostForbidden', host_exited: 'hostExited', host_failed: 'hostFailed',
};

/**
 * The `--browser` NAME of `codecatch install` for the browser the extension runs in,
 * as far as it can tell, or null. navigator.userAgentData.brands names Chrome, Edge,
 * Brave and Opera; Vivaldi and other Chromium builds show only "Chromium"; Firefox's
 * forks (LibreWolf) say Firefox. Whether the browser is a Flatpak or Snap build, or
 * which profile folder it runs with, no web API tells.
 */
export function browserNameFrom({ userAgent = '', brands = [] } = {}) {
  const names = (brands ?? []).map((b) => b.brand);
  if (/\bFirefox\//.test(userAgent)) return 'firefox';
  if (names.includes('Microsoft Edge') || /\bEdg\//.test(userAgent)) return 'edge';
  if (names.includes('Brave')) return 'brave';
  if (names.includes('Opera') || /\bOPR\//.test(userAgent)) return 'opera';
  if (names.includes('Google Chrome')) return 'chrome';
  if (names.includes('Chromium') || /\bChrome\//.test(userAgent)) return 'chromium';
  return null;
}

/**
 * What to do when the host cannot be reached: {browserSays, steps: [{text, command}]}.
 * `browserSays` is the browser's own message (docs/install.md's troubleshooting is
 * keyed by it); each step is a sentence and the command to paste for this browser.
 * `extensionId` is this extension's id, `ownId` the id `codecatch install` allows.
 */
export function hostFix(problem, { browser = null, extensionId = null, ownId = null } = {}) {
  if (!problem) return { browserSays: null, steps: [] };
  const b = browser ? ` --browser ${browser}` : '';
  const chromiumFamily = browser && browser !== 'firefox';
  const steps = [];
  if (problem.code === 'host_missing') {
    steps.push({ text: t(browser ? 'fixInstall' : 'fixInstallUnknown'), command: `codecatch install${b}` });
    // A browser started with --user-data-dir=DIR reads only DIR/NativeMessagingHosts.
    // The extension cannot see its profile folder, so it says when this applies.
    if (chromiumFamily || !browser) {
      steps.push({ text: t('fixInstallProfile'), command: `codecatch install --browser ${browser ?? 'chromium'} --user-data-dir DIR` });
    }
  } else if (problem.code === 'host_forbidden') {
    const command = extensionId && extensionId !== ownId
      ? `codecatch install${b} --extension-id ${extensionId}` : `codecatch install${b} --force`;
    steps.push({ text: t('fixForbidden'), command });
  } else if (problem.code === 'host_exited' || problem.code === 'host_failed') {
    steps.push({ text: t('fixDoctor'), command: `codecatch doctor${b}` });
    steps.push({ text: t('fixReinstall'), command: `codecatch install${b} --force` });
  }
  return { browserSays: problem.detail || null, steps };
}

/** The application: "Teams PowerShell (12128f48-…)", or the client id, or the scheme. */
export function appLine(meta) {
  if (meta.app && meta.client_id) return `${meta.app} (${meta.client_id})`;
  return meta.app ?? meta.client_id ?? meta.scheme ?? t('unknownApp');
}

/** "login.microsoftonline.com (public cloud)". */
export function signinLine(meta) {
  if (!meta.page_host) return t('pasted');
  const cloud = cloudOf(meta.page_host);
  return cloud ? `${meta.page_host} (${cloud})` : meta.page_host;
}

export function openerLine(meta) {
  if (!meta.page_host) return '—';
  if (!meta.opener_origin) return t('openedByYou');
  return meta.opener_by_page ? meta.opener_origin : t('openedByYouFrom', meta.opener_origin);
}

export function expiryLine(meta, now = Date.now()) {
  return typeof meta.expires_at === 'number' ? timeLeft(meta.expires_at, now) : '—';
}

export function isExpired(meta, now = Date.now()) {
  return typeof meta.expires_at === 'number' && meta.expires_at <= now;
}

/**
 * The toolbar badge the background shows for this status, so the popup can show the
 * same state: {text, color, label}. Host missing wins, then the latest capture, then
 * an armed tab waiting for its code.
 */
export function badgeFor(status) {
  const c = status?.connection ?? {};
  if (c.state !== 'connected' && ['host_missing', 'host_forbidden', 'incompatible'].includes(c.problem?.code)) {
    return { text: '!', color: '#cf222e', label: t('stateHostMissing') };
  }
  const latest = status?.latest;
  if (latest) {
    const { badge } = describeOutcome(latest);
    const label = {
      filled: t('stateFilled'), error_response: t('stateError'), host_unavailable: t('stateHostMissing'),
    }[latest.outcome] ?? t('stateCaptured');
    return { ...badge, label };
  }
  if (status?.armed) return { text: '', color: '#57606a', label: t('stateArmed') };
  // Nothing caught yet: "ready" beside "Connected to the codecatch host", never a
  // "waiting" that reads as waiting for the host.
  if (c.state === 'connected') return { text: '', color: '#57606a', label: t('stateReady') };
  return { text: '', color: '#57606a', label: t(c.problem ? 'stateHostProblem' : 'stateConnecting') };
}

/** One line for the recent-captures list: metadata only. */
export function recentLine(meta) {
  const when = meta.captured_at ? new Date(meta.captured_at).toLocaleTimeString() : '';
  const what = meta.kind === 'error' ? (meta.aadsts ?? meta.error ?? t('stateError')) : appLine(meta);
  const outcome = {
    filled: t('stateFilled'), error_response: t('stateError'), waiting: t('stateCaptured'), host_unavailable: t('stateHostMissing'),
  }[meta.outcome] ?? meta.outcome ?? '';
  return [when, what, meta.page_host ?? '', outcome].filter(Boolean).join(' · ');
}

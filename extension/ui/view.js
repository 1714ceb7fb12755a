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
  if (c.problem) return { text: c.problem.message, problem: true };
  return { text: t(c.state === 'backoff' ? 'hostRetrying' : 'hostConnecting'), problem: false };
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
  return { text: '', color: '#57606a', label: t('stateWaiting') };
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

// What the badge, the notification and the popup say about a capture: plain
// functions of plain data, so the wording is tested once (tests/node/summary.test.js).

import { originOf } from './provenance.js';

/** "9 min 58 s left", "expired 2 min ago". */
export function timeLeft(expiresAt, now = Date.now()) {
  if (typeof expiresAt !== 'number') return '';
  const ms = expiresAt - now;
  const abs = Math.abs(ms);
  const min = Math.floor(abs / 60_000);
  const sec = Math.floor((abs % 60_000) / 1000);
  const span = min > 0 ? `${min} min ${sec} s` : `${sec} s`;
  return ms > 0 ? `${span} left` : `expired ${span} ago`;
}

/** Capture metadata that may leave the background: never the code or the URLs that carry it. */
export function captureMetadata(record) {
  if (!record) return null;
  const r = record.response ?? {};
  return {
    capture_id: record.capture_id ?? null,
    channel: record.channel,
    page_host: record.page_host ?? null,
    tab_id: record.tab_id ?? null,
    kind: r.kind ?? null,
    app: r.app ?? null,
    client_id: r.client_id ?? null,
    scheme: r.scheme ?? null,
    code_redacted: r.code_redacted ?? null,
    error: r.error ?? null,
    aadsts: r.aadsts ?? null,
    hint: r.hint ?? null,
    received_at: record.received_at ?? null, // when the extension saw the redirect
    // Who opened the sign-in, as recorded when its tab was created (flows.js).
    opener_origin: record.source?.opener_origin ?? originOf(record.source?.opener_url),
    proof: record.proof ?? null, // redirect | navigate | declared, or null: unverified
    verified: Boolean(record.proof),
    flow: record.source?.flow ?? null,
    flow_via: record.source?.flow_via ?? null,
    opener_by_page: record.source?.opener_by_page ?? false,
    captured_at: record.captured_at ?? null,
    expires_at: record.expires_at ?? null,
    duplicate: record.duplicate ?? false,
    fill_reason: record.fill_reason ?? null,
    fill_target: record.fill ? { tab_id: record.fill.tab_id, target: record.fill.target, origin: record.fill.origin } : null,
    outcome: record.outcome ?? null, // filled | no_field | no_permission | tab_gone | copied | error_response | waiting | host_unavailable
    outcome_detail: record.outcome_detail ?? null,
    field: record.field ?? null,
    // The panel rule's save button, after a fill: {pressed, reason}, or null when none was asked.
    saved: record.saved ? { pressed: Boolean(record.saved.pressed), reason: record.saved.reason ?? null } : null,
  };
}

const BADGE = {
  filled: { text: 'OK', color: '#1a7f37' },
  error_response: { text: 'ERR', color: '#cf222e' },
  host_unavailable: { text: '!', color: '#cf222e' },
  waiting: { text: 'CODE', color: '#9a6700' },
  unverified: { text: '?', color: '#6e7781' },
};

/** {badge: {text, color}, title, message} for one capture and what became of it. */
export function describeOutcome(meta, now = Date.now()) {
  const left = timeLeft(meta.expires_at, now);
  const who = meta.app ? ` (${meta.app})` : '';
  switch (meta.outcome) {
    case 'filled':
      if (meta.saved?.pressed) {
        return {
          badge: BADGE.filled,
          title: 'Code filled and saved',
          message: `The authorization code${who} is in the panel's field, and its save button was pressed. ${left}.`,
        };
      }
      return {
        badge: BADGE.filled,
        title: 'Code filled into the panel',
        message: meta.saved
          ? `The authorization code${who} is in the panel's field, but its save button was ${meta.saved.reason === 'disabled' ? 'disabled' : 'not pressed'}: press it yourself. ${left}.`
          : `The authorization code${who} is in the panel's field: submit the form. ${left}.`,
      };
    case 'error_response':
      return {
        badge: BADGE.error_response,
        title: `Sign-in returned an error${meta.aadsts ? `: ${meta.aadsts}` : ''}`,
        message: [meta.hint, meta.error && !meta.hint ? meta.error : null].filter(Boolean).join(' ') || 'Microsoft sent an error instead of a code. Nothing was filled.',
      };
    case 'unverified':
      return {
        badge: BADGE.unverified,
        title: 'Unverified redirect: not filled',
        message: `A redirect carrying a code appeared in a ${meta.page_host ?? 'sign-in'} window, but nothing shows that Microsoft sent it: another page may have put it there. It is listed in the toolbar popup.`,
      };
    case 'host_unavailable':
      return {
        badge: BADGE.host_unavailable,
        title: 'Redirect caught, but the codecatch host is unavailable',
        message: `${meta.outcome_detail ?? 'The native host did not answer.'} The redirect is kept in the toolbar popup.`,
      };
    default: {
      const why = {
        no_field: 'no field for it was found on the panel page',
        no_permission: "codecatch may not fill that site yet: grant it from the toolbar popup",
        tab_gone: 'the panel tab is gone',
        no_target: 'no panel tab is tied to this sign-in',
        disabled: 'automatic filling is off',
        left_signin_hosts: `the sign-in window went to ${meta.flow_via ?? 'another site'} on the way, so it may not be the panel's sign-in`,
        started_elsewhere: `another page${meta.flow_via ? ` (${meta.flow_via})` : ''} started this sign-in`,
        target_moved: 'the tab that started the sign-in shows another site now',
        claimed: 'another browser window took it',
      }[meta.outcome_detail_code ?? meta.outcome] ?? (meta.outcome_detail || 'it was not filled automatically');
      return {
        badge: BADGE.waiting,
        title: `Code caught${who}: waiting in the toolbar popup`,
        message: `Not filled: ${why}. Use Copy URL or Fill in the popup. ${left}.`,
      };
    }
  }
}

/**
 * Why the latest capture must not be filled unseen (the keyboard shortcut and the context
 * menu fill it without showing it), or null. A sign-in window that a page on another
 * origin opened may hold that page's own code (an opener may navigate the window it
 * opened); the popup says who opened it, and its Fill is the user's informed choice.
 */
export function blindFillRefusal(record, targetUrl) {
  if (record?.outcome === 'unverified') {
    const opener = record.source?.opener_origin ?? originOf(record.source?.opener_url);
    const who = opener ? `; ${new URL(opener).host} opened that sign-in window` : '';
    return `The latest redirect is unverified (nothing shows that Microsoft sent it${who}): it is never filled.`;
  }
  if (['left_signin_hosts', 'started_elsewhere', 'target_moved'].includes(record?.fill_reason)) {
    return 'The latest code came from a sign-in that is not tied to a panel (it left Microsoft\'s sign-in pages, or another page started it): check it in the toolbar popup, and fill it from there if it is yours.';
  }
  const source = record?.source;
  if (!source?.opener_by_page) return null;
  const opener = originOf(source.opener_url);
  if (opener && opener === originOf(targetUrl)) return null;
  const who = opener ? new URL(opener).host : 'another page';
  return `The latest code came from a sign-in that ${who} opened, not this page or you: check it in the toolbar popup, and fill it from there if it is yours.`;
}

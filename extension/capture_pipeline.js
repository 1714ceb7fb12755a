// The capture pipeline: what happens to one redirect a channel reported.
//
//   report  a channel saw a native redirect (capture_channels.js)
//   admit   one verdict before the host: refused (why), a duplicate, held for its
//           proof, or taken with its proof (lib/provenance.js)
//   host    the host parses it and decides the fill (PROTOCOL.md `capture`)
//   outcome one of: filled, waiting (with why), error_response, unverified,
//           host_unavailable, failed
//   settle  the one step that stores the record for the popup (storage.session),
//           shows it (badge, notification) and reports it to the host
//
// The pipeline owns its state (configuration, counters, refusals, reports waiting for
// proof, retries); the browser, the host connection and the clock come in from
// background.js, so tests drive it with fakes (tests/node/capture_pipeline.test.js).

import { fillTab, focusTab } from './fill.js';
import { errorClass } from './lib/errors.js';
import { admission, ARM_LIFETIME_MS, originOf, proofOf } from './lib/provenance.js';
import { dedupeKey, isNativeRedirect, redactUri, schemeOf } from './lib/redirect.js';
import { isSigninUrl } from './lib/signin_hosts.js';
import { blindFillRefusal, captureMetadata } from './lib/summary.js';

export const CAPTURE_TIMEOUT_MS = 5000;
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
// A report without proof (webNavigation only says where the frame was) waits this long
// for a proven report of the same URI, or for the page's declaration (Firefox), before
// it is kept as unverified. Proven reports never wait.
export const UNPROVEN_GRACE_MS = 600;
export const MAX_URI = 16 * 1024; // no real redirect is longer; the host's frame limit is 64 KiB
const MAX_URL = 8192; // page URLs go to the host for their origin: a long tail is cut
const MAX_IGNORED = 10;
// What `report` tells the host (PROTOCOL.md): the outcomes of a fill or a copy.
const REPORTED = new Set(['filled', 'no_field', 'no_permission', 'tab_gone', 'copied']);

const capped = (url) => (typeof url === 'string' && url.length > MAX_URL ? url.slice(0, MAX_URL) : url);

function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

export class CapturePipeline {
  config = { notifications: true, close_signin_tab: false, auto_fill: true };
  stats = { accepted: 0, ignored: 0, duplicates: 0 };
  ignored = []; // metadata of refused captures, newest first (no URIs: they may hold codes)
  guardOn = false; // Chromium's redirect guard holds sign-in 302s back (redirect_guard.js)
  #unproven = new Map(); // dedupe key -> {report, timer}
  #retrying = new Set(); // local ids in flight: memory only, so a restart never leaves one stuck

  /**
   * @param {object} d
   * @param {object} d.api the browser namespace
   * @param {object} d.connection lib/native_connection.js NativeConnection
   * @param {object} d.session session_state.js SessionState
   * @param {object} d.tabs tab_directory.js TabDirectory
   * @param {object} d.flows flows.js FlowBook
   * @param {object} d.recent lib/dedupe.js RecentKeys
   * @param {object} d.permissions fill.js OriginPermissions
   * @param {object} d.warmer fill.js PanelWarmer
   * @param {(meta: object, config: object) => void} d.announce notify.js announce, bound to the api
   * @param {(text: string) => Promise<boolean>} d.copyText clipboard.js copyFromBackground, bound
   * @param {object} d.clipboard clipboard.js ClipboardGuard: every copy is cleared when its code expires
   */
  constructor({ api, connection, session, tabs, flows, recent, permissions, warmer, announce, copyText, clipboard,
    clock = () => Date.now(), timers = globalThis, log = () => {}, newId = () => crypto.randomUUID() }) {
    Object.assign(this, {
      api, connection, session, tabs, flows, recent, permissions, warmer, announce, copyText, clipboard, clock, timers, log, newId,
    });
  }

  // ---- report -> admit ------------------------------------------------------------

  /** A channel's report: {channel, uri, pageUrl, tabId, frameId}. */
  async report(report) {
    const verdict = this.admit(report);
    if (verdict.take === 'duplicate') {
      this.stats.duplicates += 1;
    } else if (verdict.take === 'hold') {
      this.#hold(report);
    } else if (verdict.take === false) {
      if (verdict.reason) this.#refuse(report.channel, hostOf(report.pageUrl), report.uri, verdict.reason);
    } else {
      this.#dropHeld(dedupeKey(report.uri));
      if (!this.recent.add(dedupeKey(report.uri))) {
        this.stats.duplicates += 1;
        return;
      }
      await this.#accept(report, verdict.proof);
    }
  }

  /**
   * The verdict on a report before the host: {take: false, reason} (reason null: not a
   * native redirect, nothing to count), {take: 'duplicate'}, {take: 'hold'} (no proof
   * yet), or {take: true, proof}.
   */
  admit({ channel, uri, pageUrl, tabId, frameId }) {
    // Firefox: a launch whose target only the browser saw (capture_channels.js isUnseenLaunch).
    if (uri === null) return { take: false, reason: isSigninUrl(pageUrl) ? null : 'not_signin_host' };
    if (!isNativeRedirect(uri)) return { take: false, reason: null };
    if (uri.length > MAX_URI) return { take: false, reason: 'too_long' };
    // Already handled via a faster channel; a late channel may no longer know the frame
    // (Chromium closes a tab whose first navigation was a 302 to the custom scheme).
    if (this.recent.has(dedupeKey(uri))) return { take: 'duplicate' };
    // The admission rule (lib/provenance.js): a tab's own Microsoft sign-in page, and
    // what proves that Microsoft produced the redirect.
    if (isSigninUrl(pageUrl) && frameId === 0 && tabId >= 0) this.flows.see(tabId, pageUrl); // a 302's request may be the tab's first
    const { refused, proof } = admission({ channel, uri, pageUrl, requestUrl: pageUrl, frameId, declared: this.flows.declaredBy(tabId, pageUrl) });
    if (refused) return { take: false, reason: refused };
    return proof ? { take: true, proof } : { take: 'hold' };
  }

  /** A sign-in page declared its targets: its reports waiting for proof go again. */
  declared(tabId, pageUrl, scripts) {
    this.flows.declare(tabId, pageUrl, scripts);
    for (const [key, { report }] of this.#unproven) {
      if (report.tabId !== tabId) continue;
      this.#dropHeld(key);
      this.report(report).catch((err) => this.log(`capture failed: ${err?.message ?? err}`));
    }
  }

  #hold(report) {
    const key = dedupeKey(report.uri);
    if (this.#unproven.has(key)) return;
    const timer = this.timers.setTimeout(() => {
      this.#unproven.delete(key);
      if (!this.recent.add(key)) return; // a proven report of the same URI came meanwhile
      const proof = proofOf({ ...report, requestUrl: report.pageUrl, declared: this.flows.declaredBy(report.tabId, report.pageUrl) });
      this.#accept(report, proof).catch((err) => this.log(`capture failed: ${err?.message ?? err}`));
    }, UNPROVEN_GRACE_MS);
    this.#unproven.set(key, { report, timer });
  }

  #dropHeld(key) {
    const held = this.#unproven.get(key);
    if (held) this.timers.clearTimeout(held.timer);
    this.#unproven.delete(key);
  }

  /** Counts and remembers a refused capture: its metadata only, never the URI (a code). */
  #refuse(channel, pageHost, uri, reason) {
    this.stats.ignored += 1;
    this.ignored.unshift({ channel, page_host: pageHost, scheme: typeof uri === 'string' ? schemeOf(uri) : null, at: this.clock(), reason });
    this.ignored.length = Math.min(this.ignored.length, MAX_IGNORED);
    this.log(`ignored a redirect from ${pageHost || 'an unknown frame'} (${channel}): ${reason}`);
  }

  // ---- the host -----------------------------------------------------------------

  async #accept({ channel, uri, pageUrl, tabId, frameId }, proof) {
    this.stats.accepted += 1;
    this.log(`caught ${redactUri(uri)} via ${channel} in tab ${tabId}${proof ? ` (${proof})` : ', unverified'}`);
    const record = {
      local_id: this.newId(), channel, uri, page_host: hostOf(pageUrl), tab_id: tabId, frame_id: frameId, received_at: this.clock(), proof,
    };
    await this.session.ready;
    record.source = await this.#sourceFor(record, pageUrl);
    const kept = await this.send(record);
    const onSignin = this.flows.flow(tabId)?.phase === 'signin';
    const guarded = this.guardOn && channel === 'webrequest' && record.source.opener_tab_id !== null
        && tabId !== record.source.opener_tab_id;
    // The guard held the 302 back, so this tab, opened by the panel for the sign-in, now
    // shows an empty page where Chromium used to close it itself: close it likewise. A
    // claimed capture (`codecatch login` started that flow and takes the code) ends its
    // tab's job as well, whoever opened it. Whether the tab is still on the sign-in comes
    // from its flow, known at once: its URL may not have reached the tab directory yet
    // (the 302 was its first response).
    if (kept && onSignin && tabId >= 0 && (guarded || record.claimed === true)) {
      this.api.tabs.remove(tabId).catch(() => {});
    }
  }

  async #sourceFor(record, pageUrl) {
    const tabId = record.tab_id >= 0 ? record.tab_id : null;
    const flow = tabId !== null ? this.flows.flow(tabId) : null;
    const opener = flow?.opener_tab_id ?? null;
    const armed = this.arming();
    const [openerUrl, armedUrl] = await Promise.all([
      opener !== null ? this.tabs.url(opener) : null,
      armed ? this.tabs.url(armed.tab_id) : null,
    ]);
    return {
      channel: record.channel, page_url: capped(pageUrl), tab_id: tabId, frame_id: record.frame_id ?? null,
      observed_at: record.received_at, proof: record.proof ?? null,
      flow: flow?.phase ?? 'start', flow_via: flow?.via ?? null, flow_started_at: flow?.started_at ?? null,
      opener_tab_id: opener, opener_url: capped(openerUrl), opener_origin: flow?.opener_origin ?? null,
      opener_by_page: flow?.by_page ?? false,
      ...(armed && armedUrl !== null ? {
        armed_tab_id: armed.tab_id, armed_url: capped(armedUrl), armed_origin: armed.origin, armed_at: armed.at, armed_until: armed.until,
      } : {}),
    };
  }

  /**
   * Sends a capture to the host and settles it by the answer; false when nothing is kept
   * (the host refused it). Also used to retry.
   */
  async send(record) {
    let result;
    try {
      result = await this.connection.request('capture', { uri: record.uri, source: record.source }, { timeoutMs: CAPTURE_TIMEOUT_MS });
    } catch (err) {
      // By the error's class (PROTOCOL.md "Error codes"; a local failure has code null).
      const kind = errorClass(err?.code);
      if (kind === 'refused') {
        // The host refused what it was given (not a sign-in host, no code or error, ...).
        this.#refuse(record.channel, record.page_host, record.uri, err.errorName);
        return false;
      }
      // No host, or a fault of the host's own: keep the redirect (memory and
      // storage.session only) and retry on connect, but not forever: one the host failed
      // on twice (an error reply, or no reply in time) is not sent again, nor one whose
      // message the host cannot take (10-19: it would answer the same every time).
      if (kind !== null || err?.errorName === 'timeout') record.failures = (record.failures ?? 0) + 1;
      if (kind === 'bad_message') record.failures = 2;
      const outcome = record.failures >= 2 ? 'failed' : 'host_unavailable';
      await this.settle(record, { outcome, outcome_detail: this.connection.problem?.message ?? err?.message ?? String(err) });
      return true;
    }
    const seen = this.session.findCapture(record.local_id);
    Object.assign(record, {
      capture_id: result.capture_id, response: result.response, https_url: result.https_url,
      captured_at: result.captured_at, expires_at: result.expires_at, duplicate: result.duplicate, claimed: result.claimed === true,
      fill: result.fill, fill_reason: result.fill_reason, outcome: null, outcome_detail: null, outcome_detail_code: null,
    });
    if (result.duplicate && !seen) {
      this.log('the host had this redirect already; not filling again');
      return true;
    }
    if (result.response?.kind === 'error') return this.settle(record, { outcome: 'error_response' }).then(() => true);
    // Nothing proves Microsoft produced it: never filled, listed apart in the popup.
    if (result.fill_reason === 'unverified') return this.settle(record, { outcome: 'unverified' }).then(() => true);
    if (!result.fill || result.duplicate) {
      if (result.fill_reason === 'no_target' && this.config.copy_when_no_panel) this.#copyWhenNoPanel(record);
      return this.settle(record, { outcome: 'waiting', outcome_detail_code: result.fill_reason }).then(() => true);
    }
    // An armed tab was the user's choice in the popup, whose activeTab grant may stand in
    // for the host permission (executeScript still refuses a tab it may not touch).
    await this.fill(record, {
      tabId: result.fill.tab_id, origin: result.fill.origin, selector: result.fill.selector, value: result.fill.value,
      valueKind: result.fill.value_kind, checkPermission: result.fill.target !== 'armed', automatic: true,
      armed: result.fill.target === 'armed', save: this.#saveFor(record, result.fill),
    });
    return true;
  }

  /**
   * The save button to press after the fill (the panel rule's, PROTOCOL.md fill.save), or
   * null. The host sends one only for a proven capture; the extension also wants its own
   * proof (lib/provenance.js), so that a host that says otherwise never gets a save.
   */
  #saveFor(record, fill) {
    const save = typeof fill.save === 'string' && fill.save ? fill.save : null;
    if (save && !record.proof) this.log('the host asked for a save without proof of the capture: not pressing it');
    return record.proof ? save : null;
  }

  /** Retries what waited for the host (on connect), within the code's lifetime. */
  async retryWaiting() {
    await this.session.ready;
    const now = this.clock();
    for (const record of this.session.captures) {
      if (record.outcome === 'host_unavailable' && now - record.received_at < CODE_LIFETIME_MS && !this.#retrying.has(record.local_id)) {
        this.#retrying.add(record.local_id);
        await this.send(record).finally(() => this.#retrying.delete(record.local_id));
      }
    }
  }

  // ---- fill and settle ------------------------------------------------------------

  /** Fills `target` with the record's value, then settles the record by what happened. */
  async fill(record, target) {
    const filling = fillTab(this.api, { ...target, permissions: this.permissions, kept: this.warmer.has(target.tabId) });
    // Kept for the popup once the fill is on its way (a task later: executeScript goes out
    // in this one). Writing to storage.session first put that work, in this worker and
    // in the browser, in front of the fill (bench/capture_latency.py).
    if (target.automatic) this.timers.setTimeout(() => this.session.addCapture(record), 0);
    const done = await filling;
    this.log(`fill into tab ${target.tabId}: ${done.outcome} (${done.detail})`);
    if (done.outcome === 'filled') {
      if (target.armed) await this.session.setArmed(null); // an armed tab takes one sign-in
      await focusTab(this.api, target.tabId);
      if (target.automatic && record.fill?.close_signin_tab && record.tab_id !== null && record.tab_id !== target.tabId) {
        await this.api.tabs.remove(record.tab_id).catch(() => {});
      }
    }
    await this.settle(record, {
      outcome: done.outcome === 'filled' ? 'filled' : 'waiting', outcome_detail: done.detail, outcome_detail_code: done.outcome, field: done.field ?? null,
      saved: done.saved ? { pressed: done.saved.pressed, reason: done.saved.reason } : null,
    }, done.outcome);
    return done;
  }

  /**
   * The one step after every outcome: the record is stored for the popup, shown (badge,
   * notification) and, for a fill or a copy, reported to the host.
   */
  async settle(record, change, reported = null) {
    Object.assign(record, change);
    await (this.session.findCapture(record.local_id) ? this.session.updateCapture(record, {}) : this.session.addCapture(record));
    this.announce(captureMetadata(record), this.config);
    if (record.capture_id && REPORTED.has(reported)) {
      const saved = reported === 'filled' && record.saved ? { saved: record.saved.pressed } : {};
      this.connection.request('report', { capture_id: record.capture_id, outcome: reported, detail: record.outcome_detail ?? null, ...saved })
        .catch((err) => this.log(`report failed: ${err?.message ?? err}`));
    }
  }

  /** When the record's code expires: the host's time, else its lifetime from when it was seen. */
  #expiry(record) {
    return record.expires_at ?? record.received_at + CODE_LIFETIME_MS;
  }

  /** The options page's "copy the https URL when no panel is tied to the sign-in". */
  #copyWhenNoPanel(record) {
    // Remembered before it is written: a worker stopped in between leaves no copy uncleared.
    this.clipboard.wrote(record.https_url, this.#expiry(record)).then(() => this.copyText(record.https_url)).then((ok) => {
      this.log(`copied the https URL for a sign-in with no panel: ${ok}`);
      if (ok) this.connection.request('report', { capture_id: record.capture_id, outcome: 'copied', detail: 'no_panel' }).catch(() => {});
    }, (err) => this.log(`copy failed: ${err?.message ?? err}`));
  }

  // ---- what the popup, the menu and the shortcut ask --------------------------------

  /** The armed tab, unless its time is up (it is then disarmed). */
  arming() {
    const armed = this.session.armed;
    if (armed && !(this.clock() < armed.until)) {
      this.session.setArmed(null);
      return null;
    }
    return armed;
  }

  /** Arms a tab: it takes the next sign-in the user starts, once, within ARM_LIFETIME_MS. */
  async arm(tab) {
    const origin = originOf(tab?.url);
    if (!tab || !origin) return { ok: false, message: 'Only a tab that shows a web page can be armed.' };
    const at = this.clock();
    await this.session.setArmed({ tab_id: tab.id, url: tab.url, origin, at, until: at + ARM_LIFETIME_MS });
    return { ok: true, armed: this.session.armed };
  }

  /** The popup's Fill (blind: the menu's and the shortcut's, which do not show the capture). */
  async fillByHand({ capture_id: id, tab_id: tabId, selector = null, blind = false }) {
    const record = this.session.findCapture(id);
    if (!record) return { ok: false, message: 'No capture to fill.' };
    const refusal = blind ? blindFillRefusal(record, await this.tabs.url(tabId)) : null;
    if (refusal) return { ok: false, outcome: 'refused', message: refusal }; // menus.js tells the user
    if (record.response?.kind === 'error') return { ok: false, message: 'An error response has no code to fill.' };
    if (record.outcome === 'unverified') {
      return { ok: false, outcome: 'refused', message: 'Nothing shows that Microsoft produced this code: it is never filled. Copy it only if you are sure it is yours.' };
    }
    const value = record.fill?.value ?? record.https_url;
    if (!value) return { ok: false, message: 'The host has not processed this redirect yet.' };
    const target = tabId ?? record.fill?.tab_id;
    if (target === undefined) return { ok: false, message: 'No tab to fill.' };
    const done = await this.fill(record, {
      tabId: target, origin: null, selector: selector ?? (target === record.fill?.tab_id ? record.fill?.selector : null),
      value, valueKind: record.fill?.value_kind ?? 'url', checkPermission: false,
    });
    return { ok: done.outcome === 'filled', outcome: done.outcome, message: done.detail };
  }

  /**
   * The URL (or code) for the clipboard: the popup writes it, in its user gesture, once
   * it is remembered for clearing when its code expires.
   */
  async copy({ capture_id: id, what = 'url', unverified = false }) {
    const record = this.session.findCapture(id);
    if (!record) return { ok: false, message: 'No capture to copy.' };
    if (record.outcome === 'unverified' && !unverified) return { ok: false, message: 'This redirect is unverified: confirm in the popup first.' };
    const text = what === 'code' ? record.response?.code : (record.https_url ?? record.uri);
    if (!text) return { ok: false, text: null };
    await this.clipboard.wrote(text, this.#expiry(record));
    if (record.capture_id) this.connection.request('report', { capture_id: record.capture_id, outcome: 'copied', detail: what }).catch(() => {});
    return { ok: true, text };
  }

  status() {
    const verified = this.session.captures.filter((c) => c.outcome !== 'unverified');
    return {
      connection: this.connection.status(),
      latest: captureMetadata(verified[0]),
      captures: verified.map(captureMetadata),
      // Redirects nothing proves Microsoft produced: listed apart, never filled.
      unverified: this.session.captures.filter((c) => c.outcome === 'unverified').map(captureMetadata),
      armed: this.arming(),
      stats: { ...this.stats },
      ignored: this.ignored.slice(),
    };
  }
}

// The background (MV3 service worker in Chromium, event page in Firefox): it only
// wires the modules together. Capture -> host (`capture`, PROTOCOL.md) -> fill ->
// report, plus a small runtime-message API for the popup and for tests.

import { listenForCaptures, listenForOpeners } from './capture_channels.js';
import { fillTab, focusTab, OriginPermissions, PanelWarmer } from './fill.js';
import { HOST_NAME } from './lib/identity.js';
import { NativeConnection, NativeError, State } from './lib/native_connection.js';
import { RecentKeys } from './lib/dedupe.js';
import { dedupeKey, isNativeRedirect, redactUri, schemeOf } from './lib/redirect.js';
import { ARM_LIFETIME_MS, originOf, proofOf } from './lib/provenance.js';
import { isSigninUrl } from './lib/signin_hosts.js';
import { FlowBook } from './flows.js';
import { blindFillRefusal, captureMetadata } from './lib/summary.js';
import { copyFromBackground } from './clipboard.js';
import { listenForFillHere } from './menus.js';
import { announce, showBadge } from './notify.js';
import { guardNativeRedirects } from './redirect_guard.js';
import { SessionState } from './session_state.js';
import { TabDirectory } from './tab_directory.js';

const api = globalThis.browser ?? globalThis.chrome;
const CAPTURE_TIMEOUT_MS = 5000;
const CODE_LIFETIME_MS = 10 * 60 * 1000;
const CONFIG_TIMEOUT_MS = 3000;

const session = new SessionState(api);
const tabs = new TabDirectory(api);
const flows = new FlowBook(api, session, tabs);
const granted = new OriginPermissions(api);
const warmer = new PanelWarmer(api, granted);
const recent = new RecentKeys({ ttlMs: CODE_LIFETIME_MS });
const stats = { accepted: 0, ignored: 0, duplicates: 0 };
const ignored = []; // metadata of refused captures, newest first (no URIs: they may hold codes)
const MAX_IGNORED = 10;
let config = { notifications: true, close_signin_tab: false, auto_fill: true };

const connection = new NativeConnection({
  connect: () => api.runtime.connectNative(HOST_NAME),
  lastErrorMessage: () => globalThis.chrome?.runtime?.lastError?.message,
});

const log = (...args) => console.info('codecatch:', ...args);

// ---- captures -------------------------------------------------------------------

// A report without proof (webNavigation only says where the frame was) waits this long
// for a proven report of the same URI, or for the page's declaration (Firefox), before
// it is kept as unverified. Proven reports never wait.
const UNPROVEN_GRACE_MS = 600;
const MAX_URI = 16 * 1024; // no real redirect is longer; the host's frame limit is 64 KiB
const unproven = new Map(); // dedupe key -> {report, timer}

async function handleCapture(report) {
  const { channel, uri, pageUrl, tabId, frameId } = report;
  if (uri === null && !isSigninUrl(pageUrl)) {
    // Firefox: a launch whose target only the browser saw (capture_channels.js isUnseenLaunch).
    noteIgnored(channel, hostOf(pageUrl), null, 'not_signin_host');
    return;
  }
  if (!isNativeRedirect(uri)) return;
  if (uri.length > MAX_URI) {
    noteIgnored(channel, hostOf(pageUrl), uri, 'too_long');
    return;
  }
  const key = dedupeKey(uri);
  if (recent.has(key)) {
    // Already handled via a faster channel; a late channel may no longer know the frame
    // (Chromium closes a tab whose first navigation was a 302 to the custom scheme).
    stats.duplicates += 1;
    return;
  }
  // Only from a Microsoft sign-in page (DESIGN.md), as the browser reported the frame or
  // the request; a nativeclient URL is no exception.
  if (!isSigninUrl(pageUrl)) {
    noteIgnored(channel, hostOf(pageUrl), uri, 'not_signin_host');
    log(`ignored a ${schemeOf(uri)} redirect from ${hostOf(pageUrl) || 'an unknown frame'} (${channel})`);
    return;
  }
  // And only a tab's own page (the top frame): a page that frames a sign-in page can
  // navigate that frame, and the browser still reports the sign-in URL for it.
  if (frameId !== 0) {
    noteIgnored(channel, hostOf(pageUrl), uri, 'framed_signin');
    log(`ignored a ${schemeOf(uri)} redirect from a framed ${hostOf(pageUrl)} page (${channel})`);
    return;
  }
  if (tabId >= 0) flows.see(tabId, pageUrl); // a 302's request may be the first the tab made
  const proof = proofOf({ ...report, requestUrl: pageUrl, declared: flows.declaredBy(tabId, pageUrl) });
  if (!proof) {
    holdUnproven(key, report);
    return;
  }
  dropUnproven(key);
  if (!recent.add(key)) {
    stats.duplicates += 1;
    return;
  }
  await accept(report, proof);
}

/** An unproven report waits for its proof (UNPROVEN_GRACE_MS), then is kept as unverified. */
function holdUnproven(key, report) {
  if (unproven.has(key)) return;
  const timer = setTimeout(() => {
    unproven.delete(key);
    if (recent.has(key)) return; // a proven report of the same URI came meanwhile
    const proof = proofOf({ ...report, requestUrl: report.pageUrl, declared: flows.declaredBy(report.tabId, report.pageUrl) });
    recent.add(key);
    accept(report, proof).catch((err) => log(`capture failed: ${err?.message ?? err}`));
  }, UNPROVEN_GRACE_MS);
  unproven.set(key, { report, timer });
}

function dropUnproven(key) {
  clearTimeout(unproven.get(key)?.timer);
  unproven.delete(key);
}

/** A sign-in page declared its targets: reports of that tab waiting for proof go again. */
function declared(tabId) {
  for (const [key, { report }] of unproven) {
    if (report.tabId !== tabId) continue;
    dropUnproven(key);
    handleCapture(report).catch((err) => log(`capture failed: ${err?.message ?? err}`));
  }
}

async function accept({ channel, uri, pageUrl, tabId, frameId }, proof) {
  stats.accepted += 1;
  log(`caught ${redactUri(uri)} via ${channel} in tab ${tabId}${proof ? ` (${proof})` : ', unverified'}`);
  const record = {
    local_id: crypto.randomUUID(), channel, uri, page_host: hostOf(pageUrl), tab_id: tabId, frame_id: frameId, received_at: Date.now(), proof,
  };
  await session.ready;
  const source = await sourceFor(record, pageUrl);
  const accepted = await sendToHost(record, source);
  if (accepted && guardOn && channel === 'webrequest' && source.opener_tab_id !== null
      && tabId !== source.opener_tab_id && isSigninUrl(await tabs.url(tabId))) {
    // The guard held the 302 back, so this tab, opened by the panel for the sign-in, now
    // shows an empty page where Chromium used to close it itself. Close it likewise.
    api.tabs.remove(tabId).catch(() => {});
  }
}

/** Counts and remembers a refused capture: its metadata only, never the URI (a code). */
function noteIgnored(channel, pageHost, uri, reason) {
  stats.ignored += 1;
  ignored.unshift({ channel, page_host: pageHost, scheme: uri === null ? null : schemeOf(uri), at: Date.now(), reason });
  ignored.length = Math.min(ignored.length, MAX_IGNORED);
}

// Page URLs go to the host only for their origin; a long tail (a page's own huge
// query) must not push a frame past the host's 64 KiB limit (PROTOCOL.md).
const MAX_URL = 8192;
const capped = (url) => (typeof url === 'string' && url.length > MAX_URL ? url.slice(0, MAX_URL) : url);

async function sourceFor(record, pageUrl) {
  const tabId = record.tab_id >= 0 ? record.tab_id : null;
  const flow = (tabId !== null ? flows.flow(tabId) : null) ?? null;
  const opener = flow?.opener_tab_id ?? null;
  const armed = currentArming();
  const [openerUrl, armedUrl] = await Promise.all([
    opener !== null ? tabs.url(opener) : null,
    armed ? tabs.url(armed.tab_id) : null,
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

/** The armed tab, unless its time is up (it is then disarmed). */
function currentArming() {
  const armed = session.armed;
  if (armed && !(Date.now() < armed.until)) {
    session.setArmed(null);
    return null;
  }
  return armed;
}

// The host's refusals of the input itself (PROTOCOL.md error codes 20-27, 30, 31): the
// redirect is not worth keeping. Any other error (internal, a field the host did not
// expect) is the host's problem, and the capture is kept.
const REFUSALS = new Set([20, 21, 22, 23, 24, 25, 26, 27, 30, 31]);

/**
 * Sends a capture to the host and acts on its answer; true when the host accepted it.
 * Also used to retry later.
 */
async function sendToHost(record, source) {
  record.source = source;
  let result;
  try {
    result = await connection.request('capture', { uri: record.uri, source }, { timeoutMs: CAPTURE_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof NativeError && REFUSALS.has(err.code)) {
      // The host refused what it was given (not a sign-in host, no code or error, ...):
      // nothing to keep.
      log(`the host refused the capture: ${err.errorName} (${err.code})`);
      noteIgnored(record.channel, record.page_host, record.uri, err.errorName);
      return false;
    }
    // No host, or a fault of the host's own (internal): keep the redirect (memory and
    // storage.session only) and retry on connect, but not forever: one the host itself
    // failed on twice stays in the popup without being sent again.
    // Bad input of any kind loses nothing.
    // A failure of the host's own: an error reply, or no reply in time (the host may
    // choke on this very capture). No host at all is no failure of the capture.
    if (err instanceof NativeError && (typeof err.code === 'number' || err.code === 'timeout')) {
      record.failures = (record.failures ?? 0) + 1;
    }
    record.outcome = record.failures >= 2 ? 'failed' : 'host_unavailable';
    record.outcome_detail = connection.problem?.message ?? err.message;
    await session.addCapture(record);
    announce(api, captureMetadata(record), config);
    return false;
  }
  const previous = session.findCapture(record.local_id);
  Object.assign(record, {
    capture_id: result.capture_id, response: result.response, https_url: result.https_url,
    captured_at: result.captured_at, expires_at: result.expires_at, duplicate: result.duplicate,
    fill: result.fill, fill_reason: result.fill_reason, outcome: null, outcome_detail: null,
  });
  if (result.duplicate && !previous) {
    log('the host had this redirect already; not filling again');
    return true;
  }
  if (result.response?.kind === 'error') {
    record.outcome = 'error_response';
    await session.addCapture(record);
    announce(api, captureMetadata(record), config);
    return true;
  }
  if (result.fill_reason === 'unverified') {
    // Nothing proves Microsoft produced it: never filled, listed apart in the popup.
    record.outcome = 'unverified';
    await session.addCapture(record);
    announce(api, captureMetadata(record), config);
    return true;
  }
  if (!result.fill || result.duplicate) {
    record.outcome = 'waiting';
    record.outcome_detail_code = result.fill_reason;
    await session.addCapture(record);
    if (result.fill_reason === 'no_target' && config.copy_when_no_panel) copyWhenNoPanel(record);
    announce(api, { ...captureMetadata(record), outcome_detail_code: result.fill_reason }, config);
    return true;
  }
  // An armed tab was the user's choice in the popup, whose activeTab grant may stand in
  // for the host permission (executeScript still refuses a tab it may not touch).
  const filling = fillAndReport(record, {
    tabId: result.fill.tab_id, origin: result.fill.origin, selector: result.fill.selector, value: result.fill.value,
    valueKind: result.fill.value_kind,
    checkPermission: result.fill.target !== 'armed', permissions: granted, automatic: true,
    armed: result.fill.target === 'armed',
  });
  // Kept for the popup once the fill is on its way (a task later: executeScript goes out
  // in this one). Writing every capture held to storage.session first put that work, in
  // this worker and in the browser, in front of the fill.
  setTimeout(() => session.addCapture(record), 0);
  await filling;
  return true;
}

/** The options page's "copy the https URL when no panel is tied to the sign-in". */
function copyWhenNoPanel(record) {
  copyFromBackground(api, record.https_url).then((ok) => {
    log(`copied the https URL for a sign-in with no panel: ${ok}`);
    if (ok) connection.request('report', { capture_id: record.capture_id, outcome: 'copied', detail: 'no_panel' }).catch(() => {});
  }, (err) => log(`copy failed: ${err?.message ?? err}`));
}

async function fillAndReport(record, target) {
  const done = await fillTab(api, { ...target, kept: warmer.has(target.tabId) });
  log(`fill into tab ${target.tabId}: ${done.outcome} (${done.detail})`);
  if (done.outcome === 'filled') {
    if (target.armed) await session.setArmed(null); // an armed tab takes one sign-in
    await focusTab(api, target.tabId);
    if (target.automatic && record.fill?.close_signin_tab && record.tab_id !== null && record.tab_id !== target.tabId) {
      await api.tabs.remove(record.tab_id).catch(() => {});
    }
  }
  await session.updateCapture(record, {
    outcome: done.outcome === 'filled' ? 'filled' : 'waiting',
    outcome_detail: done.detail,
    outcome_detail_code: done.outcome,
    field: done.field ?? null,
  });
  announce(api, { ...captureMetadata(record), outcome_detail_code: done.outcome }, config);
  if (record.capture_id) {
    connection.request('report', { capture_id: record.capture_id, outcome: done.outcome, detail: done.detail })
      .catch((err) => log(`report failed: ${err.message}`));
  }
  return done;
}

// ---- the native host --------------------------------------------------------------

connection.onChange((s) => {
  log(`native host ${s.state}${s.problem ? `: ${s.problem.message} (${s.problem.detail ?? ''})` : ''}`);
  if (s.state === State.CONNECTED) {
    connection.request('config.get').then((c) => { config = { ...config, ...c }; }).catch(() => {});
    retryWaitingCaptures();
    if (!session.captures[0] || session.captures[0].outcome === 'host_unavailable') showBadge(api, null);
  } else if (s.state === State.BACKOFF && ['host_missing', 'host_forbidden', 'incompatible'].includes(s.problem?.code)) {
    showBadge(api, { text: '!', color: '#cf222e' });
  }
});

const retrying = new Set(); // local ids in flight: memory only, so a restart never leaves one stuck

async function retryWaitingCaptures() {
  await session.ready;
  const now = Date.now();
  for (const record of session.captures) {
    if (record.outcome === 'host_unavailable' && now - record.received_at < CODE_LIFETIME_MS && !retrying.has(record.local_id)) {
      retrying.add(record.local_id);
      await sendToHost(record, record.source).finally(() => retrying.delete(record.local_id));
    }
  }
}

// ---- the runtime-message API (popup, options, tests) -----------------------------

function status() {
  const verified = session.captures.filter((c) => c.outcome !== 'unverified');
  return {
    connection: connection.status(),
    latest: captureMetadata(verified[0]),
    captures: verified.map(captureMetadata),
    // Redirects nothing proves Microsoft produced: listed apart, never filled.
    unverified: session.captures.filter((c) => c.outcome === 'unverified').map(captureMetadata),
    armed: currentArming(),
    stats: { ...stats },
    ignored: ignored.slice(),
  };
}

const handlers = {
  status: async () => status(),
  retry: async () => {
    connection.retryNow();
    return status();
  },
  // The URL (or code) for the clipboard: the popup writes it, in its user gesture.
  copy: async ({ capture_id: id, what = 'url', unverified = false }) => {
    const record = session.findCapture(id);
    if (record?.outcome === 'unverified' && !unverified) return { ok: false, message: 'This redirect is unverified: confirm in the popup first.' };
    if (!record) return { ok: false, message: 'No capture to copy.' };
    const text = what === 'code' ? record.response?.code : (record.https_url ?? record.uri);
    if (record.capture_id) connection.request('report', { capture_id: record.capture_id, outcome: 'copied', detail: what }).catch(() => {});
    return { ok: Boolean(text), text: text ?? null };
  },
  // The popup's Fill: into the tab the user is looking at (activeTab stands in for the
  // host permission there), or the capture's own target.
  fill: async ({ capture_id: id, tab_id: tabId, selector = null, blind = false }) => {
    const record = session.findCapture(id);
    if (!record) return { ok: false, message: 'No capture to fill.' };
    const refusal = blind ? blindFillRefusal(record, await tabs.url(tabId)) : null;
    if (refusal) return { ok: false, outcome: 'refused', message: refusal }; // menus.js tells the user
    if (record.response?.kind === 'error') return { ok: false, message: 'An error response has no code to fill.' };
    if (record.outcome === 'unverified') {
      return { ok: false, outcome: 'refused', message: 'Nothing shows that Microsoft produced this code: it is never filled. Copy it only if you are sure it is yours.' };
    }
    const value = record.fill?.value ?? record.https_url;
    if (!value) return { ok: false, message: 'The host has not processed this redirect yet.' };
    const target = tabId ?? record.fill?.tab_id;
    if (target === undefined) return { ok: false, message: 'No tab to fill.' };
    const done = await fillAndReport(record, {
      tabId: target, origin: null, selector: selector ?? (target === record.fill?.tab_id ? record.fill?.selector : null), value, valueKind: record.fill?.value_kind ?? 'url', checkPermission: false,
    });
    return { ok: done.outcome === 'filled', outcome: done.outcome, message: done.detail };
  },
  // Arming: the tab takes the next sign-in the user starts, once, within ARM_LIFETIME_MS.
  arm: async ({ tab_id: tabId }) => {
    const tab = await getTab(tabId);
    const origin = originOf(tab?.url);
    if (!tab || !origin) return { ok: false, message: 'Only a tab that shows a web page can be armed.' };
    const at = Date.now();
    await session.setArmed({ tab_id: tabId, url: tab.url, origin, at, until: at + ARM_LIFETIME_MS });
    return { ok: true, armed: session.armed };
  },
  // The popup or the options page obtained the browser's grant for this exact origin.
  grant: async ({ origin }) => {
    try {
      await granted.grant(origin);
      return { ok: true };
    } catch {
      return { ok: false, message: `Not an origin: ${origin}` };
    }
  },
  granted: async ({ origin }) => ({ ok: true, granted: await granted.has(origin) }),
  disarm: async () => {
    await session.setArmed(null);
    return { ok: true };
  },
  clear: async () => {
    await session.clearCaptures();
    showBadge(api, null);
    return { ok: true };
  },
  // The options page edits the host's configuration (DESIGN.md: one place for panel rules).
  'config.get': async () => connection.request('config.get', {}, { timeoutMs: CONFIG_TIMEOUT_MS })
    .then((c) => ({ ok: true, config: c }), (err) => ({ ok: false, code: err.code, message: err.message })),
  'config.set': async ({ config: wanted }) => connection.request('config.set', { config: wanted }, { timeoutMs: CONFIG_TIMEOUT_MS })
    .then((c) => {
      config = { ...config, ...c };
      return { ok: true, config: c };
    }, (err) => ({ ok: false, code: err.code, message: err.message })),
  parse: async ({ text }) => connection.request('parse', { text: String(text ?? '') })
    .then((result) => ({ ok: true, result }), (err) => ({ ok: false, code: err.code, message: err.message })),
};

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only the extension's own pages (popup, options) may ask: content scripts run in
  // web pages, and these replies can carry a code.
  const ownPage = sender.id === api.runtime.id && String(sender.url ?? '').startsWith(api.runtime.getURL(''));
  const handler = ownPage && Object.hasOwn(handlers, message?.type) ? handlers[message.type] : null;
  if (!handler) return undefined;
  session.ready.then(() => handler(message)).then(sendResponse, (err) => sendResponse({ ok: false, message: String(err?.message ?? err) }));
  return true; // sendResponse is called asynchronously
});

// ---- start-up ---------------------------------------------------------------------

function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

async function getTab(tabId) {
  if (typeof tabId !== 'number' || tabId < 0) return null;
  try {
    return await api.tabs.get(tabId);
  } catch {
    return null;
  }
}

listenForCaptures(api, (c) => {
  handleCapture(c).catch((err) => log(`capture failed: ${err?.message ?? err}`));
}, (tabId, pageUrl, scripts) => {
  flows.declare(tabId, pageUrl, scripts);
  declared(tabId);
});
// A page that opens a sign-in is warmed now if its load did not warm it (fill.js).
listenForOpeners(api, (_tabId, openerId) => tabs.url(openerId).then((url) => warmer.warm(openerId, url)), (tabId) => {
  session.forgetTab(tabId);
  warmer.forget(tabId);
});
// Panels are warmed when they load, off the path of any fill (fill.js PanelWarmer).
api.webNavigation.onCommitted.addListener((d) => { if (d.frameId === 0) warmer.forget(d.tabId); });
api.webNavigation.onCompleted.addListener((d) => { if (d.frameId === 0) warmer.warm(d.tabId, d.url); });
// The context menu and the keyboard command: the latest capture into the focused field.
// Blind: they do not show the capture first (lib/summary.js blindFillRefusal).
const fillHere = listenForFillHere(api, (tabId, selector) => session.ready.then(() => handlers.fill({ tab_id: tabId, selector, blind: true })));

// For tests that evaluate in the worker (Playwright's service worker handle).
globalThis.codecatch = { status, connection, fillHere };

// Chromium: sign-in 302s to a native scheme are no longer launched (redirect_guard.js).
let guardOn = false;
guardNativeRedirects(api).then((on) => {
  guardOn = on;
  log(`native-redirect guard ${on ? 'on' : 'off (not needed or not safe here)'}`);
});

// Connect now, so the first capture does not wait for the host's start-up; the open
// port also keeps the MV3 worker alive (docs/browser-notes.md).
connection.start();

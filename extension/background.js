// The background (MV3 service worker in Chromium, event page in Firefox): it only wires
// the browser's events and the extension's pages to the modules. What happens to a
// capture is capture_pipeline.js; who started each sign-in tab is flows.js.

import { listenForCaptures, listenForOpeners } from './capture_channels.js';
import { CapturePipeline, CODE_LIFETIME_MS } from './capture_pipeline.js';
import { CLEAR_ALARM, ClipboardGuard, clearFromBackground, copyFromBackground } from './clipboard.js';
import { OriginPermissions, PanelWarmer } from './fill.js';
import { FlowBook } from './flows.js';
import { RecentKeys } from './lib/dedupe.js';
import { HOST_NAME } from './lib/identity.js';
import { NativeConnection, State } from './lib/native_connection.js';
import { listenForFillHere } from './menus.js';
import { announce, showBadge } from './notify.js';
import { guardNativeRedirects } from './redirect_guard.js';
import { SessionState } from './session_state.js';
import { TabDirectory } from './tab_directory.js';

const api = globalThis.browser ?? globalThis.chrome;
const CONFIG_TIMEOUT_MS = 3000;
const log = (...args) => console.info('codecatch:', ...args);

const session = new SessionState(api);
const tabs = new TabDirectory(api);
const flows = new FlowBook(api, session, tabs);
const permissions = new OriginPermissions(api);
const warmer = new PanelWarmer(api, permissions);
const connection = new NativeConnection({
  connect: () => api.runtime.connectNative(HOST_NAME),
  lastErrorMessage: () => globalThis.chrome?.runtime?.lastError?.message,
});
// What codecatch copies is cleared when its code expires, if the clipboard still holds it.
const clipboard = new ClipboardGuard({
  storage: api.storage.session, alarms: api.alarms, clearIf: (sha256) => clearFromBackground(api, sha256), log,
});
const pipeline = new CapturePipeline({
  api, connection, session, tabs, flows, permissions, warmer, log, clipboard,
  recent: new RecentKeys({ ttlMs: 10 * 60 * 1000 }),
  announce: (meta, config) => announce(api, meta, config),
  copyText: (text) => copyFromBackground(api, text),
});

// ---- the browser's events --------------------------------------------------------------

listenForCaptures(api, (report) => {
  pipeline.report(report).catch((err) => log(`capture failed: ${err?.message ?? err}`));
}, (tabId, pageUrl, scripts) => pipeline.declared(tabId, pageUrl, scripts));
// A page that opens a sign-in is warmed now if its load did not warm it (fill.js).
listenForOpeners(api, (_tabId, openerId) => tabs.url(openerId).then((url) => warmer.warm(openerId, url)), (tabId) => {
  session.forgetTab(tabId);
  warmer.forget(tabId);
});
// Panels are warmed when they load, off the path of any fill (fill.js PanelWarmer).
api.webNavigation.onCommitted.addListener((d) => { if (d.frameId === 0) warmer.forget(d.tabId); });
api.webNavigation.onCompleted.addListener((d) => { if (d.frameId === 0) warmer.warm(d.tabId, d.url); });
api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === CLEAR_ALARM) clipboard.due().catch((err) => log(`clipboard: ${err?.message ?? err}`));
});

// ---- the native host ---------------------------------------------------------------------

connection.onChange((s) => {
  log(`native host ${s.state}${s.problem ? `: ${s.problem.message} (${s.problem.detail ?? ''})` : ''}`);
  if (s.state === State.CONNECTED) {
    connection.request('config.get').then((c) => { pipeline.config = { ...pipeline.config, ...c }; }).catch(() => {});
    pipeline.retryWaiting();
    if (!session.captures[0] || session.captures[0].outcome === 'host_unavailable') showBadge(api, null);
  } else if (s.state === State.BACKOFF && ['host_missing', 'host_forbidden', 'incompatible'].includes(s.problem?.code)) {
    showBadge(api, { text: '!', color: '#cf222e' });
  }
});

// The host's notices (PROTOCOL.md "Notices"). close_signin: the local client that claimed
// a flow's state (`codecatch login`, interrupted) gave it up; its sign-in tab goes.
connection.onNotice((notice) => {
  if (notice.type !== 'close_signin') return;
  flows.closeSignin(notice.state)
    .then((closed) => log(`an abandoned sign-in: closed ${closed.length} tab(s)`))
    .catch((err) => log(`close_signin failed: ${err?.message ?? err}`));
});

// ---- the runtime-message API (popup, options, tests) -------------------------------------

const hostAnswer = (type, fields = {}) => connection.request(type, fields, { timeoutMs: CONFIG_TIMEOUT_MS })
  .then((result) => ({ ok: true, result }), (err) => ({ ok: false, code: err.code, message: err.message }));

const handlers = {
  status: async () => pipeline.status(),
  retry: async () => {
    connection.retryNow();
    return pipeline.status();
  },
  copy: (m) => pipeline.copy(m),
  // The popup copies a pasted code by hand: its hash, to clear it when the code expires.
  'clipboard.copied': ({ sha256 }) => clipboard.remember(sha256, Date.now() + CODE_LIFETIME_MS).then(() => ({ ok: true })),
  // The popup's Fill: into the tab the user is looking at (activeTab stands in for the
  // host permission there), or the capture's own target.
  fill: (m) => pipeline.fillByHand(m),
  arm: async ({ tab_id: tabId }) => pipeline.arm(await api.tabs.get(tabId).catch(() => null)),
  disarm: async () => {
    await session.setArmed(null);
    return { ok: true };
  },
  clear: async () => {
    await session.clearCaptures();
    showBadge(api, null);
    return { ok: true };
  },
  // The popup or the options page obtained the browser's grant for this exact origin.
  grant: ({ origin }) => permissions.grant(origin).then(() => ({ ok: true }), () => ({ ok: false, message: `Not an origin: ${origin}` })),
  granted: async ({ origin }) => ({ ok: true, granted: await permissions.has(origin) }),
  // The options page edits the host's configuration (one place for panel rules: PROTOCOL.md "Configuration").
  'config.get': () => hostAnswer('config.get').then(({ result, ...r }) => (r.ok ? { ok: true, config: result } : r)),
  'config.set': ({ config }) => hostAnswer('config.set', { config }).then(({ result, ...r }) => {
    if (!r.ok) return r;
    pipeline.config = { ...pipeline.config, ...result };
    return { ok: true, config: result };
  }),
  parse: ({ text }) => hostAnswer('parse', { text: String(text ?? '') }),
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

// The context menu and the keyboard command: the latest capture into the focused field.
// Blind: they do not show the capture first (lib/summary.js blindFillRefusal).
const fillHere = listenForFillHere(api, (tabId, selector) => session.ready.then(() => handlers.fill({ tab_id: tabId, selector, blind: true })));

// @test-only-begin: `codecatch pack` drops these lines from the shipped zips.
// For tests that evaluate in the worker (Playwright's service worker handle).
globalThis.codecatch = { status: () => pipeline.status(), connection, fillHere };
// @test-only-end

// ---- start-up -----------------------------------------------------------------------------

// Chromium: sign-in 302s to a native scheme are no longer launched (redirect_guard.js).
guardNativeRedirects(api).then((on) => {
  pipeline.guardOn = on;
  log(`native-redirect guard ${on ? 'on' : 'off (not needed or not safe here)'}`);
});

// A clear whose alarm fired while the worker was starting, or was lost.
clipboard.due().catch((err) => log(`clipboard: ${err?.message ?? err}`));

// Connect now, so the first capture does not wait for the host's start-up; the open
// port also keeps the MV3 worker alive (docs/browser-notes.md).
connection.start();

// The capture pipeline (extension/capture_pipeline.js) with a fake native port (the
// test plays the host), fake timers and a fake browser: each verdict and each outcome.
import assert from 'node:assert/strict';
import test from 'node:test';

import { CapturePipeline, MAX_URI, UNPROVEN_GRACE_MS } from '../../extension/capture_pipeline.js';
import { OriginPermissions, PanelWarmer } from '../../extension/fill.js';
import { FlowBook } from '../../extension/flows.js';
import { RecentKeys } from '../../extension/lib/dedupe.js';
import { NativeConnection } from '../../extension/lib/native_connection.js';
import { SessionState } from '../../extension/session_state.js';

const SIGNIN = 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=x';
const PANEL = 'https://panel.test/CP/O365/TenantEdit.aspx';
const URI = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkAabc&state=s1';

/** Timers that run only when the test says so (the connection's and the pipeline's). */
function fakeTimers() {
  let now = 1_000_000;
  const timers = new Map();
  let next = 1;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(next, { fn, at: now + ms });
      return next++;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settled();
      }
      now = end;
    },
  };
}

const settled = () => new Promise((r) => setImmediate(r));

/** A port like runtime.connectNative's; `answer(request)` plays the host. */
function fakePort(answer) {
  const listeners = { message: [], disconnect: [] };
  const port = {
    requests: [],
    onMessage: { addListener: (fn) => listeners.message.push(fn) },
    onDisconnect: { addListener: (fn) => listeners.disconnect.push(fn) },
    postMessage(m) {
      port.requests.push(structuredClone(m));
      const reply = answer(m);
      if (reply !== undefined) queueMicrotask(() => listeners.message.forEach((fn) => fn({ id: m.id, ...reply })));
    },
    disconnect() {},
    greet() {
      listeners.message.forEach((fn) => fn({ type: 'hello', protocol: 1, version: 'test', host: 'codecatch-host' }));
    },
  };
  return port;
}

/** The browser: tabs, scripting, storage, permissions and the events FlowBook listens to. */
function fakeBrowser(tabUrls) {
  const listeners = {};
  const event = (name) => ({ addListener: (fn) => { (listeners[name] ??= []).push(fn); } });
  const injected = [];
  const api = {
    injected,
    removed: [],
    fillAnswer: { ok: true, reason: 'filled', field: { tag: 'input', id: 'code', how: 'label' } },
    saveAnswer: { pressed: true, reason: 'pressed', button: { tag: 'input', id: 'btnSave' } },
    runtime: { getManifest: () => ({ host_permissions: ['https://panel.test/*'] }) },
    tabs: {
      onCreated: event('created'), onRemoved: event('removed'),
      get: async (id) => ({ id, url: tabUrls[id] }),
      update: async (id) => ({ id, windowId: 1 }),
      remove: async (id) => { api.removed.push(id); },
    },
    windows: { update: async () => ({}) },
    webNavigation: {
      onCreatedNavigationTarget: event('target'), onBeforeNavigate: event('before'), onCommitted: event('committed'),
      getFrame: async () => null,
    },
    webRequest: { onBeforeRequest: event('request'), onBeforeRedirect: event('redirect') },
    scripting: {
      executeScript: async (details) => {
        injected.push(details);
        if (details.func.name === 'pressSave') return [{ result: api.saveAnswer }];
        return [{ result: api.fillAnswer }];
      },
    },
    permissions: { contains: async ({ origins: [p] }) => p === 'https://panel.test/*', onAdded: event('padded'), onRemoved: event('premoved') },
    storage: { session: { get: async () => ({}), set: async () => {} }, local: { get: async () => ({ granted_origins: [] }), set: async () => {} } },
  };
  const fire = (name, ...args) => (listeners[name] ?? []).forEach((fn) => fn(...args));
  return { api, fire };
}

/**
 * A pipeline wired like background.js, with tab 1 a panel that opened sign-in tab 2.
 * `host(request)` answers `capture` requests (default: a code, filled into the opener).
 */
async function rig({ host } = {}) {
  const timers = fakeTimers();
  const tabUrls = { 1: PANEL, 2: SIGNIN };
  const { api, fire } = fakeBrowser(tabUrls);
  const session = new SessionState(api);
  const tabs = { urls: new Map(Object.entries(tabUrls).map(([k, v]) => [Number(k), v])), url: async (id) => tabUrls[id] ?? null };
  const flows = new FlowBook(api, session, tabs);
  const permissions = new OriginPermissions(api);
  const announced = [];
  const answer = (m) => {
    if (m.type === 'report' || m.type === 'config.get') return { ok: true, result: {} };
    return (host ?? fillIntoOpener)(m);
  };
  const port = fakePort(answer);
  const connection = new NativeConnection({ connect: () => port, timers, now: timers.now });
  const pipeline = new CapturePipeline({
    api, connection, session, tabs, flows, permissions, warmer: new PanelWarmer(api, permissions),
    recent: new RecentKeys({ ttlMs: 600_000, now: timers.now }),
    announce: (meta) => announced.push(meta), copyText: async () => true, clipboard: { wrote: async () => {} },
    clock: timers.now, timers, newId: (() => { let n = 0; return () => `local-${++n}`; })(),
  });
  await session.ready;
  connection.start();
  port.greet();
  // The panel (tab 1) opens the sign-in (tab 2) with a link.
  fire('target', { sourceTabId: 1, sourceFrameId: 0, tabId: 2, url: SIGNIN });
  return { pipeline, port, api, fire, timers, session, announced, connection };
}

function fillIntoOpener(m) {
  return {
    ok: true,
    result: {
      capture_id: 'c1', https_url: m.uri.replace('ms-appx-web', 'https'), captured_at: 1, expires_at: 2, duplicate: false,
      response: { kind: 'code', code: '0.AXkAabc', code_redacted: '0.AXkA…' },
      fill: { tab_id: 1, target: 'opener', origin: 'https://panel.test', selector: null, value: 'V', value_kind: 'url', close_signin_tab: false },
      fill_reason: 'opener',
    },
  };
}

const report = (over = {}) => ({ channel: 'navigate', uri: URI, pageUrl: SIGNIN, tabId: 2, frameId: 0, ...over });
const captureRequests = (port) => port.requests.filter((m) => m.type === 'capture');

// ---- verdicts --------------------------------------------------------------------------

test('verdict: proven by the sign-in page\'s own navigate, sent with its proof and flow, and filled', async () => {
  const { pipeline, port, api, session } = await rig();
  await pipeline.report(report());
  const [sent] = captureRequests(port);
  assert.equal(sent.source.proof, 'navigate');
  assert.equal(sent.source.flow, 'signin');
  assert.equal(sent.source.opener_origin, 'https://panel.test');
  assert.equal(api.injected.length, 1);
  assert.equal(session.captures[0].outcome, 'filled');
  assert.deepEqual(port.requests.filter((m) => m.type === 'report').map((m) => m.outcome), ['filled']);
});

test('verdict: refused before the host (not a sign-in page, a frame, too long) and counted', async () => {
  const { pipeline, port } = await rig();
  await pipeline.report(report({ pageUrl: 'https://evil.test/' }));
  await pipeline.report(report({ frameId: 3 }));
  await pipeline.report(report({ uri: `${URI}&pad=${'x'.repeat(MAX_URI)}` }));
  await pipeline.report(report({ uri: 'https://panel.test/not-a-redirect' })); // not native: not even counted
  assert.deepEqual(pipeline.ignored.map((i) => i.reason), ['too_long', 'framed_signin', 'not_signin_host']);
  assert.equal(pipeline.stats.ignored, 3);
  assert.equal(captureRequests(port).length, 0);
  assert.ok(!JSON.stringify(pipeline.ignored).includes('0.AXkAabc'), 'a refusal keeps no URI');
});

test('verdict: a second channel\'s report of the same URI is a duplicate', async () => {
  const { pipeline, port } = await rig();
  await pipeline.report(report());
  await pipeline.report(report({ channel: 'error_occurred' }));
  assert.equal(captureRequests(port).length, 1);
  assert.equal(pipeline.stats.duplicates, 1);
});

test('verdict: a report without proof waits, and a proven one of the same URI replaces it', async () => {
  const { pipeline, port, timers } = await rig();
  await pipeline.report(report({ channel: 'error_occurred' }));
  assert.equal(captureRequests(port).length, 0, 'held, not sent');
  await pipeline.report(report({ channel: 'webrequest' }));
  await timers.advance(UNPROVEN_GRACE_MS * 2);
  const sent = captureRequests(port);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].source.proof, 'redirect');
});

test('verdict: a report the page declared meanwhile is proven (Firefox\'s script navigation)', async () => {
  const { pipeline, port } = await rig();
  await pipeline.report(report({ channel: 'before_navigate' }));
  pipeline.declared(2, SIGNIN, [`document.location.replace(${JSON.stringify(URI).replaceAll('/', '\\/')})`]);
  await settled();
  const [sent] = captureRequests(port);
  assert.equal(sent.source.proof, 'declared');
});

test('outcome: unverified after the grace period; never filled, listed apart, not copied unconfirmed', async () => {
  const { pipeline, port, api, timers } = await rig({
    host: (m) => ({ ok: true, result: { ...fillIntoOpener(m).result, fill: null, fill_reason: m.source.proof ? 'opener' : 'unverified' } }),
  });
  await pipeline.report(report({ channel: 'error_occurred' }));
  await timers.advance(UNPROVEN_GRACE_MS);
  const [sent] = captureRequests(port);
  assert.equal(sent.source.proof, null);
  assert.equal(api.injected.length, 0);
  const status = pipeline.status();
  assert.equal(status.latest, null);
  assert.equal(status.unverified.length, 1);
  assert.equal(status.unverified[0].verified, false);
  assert.equal((await pipeline.copy({ capture_id: 'c1' })).ok, false);
  assert.equal((await pipeline.copy({ capture_id: 'c1', unverified: true })).ok, true);
  const byHand = await pipeline.fillByHand({ capture_id: 'c1', tab_id: 1 });
  assert.equal(byHand.ok, false);
  assert.equal(api.injected.length, 0);
});

// ---- outcomes ----------------------------------------------------------------------------

test('outcome: waiting, with the host\'s reason, for a sign-in no panel is tied to', async () => {
  const { pipeline, session, announced } = await rig({
    host: (m) => ({ ok: true, result: { ...fillIntoOpener(m).result, fill: null, fill_reason: 'started_elsewhere' } }),
  });
  await pipeline.report(report());
  assert.equal(session.captures[0].outcome, 'waiting');
  assert.equal(announced.at(-1).outcome, 'waiting');
  const blind = await pipeline.fillByHand({ tab_id: 1, blind: true });
  assert.equal(blind.ok, false, 'the shortcut does not fill, unseen, a code outside the panel\'s flow');
});

test('outcome: an error response is stored and shown, never filled', async () => {
  const { pipeline, session, api } = await rig({
    host: () => ({ ok: true, result: { capture_id: 'e1', response: { kind: 'error', aadsts: 'AADSTS65004' }, fill: null, fill_reason: 'error_response', duplicate: false } }),
  });
  await pipeline.report(report({ uri: 'ms-appx-web://x/y?error=access_denied&state=s' }));
  assert.equal(session.captures[0].outcome, 'error_response');
  assert.equal(api.injected.length, 0);
});

test('outcome: the host\'s refusal keeps nothing; its fault is kept, retried, and dropped after two', async () => {
  let fault = { code: 30, name: 'not_signin_host', message: 'no' };
  const { pipeline, session, port } = await rig({ host: () => ({ ok: false, error: fault }) });
  await pipeline.report(report());
  assert.equal(session.captures.length, 0);
  assert.equal(pipeline.ignored[0].reason, 'not_signin_host');
  fault = { code: 1, name: 'internal', message: 'bug' };
  await pipeline.report(report({ uri: URI.replace('code=0.AXkAabc', 'code=0.AXkAdef') }));
  assert.equal(session.captures[0].outcome, 'host_unavailable');
  await pipeline.retryWaiting();
  assert.equal(session.captures[0].outcome, 'failed');
  const before = captureRequests(port).length;
  await pipeline.retryWaiting(); // a reconnect: the failed one is not sent again
  assert.equal(captureRequests(port).length, before);
});

test('outcome: an armed tab takes one sign-in: the arming ends with the fill', async () => {
  const { pipeline, session } = await rig({
    host: (m) => ({ ok: true, result: { ...fillIntoOpener(m).result, fill: { ...fillIntoOpener(m).result.fill, target: 'armed' }, fill_reason: 'armed' } }),
  });
  assert.equal((await pipeline.arm({ id: 1, url: PANEL })).ok, true);
  assert.equal(pipeline.status().armed.origin, 'https://panel.test');
  await pipeline.report(report());
  assert.equal(session.captures[0].outcome, 'filled');
  assert.equal(session.armed, null);
});

test('arming lasts 10 minutes', async () => {
  const { pipeline, timers } = await rig();
  await pipeline.arm({ id: 1, url: PANEL });
  await timers.advance(10 * 60 * 1000 - 1);
  assert.notEqual(pipeline.arming(), null);
  await timers.advance(1);
  assert.equal(pipeline.arming(), null);
  assert.equal((await pipeline.arm({ id: 1, url: 'chrome://newtab/' })).ok, false, 'only a web page is armed');
});

test('Chromium\'s guard: the sign-in tab the panel opened is closed after its 302, by its flow, not its URL', async () => {
  const { pipeline, api } = await rig();
  pipeline.guardOn = true;
  await pipeline.report(report({ channel: 'webrequest' }));
  assert.deepEqual(api.removed, [2]);
  const other = await rig(); // no guard (Firefox, older Chromium): Chromium or the user closes it
  await other.pipeline.report(report({ channel: 'webrequest' }));
  assert.deepEqual(other.api.removed, []);
});

// ---- the panel rule's save button (issue 16) ----------------------------------------------

const withSave = (save) => (m) => {
  const reply = fillIntoOpener(m);
  return { ok: true, result: { ...reply.result, fill: { ...reply.result.fill, save } } };
};
const injectedNames = (api) => api.injected.map((d) => d.func.name);

test('save: pressed after the fill, in the panel\'s top frame, and said and reported', async () => {
  const { pipeline, port, api, session, announced } = await rig({ host: withSave('#btnSave') });
  await pipeline.report(report());
  const names = injectedNames(api);
  assert.deepEqual(names.filter((n) => n === 'pressSave'), ['pressSave']);
  assert.equal(names.at(-1), 'pressSave', `the save comes after the fill: ${names}`);
  const press = api.injected.at(-1);
  assert.deepEqual(press.target, { tabId: 1, frameIds: [0] });
  assert.equal(press.args[0].selector, '#btnSave');
  assert.equal(api.injected.at(-2).args.at(-1).save, true, 'the fill keeps the field for the save');
  assert.equal(session.captures[0].outcome, 'filled');
  assert.deepEqual(session.captures[0].saved, { pressed: true, reason: 'pressed' });
  assert.match(session.captures[0].outcome_detail, /Pressed the save button/);
  assert.deepEqual(announced.at(-1).saved, { pressed: true, reason: 'pressed' });
  const [filled] = port.requests.filter((m) => m.type === 'report');
  assert.equal(filled.outcome, 'filled');
  assert.equal(filled.saved, true);
});

test('save: a button that stays disabled is not pressed, and the user is told to press it', async () => {
  const { pipeline, api, session, port } = await rig({ host: withSave('#btnSave') });
  api.saveAnswer = { pressed: false, reason: 'disabled' };
  await pipeline.report(report());
  assert.equal(session.captures[0].outcome, 'filled');
  assert.match(session.captures[0].outcome_detail, /stayed disabled\. Check the field and press save yourself/);
  assert.equal(port.requests.filter((m) => m.type === 'report')[0].saved, false);
});

test('save: no rule, or no fill, presses nothing', async () => {
  const plain = await rig();
  await plain.pipeline.report(report());
  assert.ok(!injectedNames(plain.api).includes('pressSave'));
  assert.equal(plain.api.injected.at(-1).args.at(-1).save, false, 'nothing kept in the page for a save');
  assert.equal(plain.session.captures[0].saved, null);
  assert.ok(!('saved' in plain.port.requests.filter((m) => m.type === 'report')[0]));
  const noField = await rig({ host: withSave('#btnSave') });
  noField.api.fillAnswer = { ok: false, reason: 'no_field' };
  await noField.pipeline.report(report());
  assert.ok(!injectedNames(noField.api).includes('pressSave'));
  assert.equal(noField.session.captures[0].outcome, 'waiting');
});

test('save: never pressed without the extension\'s own proof, even when the host asks for it', async () => {
  // A host that fills and saves whatever it gets (a bug, or another program in its place).
  const { pipeline, api, port, timers, session } = await rig({ host: withSave('#btnSave') });
  await pipeline.report(report({ channel: 'error_occurred' }));
  await timers.advance(UNPROVEN_GRACE_MS);
  assert.equal(captureRequests(port)[0].source.proof, null);
  assert.ok(!injectedNames(api).includes('pressSave'), injectedNames(api).join());
  assert.equal(api.injected.at(-1).args.at(-1).save, false);
  assert.equal(session.captures[0].saved, null);
});

test('a claimed capture (codecatch login took it), code or error, closes its sign-in tab; an unclaimed one does not', async () => {
  const claimedAnswer = (response) => (m) => ({
    ok: true,
    result: {
      capture_id: 'c9', https_url: m.uri.replace('ms-appx-web', 'https'), captured_at: 1, expires_at: 2, duplicate: false,
      claimed: true, response, fill: null, fill_reason: response.kind === 'code' ? 'claimed' : 'error_response',
    },
  });
  for (const response of [{ kind: 'code', code: '0.AXkAabc' }, { kind: 'error', error: 'consent_required', aadsts: 'AADSTS65001' }]) {
    const { pipeline, api } = await rig({ host: claimedAnswer(response) });
    await pipeline.report(report());
    assert.deepEqual(api.removed, [2], `${response.kind}: the claimed sign-in tab stays open`);
  }
  const unclaimed = await rig({ host: (m) => ({ ...claimedAnswer({ kind: 'code' })(m), result: { ...claimedAnswer({ kind: 'code' })(m).result, claimed: false, fill_reason: 'no_target' } }) });
  await unclaimed.pipeline.report(report());
  assert.deepEqual(unclaimed.api.removed, [], 'an unclaimed capture closed its tab');
  // A tab that left the sign-in (the user went on elsewhere) is not closed, claimed or not.
  const left = await rig({ host: claimedAnswer({ kind: 'code' }) });
  left.fire('before', { tabId: 2, frameId: 0, url: 'https://panel.test/elsewhere' });
  await left.pipeline.report(report());
  assert.deepEqual(left.api.removed, []);
});

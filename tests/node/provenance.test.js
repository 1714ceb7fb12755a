// The provenance and flow rules (extension/lib/provenance.js), and FlowBook wiring them
// to browser events (extension/flows.js). The proof cases are shared with the host's
// rule (tests/cases/provenance.json, tests/test_provenance.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import { FlowBook } from '../../extension/flows.js';
import {
  admission, advance, armedTakes, declaredUris, isUserNavigation, newFlow, noteAuthorize, proofOf,
} from '../../extension/lib/provenance.js';
import { SessionState } from '../../extension/session_state.js';

const { admission: CASES } = JSON.parse(readFileSync(new URL('../cases/provenance.json', import.meta.url), 'utf8'));
const URI = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkAabc&state=s';

for (const c of CASES) {
  test(`proof: ${c.why}`, () => {
    const declared = c.declared === undefined ? null : (c.declared ? [URI] : ['ms-appx-web://other?code=1']);
    const report = { channel: c.channel, uri: URI, pageUrl: c.page_url, requestUrl: c.page_url, frameId: c.frame_id, declared };
    const got = admission(report);
    assert.equal(got.refused, c.refused);
    if (!c.refused) assert.equal(got.proof, c.expect);
    assert.equal(proofOf(report), c.expect); // no proof where admission refuses
  });
}

test('a declared URI must match byte for byte', () => {
  const base = { channel: 'error_occurred', pageUrl: 'https://login.microsoftonline.com/appverify', frameId: 0 };
  assert.equal(proofOf({ ...base, uri: URI, declared: [URI] }), 'declared');
  assert.equal(proofOf({ ...base, uri: `${URI}x`, declared: [URI] }), null);
  assert.equal(proofOf({ ...base, uri: URI.replace('code=', 'CODE='), declared: [URI] }), null);
});

test('declaredUris reads the Confirm-My-Sign-In target with its JavaScript escapes undone', () => {
  const script = 'var x = 1; document.location.replace("ms-appx-web:\\/\\/Microsoft.AAD.BrokerPlugin\\/x?code=C1\\u0026state=s");';
  assert.deepEqual(declaredUris(script), ['ms-appx-web://Microsoft.AAD.BrokerPlugin/x?code=C1&state=s']);
  assert.deepEqual(declaredUris("location.href = 'https://login.microsoftonline.com/common/oauth2/nativeclient?code=1'"),
    ['https://login.microsoftonline.com/common/oauth2/nativeclient?code=1']);
  assert.deepEqual(declaredUris('no URIs here "just text"'), []);
});

const PANEL = 'https://panel.test';
const signin = 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x';

test('a flow the panel opened stays the panel\'s while it stays on sign-in hosts', () => {
  let f = newFlow({ openerTabId: 1, openerOrigin: PANEL, byPage: true });
  for (const url of ['about:blank', `${PANEL}/go-to-microsoft`, signin, 'https://login.live.com/x', 'https://login.microsoftonline.com/appverify', 'ms-appx-web://x?code=1']) f = advance(f, url);
  assert.equal(f.phase, 'signin');
});

test('a sign-in tab that goes to another host, or started on one, is not the panel\'s flow', () => {
  const f = newFlow({ openerTabId: 1, openerOrigin: PANEL, byPage: true });
  const left = advance(advance(f, signin), 'https://evil.test/slow302');
  assert.deepEqual([left.phase, left.via], ['left', 'evil.test']);
  assert.equal(advance(left, signin).phase, 'left'); // coming back does not mend it
  const foreign = advance(advance(f, 'https://evil.test/tools'), signin);
  assert.deepEqual([foreign.phase, foreign.via], ['foreign', 'evil.test']);
  // Origins are exact: the panel's host on another port is another origin.
  assert.equal(advance(newFlow({ openerOrigin: 'https://panel.test:8443' }), `${PANEL}/x`).phase, 'foreign');
});

test('only the address bar or a bookmark is a navigation of the user\'s', () => {
  assert.equal(isUserNavigation({ transitionType: 'typed' }), true);
  assert.equal(isUserNavigation({ transitionType: 'auto_bookmark' }), true);
  assert.equal(isUserNavigation({ transitionType: 'link', transitionQualifiers: ['from_address_bar'] }), true);
  assert.equal(isUserNavigation({ transitionType: 'link', transitionQualifiers: [] }), false);
  assert.equal(isUserNavigation({ transitionType: 'form_submit' }), false);
});

test('an armed tab takes one sign-in the user started after arming, within its lifetime', () => {
  const armed = { tab_id: 9, at: 1000, until: 1000 + 600_000 };
  const user = { ...newFlow({ now: 2000 }) };
  assert.equal(armedTakes(armed, user, 3000), true);
  assert.equal(armedTakes(armed, { ...user, started_at: 500 }, 3000), false, 'started before arming');
  assert.equal(armedTakes(armed, user, armed.until), false, 'the arming ran out');
  assert.equal(armedTakes(armed, { ...user, by_page: true, opener_tab_id: 4 }, 3000), false, 'another page opened it');
  assert.equal(armedTakes(armed, { ...user, by_page: true, opener_tab_id: 9 }, 3000), true, 'the armed tab opened it');
  assert.equal(armedTakes(null, user, 3000), false);
});

// ---- FlowBook on fake browser events ----------------------------------------------

function fakeBrowser() {
  const listeners = {};
  const event = (name) => ({ addListener: (fn) => { (listeners[name] ??= []).push(fn); } });
  const open = new Map(); // tab id -> {id, url}: what tabs.get answers now
  const api = {
    open,
    removed: [],
    tabs: {
      onCreated: event('created'), onRemoved: event('removed'),
      get: async (id) => {
        if (!open.has(id)) throw new Error(`No tab with id: ${id}.`);
        return { ...open.get(id) };
      },
      remove: async (id) => {
        api.removed.push(id);
        open.delete(id);
      },
    },
    webNavigation: {
      onCreatedNavigationTarget: event('target'), onBeforeNavigate: event('before'), onCommitted: event('committed'),
      getFrame: async () => ({ url: 'https://evil.test/ad' }),
    },
    webRequest: { onBeforeRedirect: event('redirect'), onBeforeRequest: event('request') },
    storage: { session: { get: async () => ({}), set: async () => {} } },
  };
  const fire = (name, ...args) => (listeners[name] ?? []).forEach((fn) => fn(...args));
  return { api, fire };
}

function book(urls = {}) {
  const { api, fire } = fakeBrowser();
  const session = new SessionState(api);
  const flows = new FlowBook(api, session, { urls: new Map(Object.entries(urls).map(([k, v]) => [Number(k), v])) });
  return { flows, fire, api };
}

test('FlowBook records the opener\'s origin when the sign-in tab is created, not later', () => {
  const { flows, fire } = book({ 1: 'https://evil.test/tools' });
  fire('created', { id: 2, openerTabId: 1 });
  fire('target', { sourceTabId: 1, sourceFrameId: 0, tabId: 2, url: signin });
  fire('committed', { tabId: 1, frameId: 0, url: `${PANEL}/`, transitionType: 'link' }); // the opener becomes the panel
  const f = flows.flow(2);
  assert.deepEqual([f.opener_tab_id, f.opener_origin, f.by_page, f.phase], [1, 'https://evil.test', true, 'signin']);
});

test('FlowBook: tabs.onCreated after onCreatedNavigationTarget does not undo "a page opened it"', () => {
  const { flows, fire } = book({ 1: `${PANEL}/x` });
  fire('target', { sourceTabId: 1, sourceFrameId: 0, tabId: 2, url: signin });
  fire('created', { id: 2 }); // Firefox popups carry no openerTabId
  assert.equal(flows.flow(2).by_page, true);
  assert.equal(flows.flow(2).opener_origin, PANEL);
});

test('FlowBook: a sign-in a frame opened belongs to that frame\'s origin', async () => {
  const { flows, fire } = book({ 1: `${PANEL}/x` });
  fire('target', { sourceTabId: 1, sourceFrameId: 7, tabId: 2, url: signin });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(flows.flow(2).opener_origin, 'https://evil.test');
});

test('FlowBook: a redirect from a sign-in host to another host, and a typed address', () => {
  const { flows, fire } = book({ 1: `${PANEL}/x` });
  fire('target', { sourceTabId: 1, sourceFrameId: 0, tabId: 2, url: signin });
  fire('redirect', { tabId: 2, frameId: 0, redirectUrl: 'https://adfs.contoso.com/adfs/ls' });
  assert.deepEqual([flows.flow(2).phase, flows.flow(2).via], ['left', 'adfs.contoso.com']);
  fire('committed', { tabId: 2, frameId: 0, url: signin, transitionType: 'typed' });
  assert.deepEqual([flows.flow(2).phase, flows.flow(2).by_page, flows.flow(2).opener_tab_id], ['signin', false, null]);
});

test('FlowBook: declarations belong to the sign-in document that made them', () => {
  const { flows, fire } = book();
  const page = 'https://login.microsoftonline.com/appverify';
  flows.declare(2, page, ['document.location.replace("ms-appx-web:\\/\\/x\\/y?code=1\\u0026state=s")']);
  assert.deepEqual(flows.declaredBy(2, page), ['ms-appx-web://x/y?code=1&state=s']);
  assert.equal(flows.declaredBy(2, 'https://login.microsoftonline.com/other'), null);
  flows.declare(3, 'https://evil.test/', ['location.href="ms-appx-web://x?code=2"']);
  assert.equal(flows.declaredBy(3, 'https://evil.test/'), null, 'only sign-in pages declare');
  fire('committed', { tabId: 2, frameId: 0, url: 'https://login.microsoftonline.com/next', transitionType: 'link' });
  assert.equal(flows.declaredBy(2, page), null, 'a new document forgets the old one\'s');
});

// ---- origins are exact ---------------------------------------------------------------

import { OriginPermissions } from '../../extension/fill.js';

function permissionsApi({ patterns = [], declared = [], stored } = {}) {
  const local = stored === undefined ? {} : { granted_origins: stored };
  const event = () => ({ addListener() {} });
  return {
    runtime: { getManifest: () => ({ host_permissions: declared }) },
    storage: { local: { get: async () => ({ ...local }), set: async (v) => Object.assign(local, v) } },
    permissions: {
      onAdded: event(), onRemoved: event(),
      contains: async ({ origins: [p] }) => patterns.includes(p),
      getAll: async () => ({ origins: patterns }),
    },
    local,
  };
}

test('granting https://cp.example.com:8443 grants that port only', async () => {
  const api = permissionsApi({ patterns: ['https://cp.example.com/*'], stored: [] });
  const granted = new OriginPermissions(api);
  await granted.grant('https://cp.example.com:8443/tenant');
  assert.equal(await granted.has('https://cp.example.com:8443'), true);
  assert.equal(await granted.has('https://cp.example.com'), false, 'the browser\'s pattern has no port; the grant has one');
  assert.equal(await granted.has('https://cp.example.com:9443'), false);
  assert.equal(await granted.has('http://cp.example.com:8443'), false, 'nor another scheme');
  assert.deepEqual(api.local.granted_origins, ['https://cp.example.com:8443']);
});

test('a grant the browser withdrew counts no more, and earlier grants carry over once', async () => {
  const withdrawn = new OriginPermissions(permissionsApi({ patterns: [], stored: ['https://cp.example.com'] }));
  assert.equal(await withdrawn.has('https://cp.example.com'), false);
  // Before this version: the browser's grants were for default ports.
  const api = permissionsApi({ patterns: ['https://old.example.com/*'] });
  const upgraded = new OriginPermissions(api);
  assert.equal(await upgraded.has('https://old.example.com'), true);
  assert.equal(await upgraded.has('https://old.example.com:8443'), false);
  // What the manifest itself declares (a packager's or a test's grant) counts for its host.
  const declared = new OriginPermissions(permissionsApi({ patterns: ['https://panel.test/*'], declared: ['https://panel.test/*'], stored: [] }));
  assert.equal(await declared.has('https://panel.test:36607'), true);
});

test('FlowBook: a tab that was open before codecatch started counts as started before any arming', () => {
  const { flows } = book();
  flows.see(8, signin);
  assert.equal(flows.flow(8).started_at, 0);
  assert.equal(armedTakes({ tab_id: 1, at: 5, until: Date.now() + 1000 }, flows.flow(8)), false);
});

import { startedBy } from '../../extension/lib/provenance.js';

test('only Microsoft\'s pages, and the opener before the sign-in, start a sign-in tab\'s navigations', () => {
  const panelFlow = newFlow({ openerTabId: 1, openerOrigin: PANEL, byPage: true });
  const first = startedBy(advance(panelFlow, signin), PANEL); // the panel's window.open
  assert.equal(first.phase, 'signin');
  assert.equal(startedBy(first, 'https://login.microsoftonline.com').phase, 'signin'); // Continue on CMSI
  assert.equal(startedBy(first, 'https://login.live.com/ppsecure/post.srf').phase, 'signin'); // Firefox: a URL
  assert.equal(startedBy(first, undefined).phase, 'signin'); // the address bar
  assert.equal(startedBy(first, 'chrome-extension://abc').phase, 'signin'); // another extension
  const steered = startedBy(first, 'https://evil.test');
  assert.deepEqual([steered.phase, steered.via], ['foreign', 'evil.test']);
  assert.equal(startedBy(first, 'null').phase, 'foreign'); // an opaque origin (a sandboxed frame)
  assert.equal(startedBy(first, 'https://panel.test:8443').phase, 'foreign'); // exact origins
});

test('Microsoft\'s own identity pages on the way keep the flow; a tenant\'s IdP does not', () => {
  let f = advance(newFlow({ openerTabId: 1, openerOrigin: PANEL, byPage: true }), signin);
  f = advance(f, 'https://account.live.com/proofs/Add');
  f = advance(f, 'https://mysignins.microsoft.com/register');
  assert.equal(advance(f, signin).phase, 'signin');
  assert.equal(advance(f, 'https://adfs.contoso.com/adfs/ls').phase, 'left');
  // Not a way in: a tab that starts there was started elsewhere.
  assert.equal(advance(newFlow({ openerOrigin: PANEL }), 'https://account.live.com/').phase, 'foreign');
});

test('declaredUris: only what the script navigates to, never a literal that is only data', () => {
  const uri = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/x?code=EVIL';
  // A parameter Microsoft's page reflects into its configuration is data, not a navigation.
  assert.deepEqual(declaredUris(`var $Config = {"sLoginHint": "${uri}", "urlPost": "/appverify"};`), []);
  assert.deepEqual(declaredUris(`if (location == "${uri}") {}`), []);
  for (const call of [`location.replace("${uri}")`, `window.location.assign('${uri}')`, `location.href = "${uri}"`, `document.location="${uri}"`]) {
    assert.deepEqual(declaredUris(call), [uri], call);
  }
});

// ---- close_signin: the tabs of a flow its local client gave up ---------------------------

const AUTHORIZE = 'https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize?client_id=x&redirect_uri=ms-appx-web%3A%2F%2Fx';

test('noteAuthorize keeps the state of the first authorization request, and only of one', () => {
  const fresh = newFlow({ now: 1 });
  assert.equal(noteAuthorize(fresh, `${AUTHORIZE}&state=s1`).state, 's1');
  assert.equal(noteAuthorize(fresh, 'https://login.live.com/oauth20_authorize.srf?state=p1').state, 'p1');
  assert.equal(noteAuthorize(fresh, 'https://login.microsoftonline.com/common/oauth2/authorize?state=v1').state, 'v1');
  const first = noteAuthorize(fresh, `${AUTHORIZE}&state=s1`);
  assert.equal(noteAuthorize(first, `${AUTHORIZE}&state=s2`).state, 's1'); // a later request does not rename it
  assert.equal(noteAuthorize(fresh, AUTHORIZE).state, null); // no state: none, for good
  assert.equal(noteAuthorize(fresh, `${AUTHORIZE}&state=a&state=b`).state, null); // ambiguous
  assert.equal(noteAuthorize(fresh, `${AUTHORIZE}&state=${'x'.repeat(513)}`).state, null);
  // Not an authorization request, or not on a sign-in host: nothing recorded yet.
  assert.equal(noteAuthorize(fresh, 'https://login.microsoftonline.com/appverify?state=s1'), fresh);
  assert.equal(noteAuthorize(fresh, 'https://evil.test/contoso.com/oauth2/v2.0/authorize?state=s1'), fresh);
  assert.equal(noteAuthorize(fresh, 'https://login.microsoftonline.com.evil.test/c/oauth2/v2.0/authorize?state=s1'), fresh);
});

/** Tabs as `codecatch login` opens them (no opener), each through its authorization URL. */
function signinTabs(tabs) {
  const { flows, fire, api } = book();
  for (const [id, state] of Object.entries(tabs)) {
    const url = `${AUTHORIZE}&state=${state}`;
    fire('created', { id: Number(id) });
    fire('request', { tabId: Number(id), frameId: 0, url });
    fire('committed', { tabId: Number(id), frameId: 0, url, transitionType: 'auto_toplevel' });
    api.open.set(Number(id), { id: Number(id), url });
  }
  return { flows, fire, api };
}

test('closeSignin closes the sign-in tab of that exact state, and no other tab', async () => {
  const { flows, api } = signinTabs({ 4: 'flow-a', 5: 'flow-b', 6: 'flow-a-longer' });
  api.open.set(1, { id: 1, url: 'https://panel.test/edit' }); // the panel: no flow of a sign-in
  assert.deepEqual(await flows.closeSignin('flow-a'), [4]);
  assert.deepEqual(api.removed, [4]);
  assert.deepEqual(await flows.closeSignin('flow-'), []); // exact state only
  assert.deepEqual(api.removed, [4]);
});

test('closeSignin leaves a tab that left the sign-in hosts, or is on its way out', async () => {
  const { flows, fire, api } = signinTabs({ 4: 'gone', 5: 'leaving', 6: 'pending' });
  // Tab 4 went on to its tenant's own identity provider: its flow left the sign-in.
  fire('redirect', { tabId: 4, frameId: 0, redirectUrl: 'https://adfs.contoso.com/adfs/ls' });
  // Tab 5's flow never knew, but the browser shows it elsewhere now.
  api.open.set(5, { id: 5, url: 'https://www.example.com/' });
  // Tab 6 is navigating away (Chromium's pendingUrl).
  api.open.set(6, { id: 6, url: `${AUTHORIZE}&state=pending`, pendingUrl: 'https://www.example.com/' });
  for (const state of ['gone', 'leaving', 'pending']) assert.deepEqual(await flows.closeSignin(state), []);
  assert.deepEqual(api.removed, []);
});

test('closeSignin ignores a malformed notice and a tab that is already gone', async () => {
  const { flows, fire, api } = signinTabs({ 4: 'flow-a' });
  fire('created', { id: 7 });
  fire('request', { tabId: 7, frameId: 0, url: AUTHORIZE }); // a sign-in with no state: its flow's is null
  api.open.set(7, { id: 7, url: AUTHORIZE });
  assert.equal(flows.flow(7).state, null);
  for (const bad of [undefined, null, '', 5, ['flow-a'], { state: 'flow-a' }, 'x'.repeat(513)]) {
    assert.deepEqual(await flows.closeSignin(bad), []);
  }
  api.open.delete(4); // the user closed it first
  assert.deepEqual(await flows.closeSignin('flow-a'), []);
  assert.deepEqual(api.removed, []);
});

test('closeSignin: a page that sends a sign-in tab to another authorization request does not rename its flow', async () => {
  const { flows, fire, api } = signinTabs({ 4: 'mine' });
  const theirs = `${AUTHORIZE}&state=theirs`;
  fire('request', { tabId: 4, frameId: 0, url: theirs, initiator: 'https://login.microsoftonline.com' });
  api.open.set(4, { id: 4, url: theirs });
  assert.deepEqual(await flows.closeSignin('theirs'), []);
  assert.deepEqual(await flows.closeSignin('mine'), [4]);
});

// warmUp: a dry run of the field finder in the panel tab, only where filling is allowed.
import assert from 'node:assert/strict';
import test from 'node:test';

import { fillTab, OriginPermissions, PanelWarmer, warmUp } from '../../extension/fill.js';

function fakeApi(grantedOrigins) {
  const injected = [];
  const permissionListeners = [];
  const api = {
    injected,
    permissions: {
      contains: async ({ origins }) => origins.every((o) => grantedOrigins.includes(o)),
      onAdded: { addListener: (f) => permissionListeners.push(f) },
      onRemoved: { addListener: (f) => permissionListeners.push(f) },
    },
    scripting: {
      executeScript: async (details) => {
        injected.push(details);
        return [{ result: details.args[0].dryRun ? { ok: true, reason: 'found' } : { ok: true, reason: 'filled', field: { tag: 'input', id: 'f', how: 'label' } } }];
      },
    },
    tabs: { get: async () => { throw new Error('not expected on this path'); } },
    grant: (o) => { grantedOrigins.push(o); permissionListeners.forEach((f) => f({ origins: [o] })); },
  };
  return api;
}

test('warms a granted panel with a dry run in its top frame only', async () => {
  const api = fakeApi(['https://panel.example/*']);
  assert.equal(await warmUp(api, 4, 'https://panel.example/tenants/1', null), true);
  assert.deepEqual(api.injected.map((d) => [d.target, d.args[0]]),
    [[{ tabId: 4, frameIds: [0] }, { origin: 'https://panel.example', dryRun: true }]]);
});

test('never warms a sign-in page, an ungranted origin or a non-web page', async () => {
  const api = fakeApi(['https://login.microsoftonline.com/*']);
  for (const url of ['https://login.microsoftonline.com/common', 'https://other.example/', 'chrome://newtab/', 'about:blank', undefined]) {
    assert.equal(await warmUp(api, 4, url, null), false, String(url));
  }
  assert.equal(api.injected.length, 0);
});

test('the automatic fill asks for the permission once per origin and no tab lookup', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const granted = new OriginPermissions(api);
  for (let i = 0; i < 3; i += 1) {
    const done = await fillTab(api, { tabId: 4, origin: 'https://panel.example', value: 'v', permissions: granted });
    assert.equal(done.outcome, 'filled');
  }
  assert.equal(granted.known.size, 1);
  const refused = await fillTab(api, { tabId: 5, origin: 'https://new.example', value: 'v', permissions: granted });
  assert.equal(refused.outcome, 'no_permission');
  api.grant('https://new.example/*'); // a grant from the popup clears what was remembered
  const later = await fillTab(api, { tabId: 5, origin: 'https://new.example', value: 'v', permissions: granted });
  assert.equal(later.outcome, 'filled');
});

test('PanelWarmer: a panel is warmed when it loads, and not again when it opens the sign-in', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const warmer = new PanelWarmer(api, new OriginPermissions(api));
  assert.equal(await warmer.loaded(4, 'https://panel.example/tenants/1'), true);
  // The click on "get Authorization Code": the page is already warm, nothing is sent
  // into its renderer while it is busy opening the new tab.
  assert.equal(await warmer.opened(4, 'https://panel.example/tenants/1'), false);
  assert.equal(api.injected.length, 1);
});

test('PanelWarmer: a new document is warmed again; a page never warmed is warmed when it opens the sign-in', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const warmer = new PanelWarmer(api, new OriginPermissions(api));
  await warmer.loaded(4, 'https://panel.example/a');
  warmer.forget(4); // webNavigation.onCommitted: another document in tab 4
  assert.equal(await warmer.opened(4, 'https://panel.example/b'), true);
  // Loaded before codecatch was installed: no load event was seen for tab 7.
  assert.equal(await warmer.opened(7, 'https://panel.example/c'), true);
  assert.deepEqual(api.injected.map((d) => d.target.tabId), [4, 4, 7]);
});

test('PanelWarmer: two events for one click warm once; a refused warm-up is tried again later', async () => {
  const granted = [];
  const api = fakeApi(granted);
  const permissions = new OriginPermissions(api);
  const warmer = new PanelWarmer(api, permissions);
  // tabs.onCreated and onCreatedNavigationTarget both report the opener.
  const both = await Promise.all([warmer.opened(4, 'https://panel.example/'), warmer.opened(4, 'https://panel.example/')]);
  assert.deepEqual(both, [false, false]); // not granted yet: nothing injected
  assert.equal(api.injected.length, 0);
  api.grant('https://panel.example/*');
  assert.equal(await warmer.opened(4, 'https://panel.example/'), true);
  await Promise.all([warmer.loaded(5, 'https://panel.example/'), warmer.opened(5, 'https://panel.example/')]);
  assert.deepEqual(api.injected.map((d) => d.target.tabId), [4, 5]);
});

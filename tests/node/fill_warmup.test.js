// warmUp: a dry run of the field finder in the panel tab, only where filling is allowed.
import assert from 'node:assert/strict';
import test from 'node:test';

import { FINDER_BUILD, fillTab, OriginPermissions, PanelWarmer, sourceBuild, warmUp } from '../../extension/fill.js';
import { callKept, fillField } from '../../extension/lib/field_finder.js';

function fakeApi(grantedOrigins) {
  const injected = [];
  const permissionListeners = [];
  const api = {
    injected,
    // The test's grants are the manifest's own (as the e2e tests simulate a grant).
    runtime: { getManifest: () => ({ host_permissions: [...grantedOrigins] }) },
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
    [[{ tabId: 4, frameIds: [0] }, { origin: 'https://panel.example', dryRun: true, keep: FINDER_BUILD }]]);
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
  await granted.grant('https://new.example'); // and the popup tells which origin, exactly
  const later = await fillTab(api, { tabId: 5, origin: 'https://new.example', value: 'v', permissions: granted });
  assert.equal(later.outcome, 'filled');
});

test('PanelWarmer: a panel is warmed when it loads, and not again when it opens the sign-in', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const warmer = new PanelWarmer(api, new OriginPermissions(api));
  assert.equal(await warmer.warm(4, 'https://panel.example/tenants/1'), true);
  // The click on "get Authorization Code": the page is already warm, nothing is sent
  // into its renderer while it is busy opening the new tab.
  assert.equal(await warmer.warm(4, 'https://panel.example/tenants/1'), false);
  assert.equal(api.injected.length, 1);
});

test('PanelWarmer: a new document is warmed again; a page never warmed is warmed when it opens the sign-in', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const warmer = new PanelWarmer(api, new OriginPermissions(api));
  await warmer.warm(4, 'https://panel.example/a');
  warmer.forget(4); // webNavigation.onCommitted: another document in tab 4
  assert.equal(await warmer.warm(4, 'https://panel.example/b'), true);
  // Loaded before codecatch was installed: no load event was seen for tab 7.
  assert.equal(await warmer.warm(7, 'https://panel.example/c'), true);
  assert.deepEqual(api.injected.map((d) => d.target.tabId), [4, 4, 7]);
});

test('PanelWarmer: two events for one click warm once; a refused warm-up is tried again later', async () => {
  const granted = [];
  const api = fakeApi(granted);
  const permissions = new OriginPermissions(api);
  const warmer = new PanelWarmer(api, permissions);
  // tabs.onCreated and onCreatedNavigationTarget both report the opener.
  const both = await Promise.all([warmer.warm(4, 'https://panel.example/'), warmer.warm(4, 'https://panel.example/')]);
  assert.deepEqual(both, [false, false]); // not granted yet: nothing injected
  assert.equal(api.injected.length, 0);
  api.grant('https://panel.example/*');
  await permissions.grant('https://panel.example');
  assert.equal(await warmer.warm(4, 'https://panel.example/'), true);
  await Promise.all([warmer.warm(5, 'https://panel.example/'), warmer.warm(5, 'https://panel.example/')]);
  assert.deepEqual(api.injected.map((d) => d.target.tabId), [4, 5]);
});

// The fill after a warm-up: a short call to the finder the warm-up kept in the page.
function injectingApi({ kept }) {
  const calls = [];
  return {
    calls,
    permissions: { contains: async () => true },
    scripting: {
      executeScript: async ({ func, args }) => {
        calls.push({ func: func.name, args });
        if (func === callKept) return [{ result: kept ? { ok: true, reason: 'filled', field: { tag: 'input', how: 'label' } } : { ok: false, reason: 'not_kept' } }];
        return [{ result: { ok: true, reason: 'filled', field: { tag: 'input', how: 'label' } } }];
      },
    },
    tabs: { get: async () => { throw new Error('not expected on this path'); } },
  };
}

test('a warmed page is filled with one short call; the finder source is not sent again', async () => {
  const api = injectingApi({ kept: true });
  const done = await fillTab(api, { tabId: 4, origin: 'https://panel.example', value: 'v', checkPermission: false });
  assert.equal(done.outcome, 'filled');
  assert.deepEqual(api.calls.map((c) => c.func), ['callKept']);
  assert.equal(api.calls[0].args[0], FINDER_BUILD);
  assert.deepEqual(api.calls[0].args[1], { selector: null, value: 'v', valueKind: null, origin: 'https://panel.example', save: false });
});

test('a page that kept no finder (or another build\'s) gets the finder itself, kept for next time', async () => {
  const api = injectingApi({ kept: false });
  const done = await fillTab(api, { tabId: 4, origin: 'https://panel.example', value: 'v', checkPermission: false });
  assert.equal(done.outcome, 'filled');
  assert.deepEqual(api.calls.map((c) => c.func), ['callKept', 'fillField']);
  assert.equal(api.calls[1].args[0].keep, FINDER_BUILD);
  assert.equal(api.calls[1].args[0].value, 'v');
});

test('callKept runs only the finder kept under the same build', () => {
  delete globalThis.__codecatchKept;
  assert.deepEqual(callKept(FINDER_BUILD, {}), { ok: false, reason: 'not_kept' });
  const seen = [];
  globalThis.__codecatchKept = { build: 'old-build', fn: (r) => { seen.push(r); return { ok: true }; } };
  assert.deepEqual(callKept(FINDER_BUILD, { value: 'v' }), { ok: false, reason: 'not_kept' });
  assert.deepEqual(seen, []); // an older extension's finder never sees the value
  globalThis.__codecatchKept = { build: FINDER_BUILD, fn: (r) => { seen.push(r); return { ok: true, reason: 'filled' }; } };
  assert.deepEqual(callKept(FINDER_BUILD, { value: 'v' }), { ok: true, reason: 'filled' });
  assert.deepEqual(seen, [{ value: 'v' }]);
  delete globalThis.__codecatchKept;
});

test('callKept ignores a page element that window\'s named access puts under the same name', () => {
  // A page's <form name="__codecatchKept"> reaches every world through the window's
  // prototype chain (WindowProperties), never as an own property of the global.
  const proto = Object.getPrototypeOf(globalThis);
  const calls = [];
  Object.defineProperty(proto, '__codecatchKept', {
    configurable: true, get: () => ({ build: FINDER_BUILD, fn: (r) => { calls.push(r); return { ok: true, reason: 'filled' }; } }),
  });
  try {
    assert.deepEqual(callKept(FINDER_BUILD, { value: 'v' }), { ok: false, reason: 'not_kept' });
    assert.deepEqual(calls, []);
  } finally {
    delete proto.__codecatchKept;
  }
});

test('the build names the finder source: any change to it is another build', () => {
  const source = fillField.toString();
  assert.equal(FINDER_BUILD, sourceBuild(source));
  assert.notEqual(sourceBuild(source), sourceBuild(source.replace('THRESHOLD = 1.5', 'THRESHOLD = 1.6')));
  assert.match(FINDER_BUILD, /^[0-9a-f]+-\d+$/);
});

test('a page known not to keep the finder gets it in one call (no callKept first)', async () => {
  const api = injectingApi({ kept: false });
  const done = await fillTab(api, { tabId: 4, origin: 'https://panel.example', value: 'v', checkPermission: false, kept: false });
  assert.equal(done.outcome, 'filled');
  assert.deepEqual(api.calls.map((c) => c.func), ['fillField']);
  assert.equal(api.calls[0].args[0].keep, FINDER_BUILD);
});

test('PanelWarmer: a page warmed when it opened the sign-in is not warmed again when it finishes loading', async () => {
  const api = fakeApi(['https://panel.example/*']);
  const warmer = new PanelWarmer(api, new OriginPermissions(api));
  assert.equal(await warmer.warm(4, 'https://panel.example/slow'), true); // before its load event
  assert.equal(await warmer.warm(4, 'https://panel.example/slow'), false);
  assert.equal(api.injected.length, 1);
  assert.equal(warmer.has(4), true);
  warmer.forget(4);
  assert.equal(warmer.has(4), false);
});

// SessionState: what the background remembers across MV3 worker restarts
// (storage.session only: memory, gone with the browser).
import assert from 'node:assert/strict';
import test from 'node:test';

import { SessionState } from '../../extension/session_state.js';

function fakeApi() {
  const data = {};
  return {
    data,
    storage: {
      session: {
        get: async (keys) => Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, structuredClone(data[k])])),
        set: async (items) => { Object.assign(data, structuredClone(items)); },
      },
    },
  };
}

test('who opened a tab, and whether a page did, survive a worker restart', async () => {
  const api = fakeApi();
  const before = new SessionState(api);
  await before.ready;
  await before.rememberOpener(5, 3, true); // a link in tab 3 opened tab 5
  await before.rememberOpener(6, 3); // the user opened tab 6 from tab 3
  const after = new SessionState(api); // the worker was stopped and started again
  await after.ready;
  assert.equal(after.openers.get(5), 3);
  assert.equal(after.openers.get(6), 3);
  assert.equal(after.pageOpened.has(5), true);
  assert.equal(after.pageOpened.has(6), false);
});

test('a later report without byPage does not clear what a page opened', async () => {
  const state = new SessionState(fakeApi());
  await state.ready;
  await state.rememberOpener(5, 3, true); // onCreatedNavigationTarget
  await state.rememberOpener(5, 3); // tabs.onCreated, which cannot tell
  assert.equal(state.pageOpened.has(5), true);
});

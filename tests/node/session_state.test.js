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

test('the flows of sign-in tabs survive a worker restart', async () => {
  const api = fakeApi();
  const before = new SessionState(api);
  await before.ready;
  before.setFlow(5, { opener_tab_id: 3, opener_origin: 'https://panel.test', by_page: true, started_at: 1, phase: 'signin', via: null });
  before.setFlow(6, { opener_tab_id: null, opener_origin: null, by_page: false, started_at: 2, phase: 'left', via: 'evil.test' });
  await new Promise((r) => setTimeout(r, 0)); // one save per task
  const after = new SessionState(api); // the worker was stopped and started again
  await after.ready;
  assert.equal(after.flows.get(5).opener_origin, 'https://panel.test');
  assert.equal(after.flows.get(6).phase, 'left');
});


test('a flow\'s state (what close_signin goes by) survives a worker restart, in storage.session only', async () => {
  const api = fakeApi(); // no storage.local at all: touching it would throw
  const before = new SessionState(api);
  await before.ready;
  before.setFlow(7, { opener_tab_id: null, opener_origin: null, by_page: false, started_at: 3, phase: 'signin', via: null, state: 'flow-a' });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(api.data.flows['7'].state, 'flow-a');
  const after = new SessionState(api);
  await after.ready;
  assert.equal(after.flows.get(7).state, 'flow-a');
});

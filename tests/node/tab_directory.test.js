// TabDirectory: opener URLs without a tabs.get round trip on the capture path.
import assert from 'node:assert/strict';
import test from 'node:test';

import { TabDirectory } from '../../extension/tab_directory.js';

function fakeTabs(initial) {
  const listeners = { onCreated: [], onUpdated: [], onRemoved: [] };
  const event = (name) => ({ addListener: (f) => listeners[name].push(f) });
  let gets = 0;
  const api = {
    tabs: {
      onCreated: event('onCreated'), onUpdated: event('onUpdated'), onRemoved: event('onRemoved'),
      query: async () => initial,
      get: async (id) => {
        gets += 1;
        if (id === 99) return { id, url: 'https://late.example/' };
        throw new Error(`No tab with id: ${id}`);
      },
    },
  };
  const fire = (name, ...args) => listeners[name].forEach((f) => f(...args));
  return { api, fire, gets: () => gets };
}

test('knows tabs from start-up and from events, without asking the browser', async () => {
  const { api, fire, gets } = fakeTabs([{ id: 1, url: 'https://panel.example/a' }]);
  const tabs = new TabDirectory(api);
  await tabs.ready;
  assert.equal(await tabs.url(1), 'https://panel.example/a');
  fire('onUpdated', 1, { url: 'https://panel.example/b' }, { id: 1, url: 'https://panel.example/b' });
  assert.equal(await tabs.url(1), 'https://panel.example/b');
  fire('onCreated', { id: 2, url: 'https://other.example/' });
  assert.equal(await tabs.url(2), 'https://other.example/');
  assert.equal(gets(), 0);
});

test('a removed tab is forgotten; an unknown one is asked for, a gone one is null', async () => {
  const { api, fire, gets } = fakeTabs([{ id: 1, url: 'https://panel.example/' }]);
  const tabs = new TabDirectory(api);
  await tabs.ready;
  fire('onRemoved', 1);
  assert.equal(await tabs.url(1), null);
  assert.equal(await tabs.url(99), 'https://late.example/');
  assert.equal(await tabs.url(-1), null);
  assert.equal(gets(), 2);
});

test('a tab reported without a URL (no tabs permission yet) is not recorded as empty', async () => {
  const { api, fire } = fakeTabs([]);
  const tabs = new TabDirectory(api);
  fire('onCreated', { id: 5 });
  assert.equal(tabs.urls.has(5), false);
});

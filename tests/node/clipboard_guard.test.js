// ClipboardGuard (extension/clipboard.js) with a fake clipboard, a fake storage.session
// and fake alarms: what codecatch copied is cleared when its code expires, only if the
// clipboard still holds it; the next copy replaces the record; only a hash is kept.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'node:test';

import { CLEAR_ALARM, ClipboardGuard, clearFromBackground, sha256Hex } from '../../extension/clipboard.js';
import { CapturePipeline } from '../../extension/capture_pipeline.js';

const URL_A = 'https://Microsoft.AAD.BrokerPlugin/app?code=0.AXkAaaaa&state=s1';
const URL_B = 'https://Microsoft.AAD.BrokerPlugin/app?code=0.AXkAbbbb&state=s2';

function rig() {
  let now = 1_000_000;
  const box = { text: '' }; // the system clipboard
  const stored = new Map();
  const alarms = new Map();
  const storage = {
    get: async (key) => (stored.has(key) ? { [key]: structuredClone(stored.get(key)) } : {}),
    set: async (items) => Object.entries(items).forEach(([k, v]) => stored.set(k, structuredClone(v))),
    remove: async (key) => { stored.delete(key); },
  };
  const guard = new ClipboardGuard({
    storage,
    alarms: { create: async (name, { when }) => { alarms.set(name, when); } },
    // What the offscreen document (or Firefox's background page) does.
    clearIf: async (sha256) => {
      if (await sha256Hex(box.text) !== sha256) return 'changed';
      box.text = '';
      return 'cleared';
    },
    clock: () => now,
  });
  const copy = async (text, expiresAt) => {
    await guard.wrote(text, expiresAt);
    box.text = text;
  };
  /** Time passes; the alarm fires when its time has come (as the browser would). */
  const advance = async (ms) => {
    now += ms;
    const when = alarms.get(CLEAR_ALARM);
    if (when !== undefined && when <= now) {
      alarms.delete(CLEAR_ALARM);
      return guard.due();
    }
    return null;
  };
  return { guard, box, stored, alarms, copy, advance, tick: (ms) => { now += ms; }, now: () => now };
}

test('sha256Hex is the SHA-256 of the UTF-8 text', async () => {
  assert.equal(await sha256Hex('code=é'), createHash('sha256').update('code=é', 'utf8').digest('hex'));
});

test('the clipboard is cleared when the copied code expires, not before', async () => {
  const { box, copy, advance, now } = rig();
  await copy(URL_A, now() + 60_000);
  assert.equal(await advance(59_999), null);
  assert.equal(box.text, URL_A);
  assert.equal(await advance(1), 'cleared');
  assert.equal(box.text, '');
});

test('what the user copied since is left alone', async () => {
  const { box, stored, copy, advance, now } = rig();
  await copy(URL_A, now() + 60_000);
  box.text = 'the user\'s own text';
  assert.equal(await advance(60_000), 'changed');
  assert.equal(box.text, 'the user\'s own text');
  assert.equal(stored.size, 0, 'the record is gone once decided');
});

test('the next copy replaces the record: the first code\'s expiry clears nothing, the second\'s clears it', async () => {
  const { box, alarms, copy, advance, now } = rig();
  await copy(URL_A, now() + 60_000);
  await copy(URL_B, now() + 120_000);
  assert.equal(alarms.get(CLEAR_ALARM), now() + 120_000, 'one alarm, moved to the latest code\'s expiry');
  assert.equal(await advance(60_000), null);
  assert.equal(box.text, URL_B);
  assert.equal(await advance(60_000), 'cleared');
  assert.equal(box.text, '');
});

test('the next copy clears the previous one first: should its write fail, the old code is not left behind', async () => {
  const { guard, box, copy, now } = rig();
  await copy(URL_A, now() + 60_000);
  await guard.wrote(URL_B, now() + 120_000); // the write of URL_B then fails: it never lands
  assert.equal(box.text, '', 'the first code was cleared when the next copy began');
  // But what the user copied in between is theirs, and stays.
  await copy(URL_A, now() + 60_000);
  box.text = 'the user\'s own text';
  await guard.wrote(URL_B, now() + 120_000);
  assert.equal(box.text, 'the user\'s own text');
});

test('only a hash and a time are stored, never the text', async () => {
  const { stored, copy, now } = rig();
  await copy(URL_A, now() + 60_000);
  const record = stored.get('clipboard');
  assert.deepEqual(Object.keys(record).sort(), ['clear_at', 'sha256']);
  assert.equal(record.sha256, await sha256Hex(URL_A));
  assert.ok(!JSON.stringify([...stored]).includes('0.AXkA'));
});

test('woken early (the worker started, or an alarm came soon), it waits and sets the alarm again', async () => {
  const { guard, box, alarms, copy, now } = rig();
  await copy(URL_A, now() + 60_000);
  alarms.clear(); // the alarm was lost
  assert.equal(await guard.due(), null);
  assert.equal(box.text, URL_A);
  assert.equal(alarms.get(CLEAR_ALARM), now() + 60_000);
});

test('a clear and the next copy\'s record go one after the other: the new record survives', async () => {
  const { guard, box, stored, copy, tick, now } = rig();
  await copy(URL_A, now() + 10);
  tick(10);
  const hashB = await sha256Hex(URL_B);
  // The alarm's clear, and the popup's next copy remembered meanwhile.
  const [outcome] = await Promise.all([guard.due(), guard.remember(hashB, now() + 60_000)]);
  box.text = URL_B;
  assert.equal(outcome, 'cleared');
  assert.equal(stored.get('clipboard')?.sha256, hashB, 'the next copy\'s record is kept');
});

test('a record with a bad hash or no expiry is refused', async () => {
  const { guard } = rig();
  await assert.rejects(guard.remember('not a hash', 1), /SHA-256/);
  await assert.rejects(guard.remember('a'.repeat(64), undefined), /expiry/);
});

test('the pipeline remembers a copy by hand before the popup writes it, with the code\'s expiry', async () => {
  const remembered = [];
  const record = { local_id: 'l1', capture_id: 'c1', https_url: URL_A, response: { kind: 'code', code: '0.AXkAaaaa' }, expires_at: 5_000, received_at: 1 };
  const pipeline = new CapturePipeline({
    session: { findCapture: () => record }, connection: { request: async () => ({}) },
    clipboard: { wrote: async (text, at) => remembered.push([text, at]) },
  });
  const reply = await pipeline.copy({ capture_id: 'c1', what: 'code' });
  assert.deepEqual(reply, { ok: true, text: '0.AXkAaaaa' });
  assert.deepEqual(remembered, [['0.AXkAaaaa', 5_000]]);
  // No expiry from the host (it was away): the code's lifetime from when it was seen.
  delete record.expires_at;
  await pipeline.copy({ capture_id: 'c1', what: 'url' });
  assert.deepEqual(remembered[1], [URL_A, 1 + 10 * 60 * 1000]);
});

test('Firefox (no offscreen document): the background page reads, compares the hash and empties', async () => {
  const box = { text: URL_A };
  const fake = { readText: async () => box.text, writeText: async (t) => { box.text = t; } };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator'); // Node 21+ has one, without a clipboard
  Object.defineProperty(globalThis, 'navigator', { value: { clipboard: fake }, configurable: true });
  try {
    const api = {};
    box.text = 'the user\'s own text';
    assert.equal(await clearFromBackground(api, await sha256Hex(URL_A)), 'changed');
    assert.equal(box.text, 'the user\'s own text');
    box.text = URL_A;
    assert.equal(await clearFromBackground(api, await sha256Hex(URL_A)), 'cleared');
    assert.equal(box.text, '');
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete globalThis.navigator;
  }
});

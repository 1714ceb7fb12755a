import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffDelay, describeDisconnect, NativeConnection, NativeError, State } from '../../extension/lib/native_connection.js';
import { ERROR_CLASSES, errorClass, isRefusal } from '../../extension/lib/errors.js';

/** Manual timers: nothing runs until advance(). */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(id, { fn, at: now + ms });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    get count() {
      return timers.size;
    },
  };
}

/** A port like runtime.connectNative's, driven by the test. */
function fakePort() {
  const listeners = { message: [], disconnect: [] };
  const port = {
    sent: [],
    disconnected: false,
    onMessage: { addListener: (fn) => listeners.message.push(fn) },
    onDisconnect: { addListener: (fn) => listeners.disconnect.push(fn) },
    postMessage(m) {
      if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
      this.sent.push(structuredClone(m));
    },
    disconnect() {
      this.disconnected = true;
    },
    // test side
    hostSends(m) {
      for (const fn of listeners.message) fn(m);
    },
    hostExits(error) {
      this.disconnected = true;
      for (const fn of listeners.disconnect) fn(error ? { error: { message: error } } : {});
    },
  };
  return port;
}

function setup(opts = {}) {
  const timers = fakeTimers();
  const ports = [];
  let lastError;
  const conn = new NativeConnection({
    connect: () => {
      const p = fakePort();
      ports.push(p);
      return p;
    },
    lastErrorMessage: () => lastError,
    timers,
    now: timers.now,
    helloTimeoutMs: 1000,
    requestTimeoutMs: 500,
    ...opts,
  });
  const states = [];
  conn.onChange((s) => states.push(s.state));
  return { conn, timers, ports, states, setLastError: (m) => { lastError = m; } };
}

const HELLO = { type: 'hello', protocol: 1, version: '0.1.0', host: 'codecatch-host' };

test('connects, waits for the greeting, then is connected', () => {
  const { conn, ports, states, timers } = setup();
  conn.start();
  assert.equal(conn.state, State.CONNECTING);
  ports[0].hostSends(HELLO);
  assert.equal(conn.state, State.CONNECTED);
  assert.deepEqual(conn.status().host, { protocol: 1, version: '0.1.0', host: 'codecatch-host' });
  assert.deepEqual(states, ['connecting', 'connected']);
  assert.equal(timers.count, 0, 'the greeting timer is cleared');
  conn.start();
  assert.equal(ports.length, 1, 'start() while connected is a no-op');
});

test('a request gets its result; ids are unique', async () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  const a = conn.request('ping');
  const b = conn.request('parse', { text: 'x' });
  const [ma, mb] = ports[0].sent;
  assert.equal(ma.type, 'ping');
  assert.deepEqual({ ...mb, id: 0 }, { id: 0, type: 'parse', text: 'x' });
  assert.notEqual(ma.id, mb.id);
  ports[0].hostSends({ id: mb.id, ok: true, result: { kind: 'code' } });
  ports[0].hostSends({ id: ma.id, ok: true, result: { pong: true } });
  assert.deepEqual(await a, { pong: true });
  assert.deepEqual(await b, { kind: 'code' });
});

test('an error reply rejects with its code and name', async () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  const p = conn.request('capture', { uri: 'x' });
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: false, error: { code: 30, name: 'not_signin_host', message: 'ignored' } });
  await assert.rejects(p, (err) => err instanceof NativeError && err.code === 30 && err.errorName === 'not_signin_host'
    && err.field === null && isRefusal(err.code));
});

test('an invalid_field reply names its field', async () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  const p = conn.request('capture', { uri: 'x' });
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: false, error: { code: 15, name: 'invalid_field', message: "'source.tab_id' must be a int.", field: 'source.tab_id' } });
  await assert.rejects(p, (err) => err.code === 15 && err.errorName === 'invalid_field' && err.field === 'source.tab_id'
    && err.message.includes('tab_id') && errorClass(err.code) === 'bad_message' && !isRefusal(err.code));
});

test('an error reply without a numeric code is an invalid reply with code null', async () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  const p = conn.request('ping');
  const q = conn.request('ping');
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: false, error: { code: '30', name: 'not_signin_host', message: 'x' } });
  ports[0].hostSends({ id: ports[0].sent[1].id, ok: false });
  for (const r of [p, q]) {
    await assert.rejects(r, (err) => err instanceof NativeError && err.code === null && err.errorName === 'invalid_reply' && err.field === null);
  }
});

test('a send that throws fails its request with code null', async () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  ports[0].postMessage = () => { throw new Error('Attempting to use a disconnected port object'); };
  await assert.rejects(conn.request('ping'), (err) => err.code === null && err.errorName === 'send_failed' && /disconnected port/.test(err.message));
});

test('stop fails pending requests with code null', async () => {
  const { conn } = setup();
  conn.start();
  const p = conn.request('ping');
  conn.stop();
  await assert.rejects(p, (err) => err.code === null && err.errorName === 'stopped');
});

test('error classes: refusals are 20-39, local failures have none', () => {
  const of = (code) => [errorClass(code), isRefusal(code)];
  assert.deepEqual(of(1), ['host_fault', false]);
  assert.deepEqual(of(9), ['host_fault', false]);
  assert.deepEqual(of(10), ['bad_message', false]);
  assert.deepEqual(of(16), ['bad_message', false]);
  assert.deepEqual(of(19), ['bad_message', false]);
  assert.deepEqual(of(20), ['refused', true]);
  assert.deepEqual(of(31), ['refused', true]);
  assert.deepEqual(of(39), ['refused', true]);
  assert.deepEqual(of(40), ['configuration', false]);
  for (const code of [null, undefined, 0, 50, 25.5, '25', 'timeout', NaN]) assert.deepEqual(of(code), [null, false], String(code));
  assert.ok(Object.isFrozen(ERROR_CLASSES) && ERROR_CLASSES.every(Object.isFrozen));
});

test('requests made before the greeting are sent after it', async () => {
  const { conn, ports } = setup();
  conn.start();
  const p = conn.request('ping');
  assert.equal(ports[0].sent.length, 0);
  ports[0].hostSends(HELLO);
  assert.equal(ports[0].sent.length, 1);
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: true, result: {} });
  assert.deepEqual(await p, {});
});

test('a request that gets no reply times out and is forgotten', async () => {
  const { conn, ports, timers } = setup();
  conn.start();
  ports[0].hostSends(HELLO);
  const p = conn.request('ping', {}, { timeoutMs: 200 });
  timers.advance(200);
  await assert.rejects(p, (err) => err instanceof NativeError && err.code === null && err.errorName === 'timeout');
  assert.equal(conn.status().pending, 0);
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: true, result: {} }); // late: ignored
  assert.equal(timers.count, 0);
});

test('host missing: a plain message, and a slow retry', () => {
  const { conn, ports, timers, setLastError } = setup({ backoff: { baseMs: 100, maxMs: 5000 } });
  conn.start();
  setLastError('Specified native messaging host not found.');
  ports[0].hostExits();
  assert.equal(conn.state, State.BACKOFF);
  assert.equal(conn.problem.code, 'host_missing');
  assert.match(conn.problem.message, /run `codecatch install`/);
  assert.equal(conn.status().retry_at, 5000);
  timers.advance(4999);
  assert.equal(ports.length, 1);
  timers.advance(1);
  assert.equal(ports.length, 2);
  assert.equal(conn.state, State.CONNECTING);
});

test('Firefox reports the problem on port.error', () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostExits('No such native application com.codecatch.host');
  assert.equal(conn.problem.code, 'host_missing');
});

test('distinct messages for forbidden and exited', () => {
  assert.equal(describeDisconnect('Access to the specified native messaging host is forbidden.').code, 'host_forbidden');
  assert.equal(describeDisconnect('Native host has exited.').code, 'host_exited');
  assert.equal(describeDisconnect('Failed to start native messaging host.').code, 'host_failed');
  assert.equal(describeDisconnect(undefined).code, 'host_disconnected');
  const msgs = new Set(['Specified native messaging host not found.', 'Access to the specified native messaging host is forbidden.', 'Native host has exited.']
    .map((m) => describeDisconnect(m).message));
  assert.equal(msgs.size, 3);
});

test('the host exits: pending requests fail, reconnect with growing backoff, reset after a greeting', async () => {
  const { conn, ports, timers, setLastError } = setup({ backoff: { baseMs: 100, maxMs: 1000 } });
  setLastError('Native host has exited.');
  conn.start();
  ports[0].hostSends(HELLO);
  const p = conn.request('ping');
  ports[0].hostExits();
  await assert.rejects(p, (err) => err.code === null && err.errorName === 'host_exited');
  assert.equal(conn.state, State.BACKOFF);
  // attempt 1 failed -> 100 ms; then each failure doubles
  timers.advance(100);
  assert.equal(ports.length, 2);
  ports[1].hostExits();
  assert.equal(conn.status().retry_at - timers.now(), 200);
  timers.advance(200);
  ports[2].hostExits();
  assert.equal(conn.status().retry_at - timers.now(), 400);
  timers.advance(400);
  ports[3].hostSends(HELLO);
  assert.equal(conn.state, State.CONNECTED);
  assert.equal(conn.status().attempts, 0);
});

test('no greeting in time: drop the port and retry', () => {
  const { conn, ports, timers } = setup();
  conn.start();
  timers.advance(1000);
  assert.equal(ports[0].disconnected, true);
  assert.equal(conn.problem.code, 'no_greeting');
  assert.equal(conn.state, State.BACKOFF);
});

test('a host with another protocol version is refused, and says which side is older', () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends({ ...HELLO, protocol: 2 });
  assert.equal(conn.state, State.BACKOFF);
  assert.equal(conn.problem.code, 'incompatible');
  assert.match(conn.problem.message, /this extension is older/);
  assert.equal(ports[0].disconnected, true);
  conn.retryNow();
  ports[1].hostSends({ ...HELLO, protocol: 0 });
  assert.match(conn.problem.message, /codecatch host is older/);
});

test('messages before the greeting and from stale ports are ignored', () => {
  const { conn, ports } = setup();
  conn.start();
  ports[0].hostSends({ id: 1, ok: true, result: {} });
  assert.equal(conn.state, State.CONNECTING);
  ports[0].hostExits();
  conn.retryNow();
  ports[0].hostSends(HELLO); // the old port
  assert.equal(conn.state, State.CONNECTING);
  ports[1].hostSends(HELLO);
  assert.equal(conn.state, State.CONNECTED);
});

test('a request while disconnected starts a connection at once', async () => {
  const { conn, ports, setLastError } = setup();
  setLastError('Specified native messaging host not found.');
  conn.start();
  ports[0].hostExits();
  const p = conn.request('ping');
  assert.equal(ports.length, 2);
  ports[1].hostExits();
  await assert.rejects(p, (err) => err.code === null && err.errorName === 'host_missing');
});

test('connect throwing is a disconnect, not a crash', () => {
  const timers = fakeTimers();
  const conn = new NativeConnection({ connect: () => { throw new Error('No such native application x'); }, timers, now: timers.now });
  conn.start();
  assert.equal(conn.state, State.BACKOFF);
  assert.equal(conn.problem.code, 'host_missing');
});

test('backoff doubles and is capped', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 3000 })), [500, 1000, 2000, 3000]);
  assert.equal(backoffDelay(Infinity, { maxMs: 60000 }), 60000);
});

test('notices (a type, no ok) go to onNotice, once connected; replies never do', async () => {
  const { conn, ports } = setup();
  const notices = [];
  conn.onNotice((n) => notices.push(n));
  conn.onNotice(() => { throw new Error('a listener bug'); }); // does not stop the others
  conn.start();
  ports[0].hostSends({ type: 'close_signin', state: 'early' }); // before the greeting: ignored
  ports[0].hostSends(HELLO);
  const p = conn.request('ping');
  ports[0].hostSends({ type: 'close_signin', state: 's1' });
  ports[0].hostSends({ id: null, ok: false, error: { code: 16, name: 'too_large', message: 'x' } }); // a reply
  ports[0].hostSends({ state: 's2' }); // no type: malformed, dropped
  ports[0].hostSends({ id: ports[0].sent[0].id, ok: true, result: { pong: true } });
  assert.deepEqual(await p, { pong: true });
  assert.deepEqual(notices, [{ type: 'close_signin', state: 's1' }]);
  assert.equal(conn.state, State.CONNECTED);
});

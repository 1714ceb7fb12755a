// The native-messaging connection as an explicit state machine (the Web eID
// extension's shape): unconnected -> connecting -> connected -> backoff -> connecting ...
// Browser APIs are injected (`connect`, timers), so node tests drive it with fake ports.
//
// Protocol: PROTOCOL.md (greeting `hello` with `protocol`, requests with `id`, replies
// with `ok` and `result` or `error`; notices, which answer no request, with `type` and
// no `ok`).

import { PROTOCOL_VERSION } from './identity.js';

export const State = Object.freeze({
  UNCONNECTED: 'unconnected',
  CONNECTING: 'connecting', // port open, waiting for the host's hello
  CONNECTED: 'connected',
  BACKOFF: 'backoff', // disconnected, a reconnect is scheduled
});

/**
 * An error reply from the host, or a local failure (a timeout, a failed send, the host
 * going away). `code` is the host's number (PROTOCOL.md; classes: lib/errors.js
 * `errorClass`, `isRefusal`) or null for a local failure, which `errorName` names
 * ('timeout', 'send_failed', 'stopped', or the connection's problem code such as
 * 'host_missing'). `field` is the request's field at fault when the host names one.
 */
export class NativeError extends Error {
  constructor(code, name, message, { field = null } = {}) {
    super(message);
    this.code = Number.isInteger(code) ? code : null;
    this.errorName = name;
    this.field = typeof field === 'string' ? field : null;
  }
}

/**
 * Turns the browser's disconnect message into a problem a person can act on.
 * Chromium: runtime.lastError.message
 * (https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#debugging);
 * Firefox: port.error.message ("No such native application ...").
 */
export function describeDisconnect(message) {
  const text = String(message ?? '');
  if (/native messaging host not found|no such native application/i.test(text)) {
    return { code: 'host_missing', message: 'The codecatch native host is not installed for this browser: run `codecatch install`.', detail: text };
  }
  if (/forbidden|not allowed|does not have permission|not permitted/i.test(text)) {
    return { code: 'host_forbidden', message: 'The browser refused the codecatch host for this extension (its manifest names another extension id): run `codecatch install` again.', detail: text };
  }
  if (/native host has exited/i.test(text)) {
    return { code: 'host_exited', message: 'The codecatch host exited; `codecatch doctor` shows why.', detail: text };
  }
  if (/failed to start native messaging host|error when communicating/i.test(text)) {
    return { code: 'host_failed', message: 'The codecatch host could not be started or broke the stream: run `codecatch doctor`.', detail: text };
  }
  return { code: 'host_disconnected', message: 'The connection to the codecatch host closed; reconnecting.', detail: text };
}

/** Delay before reconnect attempt `attempt` (1, 2, ...): doubling, capped. */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 60_000 } = {}) {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class NativeConnection {
  #port = null;
  #pending = new Map(); // id -> {message, resolve, reject, timer, sent}
  #nextId = 1;
  #helloTimer = null;
  #retryTimer = null;
  #attempts = 0; // connection attempts since the last greeting
  #failures = 0; // of those, how many failed: drives the backoff
  #listeners = new Set();
  #noticeListeners = new Set();

  /**
   * @param {object} o
   * @param {() => object} o.connect opens a port (runtime.connectNative(HOST_NAME))
   * @param {() => string|undefined} [o.lastErrorMessage] runtime.lastError?.message (Chromium)
   */
  constructor({ connect, lastErrorMessage = () => undefined, timers = globalThis, now = Date.now,
    helloTimeoutMs = 5000, requestTimeoutMs = 5000, backoff = {} }) {
    this.connect = connect;
    this.lastErrorMessage = lastErrorMessage;
    this.timers = timers;
    this.now = now;
    this.helloTimeoutMs = helloTimeoutMs;
    this.requestTimeoutMs = requestTimeoutMs;
    this.backoff = backoff;
    this.state = State.UNCONNECTED;
    this.problem = null; // {code, message, detail} while something is wrong
    this.host = null; // the hello: {protocol, version, host}
    this.retryAt = null;
    this.since = now();
  }

  /** Calls `fn(status)` on every state change; returns an unsubscribe function. */
  onChange(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Calls `fn(notice)` for every notice the host sends once connected (PROTOCOL.md
   * "Notices": a message with a string `type` and no `ok`); returns an unsubscribe function.
   */
  onNotice(fn) {
    this.#noticeListeners.add(fn);
    return () => this.#noticeListeners.delete(fn);
  }

  status() {
    return {
      state: this.state,
      problem: this.problem && { ...this.problem },
      host: this.host && { ...this.host },
      attempts: this.#attempts,
      retry_at: this.retryAt,
      since: this.since,
      pending: this.#pending.size,
    };
  }

  /** Opens the port now (also cancels a scheduled retry). No-op while open. */
  start() {
    if (this.state === State.CONNECTING || this.state === State.CONNECTED) return;
    this.#clearRetry();
    this.#attempts += 1;
    this.host = null;
    this.#set(State.CONNECTING);
    let port;
    try {
      port = this.connect();
    } catch (err) {
      // Firefox throws synchronously for some failures; treat like a disconnect.
      this.#lost(null, err?.message);
      return;
    }
    this.#port = port;
    port.onMessage.addListener((msg) => this.#onMessage(port, msg));
    port.onDisconnect.addListener((p) => {
      // Reading runtime.lastError here also keeps Chromium from logging it as unchecked.
      this.#lost(port, p?.error?.message ?? this.lastErrorMessage());
    });
    this.#helloTimer = this.timers.setTimeout(() => {
      this.#helloTimer = null;
      this.#drop(port, { code: 'no_greeting', message: 'The codecatch host did not greet within ' + this.helloTimeoutMs + ' ms: run `codecatch doctor`.' });
    }, this.helloTimeoutMs);
  }

  /** Reconnect now, e.g. after `codecatch install` (the popup's Retry). */
  retryNow() {
    if (this.state === State.BACKOFF || this.state === State.UNCONNECTED) {
      this.#attempts = 0;
      this.#failures = 0;
      this.start();
    }
  }

  /**
   * Sends `{id, type, ...fields}` and resolves with the reply's `result`. Rejects with a
   * NativeError on an error reply, a timeout, or when the host goes away. Requests made
   * before the greeting wait for it (within their own timeout).
   */
  request(type, fields = {}, { timeoutMs = this.requestTimeoutMs } = {}) {
    const id = this.#nextId++;
    const message = { ...fields, id, type };
    return new Promise((resolve, reject) => {
      const entry = { message, resolve, reject, sent: false, timer: null };
      entry.timer = this.timers.setTimeout(() => {
        this.#pending.delete(id);
        reject(new NativeError(null, 'timeout', `No reply to ${type} within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.#pending.set(id, entry);
      if (this.state === State.CONNECTED) this.#send(entry);
      else if (this.state !== State.CONNECTING) this.start();
    });
  }

  /** Closes the port for good (no reconnect). */
  stop() {
    this.#clearRetry();
    const port = this.#port;
    this.#port = null;
    try {
      port?.disconnect();
    } catch { /* already gone */ }
    this.#failAll('stopped', 'The connection was closed.');
    this.#set(State.UNCONNECTED);
  }

  #onMessage(port, msg) {
    if (port !== this.#port || msg === null || typeof msg !== 'object') return;
    if (this.state === State.CONNECTING) {
      if (msg.type !== 'hello') return; // nothing else may come before the greeting
      this.timers.clearTimeout(this.#helloTimer);
      this.#helloTimer = null;
      if (msg.protocol !== PROTOCOL_VERSION) {
        const older = typeof msg.protocol === 'number' && msg.protocol < PROTOCOL_VERSION ? 'the codecatch host' : 'this extension';
        this.#drop(port, {
          code: 'incompatible',
          message: `The codecatch host speaks protocol ${msg.protocol}, this extension ${PROTOCOL_VERSION}: ${older} is older, update it.`,
        }, { retry: false });
        return;
      }
      this.host = { protocol: msg.protocol, version: msg.version ?? null, host: msg.host ?? null };
      this.problem = null;
      this.#attempts = 0;
      this.#failures = 0;
      this.#set(State.CONNECTED);
      for (const entry of this.#pending.values()) if (!entry.sent) this.#send(entry);
      return;
    }
    if (!Object.hasOwn(msg, 'ok')) {
      // A notice: every reply has `ok` (even one whose id is null), a notice never.
      if (typeof msg.type === 'string') this.#notice(msg);
      return;
    }
    const entry = this.#pending.get(msg.id);
    if (!entry) return; // a late reply to a request that timed out, or id null
    this.#pending.delete(msg.id);
    this.timers.clearTimeout(entry.timer);
    if (msg.ok === true) entry.resolve(msg.result);
    else {
      const e = msg.error ?? {};
      entry.reject(Number.isInteger(e.code)
        ? new NativeError(e.code, e.name ?? 'invalid_reply', e.message ?? 'The host sent an error without a message.', { field: e.field })
        : new NativeError(null, 'invalid_reply', 'The host sent an invalid reply.'));
    }
  }

  #notice(msg) {
    for (const fn of this.#noticeListeners) {
      try {
        fn(msg);
      } catch { /* a listener's bug must not break the connection */ }
    }
  }

  #send(entry) {
    try {
      this.#port.postMessage(entry.message);
      entry.sent = true;
    } catch (err) {
      this.#pending.delete(entry.message.id);
      this.timers.clearTimeout(entry.timer);
      entry.reject(new NativeError(null, 'send_failed', err?.message ?? String(err)));
    }
  }

  /** We close the port ourselves (no greeting, wrong protocol). */
  #drop(port, problem, { retry = true } = {}) {
    if (port !== this.#port) return;
    try {
      port.disconnect();
    } catch { /* already gone */ }
    this.#lost(port, null, problem, retry);
  }

  /** The port is gone: fail waiting requests, schedule a reconnect. */
  #lost(port, message, problem = null, retry = true) {
    if (port !== this.#port) return; // a stale port's late event
    this.#port = null;
    this.timers.clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.problem = problem ?? describeDisconnect(message);
    this.#failAll(this.problem.code, this.problem.message);
    // A missing or incompatible host will not fix itself soon: wait the longest.
    const slow = !retry || this.problem.code === 'host_missing' || this.problem.code === 'host_forbidden';
    this.#failures += 1;
    const delay = slow ? backoffDelay(Infinity, this.backoff) : backoffDelay(this.#failures, this.backoff);
    this.retryAt = this.now() + delay;
    this.#retryTimer = this.timers.setTimeout(() => {
      this.#retryTimer = null;
      this.retryAt = null;
      this.start();
    }, delay);
    this.#set(State.BACKOFF);
  }

  #failAll(code, message) {
    for (const [id, entry] of this.#pending) {
      this.timers.clearTimeout(entry.timer);
      this.#pending.delete(id);
      entry.reject(new NativeError(null, code, message));
    }
  }

  #clearRetry() {
    if (this.#retryTimer !== null) this.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.retryAt = null;
  }

  #set(state) {
    this.state = state;
    this.since = this.now();
    const snapshot = this.status();
    for (const fn of this.#listeners) {
      try {
        fn(snapshot);
      } catch { /* a listener's bug must not break the connection */ }
    }
  }
}

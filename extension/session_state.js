// The extension's memory across service-worker restarts. storage.session only: it
// lives in memory and is cleared when the browser closes, so a code never outlives
// the browser session (never storage.local). Chromium keeps it from content scripts
// by default (TRUSTED_CONTEXTS);
// https://developer.chrome.com/docs/extensions/reference/api/storage#property-session

const MAX_CAPTURES = 20;

export class SessionState {
  #flowsDirty = false; // a save of the flows is queued for this task

  constructor(api) {
    this.storage = api.storage.session;
    this.captures = []; // newest first; full records (they hold the code)
    // Tab id -> its flow (flows.js): who started it, where it went. Kept across worker
    // restarts, or a restart would forget who opened a sign-in.
    this.flows = new Map();
    this.armed = null; // {tab_id, url, origin, at, until}
    this.ready = this.#load();
  }

  async #load() {
    try {
      const saved = await this.storage.get(['captures', 'flows', 'armed']);
      // Events that arrived while loading come first.
      this.captures = [...this.captures, ...(saved.captures ?? [])].slice(0, MAX_CAPTURES);
      for (const [k, v] of Object.entries(saved.flows ?? {})) if (!this.flows.has(Number(k))) this.flows.set(Number(k), v);
      this.armed ??= saved.armed ?? null;
    } catch {
      // No storage.session (an old browser): memory only.
    }
  }

  #save(keys) {
    const all = {
      captures: this.captures,
      flows: Object.fromEntries(this.flows),
      armed: this.armed,
    };
    const data = Object.fromEntries(keys.map((k) => [k, all[k]]));
    return this.storage.set(data).catch(() => {});
  }

  addCapture(record) {
    this.captures = [record, ...this.captures.filter((c) => c.local_id !== record.local_id)].slice(0, MAX_CAPTURES);
    return this.#save(['captures']);
  }

  updateCapture(record, changes) {
    Object.assign(record, changes);
    return this.#save(['captures']);
  }

  findCapture(captureId) {
    return captureId ? this.captures.find((c) => c.capture_id === captureId || c.local_id === captureId) : this.captures[0];
  }

  clearCaptures() {
    this.captures = [];
    return this.#save(['captures']);
  }

  setFlow(tabId, flow) {
    this.flows.set(tabId, flow);
    // One write per task at most: a sign-in tab moves through several URLs at once.
    if (this.#flowsDirty) return;
    this.#flowsDirty = true;
    queueMicrotask(() => {
      this.#flowsDirty = false;
      this.#save(['flows']);
    });
  }

  forgetTab(tabId) {
    // Not at once: Chromium closes a tab whose first navigation was a 302 to the custom
    // scheme while that capture may still be on its way.
    setTimeout(() => {
      this.flows.delete(tabId);
      this.#save(['flows']);
    }, 60_000);
    if (this.armed?.tab_id !== tabId) return Promise.resolve();
    this.armed = null;
    return this.#save(['armed']);
  }

  setArmed(armed) {
    this.armed = armed;
    return this.#save(['armed']);
  }
}

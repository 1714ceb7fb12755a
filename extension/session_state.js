// The extension's memory across service-worker restarts. storage.session only: it
// lives in memory and is cleared when the browser closes, so a code never outlives
// the browser session (never storage.local). Chromium keeps it from content scripts
// by default (TRUSTED_CONTEXTS);
// https://developer.chrome.com/docs/extensions/reference/api/storage#property-session

const MAX_CAPTURES = 20;

export class SessionState {
  constructor(api) {
    this.storage = api.storage.session;
    this.captures = []; // newest first; full records (they hold the code)
    this.openers = new Map(); // tab id -> opener tab id
    // Tabs a page opened (a link, window.open), as opposed to the user: kept across
    // worker restarts like the openers, or a restart would forget who opened a sign-in.
    this.pageOpened = new Set();
    this.armed = null; // {tab_id, url}
    this.ready = this.#load();
  }

  async #load() {
    try {
      const saved = await this.storage.get(['captures', 'openers', 'page_opened', 'armed']);
      // Events that arrived while loading come first.
      this.captures = [...this.captures, ...(saved.captures ?? [])].slice(0, MAX_CAPTURES);
      for (const [k, v] of Object.entries(saved.openers ?? {})) if (!this.openers.has(Number(k))) this.openers.set(Number(k), v);
      for (const id of saved.page_opened ?? []) this.pageOpened.add(Number(id));
      this.armed ??= saved.armed ?? null;
    } catch {
      // No storage.session (an old browser): memory only.
    }
  }

  #save(keys) {
    const all = {
      captures: this.captures,
      openers: Object.fromEntries(this.openers),
      page_opened: [...this.pageOpened],
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

  rememberOpener(tabId, openerTabId, byPage = false) {
    this.openers.set(tabId, openerTabId);
    if (byPage) this.pageOpened.add(tabId);
    return this.#save(byPage ? ['openers', 'page_opened'] : ['openers']);
  }

  forgetTab(tabId) {
    // Not at once: Chromium closes a tab whose first navigation was a 302 to the custom
    // scheme while that capture may still be on its way.
    setTimeout(() => {
      this.openers.delete(tabId);
      this.pageOpened.delete(tabId);
      this.#save(['openers', 'page_opened']);
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

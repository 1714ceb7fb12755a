// Tab id -> URL, kept current from the tabs events, so that a capture learns its
// opener's URL without a tabs.get round trip. On the 302 path that round trip waits
// behind the browser's own work on the sign-in tab it is closing: 17-30 ms measured
// (bench/capture_latency.py), most of codecatch's share of the click-to-fill time.
// Needs the "tabs" permission for `url`; what it does not know, tabs.get answers.

export class TabDirectory {
  constructor(api) {
    this.api = api;
    this.urls = new Map();
    // Added synchronously at start-up, like every listener in the worker.
    api.tabs.onCreated.addListener((tab) => this.#note(tab));
    api.tabs.onUpdated.addListener((_id, _change, tab) => this.#note(tab));
    api.tabs.onRemoved.addListener((id) => this.urls.delete(id));
    this.ready = api.tabs.query({})
      .then((tabs) => tabs.forEach((tab) => { if (!this.urls.has(tab.id)) this.#note(tab); }))
      .catch(() => {});
  }

  #note(tab) {
    if (tab?.id !== undefined && tab.url) this.urls.set(tab.id, tab.url);
  }

  /** The tab's URL, or null for a tab that is gone. */
  async url(tabId) {
    if (typeof tabId !== 'number' || tabId < 0) return null;
    if (this.urls.has(tabId)) return this.urls.get(tabId);
    try {
      const tab = await this.api.tabs.get(tabId);
      this.#note(tab);
      return tab.url ?? null;
    } catch {
      return null;
    }
  }
}

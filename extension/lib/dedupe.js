// The same redirect reaches us through several channels, 3-95 ms apart
// (docs/browser-notes.md): remember what was handled so it is handled once.

/** A set of keys that forgets each key `ttlMs` after it was added. */
export class RecentKeys {
  #seen = new Map();

  constructor({ ttlMs = 10 * 60 * 1000, now = Date.now } = {}) {
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /** Adds `key`; returns false when it was already there (a duplicate). */
  add(key) {
    const t = this.now();
    for (const [k, at] of this.#seen) if (t - at >= this.ttlMs) this.#seen.delete(k);
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, t);
    return true;
  }

  /** True while `key` is remembered (does not add it). */
  has(key) {
    const at = this.#seen.get(key);
    return at !== undefined && this.now() - at < this.ttlMs;
  }

  get size() {
    return this.#seen.size;
  }
}

// The clipboard, from the background: writing for "copy the https URL when no panel is
// tied to the sign-in" (the options page), and clearing what codecatch wrote once its
// code expires (ClipboardGuard). A Chromium service worker has no clipboard: an
// offscreen document does the copy and the clear
// (https://developer.chrome.com/docs/extensions/reference/api/offscreen). Firefox's
// background page has one of its own (clipboardWrite and clipboardRead permissions).

const OFFSCREEN_URL = 'extension/offscreen/clipboard.html';
export const OFFSCREEN_COPY = 'codecatch-offscreen-copy';
export const OFFSCREEN_CLEAR = 'codecatch-offscreen-clear';
export const CLEAR_ALARM = 'codecatch-clipboard-clear';
const RECORD_KEY = 'clipboard'; // storage.session: {sha256, clear_at}, never the text
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The hex SHA-256 of `text` (UTF-8): all that is kept of what codecatch copied. */
export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(text)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function offscreenDocument(api) {
  const contexts = await api.runtime.getContexts?.({ contextTypes: ['OFFSCREEN_DOCUMENT'] }) ?? [];
  if (contexts.length > 0) return;
  await api.offscreen.createDocument({
    url: OFFSCREEN_URL, reasons: ['CLIPBOARD'],
    justification: 'Copy the redirect URL when no panel is tied to the sign-in; clear it when its code expires.',
  }).catch((err) => {
    if (!/single offscreen/i.test(String(err?.message))) throw err; // a racing copy made it
  });
}

/** @returns {Promise<boolean>} whether the text reached the clipboard */
export async function copyFromBackground(api, text) {
  if (!api.offscreen) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  await offscreenDocument(api);
  const reply = await api.runtime.sendMessage({ type: OFFSCREEN_COPY, text });
  return reply?.ok === true;
}

/**
 * Empties the clipboard if it still holds the text whose hash is `sha256`; the text
 * read is hashed where it is read and goes nowhere else.
 * @returns {Promise<'cleared'|'changed'|'failed'>} cleared, left alone (it holds
 *   something else now), or not readable
 */
export async function clearFromBackground(api, sha256) {
  if (!api.offscreen) {
    const now = await navigator.clipboard.readText();
    if (await sha256Hex(now) !== sha256) return 'changed';
    // Read again: the user may have copied something while the hash was computed.
    if (await navigator.clipboard.readText() !== now) return 'changed';
    await navigator.clipboard.writeText('');
    return 'cleared';
  }
  await offscreenDocument(api);
  const reply = await api.runtime.sendMessage({ type: OFFSCREEN_CLEAR, sha256 });
  return reply?.outcome ?? 'failed';
}

/**
 * What codecatch put on the clipboard, cleared when its code expires, or when codecatch
 * copies the next one, only if the clipboard still holds it. One record at a time, kept
 * in storage.session as a hash and a time, so it outlives the worker's sleep; an alarm
 * wakes the worker for it (alarms fire 30 s after creation at the soonest in a packed
 * Chromium extension: a copy in a code's last seconds is cleared up to 30 s late).
 * All steps go one after another, so a clear never races the next copy's record.
 */
export class ClipboardGuard {
  #queue = Promise.resolve();

  /**
   * @param {object} d
   * @param {object} d.storage storage.session
   * @param {object} d.alarms the alarms API
   * @param {(sha256: string) => Promise<string>} d.clearIf clearFromBackground, bound
   */
  constructor({ storage, alarms, clearIf, clock = () => Date.now(), log = () => {} }) {
    Object.assign(this, { storage, alarms, clearIf, clock, log });
  }

  #serial(step) {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** codecatch is about to write `text`, whose code expires at `expiresAt` (ms). */
  async wrote(text, expiresAt) {
    return this.remember(await sha256Hex(text), expiresAt);
  }

  /** Same, by the text's hash (the popup hashes what it copies by hand). */
  remember(sha256, expiresAt) {
    if (!SHA256_HEX.test(String(sha256))) return Promise.reject(new Error('Not a SHA-256 in hex.'));
    if (!Number.isFinite(expiresAt)) return Promise.reject(new Error('No expiry time for the copied code.'));
    return this.#serial(async () => {
      // The previous copy goes now, if the clipboard still holds it: the new copy would
      // replace it anyway, and should that write fail, no record would be left to clear it.
      const previous = (await this.storage.get(RECORD_KEY))[RECORD_KEY];
      if (previous && previous.sha256 !== sha256) {
        try {
          await this.clearIf(previous.sha256);
        } catch (err) {
          this.log(`clipboard not cleared: ${err?.message ?? err}`);
        }
      }
      await this.storage.set({ [RECORD_KEY]: { sha256, clear_at: expiresAt } });
      await this.alarms.create(CLEAR_ALARM, { when: expiresAt });
    });
  }

  /** The alarm (or the worker's start): clears if the record's time has come. */
  due() {
    return this.#serial(async () => {
      const record = (await this.storage.get(RECORD_KEY))[RECORD_KEY];
      if (!record) return null;
      if (this.clock() < record.clear_at) {
        await this.alarms.create(CLEAR_ALARM, { when: record.clear_at }); // woken early, or the alarm was lost
        return null;
      }
      let outcome;
      try {
        outcome = await this.clearIf(record.sha256);
      } catch (err) {
        outcome = 'failed';
        this.log(`clipboard not cleared: ${err?.message ?? err}`);
      }
      await this.storage.remove(RECORD_KEY);
      this.log(outcome === 'cleared' ? 'cleared the clipboard: the code copied there expired'
        : outcome === 'changed' ? 'left the clipboard alone: it holds something else now'
          : 'could not read the clipboard to clear it');
      return outcome;
    });
  }
}

// Filling a panel tab: the guards (a tab the user tied to the flow, an origin the user
// granted, never a sign-in page, only the top frame), then lib/field_finder.js injected
// there, then the panel brought forward.

import { callKept, fillField } from './lib/field_finder.js';
import { pressSave, SAVE_WAIT_MS } from './lib/save_button.js';
import { isSigninUrl } from './lib/signin_hosts.js';

/** FNV-1a of the finder's source: which finder a page keeps (field_finder.js callKept). */
export function sourceBuild(source) {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i += 1) {
    h ^= source.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${h.toString(16)}-${source.length}`;
}

export const FINDER_BUILD = sourceBuild(fillField.toString());

/** "https://panel.test:8443" -> "https://panel.test/*": match patterns carry no port in Firefox. */
export function originPattern(origin) {
  const u = new URL(origin);
  return `${u.protocol}//${u.hostname}/*`;
}

/**
 * @param {object} api the browser namespace
 * @param {object} o
 * @param {number} o.tabId the panel tab
 * @param {string|null} o.origin the origin the host decided on (null: the tab's own)
 * @param {string|null} o.selector the panel rule's selector, or null to find the field
 * @param {string} o.value what to fill
 * @param {'url'|'code'|null} o.valueKind what the value is (the host's fill.value_kind)
 * @param {boolean} o.checkPermission false when activeTab stands in (the popup's Fill)
 * @param {OriginPermissions|null} o.permissions a cache of granted origins (the background's)
 * @param {boolean|null} o.kept whether a warm-up left the finder in that page (PanelWarmer):
 *   false skips straight to injecting the finder; null when not known
 * @param {string|null} o.save the panel rule's save button selector (the host's fill.save),
 *   pressed after the fill, in the same document; null presses nothing
 * @returns {Promise<{outcome: string, detail: string, field?: object, saved?: object}>}
 *   outcome as PROTOCOL.md `report`: filled | no_field | no_permission | tab_gone;
 *   saved (when `save` was asked and the fill succeeded): pressSave's answer
 */
export async function fillTab(api, { tabId, origin = null, selector = null, value, valueKind = null, checkPermission = true, permissions = null, kept = null, save = null }) {
  if (origin) return fillKnownOrigin(api, { tabId, origin, selector, value, valueKind, checkPermission, permissions, kept, save });
  let tab;
  try {
    tab = await api.tabs.get(tabId);
  } catch {
    return { outcome: 'tab_gone', detail: 'The panel tab was closed.' };
  }
  let tabOrigin;
  try {
    tabOrigin = new URL(tab.url).origin;
  } catch {
    return { outcome: 'no_permission', detail: 'The panel tab shows no web page.' };
  }
  if (!/^https?:$/.test(new URL(tab.url).protocol)) return { outcome: 'no_permission', detail: 'Only web pages are filled.' };
  if (isSigninUrl(tab.url)) return { outcome: 'no_permission', detail: 'A sign-in page is never filled.' };
  if (checkPermission && !(await hasOrigin(api, tabOrigin, permissions))) {
    return { outcome: 'no_permission', detail: `codecatch has no permission for ${tabOrigin}.` };
  }
  return inject(api, { tabId, selector, value, valueKind, origin: tabOrigin, kept, save });
}

/**
 * The automatic path: the host named the origin it decided on, so no tabs.get comes
 * before the value lands (while the browser is busy opening or closing the sign-in
 * tab, each browser round trip cost 5-30 ms; bench/capture_latency.py). The injected
 * function checks that the top frame is still on that origin, and the browser refuses
 * a tab the extension may not touch.
 */
async function fillKnownOrigin(api, { tabId, origin, selector, value, valueKind, checkPermission, permissions, kept, save }) {
  let parsed;
  try {
    parsed = new URL(origin);
  } catch {
    return { outcome: 'no_permission', detail: 'The panel tab shows no web page.' };
  }
  if (!/^https?:$/.test(parsed.protocol)) return { outcome: 'no_permission', detail: 'Only web pages are filled.' };
  if (isSigninUrl(origin)) return { outcome: 'no_permission', detail: 'A sign-in page is never filled.' };
  if (checkPermission && !(await hasOrigin(api, parsed.origin, permissions))) {
    return { outcome: 'no_permission', detail: `codecatch has no permission for ${parsed.origin}.` };
  }
  const done = await inject(api, { tabId, selector, value, valueKind, origin: parsed.origin, kept, save });
  if (done.outcome === 'no_permission' && done.injectionFailed) {
    // Say why in a person's words: the tab is gone, or it shows something else now.
    const tab = await api.tabs.get(tabId).catch(() => null);
    if (!tab) return { outcome: 'tab_gone', detail: 'The panel tab was closed.' };
    const now = (() => { try { return new URL(tab.url).origin; } catch { return null; } })();
    if (now && now !== parsed.origin) return { outcome: 'tab_gone', detail: `The panel tab moved on to ${now}.` };
  }
  return done;
}

async function hasOrigin(api, origin, permissions) {
  if (permissions) return permissions.has(origin);
  return api.permissions.contains({ origins: [originPattern(origin)] });
}

async function inject(api, { tabId, selector, value, valueKind = null, origin, kept = null, save = null }) {
  let result;
  const request = { selector, value, valueKind, origin, save: Boolean(save) };
  const target = { tabId, frameIds: [0] }; // the top frame only: never a cross-origin frame
  try {
    // The finder the warm-up kept in the page, else the finder itself (kept for next time).
    if (kept !== false) {
      const [short] = await api.scripting.executeScript({ target, func: callKept, args: [FINDER_BUILD, request] });
      result = short?.result;
    }
    if (kept === false || result?.reason === 'not_kept') {
      const [injection] = await api.scripting.executeScript({ target, func: fillField, args: [{ ...request, keep: FINDER_BUILD }] });
      result = injection?.result;
    }
  } catch (err) {
    // Chromium: 'Cannot access contents of url ...'; Firefox: 'Missing host permission for the tab'.
    return { outcome: 'no_permission', detail: String(err?.message ?? err), injectionFailed: true };
  }
  if (!result?.ok) {
    const detail = {
      no_field: 'No field for the code was found on the panel page.',
      selector_unusable: `The panel rule's selector ${selector} matches a field that cannot be filled.`,
      origin_changed: 'The panel tab navigated away.',
    }[result?.reason] ?? 'The panel page could not be filled.';
    return { outcome: result?.reason === 'origin_changed' ? 'tab_gone' : 'no_field', detail, field: result?.field };
  }
  const filled = { outcome: 'filled', detail: `Filled ${describeField(result.field)}.`, field: result.field };
  if (!save) return filled;
  const saved = await pressSaveIn(api, target, save);
  return { ...filled, detail: `${filled.detail} ${describeSave(saved, save)}`, saved };
}

/**
 * The panel's save button, pressed in the top frame right after the fill; pressSave
 * itself checks that it is the document just filled. A failure to inject (the page went
 * away meanwhile, perhaps because the press submitted its form) is `unconfirmed`.
 */
async function pressSaveIn(api, target, selector) {
  try {
    const [injection] = await api.scripting.executeScript({ target, func: pressSave, args: [{ selector, waitMs: SAVE_WAIT_MS }] });
    const r = injection?.result;
    return r && typeof r.pressed === 'boolean' ? r : { pressed: false, reason: 'unconfirmed' };
  } catch {
    return { pressed: false, reason: 'unconfirmed' };
  }
}

/** What became of the save, in a person's words (the popup shows it, fill.detail). */
export function describeSave(saved, selector) {
  if (saved.pressed) return 'Pressed the save button.';
  const why = {
    not_found: `no save button matches ${selector}`,
    not_a_button: `${selector} is not a button`,
    hidden: 'the save button is hidden',
    disabled: 'the save button stayed disabled',
    field_changed: 'the page changed the field after the fill',
    selector_invalid: `${selector} is not a selector this browser accepts`,
    not_filled: 'the page changed before the save',
    unconfirmed: 'the page changed before the save could be confirmed',
  }[saved.reason] ?? 'the save button could not be pressed';
  return `Not saved: ${why}. Check the field and press save yourself.`;
}

/**
 * Warms a panel tab: a dry run of the field finder there (it fills nothing). The first
 * injection into a page makes the browser build the extension's isolated world and
 * compile the finder: 27-35 ms on the 2-core test machine (Chromium trace,
 * ScriptInjection::InjectJs). Paid here, the fill that follows does not pay it. Only on
 * granted origins. When to call it is PanelWarmer's business.
 */
export async function warmUp(api, tabId, url, permissions) {
  let origin;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  if (!/^https?:/.test(origin) || isSigninUrl(url) || !(await hasOrigin(api, origin, permissions))) return false;
  try {
    await api.scripting.executeScript({
      target: { tabId, frameIds: [0] }, func: fillField, args: [{ origin, dryRun: true, keep: FINDER_BUILD }],
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * When to warm a panel: as soon as its page has loaded, while the admin is still reading
 * it. Not when it opens the sign-in: the panel's renderer is then blocked in its own
 * click task (the browser creating the new tab, ~50 ms here), so a warm-up sent at that
 * moment ran only when the 302 had already arrived and sat, 30 ms long, in front of the
 * fill (bench/capture_latency.py: 302 overhead 52 ms with it, 36 ms without). Opening a
 * sign-in still warms a page that was not warmed on load (loaded before codecatch was
 * installed or the origin granted).
 */
export class PanelWarmer {
  constructor(api, permissions) {
    this.api = api;
    this.permissions = permissions;
    this.warmed = new Set(); // tabs whose current top document is warmed (or being warmed)
  }

  /**
   * Warms the tab's page (`url`, what its top frame shows) unless its current document
   * is warm already: called when a page finishes loading, and when it opens a sign-in.
   */
  warm(tabId, url) {
    if (this.warmed.has(tabId)) return Promise.resolve(false);
    return this.#warm(tabId, url);
  }

  /** Whether the finder is (being) kept in the tab's page: false means surely not. */
  has(tabId) {
    return this.warmed.has(tabId);
  }

  /**
   * A new document in the tab's top frame, or the tab is gone: the warm-up went with the
   * old one. (A fragment or history.pushState change keeps the document, and the world.)
   */
  forget(tabId) {
    this.warmed.delete(tabId);
  }

  async #warm(tabId, url) {
    if (typeof tabId !== 'number' || tabId < 0 || typeof url !== 'string') return false;
    this.warmed.add(tabId); // before the await: a second call in the meantime is a no-op
    const done = await warmUp(this.api, tabId, url, this.permissions);
    if (!done) this.warmed.delete(tabId);
    return done;
  }
}

/**
 * Which origins the extension may fill, remembered between captures so the automatic
 * path asks the browser once per origin; permissions.onAdded/onRemoved keep it true.
 *
 * Origins are exact (scheme, host and port), but the browser's grants are match
 * patterns, which carry no port: granting https://cp.example.com:8443 grants the
 * pattern https://cp.example.com/*. So the origins the user granted are kept here as
 * they were granted (storage.local `granted_origins`: origins only, no codes), and an
 * origin counts only when it is one of them and the browser's grant still stands. A
 * pattern the manifest itself declares (a packager's or a test's grant) counts for
 * its host on any port, as the browser applies it.
 */
export class OriginPermissions {
  constructor(api) {
    this.api = api;
    this.known = new Map(); // origin -> Promise<boolean>
    this.exact = new Set();
    const declared = api.runtime?.getManifest?.().host_permissions ?? [];
    this.declared = new Set(declared.map((p) => /^https?:\/\/([^/*:]+)\/\*$/.exec(p)?.[1]).filter(Boolean));
    const forget = () => this.known.clear();
    api.permissions?.onAdded?.addListener(forget);
    api.permissions?.onRemoved?.addListener((removed) => {
      forget();
      const gone = new Set(removed?.origins ?? []);
      for (const origin of this.exact) if (gone.has(originPattern(origin))) this.exact.delete(origin);
      this.#save();
    });
    this.ready = this.#load();
  }

  async #load() {
    const storage = this.api.storage?.local;
    if (!storage) return;
    try {
      const saved = await storage.get('granted_origins');
      if (Array.isArray(saved.granted_origins)) {
        for (const o of saved.granted_origins) this.exact.add(o);
        return;
      }
      // First start of this version: the grants made before it were for default ports.
      const all = await this.api.permissions.getAll();
      for (const p of all.origins ?? []) {
        const m = /^(https?:\/\/[^/*:]+)\/\*$/.exec(p);
        if (m && !this.declared.has(new URL(m[1]).hostname)) this.exact.add(m[1]);
      }
      await this.#save();
    } catch {
      // No storage.local: grants made in this session only.
    }
  }

  #save() {
    return this.api.storage?.local?.set({ granted_origins: [...this.exact] }).catch(() => {});
  }

  /** The user granted `origin` (popup, options page), exactly as given. */
  async grant(origin) {
    await this.ready;
    this.exact.add(new URL(origin).origin);
    this.known.clear();
    return this.#save();
  }

  has(origin) {
    if (!this.known.has(origin)) {
      // Every page load asks (PanelWarmer): keep the memory bounded over a long session.
      if (this.known.size >= 512) this.known.clear();
      const asked = this.ready.then(() => {
        let u;
        try {
          u = new URL(origin);
        } catch {
          return false;
        }
        if (!this.declared.has(u.hostname) && !this.exact.has(u.origin)) return false;
        return this.api.permissions.contains({ origins: [originPattern(origin)] });
      }).catch(() => false);
      this.known.set(origin, asked);
    }
    return this.known.get(origin);
  }
}

function describeField(f) {
  return f ? `${f.tag}${f.id ? `#${f.id}` : ''}${f.name ? `[name=${f.name}]` : ''} (${f.how})` : 'the field';
}

/** Brings the panel tab and its window to the front. */
export async function focusTab(api, tabId) {
  const tab = await api.tabs.update(tabId, { active: true }).catch(() => null);
  if (tab?.windowId !== undefined) await api.windows?.update(tab.windowId, { focused: true }).catch(() => {});
}

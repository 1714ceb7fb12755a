// "Fill captured code here": a context-menu item on editable fields and a keyboard
// command for the focused field. Both grant activeTab for the tab (the user's own
// gesture), so no host permission is needed; only the top frame is filled (never a
// cross-origin frame: SECURITY.md).

export const FILL_HERE_MENU = 'codecatch-fill-here';
export const FILL_COMMAND = 'fill-focused-field'; // manifest.json "commands"

const MARK = 'data-codecatch-fill';

/**
 * @param {object} api the browser namespace
 * @param {(tabId: number, selector: string|null) => Promise<{ok: boolean, message?: string}>} fill
 *   the background's fill of the latest capture into a tab, with the field's selector
 * @returns {(tabId: number) => Promise<{ok: boolean, message?: string}>} the same action, for tests
 */
export function listenForFillHere(api, fill) {
  const menus = api.menus ?? api.contextMenus;
  if (menus) {
    // Created at every start: an MV3 worker can start without runtime.onInstalled.
    Promise.resolve(menus.removeAll()).catch(() => {}).then(() => {
      menus.create({ id: FILL_HERE_MENU, title: api.i18n.getMessage('menuFillHere'), contexts: ['editable'] }, () => {
        void globalThis.chrome?.runtime?.lastError; // "duplicate id" after a racing start
      });
    });
    menus.onClicked.addListener((info, tab) => {
      if (info.menuItemId !== FILL_HERE_MENU || !tab?.id) return;
      if (info.frameId) return tell(api, 'Only the page itself is filled, not a frame inside it.');
      fillFocused(api, tab.id, fill).then((r) => r.ok || tell(api, r.message));
    });
  }
  api.commands?.onCommand.addListener(async (command, tab) => {
    if (command !== FILL_COMMAND) return;
    const tabId = tab?.id ?? (await api.tabs.query({ active: true, currentWindow: true }))[0]?.id;
    if (tabId === undefined) return;
    fillFocused(api, tabId, fill).then((r) => r.ok || tell(api, r.message));
  });
  return (tabId) => fillFocused(api, tabId, fill);
}

/** Marks the focused field of the tab's top frame, fills it, removes the mark. */
export async function fillFocused(api, tabId, fill) {
  const marker = crypto.randomUUID();
  let marked;
  try {
    const [injection] = await api.scripting.executeScript({ target: { tabId, frameIds: [0] }, func: markFocused, args: [MARK, marker] });
    marked = injection?.result === true;
  } catch (err) {
    return { ok: false, message: String(err?.message ?? err) };
  }
  // Without a focused text field, the background finds the field as it always does.
  const reply = await fill(tabId, marked ? `[${MARK}="${marker}"]` : null)
    .catch((err) => ({ ok: false, message: String(err?.message ?? err) }));
  if (marked) api.scripting.executeScript({ target: { tabId, frameIds: [0] }, func: unmark, args: [MARK] }).catch(() => {});
  return reply ?? { ok: false };
}

// Injected: self-contained.
function markFocused(attribute, marker) {
  const el = document.activeElement;
  if (!el || !el.matches('input, textarea')) return false;
  el.setAttribute(attribute, marker);
  return true;
}

function unmark(attribute) {
  for (const el of document.querySelectorAll(`[${attribute}]`)) el.removeAttribute(attribute);
}

function tell(api, message) {
  if (!message || !api.notifications) return;
  api.notifications.create(`codecatch-fill-here-${Date.now()}`, {
    type: 'basic', iconUrl: api.runtime.getURL('extension/icons/icon128.png'), title: 'codecatch', message,
  }).catch(() => {});
}

// Pressing the panel's save button after a fill (issue 16: the panel rule's `save`).
//
// `pressSave` is injected with scripting.executeScript({func}) right after fillField
// (field_finder.js) filled the field: like fillField it uses nothing from this module's
// scope. It presses only in the document that fillField filled: fillField leaves the
// field in the extension's isolated world of that document (`__codecatchFilled`), which
// a navigation takes away and the page cannot see or forge. Node tests call it over
// tests/node/fake_dom.js.

/** How long a disabled or hidden save button may take to become pressable. */
export const SAVE_WAIT_MS = 3000;

/**
 * @param {{selector: string, waitMs?: number}} request selector: the panel rule's `save`
 * @returns {{pressed: boolean, reason: string, button?: object}|Promise<...>}
 *   reason: pressed | not_filled (no fill in this document) | field_changed (the field no
 *   longer holds the value filled) | selector_invalid | not_found | not_a_button | hidden
 *   | disabled. Answers at once when the button is ready; otherwise it watches the page
 *   (the panel enables its button on the fill's input and change events, maybe after a
 *   round trip of its own) until the button is ready or `waitMs` has passed.
 */
export function pressSave({ selector, waitMs = 3000 } = {}) {
  // Own property only, as in callKept: a page element named __codecatchFilled shows up on
  // window in every world and must never stand in for the fill.
  const filled = Object.hasOwn(globalThis, '__codecatchFilled') ? globalThis.__codecatchFilled : null;
  delete globalThis.__codecatchFilled; // once: one fill, at most one press
  if (!filled?.field || typeof selector !== 'string' || !selector) return { pressed: false, reason: 'not_filled' };
  const { field, value } = filled;
  const doc = field.ownerDocument;
  const view = doc?.defaultView ?? globalThis;
  const tagOf = (el) => String(el?.tagName ?? '').toUpperCase();
  const describe = (el) => ({
    tag: el.tagName.toLowerCase(), id: el.id || null, name: el.getAttribute('name') || null,
    text: String(el.textContent || el.getAttribute('value') || '').replace(/\s+/g, ' ').trim().slice(0, 40) || null,
  });

  // A button a person would press to save: never a reset button, a link or a field.
  function isButton(el) {
    const tag = tagOf(el);
    const type = String(el.getAttribute('type') ?? '').trim().toLowerCase();
    if (tag === 'BUTTON') return type !== 'reset';
    if (tag === 'INPUT') return ['submit', 'button', 'image'].includes(type);
    return String(el.getAttribute('role') ?? '').trim().toLowerCase() === 'button';
  }

  function visible(el) {
    if (typeof el.checkVisibility === 'function'
      && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const r = el.getBoundingClientRect?.();
    return !r || (r.width > 0 && r.height > 0);
  }

  function enabled(el) {
    if (el.disabled || el.closest?.('[inert]')) return false;
    if (['BUTTON', 'INPUT'].includes(tagOf(el)) && el.closest?.('fieldset[disabled]')) return false;
    return String(el.getAttribute('aria-disabled') ?? '').trim().toLowerCase() !== 'true';
  }

  // {reason, final, el?}: final when waiting cannot change the answer.
  function look() {
    if (!field.isConnected || field.value !== value) return { reason: 'field_changed', final: true };
    let el;
    try {
      el = doc.querySelector(selector);
    } catch {
      return { reason: 'selector_invalid', final: true };
    }
    if (!el) return { reason: 'not_found' };
    if (!isButton(el)) return { reason: 'not_a_button', final: true, el };
    if (!visible(el)) return { reason: 'hidden', el };
    if (!enabled(el)) return { reason: 'disabled', el };
    return { reason: 'pressed', final: true, el };
  }

  function finish({ reason, el }) {
    if (reason !== 'pressed') return { pressed: false, reason, button: el ? describe(el) : undefined };
    // click(): the button's own handlers, and for a submit button its form's submission
    // with the button as submitter, as when a person clicks it.
    el.click();
    return { pressed: true, reason, button: describe(el) };
  }

  const first = look();
  if (first.final || !(waitMs > 0) || typeof view.MutationObserver !== 'function') return finish(first);
  // Not ready yet: look again whenever the page changes (attributes, elements), and give
  // up at the bound. No polling: a page that changes nothing costs nothing.
  return new Promise((resolve) => {
    let last = first;
    let timer = null;
    let over = false;
    const observer = new view.MutationObserver(() => {
      last = look();
      if (last.final) done();
    });
    function done() {
      if (over) return;
      over = true;
      observer.disconnect();
      view.clearTimeout(timer);
      resolve(finish(last));
    }
    observer.observe(doc.documentElement, { attributes: true, childList: true, subtree: true });
    timer = view.setTimeout(() => {
      last = look();
      done();
    }, waitMs);
  });
}

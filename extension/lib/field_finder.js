// Finding the panel's field and filling it the way typing would.
//
// `fillField` is injected with scripting.executeScript({func}), which serialises the
// function's source: it must not use anything from this module's scope, so every
// helper lives inside it. Node tests call it directly over a small DOM stand-in
// (tests/node/fake_dom.js); `{dryRun: true}` returns the ranking and fills nothing.

/**
 * @param {{selector?: string|null, value?: string, origin?: string|null, dryRun?: boolean}} request
 * @returns {{ok: boolean, reason: string, field?: object, candidates?: object[]}}
 *   reason: filled | found | no_field | origin_changed | selector_unusable
 */
export function fillField({ selector = null, value = '', origin = null, dryRun = false } = {}) {
  const doc = globalThis.document;
  // The tab may have navigated between the background's permission check and now.
  if (origin && globalThis.location?.origin !== origin) return { ok: false, reason: 'origin_changed' };

  // What a label may say about the field we want. Weights: 3 names the thing, 2 is
  // closely related, 1 or less only counts together with other evidence.
  const POSITIVE = [
    [/\b(?:authori[sz]ation|auth|oauth|access) ?code\b/, 3],
    [/\bredirect(?:ed|ion)? ?(?:url|uri|link|address)\b/, 3],
    [/\b(?:reply|callback|return|response|result) ?(?:url|uri)\b/, 3],
    [/\bcode ?(?:url|uri|link)\b|\b(?:url|uri|link|address) (?:with|containing) (?:the )?code\b/, 3],
    [/\bauthori[sz]ation\b|\boauth\b|\bconsent\b/, 2],
    [/\bredirect\b/, 1.5],
    [/\bcode\b/, 1],
    [/\b(?:url|uri)\b/, 0.5],
  ];
  // Fields that mention a code or URL but are something else entirely.
  const NEGATIVE = /\b(?:search|query|filter|find|user ?name|user ?id|login ?name|e ?mail|password|passwd|pwd|zip|postal|post|promo|coupon|discount|voucher|gift|country|area|phone|dialing|captcha|verification|otp|one time|security|sms|pin|website|web site|homepage|home page|avatar|image|logo|color|colour|comment|subject|message)\b/;
  // How much each place a label can sit in is worth.
  const SOURCE_WEIGHT = { label: 1, labelledby: 1, aria: 1, cell: 0.9, placeholder: 0.8, id: 0.7, name: 0.7, title: 0.6, nearby: 0.5 };
  const TEXT_TYPES = new Set(['', 'text', 'url']);
  const THRESHOLD = 1.5;

  const normalize = (s) => String(s ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2') // txtAuthCode -> txt Auth Code
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2') // URLField -> URL Field
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  const short = (s) => {
    const t = String(s ?? '').replace(/\s+/g, ' ').trim();
    return t.length <= 150 ? t : '';
  };

  function eligible(el) {
    const tag = el.tagName?.toUpperCase();
    if (tag === 'INPUT') {
      if (!TEXT_TYPES.has(String(el.getAttribute('type') ?? '').toLowerCase())) return false;
    } else if (tag !== 'TEXTAREA') return false;
    if (el.disabled || el.readOnly || el.closest?.('fieldset[disabled]')) return false;
    return visible(el);
  }

  function visible(el) {
    if (typeof el.checkVisibility === 'function'
      && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const r = el.getBoundingClientRect?.();
    return !r || (r.width > 0 && r.height > 0);
  }

  function texts(el) {
    const out = [];
    const add = (source, text) => {
      const t = short(text);
      if (t) out.push([source, t]);
    };
    for (const label of el.labels ?? []) add('label', label.textContent);
    for (const id of String(el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean)) {
      add('labelledby', doc.getElementById(id)?.textContent);
    }
    add('aria', el.getAttribute('aria-label'));
    add('placeholder', el.getAttribute('placeholder'));
    add('id', el.id);
    add('name', el.getAttribute('name'));
    add('title', el.getAttribute('title'));
    // Old server-rendered panels: <tr><td>Authorization Code:</td><td><input></td></tr>
    const cell = el.closest?.('td, th, dd');
    if (cell) {
      add('cell', cell.textContent);
      add('cell', cell.previousElementSibling?.textContent);
    } else {
      // <div><span>Authorization Code</span><input></div> and the like.
      let node = el;
      for (let depth = 0; depth < 3 && node && node !== doc.body; depth += 1) {
        const prev = node.previousElementSibling;
        if (prev && !prev.querySelector?.('input, textarea, select')) {
          add('nearby', prev.textContent);
          break;
        }
        node = node.parentElement;
      }
    }
    return out;
  }

  function score(el) {
    let total = 0;
    const evidence = [];
    for (const [source, raw] of texts(el)) {
      const text = normalize(raw);
      let best = 0;
      for (const [re, w] of POSITIVE) if (re.test(text) && w > best) best = w;
      // "Search code", "ZIP code": unrelated, unless the same text names our field
      // outright (a long help text may mention anything).
      if (best < 3 && NEGATIVE.test(text)) {
        if (source !== 'nearby') return { score: 0, evidence: [`${source}: unrelated`] };
        continue;
      }
      if (best > 0) {
        total += best * SOURCE_WEIGHT[source];
        evidence.push(source);
      }
    }
    return { score: Math.round(total * 100) / 100, evidence };
  }

  const describe = (el, how, s) => ({
    tag: el.tagName.toLowerCase(), id: el.id || null, name: el.getAttribute('name') || null, how, score: s,
  });

  let field = null;
  let how = null;
  let info = null;
  if (selector) {
    let el;
    try {
      el = doc.querySelector(selector);
    } catch {
      el = null; // an invalid selector in the panel rule: fall back to finding the field
    }
    if (el) {
      if (!eligible(el)) return { ok: false, reason: 'selector_unusable', field: describe(el, 'selector', null) };
      field = el;
      how = 'selector';
    }
  }
  const candidates = [];
  if (!field) {
    for (const el of doc.querySelectorAll('input, textarea')) {
      if (!eligible(el)) continue;
      const s = score(el);
      candidates.push({ el, ...s });
    }
    let best = null;
    for (const c of candidates) if (c.score >= THRESHOLD && (!best || c.score > best.score)) best = c;
    if (best) {
      field = best.el;
      how = best.evidence.join('+');
      info = best.score;
    }
  }
  const ranking = dryRun ? candidates.map((c) => ({ ...describe(c.el, c.evidence.join('+'), c.score) })) : undefined;
  if (!field) return { ok: false, reason: 'no_field', candidates: ranking };
  if (dryRun) return { ok: true, reason: 'found', field: describe(field, how, info), candidates: ranking };

  // The prototype's setter, not `field.value =`: frameworks such as React wrap the
  // instance's setter and would not see the change
  // (https://github.com/facebook/react/issues/10135#issuecomment-314441175).
  const view = field.ownerDocument?.defaultView ?? globalThis;
  const proto = field.tagName.toUpperCase() === 'TEXTAREA' ? view.HTMLTextAreaElement.prototype : view.HTMLInputElement.prototype;
  const setValue = Object.getOwnPropertyDescriptor(proto, 'value').set;
  field.focus?.();
  setValue.call(field, value);
  const InputEventCtor = view.InputEvent ?? view.Event;
  field.dispatchEvent(new InputEventCtor('input', { bubbles: true, inputType: 'insertFromPaste', data: value }));
  field.dispatchEvent(new view.Event('change', { bubbles: true }));
  return { ok: true, reason: 'filled', field: describe(field, how, info) };
}

// Finding the panel's field and filling it the way typing would.
//
// `fillField` is injected with scripting.executeScript({func}), which serialises the
// function's source: it must not use anything from this module's scope, so every
// helper lives inside it. Node tests call it directly over a small DOM stand-in
// (tests/node/fake_dom.js); `{dryRun: true}` returns the ranking and fills nothing.

/**
 * @param {{selector?: string|null, value?: string, origin?: string|null, dryRun?: boolean,
 *   valueKind?: 'url'|'code'|null, save?: boolean}} request
 *   valueKind: what `value` is (PROTOCOL.md fill.value_kind); guessed from the value when
 *   absent. When a page has both a field named for the redirect URL and one named for
 *   the code, the one that matches wins.
 *   save: a save button is to be pressed next (save_button.js pressSave): the filled
 *   field stays in this document's isolated world for it, and only for it.
 * @returns {{ok: boolean, reason: string, field?: object, candidates?: object[]}}
 *   reason: filled | found | no_field | origin_changed | selector_unusable
 */
export function fillField({ selector = null, value = '', origin = null, dryRun = false, valueKind = null, keep = null, save = false } = {}) {
  const doc = globalThis.document;
  delete globalThis.__codecatchFilled; // an earlier fill's, whose save never came
  // The tab may have navigated between the background's permission check and now.
  if (origin && globalThis.location?.origin !== origin) return { ok: false, reason: 'origin_changed' };
  // Leave this function in the extension's isolated world, which the page cannot see,
  // so the fill that follows can be a short call (callKept) rather than this source.
  if (keep) globalThis.__codecatchKept = { build: keep, fn: fillField };
  const kind = valueKind === 'url' || valueKind === 'code' ? valueKind
    : (/^https?:\/\//i.test(String(value ?? '')) ? 'url' : (value ? 'code' : null));

  // What a label may say about the field we want, after normalize() (lowercase, no
  // accents, punctuation as spaces). Weights: 3 names the thing, 2 is closely related,
  // 1 or less only counts together with other evidence. The third item says which
  // value the field asks for. English, German, French, Spanish, Italian, Dutch and
  // Portuguese: hosting panels in Europe are often localised.
  const POSITIVE = [
    [/\b(?:authori[sz]ation|auth|oauth|access) ?code\b/, 3, 'code'],
    [/\bautori[sz]ierungs ?code\b|\bcode d ?(?:autori[sz]ation|authori[sz]ation)\b|\bcodigo de autori[sz]aca?o(?:n)?\b|\bcodice di autori[sz]{1,2}azione\b|\bautori[sz]atie ?code\b/, 3, 'code'],
    [/\bredirect(?:ed|ion)? ?(?:url|uri|link|address)\b/, 3, 'url'],
    // Named like ours, but also like a payment gateway's or a webhook's: no kind, so it
    // never wins over a field named for the code on the kind alone.
    [/\b(?:reply|callback|return|response|result) ?(?:url|uri)\b/, 3, null],
    [/\bcode ?(?:url|uri|link)\b|\b(?:url|uri|link|address) (?:with|containing) (?:the )?code\b/, 3, 'url'],
    [/\b(?:weiterleitungs|umleitungs|redirect) ?(?:url|uri|adresse|link)\b|\b(?:url|uri|adresse|lien|direccion|indirizzo) de (?:redirection|redireccion)\b|\burl di reindirizzamento\b/, 3, 'url'],
    [/\bauthori[sz]ation\b|\boauth\b|\bconsent\b|\bautori[sz]ierung\b|\bautori[sz]ation\b|\bautori[sz]acion\b|\bautori[sz]{1,2}azione\b|\bautori[sz]atie\b/, 2, null],
    [/\bredirect\b|\bweiterleitung\b|\bredirection\b/, 1.5, null],
    [/\bcode\b|\bcodigo\b|\bcodice\b/, 1, null],
    [/\b(?:url|uri)\b/, 0.5, null],
  ];
  // Fields that mention a code or URL but are something else entirely.
  const NEGATIVE = /\b(?:search|query|filter|find|user ?name|user ?id|login ?name|e ?mail|password|passwd|pwd|zip|postal|post|promo|coupon|discount|voucher|gift|country|area|phone|dialing|captcha|verification|otp|totp|one time|2 ?fa|mfa|two factor|2 ?factor|authenticator|backup|recovery|security|sms|pin|website|web site|homepage|home page|avatar|image|logo|color|colour|comment|subject|message|suche|suchen|recherche|rechercher|buscar|cerca|zoeken|passwort|kennwort|mot de passe|contrasena|postleitzahl|plz|code postal|gutschein|rabatt|bestatigungs\w*|code de verification|code de confirmation)\b/;
  // Unrelated even when the label also says "auth code": a domain's transfer (EPP) code.
  const STRONG_NEGATIVE = /\b(?:epp|transfer|registrar|domain ?auth)\b/;
  // How much each place a label can sit in is worth.
  const SOURCE_WEIGHT = {
    label: 1, labelledby: 1, aria: 1, cell: 0.9, column: 0.8, placeholder: 0.8, id: 0.7, name: 0.7, title: 0.6, nearby: 0.5, legend: 0.4,
  };
  // Input types a person types a URL or code into; an unknown type is a text field.
  const NOT_TEXT = new Set(['hidden', 'password', 'search', 'email', 'tel', 'number', 'range', 'color', 'date', 'datetime-local',
    'month', 'week', 'time', 'checkbox', 'radio', 'file', 'submit', 'reset', 'button', 'image']);
  const THRESHOLD = 1.5;

  const normalize = (s) => String(s ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2') // txtAuthCode -> txt Auth Code
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2') // URLField -> URL Field
    .normalize('NFD').replace(/[\u0300-\u036f]/g, '') // código -> codigo, Bestätigung -> Bestatigung
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  const short = (s) => {
    const t = String(s ?? '').replace(/\s+/g, ' ').trim();
    return t.length <= 150 ? t : '';
  };
  const tagOf = (el) => String(el?.tagName ?? '').toUpperCase();

  function eligible(el) {
    const tag = tagOf(el);
    if (tag === 'INPUT') {
      if (NOT_TEXT.has(String(el.getAttribute('type') ?? '').trim().toLowerCase())) return false;
    } else if (tag !== 'TEXTAREA') return false;
    if (el.disabled || el.readOnly || el.closest?.('fieldset[disabled]') || el.closest?.('[inert]')) return false;
    return visible(el);
  }

  function visible(el) {
    if (typeof el.checkVisibility === 'function'
      && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    // Inside a closed <details> (outside its <summary>): not shown, whatever the browser says.
    for (let child = el, n = el.parentElement; n; child = n, n = n.parentElement) {
      if (tagOf(n) === 'DETAILS' && !n.hasAttribute('open') && tagOf(child) !== 'SUMMARY') return false;
    }
    const r = el.getBoundingClientRect?.();
    if (!r) return true;
    // A real field has room to type in: 1x1 "visually hidden" and zero-size honeypots do not.
    if (!(r.width >= 4 && r.height >= 4)) return false;
    // Off the page (left: -9999px): a honeypot, never a field someone can see.
    const view = el.ownerDocument?.defaultView ?? globalThis;
    const x = Number(view.scrollX ?? 0);
    const y = Number(view.scrollY ?? 0);
    if (typeof r.right === 'number' && (r.right + x <= 0 || r.bottom + y <= 0)) return false;
    // Clipped away ("visually hidden" utility classes): clip: rect(0 0 0 0), clip-path: inset(50%).
    const style = typeof view.getComputedStyle === 'function' ? view.getComputedStyle(el) : null;
    if (style && (/^rect\((?:0|1)px,? (?:0|1)px,? (?:0|1)px,? (?:0|1)px\)$/.test(style.clip ?? '')
      || /^inset\(50%\)$/.test(style.clipPath ?? ''))) return false;
    return true;
  }

  function texts(el) {
    const out = [];
    const add = (source, text) => {
      const t = short(text);
      if (t) out.push([source, t]);
    };
    const root = el.getRootNode?.() ?? doc;
    const byId = (id) => (root.getElementById ? root.getElementById(id) : null) ?? doc.getElementById(id);
    for (const label of el.labels ?? []) add('label', label.textContent);
    for (const id of String(el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean)) {
      add('labelledby', byId(id)?.textContent);
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
      // A table whose header row names the columns: <th>Authorization code</th> above.
      if (tagOf(cell) !== 'DD') add('column', columnHeader(cell));
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
    // <fieldset><legend>Microsoft 365 authorization</legend>…: context, weak on its own.
    const legend = el.closest?.('fieldset')?.children
      ? [...el.closest('fieldset').children].find((c) => tagOf(c) === 'LEGEND') : null;
    if (legend) add('legend', legend.textContent);
    return out;
  }

  function columnHeader(cell) {
    const row = cell.parentElement;
    if (tagOf(row) !== 'TR') return null;
    const index = [...row.children].indexOf(cell);
    const table = row.closest?.('table');
    if (!table || index < 0) return null;
    // The first row of the table (thead or not) when it is a row of headers.
    const first = table.querySelector('tr');
    if (!first || first === row) return null;
    const heads = [...first.children];
    if (!heads.length || !heads.every((c) => tagOf(c) === 'TH')) return null;
    return heads[index]?.textContent ?? null;
  }

  function score(el) {
    let total = 0;
    const evidence = [];
    const kinds = new Set();
    for (const [source, raw] of texts(el)) {
      const text = normalize(raw);
      if (source !== 'nearby' && source !== 'legend' && STRONG_NEGATIVE.test(text)) {
        return { score: 0, evidence: [`${source}: unrelated`], kinds: [] };
      }
      let best = 0;
      const named = [];
      for (const [re, w, k] of POSITIVE) {
        if (!re.test(text)) continue;
        if (w > best) best = w;
        if (k && w >= 3) named.push(k);
      }
      // "Search code", "ZIP code": unrelated, unless the same text names our field
      // outright (a long help text may mention anything).
      if (best < 3 && NEGATIVE.test(text)) {
        if (source !== 'nearby' && source !== 'legend') return { score: 0, evidence: [`${source}: unrelated`], kinds: [] };
        continue;
      }
      if (best > 0) {
        total += best * SOURCE_WEIGHT[source];
        evidence.push(source);
        for (const k of named) kinds.add(k);
      }
    }
    return { score: Math.round(total * 100) / 100, evidence, kinds: [...kinds] };
  }

  // Every text field of the top document, and of open shadow roots (web-component
  // panels); never inside an <iframe>: only the top frame is ever filled.
  function fields() {
    const out = [...doc.querySelectorAll('input, textarea')];
    const seen = new Set();
    const walk = (root, depth) => {
      if (depth > 8) return;
      for (const host of root.querySelectorAll('*')) {
        const shadow = host.shadowRoot;
        if (!shadow || seen.has(shadow)) continue;
        seen.add(shadow);
        out.push(...shadow.querySelectorAll('input, textarea'));
        walk(shadow, depth + 1);
      }
    };
    if (doc.documentElement?.querySelector && typeof ShadowRoot !== 'undefined') walk(doc, 0);
    return out;
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
    for (const el of fields()) {
      if (!eligible(el)) continue;
      const s = score(el);
      candidates.push({ el, ...s });
    }
    const above = candidates.filter((c) => c.score >= THRESHOLD);
    // A field named for what we hold (the redirect URL, or the code) beats a field
    // named for the other; a field named for both, or neither, competes on its score.
    const matching = kind ? above.filter((c) => c.kinds.includes(kind)) : [];
    const pool = matching.length ? matching : above;
    let best = null;
    for (const c of pool) if (!best || c.score > best.score) best = c;
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
  // No field.focus() first. On the automatic path the panel tab is in the background
  // (the sign-in tab took the front), and focusing there cost 5-10 ms while the browser
  // was still opening that tab (bench/capture_latency.py, Chromium 302), and an old
  // panel's `onfocus="this.value=''"` would run on our value if we focused after.
  setValue.call(field, value);
  const InputEventCtor = view.InputEvent ?? view.Event;
  field.dispatchEvent(new InputEventCtor('input', { bubbles: true, inputType: 'insertFromPaste', data: value }));
  field.dispatchEvent(new view.Event('change', { bubbles: true }));
  if (save) globalThis.__codecatchFilled = { field, value };
  return { ok: true, reason: 'filled', field: describe(field, how, info) };
}

/**
 * Injected instead of fillField once a warm-up has left it in the page's isolated world
 * (`keep`): a few bytes to send and compile instead of this file, which cost 2 ms on
 * the 302 path while the browser was busy with the sign-in tab (bench/capture_latency.py).
 * `build` names the finder's source (fill.js), so a finder kept by another version of
 * the extension is never run: the caller then injects fillField itself.
 */
export function callKept(build, request) {
  // Own property only: `<form name="__codecatchKept">` shows up on window in every world
  // (named access, from the prototype chain), and must never stand in for the finder.
  const kept = Object.hasOwn(globalThis, '__codecatchKept') ? globalThis.__codecatchKept : null;
  return kept?.build === build && typeof kept.fn === 'function' ? kept.fn(request) : { ok: false, reason: 'not_kept' };
}

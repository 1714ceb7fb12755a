// A tiny DOM stand-in for node --test: enough HTML parsing, selectors, labels,
// visibility and events to run extension/lib/field_finder.js over panel markup.
// Not a browser: layout is faked from inline styles and the `hidden` attribute.

const VOID = new Set(['input', 'br', 'img', 'hr', 'meta', 'link', 'col', 'wbr', 'source']);

export class FakeEvent {
  constructor(type, init = {}) {
    this.type = type;
    this.bubbles = Boolean(init.bubbles);
    this.inputType = init.inputType;
    this.data = init.data;
  }
}
export class FakeInputEvent extends FakeEvent {}

class TextNode {
  constructor(text) {
    this.nodeType = 3;
    this.text = text;
    this.parentElement = null;
  }

  get textContent() {
    return this.text;
  }
}

export class FakeElement {
  constructor(tag, attrs, doc) {
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attrs = new Map(attrs);
    this.childNodes = [];
    this.parentElement = null;
    this.ownerDocument = doc;
    this.listeners = {};
    this.events = [];
  }

  get children() {
    return this.childNodes.filter((n) => n.nodeType === 1);
  }

  get id() {
    return this.getAttribute('id') ?? '';
  }

  get disabled() {
    return this.attrs.has('disabled');
  }

  get readOnly() {
    return this.attrs.has('readonly');
  }

  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }

  getAttribute(name) {
    return this.attrs.has(name) ? this.attrs.get(name) : null;
  }

  hasAttribute(name) {
    return this.attrs.has(name);
  }

  get previousElementSibling() {
    const siblings = this.parentElement?.children ?? [];
    const i = siblings.indexOf(this);
    return i > 0 ? siblings[i - 1] : null;
  }

  get labels() {
    if (!['INPUT', 'TEXTAREA', 'SELECT'].includes(this.tagName)) return undefined;
    const out = [];
    for (let n = this.parentElement; n; n = n.parentElement) if (n.tagName === 'LABEL' && !n.hasAttribute('for')) out.push(n);
    if (this.id) for (const l of this.ownerDocument.querySelectorAll('label')) if (l.getAttribute('for') === this.id) out.push(l);
    return out;
  }

  *descendants() {
    for (const c of this.children) {
      yield c;
      yield* c.descendants();
    }
  }

  matches(selector) {
    return parseSelector(selector).some((chain) => matchChain(this, chain));
  }

  closest(selector) {
    for (let n = this; n; n = n.parentElement) if (n.matches(selector)) return n;
    return null;
  }

  querySelectorAll(selector) {
    const chains = parseSelector(selector);
    return [...this.descendants()].filter((el) => chains.some((c) => matchChain(el, c)));
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] ?? null;
  }

  #style(name) {
    const m = new RegExp(`(?:^|;)\\s*${name}\\s*:\\s*([^;]+)`, 'i').exec(this.getAttribute('style') ?? '');
    return m ? m[1].trim().toLowerCase() : null;
  }

  checkVisibility() {
    for (let n = this; n; n = n.parentElement) {
      if (n.hasAttribute('hidden') || n.#style('display') === 'none' || n.#style('visibility') === 'hidden' || n.#style('opacity') === '0') return false;
    }
    return true;
  }

  getBoundingClientRect() {
    const zero = this.#style('width') === '0' || this.#style('width') === '0px' || this.#style('height') === '0' || this.#style('height') === '0px';
    return { width: zero ? 0 : 120, height: zero ? 0 : 20 };
  }

  focus() {
    this.ownerDocument.activeElement = this;
  }

  get isConnected() {
    let n = this;
    while (n.parentElement) n = n.parentElement;
    return n === this.ownerDocument.documentElement;
  }

  setAttribute(name, value) {
    this.attrs.set(name, String(value));
    this.ownerDocument.mutated?.(this);
  }

  removeAttribute(name) {
    this.attrs.delete(name);
    this.ownerDocument.mutated?.(this);
  }

  click() {
    this.clicks = (this.clicks ?? 0) + 1;
    this.dispatchEvent(new FakeEvent('click', { bubbles: true }));
  }

  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }

  dispatchEvent(event) {
    this.events.push(event);
    for (let n = this; n; n = event.bubbles ? n.parentElement : null) for (const fn of n.listeners[event.type] ?? []) fn(event);
    return true;
  }
}

export class FakeInput extends FakeElement {
  get value() {
    return this._value ?? this.getAttribute('value') ?? '';
  }

  set value(v) {
    this._value = String(v);
  }
}
export class FakeTextArea extends FakeInput {}

// ---- selectors: compound selectors (tag, #id, .class, [attr], [attr=value]) joined by
// descendant combinators, in comma lists.

function parseSelector(selector) {
  return selector.split(',').map((part) => {
    const chain = part.trim().split(/\s+/).map(parseCompound);
    if (chain.length === 0 || chain.some((c) => c === null)) throw new SyntaxError(`unsupported selector: ${selector}`);
    return chain;
  });
}

function parseCompound(text) {
  const re = /^([a-zA-Z][a-zA-Z0-9-]*|\*)?((?:#[\w-]+|\.[\w-]+|\[[\w-]+(?:=(?:"[^"]*"|'[^']*'|[^\]]*))?\])*)$/;
  const m = re.exec(text);
  if (!m) return null;
  const parts = [];
  for (const p of m[2].match(/#[\w-]+|\.[\w-]+|\[[^\]]+\]/g) ?? []) {
    if (p[0] === '#') parts.push((el) => el.id === p.slice(1));
    else if (p[0] === '.') parts.push((el) => (el.getAttribute('class') ?? '').split(/\s+/).includes(p.slice(1)));
    else {
      const [, name, value] = /^\[([\w-]+)(?:=["']?(.*?)["']?)?\]$/.exec(p);
      parts.push((el) => el.hasAttribute(name) && (value === undefined || el.getAttribute(name) === value));
    }
  }
  const tag = m[1] && m[1] !== '*' ? m[1].toUpperCase() : null;
  return (el) => (!tag || el.tagName === tag) && parts.every((f) => f(el));
}

function matchChain(el, chain) {
  if (!chain[chain.length - 1](el)) return false;
  let i = chain.length - 2;
  for (let n = el.parentElement; n && i >= 0; n = n.parentElement) if (chain[i](n)) i -= 1;
  return i < 0;
}

// ---- parsing

function decode(s) {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, ' ');
}

export function makeDocument(html, { origin = 'https://panel.test' } = {}) {
  const observers = new Set();
  // Attribute changes (setAttribute, removeAttribute) reach MutationObservers a microtask
  // later, as in a browser; nothing else is reported.
  class FakeMutationObserver {
    constructor(fn) {
      this.fn = fn;
    }

    observe() {
      observers.add(this);
    }

    disconnect() {
      observers.delete(this);
    }
  }
  const window = {
    HTMLInputElement: FakeInput, HTMLTextAreaElement: FakeTextArea, Event: FakeEvent, InputEvent: FakeInputEvent,
    MutationObserver: FakeMutationObserver, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id),
    location: { origin },
  };
  const doc = {
    defaultView: window,
    mutated: (target) => queueMicrotask(() => { for (const o of [...observers]) o.fn([{ type: 'attributes', target }]); }),
    activeElement: null,
    getElementById: (id) => [...root.descendants()].find((el) => el.id === id) ?? null,
    querySelectorAll: (s) => root.querySelectorAll(s),
    querySelector: (s) => root.querySelector(s),
  };
  const make = (tag, attrs) => {
    const Cls = tag === 'input' ? FakeInput : tag === 'textarea' ? FakeTextArea : FakeElement;
    return new Cls(tag, attrs, doc);
  };
  const root = make('html', []);
  const stack = [root];
  const token = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)/g;
  for (const m of html.matchAll(token)) {
    const top = stack[stack.length - 1];
    if (m[4] !== undefined) {
      const t = new TextNode(decode(m[4]));
      t.parentElement = top;
      top.childNodes.push(t);
    } else if (m[2]) {
      const tag = m[2].toLowerCase();
      if (m[1]) {
        const i = stack.map((e) => e.tagName).lastIndexOf(tag.toUpperCase());
        if (i > 0) stack.length = i;
        continue;
      }
      const attrs = [];
      for (const a of m[3].matchAll(/([^\s=/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
        attrs.push([a[1].toLowerCase(), decode(a[2] ?? a[3] ?? a[4] ?? '')]);
      }
      const el = make(tag, attrs);
      el.parentElement = top;
      top.childNodes.push(el);
      if (!VOID.has(tag) && !m[3].trim().endsWith('/')) stack.push(el);
    }
  }
  doc.documentElement = root;
  doc.body = root.querySelector('body') ?? root;
  return { document: doc, window };
}

/** Runs `fn` with globalThis.document and location set to a parsed page. */
export async function withPage(html, fn, options) {
  const { document, window } = makeDocument(html, options);
  const saved = { document: globalThis.document, location: globalThis.location };
  globalThis.document = document;
  globalThis.location = window.location;
  try {
    return await fn(document);
  } finally {
    globalThis.document = saved.document;
    globalThis.location = saved.location;
  }
}

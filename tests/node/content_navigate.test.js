// content/navigate.js inlines its recogniser (a content script cannot import): run it
// in a sandbox with a fake Navigation API and check it agrees with lib/redirect.js.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import vm from 'node:vm';

import { isNativeRedirect } from '../../extension/lib/redirect.js';
import { NATIVE, NOT_NATIVE } from './redirect_corpus.js';

const source = readFileSync(new URL('../../extension/content/navigate.js', import.meta.url), 'utf8');

function load(hostname = 'login.microsoftonline.com') {
  const listeners = [];
  const sent = [];
  const sandbox = {
    URL,
    setTimeout,
    console,
    location: { hostname },
    Node: { TEXT_NODE: 3 },
    MutationObserver: class { observe() {} disconnect() {} },
    document: { addEventListener() {}, scripts: [] },
    navigation: { addEventListener: (type, fn) => type === 'navigate' && listeners.push(fn) },
    chrome: { runtime: { sendMessage: async (m) => { sent.push(m); } } },
  };
  sandbox.globalThis = sandbox;
  vm.runInNewContext(source, sandbox);
  const navigate = (url, cancelable = true) => {
    const event = { destination: { url }, cancelable, prevented: false, preventDefault() { this.prevented = true; } };
    for (const fn of listeners) fn(event);
    return event;
  };
  return { navigate, sent };
}

test('cancels and reports exactly what lib/redirect.js recognises', () => {
  const { navigate, sent } = load();
  for (const url of [...NATIVE, ...NOT_NATIVE]) {
    // nativeclient on another cloud than the page: the background catches it by webRequest.
    const expected = isNativeRedirect(url) && (!url.startsWith('https://') || new URL(url).hostname === 'login.microsoftonline.com');
    const before = sent.length;
    const e = navigate(url);
    assert.equal(e.prevented, expected, url);
    assert.equal(sent.length - before, expected ? 1 : 0, url);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(sent[0])), { type: 'capture', channel: 'navigate', uri: NATIVE[0] });
});

test('the message carries only the URI: the page URL comes from the browser', () => {
  const { navigate, sent } = load();
  navigate(NATIVE[0]);
  assert.deepEqual(Object.keys(sent[0]).sort(), ['channel', 'type', 'uri']);
});

test('a navigation that cannot be cancelled is still reported', () => {
  const { navigate, sent } = load();
  const e = navigate(NATIVE[0], false);
  assert.equal(e.prevented, false);
  assert.equal(sent.length, 1);
});

test('the page declares the native redirects its own scripts carry (Firefox proof)', () => {
  const sent = [];
  let observed = null;
  const sandbox = {
    URL, setTimeout, console, location: { hostname: 'login.microsoftonline.com' },
    Node: { TEXT_NODE: 3 },
    MutationObserver: class { constructor(fn) { observed = fn; } observe() {} disconnect() {} },
    document: { addEventListener() {}, scripts: [] },
    chrome: { runtime: { sendMessage: async (m) => { sent.push(m); } } },
  };
  sandbox.globalThis = sandbox;
  vm.runInNewContext(source, sandbox);
  const script = { nodeName: 'SCRIPT', nodeType: 1, textContent: 'document.location.replace("ms-appx-web:\\/\\/x\\u0026y");' };
  observed([{ addedNodes: [script, { nodeName: 'DIV', nodeType: 1, textContent: 'ms-appx-web://no' }] }]);
  observed([{ addedNodes: [script] }]); // the same text again: sent once
  assert.deepEqual(JSON.parse(JSON.stringify(sent)), [{ type: 'declare', scripts: [script.textContent] }]);
});

// The Chromium-only rule that holds back a sign-in host's 302 to a native scheme.
import assert from 'node:assert/strict';
import test from 'node:test';

import { chromiumMajor, guardNativeRedirects, guardRule, RULE_ID } from '../../extension/redirect_guard.js';
import { SIGNIN_HOSTS } from '../../extension/lib/signin_hosts.js';

const CHROME_156 = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const EDGE_127 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36 Edg/127.0.0.0';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';

function fakeApi() {
  const calls = [];
  return { calls, api: { declarativeNetRequest: { updateSessionRules: async (arg) => { calls.push(arg); } } } };
}

test('the rule only touches Location headers that name a native scheme, on sign-in hosts', () => {
  const rule = guardRule();
  assert.deepEqual(rule.action, { type: 'modifyHeaders', responseHeaders: [{ header: 'location', operation: 'remove' }] });
  assert.deepEqual(rule.condition.requestDomains, [...SIGNIN_HOSTS]);
  assert.deepEqual(rule.condition.resourceTypes, ['main_frame', 'sub_frame']);
  const values = rule.condition.responseHeaders[0].values;
  assert.ok(values.every((v) => !/^https?:/i.test(v) && v !== '*'), 'never an https Location');
  assert.ok(values.includes('ms-appx-web://*'));
});

test('installed on Chromium 128 and later', async () => {
  const { api, calls } = fakeApi();
  assert.equal(await guardNativeRedirects(api, CHROME_156), true);
  assert.deepEqual(calls, [{ removeRuleIds: [RULE_ID], addRules: [guardRule()] }]);
});

test('never on Chromium 121-127 (they ignore the header condition) nor on Firefox', async () => {
  for (const ua of [EDGE_127, FIREFOX, '']) {
    const { api, calls } = fakeApi();
    assert.equal(await guardNativeRedirects(api, ua), false, ua);
    assert.equal(calls.length, 0);
  }
  assert.equal(chromiumMajor(EDGE_127), 127);
  assert.equal(chromiumMajor(FIREFOX), null);
});

test('a browser that rejects the rule keeps working without it', async () => {
  const api = { declarativeNetRequest: { updateSessionRules: async () => { throw new Error('unknown key responseHeaders'); } } };
  assert.equal(await guardNativeRedirects(api, CHROME_156), false);
  assert.equal(await guardNativeRedirects({}, CHROME_156), false);
});

// A pattern in DNR's syntax, as a RegExp: '*' any run, '?' one character, case-insensitive.
const asRegExp = (p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

test('the guard holds back exactly what a capture channel takes', async () => {
  const { NATIVE, NOT_NATIVE } = await import('./redirect_corpus.js');
  const { isNativeRedirect } = await import('../../extension/lib/redirect.js');
  const { NATIVE_LOCATIONS } = await import('../../extension/redirect_guard.js');
  const guarded = (v) => NATIVE_LOCATIONS.some((p) => asRegExp(p).test(v));
  const extra = ['msalmyapp://auth?code=1', 'msauth.com.foo:/auth?code=1', 'ms-appx-web:foo', 'urn:ietf:wg:oauth:2.0:oobx'];
  for (const v of [...NATIVE, ...NOT_NATIVE, ...extra]) {
    if (/^https?:/i.test(v)) continue; // nativeclient is https: never held back, the browser can open it
    // DNR has no literal '?': 'urn:…:oob?*' also covers 'oob' plus any one character
    // (a URN nobody registers), the price of holding back 'urn:…:oob?code=…'.
    if (/^urn:ietf:wg:oauth:2\.0:oob[^?#:]/i.test(v)) continue;
    assert.equal(guarded(v), isNativeRedirect(v), v);
  }
});

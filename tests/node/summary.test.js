import assert from 'node:assert/strict';
import { test } from 'node:test';

import { blindFillRefusal, captureMetadata, describeOutcome, timeLeft } from '../../extension/lib/summary.js';

const CODE = '0.AXkAsecretcodevalue';
const record = {
  local_id: 'l1', capture_id: 'c1', channel: 'navigate', page_host: 'login.microsoftonline.com', tab_id: 5,
  uri: `ms-appx-web://Microsoft.AAD.BrokerPlugin/x?code=${CODE}`,
  https_url: `https://Microsoft.AAD.BrokerPlugin/x?code=${CODE}`,
  response: { kind: 'code', code: CODE, code_redacted: '0.AXkA…(21)', app: 'Teams PowerShell', scheme: 'ms-appx-web' },
  captured_at: 0, expires_at: 600_000,
  fill: { tab_id: 3, target: 'opener', origin: 'https://panel.test', value: `https://Microsoft.AAD.BrokerPlugin/x?code=${CODE}` },
  fill_reason: 'opener', outcome: 'filled',
};

test('metadata never carries the code', () => {
  const meta = captureMetadata(record);
  assert.ok(!JSON.stringify(meta).includes('secretcode'));
  assert.equal(meta.code_redacted, '0.AXkA…(21)');
  assert.deepEqual(meta.fill_target, { tab_id: 3, target: 'opener', origin: 'https://panel.test' });
  assert.equal(captureMetadata(null), null);
});

test('time left before expiry', () => {
  assert.equal(timeLeft(600_000, 1_500), '9 min 58 s left');
  assert.equal(timeLeft(600_000, 570_000), '30 s left');
  assert.equal(timeLeft(600_000, 720_000), 'expired 2 min 0 s ago');
  assert.equal(timeLeft(undefined, 0), '');
});

test('filled: says so, with the time left', () => {
  const d = describeOutcome(captureMetadata(record), 60_000);
  assert.equal(d.badge.text, 'OK');
  assert.match(d.message, /9 min 0 s left/);
  assert.match(d.message, /Teams PowerShell/);
});

test('filled with the panel rule\'s save: "filled and saved", or "press it yourself" when it was not pressed', () => {
  const saved = describeOutcome(captureMetadata({ ...record, saved: { pressed: true, reason: 'pressed' } }), 60_000);
  assert.equal(saved.title, 'Code filled and saved');
  assert.match(saved.message, /save button was pressed/);
  const disabled = describeOutcome(captureMetadata({ ...record, saved: { pressed: false, reason: 'disabled' } }), 60_000);
  assert.equal(disabled.title, 'Code filled into the panel');
  assert.match(disabled.message, /save button was disabled: press it yourself/);
  const missing = describeOutcome(captureMetadata({ ...record, saved: { pressed: false, reason: 'not_found' } }), 60_000);
  assert.match(missing.message, /not pressed: press it yourself/);
  assert.doesNotMatch(describeOutcome(captureMetadata(record), 60_000).message, /save button/, 'no save rule: no word of it');
  assert.equal(captureMetadata(record).saved, null);
});

test('an error response shows its AADSTS number and hint', () => {
  const meta = captureMetadata({
    ...record, outcome: 'error_response',
    response: { kind: 'error', error: 'access_denied', aadsts: 'AADSTS65004', hint: 'The user declined consent.' },
  });
  const d = describeOutcome(meta);
  assert.equal(d.badge.text, 'ERR');
  assert.match(d.title, /AADSTS65004/);
  assert.match(d.message, /declined consent/);
});

test('not filled: says why and where the capture waits', () => {
  const d = describeOutcome({ ...captureMetadata({ ...record, outcome: 'waiting' }), outcome_detail_code: 'no_field' }, 0);
  assert.equal(d.badge.text, 'CODE');
  assert.match(d.message, /no field/);
  assert.match(d.message, /popup/);
  const p = describeOutcome({ ...captureMetadata({ ...record, outcome: 'waiting' }), outcome_detail_code: 'no_permission' }, 0);
  assert.match(p.message, /permission|may not fill/);
});

test('the metadata says who opened the sign-in, by origin only', () => {
  const meta = captureMetadata({
    local_id: 'l', channel: 'error_occurred', page_host: 'login.microsoftonline.com',
    response: { kind: 'code', code: '0.AXkAsecret', code_redacted: '0.AXkA… (11 chars)' },
    source: { opener_url: 'https://evil.example/launch?x=1', opener_by_page: true },
  });
  assert.equal(meta.opener_origin, 'https://evil.example');
  assert.equal(meta.opener_by_page, true);
  assert.ok(!JSON.stringify(meta).includes('0.AXkAsecret'));
  const typed = captureMetadata({ local_id: 'm', source: { opener_url: 'chrome://newtab/' } });
  assert.equal(typed.opener_origin, null);
});

test('blindFillRefusal: the shortcut never fills, unseen, a code from a sign-in another page opened', () => {
  const capture = (source) => ({ capture_id: 'c', source });
  // The user's own sign-in (a new tab), or one the panel itself opened: fine.
  assert.equal(blindFillRefusal(capture({ opener_by_page: false, opener_url: 'https://panel.example/' }), 'https://panel.example/t/1'), null);
  assert.equal(blindFillRefusal(capture({ opener_by_page: true, opener_url: 'https://panel.example/t/1' }), 'https://panel.example/t/2'), null);
  assert.equal(blindFillRefusal(capture(undefined), 'https://panel.example/'), null);
  // A page elsewhere opened it: refused, saying who and where to look instead.
  const why = blindFillRefusal(capture({ opener_by_page: true, opener_url: 'https://evil.example/x' }), 'https://panel.example/');
  assert.match(why, /evil\.example/);
  assert.match(why, /toolbar popup/);
  assert.ok(blindFillRefusal(capture({ opener_by_page: true, opener_url: null }), 'https://panel.example/'));
  // Same host, other port or scheme: another origin.
  assert.ok(blindFillRefusal(capture({ opener_by_page: true, opener_url: 'http://panel.example/' }), 'https://panel.example/'));
});

test('blindFillRefusal: never an unverified capture, nor a code outside the panel\'s flow', () => {
  const unverified = { capture_id: 'u', outcome: 'unverified', source: { opener_origin: 'https://evil.example', opener_by_page: true } };
  assert.match(blindFillRefusal(unverified, 'https://evil.example/'), /unverified.*evil\.example/);
  for (const reason of ['left_signin_hosts', 'started_elsewhere', 'target_moved']) {
    assert.ok(blindFillRefusal({ capture_id: 'w', fill_reason: reason, source: { opener_by_page: false } }, 'https://panel.example/'), reason);
  }
});

test('describeOutcome: an unverified redirect says why it was not filled and where it is', () => {
  const d = describeOutcome({ outcome: 'unverified', page_host: 'login.microsoftonline.com' });
  assert.equal(d.badge.text, '?');
  assert.match(d.message, /nothing shows that Microsoft sent it/);
  assert.match(d.message, /toolbar popup/);
});

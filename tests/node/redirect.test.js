import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dedupeKey, isNativeclientUrl, isNativeRedirect, redactCode, redactUri, schemeOf } from '../../extension/lib/redirect.js';
import { isSigninUrl, SIGNIN_HOSTS } from '../../extension/lib/signin_hosts.js';
import { NATIVE, NOT_NATIVE } from './redirect_corpus.js';

test('recognises every native redirect, scheme in any case', () => {
  for (const uri of NATIVE) assert.equal(isNativeRedirect(uri), true, uri);
});

test('ignores everything else', () => {
  for (const uri of NOT_NATIVE) assert.equal(isNativeRedirect(uri), false, uri);
  assert.equal(isNativeRedirect(undefined), false);
  assert.equal(isNativeRedirect(null), false);
});

test('nativeclient only on a sign-in host over https', () => {
  assert.ok(isNativeclientUrl('https://login.windows.net/common/oauth2/nativeclient?code=1'));
  assert.ok(!isNativeclientUrl('https://panel.test/common/oauth2/nativeclient?code=1'));
  assert.ok(!isNativeclientUrl('https://login.windows.net/common/oauth2/nativeclient/extra'));
});

test('sign-in hosts: every cloud, exact host, https only', () => {
  for (const h of SIGNIN_HOSTS) assert.ok(isSigninUrl(`https://${h}/common/login`), h);
  assert.ok(isSigninUrl('https://LOGIN.MicrosoftOnline.com/appverify'));
  assert.ok(isSigninUrl('https://login.microsoftonline.com:443/x'));
  assert.ok(!isSigninUrl('http://login.microsoftonline.com/'));
  assert.ok(!isSigninUrl('https://login.microsoftonline.com.evil.test/'));
  assert.ok(!isSigninUrl('https://evil-login.microsoftonline.com/'));
  assert.ok(!isSigninUrl('https://microsoftonline.com/'));
  assert.ok(!isSigninUrl('not a url'));
  assert.ok(!isSigninUrl(''));
  assert.equal(SIGNIN_HOSTS.length, 10);
});

test('the same redirect gives the same key whichever channel saw it', () => {
  const parsed = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/x?code=0.AX%2BkA&state=s%20t&session_state=y';
  const raw = 'MS-APPX-WEB://Microsoft.AAD.BrokerPlugin/x?code=0.AX+kA&state=s t&session_state=y';
  // '+' means a space in a query decoded as a form; compare what the code decodes to.
  assert.equal(dedupeKey(parsed), dedupeKey(parsed.toUpperCase().replace('CODE=0.AX%2BKA', 'code=0.AX%2BkA')));
  assert.notEqual(dedupeKey(parsed), dedupeKey(parsed.replace('0.AX', '0.BX')));
  assert.equal(dedupeKey('ms-appx-web://a/x?code=abc'), dedupeKey('msauth://a/x?state=1&code=abc'));
  assert.ok(dedupeKey(raw));
  assert.equal(dedupeKey('urn:ietf:wg:oauth:2.0:oob#code=abc'), 'code:abc');
});

test('error responses get a key from their error fields', () => {
  const a = 'ms-appx-web://x/y?error=access_denied&error_description=AADSTS65004&state=1&trace_id=t1';
  const b = 'ms-appx-web://x/y?error=access_denied&error_description=AADSTS65004&state=1&trace_id=t2';
  assert.equal(dedupeKey(a), dedupeKey(a.replace('ms-appx-web', 'MS-APPX-WEB')));
  assert.notEqual(dedupeKey(a), dedupeKey(b));
});

test('redaction keeps 6 characters and the length, never the code', () => {
  assert.equal(redactCode('0.AXkAabcdefghijkl'), '0.AXkA…(18)');
  assert.equal(redactCode(''), '');
  const uri = 'ms-appx-web://x/y?code=0.AXkAsecretsecret&state=keep&session_state=sessionsecret&client_info=infosecret';
  const red = redactUri(uri);
  assert.ok(!red.includes('secretsecret') && !red.includes('sessionsecret') && !red.includes('infosecret'), red);
  assert.ok(red.includes('state=keep'));
  assert.ok(red.includes('code=0.AXkA…(18)'), red);
  assert.ok(!redactUri('https://x/y#code=0.AXkAsecretsecret').includes('secretsecret'));
});

test('scheme names', () => {
  assert.equal(schemeOf('MS-APPX-WEB://x'), 'ms-appx-web');
  assert.equal(schemeOf('urn:ietf:wg:oauth:2.0:oob'), 'urn');
  assert.equal(schemeOf('nothing'), '');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isUnseenLaunch, listenForCaptures } from '../../extension/capture_channels.js';

const FIREFOX_UNKNOWN_PROTOCOL = 'Error code 2152398866';
const URI = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/12128f48-ec9e-42f0-b203-ea49fb6af367?code=0.AXkAabc&state=s';

function fakeApi(frameUrl) {
  const listeners = {};
  const event = (name) => ({ addListener: (fn) => { listeners[name] = fn; } });
  return {
    listeners,
    runtime: { id: 'me', onMessage: event('message') },
    webRequest: { onBeforeRedirect: event('beforeRedirect'), onHeadersReceived: event('headersReceived') },
    webNavigation: {
      onBeforeNavigate: event('beforeNavigate'),
      onErrorOccurred: event('errorOccurred'),
      getFrame: async () => ({ url: frameUrl }),
    },
  };
}

test('Firefox: a 302 to an unknown scheme from a host outside our permissions is an unseen launch', () => {
  assert.equal(isUnseenLaunch({ url: 'https://evil.test:8443/authorize', error: FIREFOX_UNKNOWN_PROTOCOL, frameId: 0 }), true);
  // Sign-in hosts are covered by webRequest; other errors are not launches.
  assert.equal(isUnseenLaunch({ url: 'https://login.microsoftonline.com/x', error: FIREFOX_UNKNOWN_PROTOCOL }), false);
  assert.equal(isUnseenLaunch({ url: 'https://evil.test/', error: 'Error code 2152398861' }), false);
  // A script navigation's error names the custom URI itself: the ordinary path.
  assert.equal(isUnseenLaunch({ url: URI, error: FIREFOX_UNKNOWN_PROTOCOL }), false);
});

test('onErrorOccurred: an unseen launch reaches onCapture with uri null, a custom URI with its frame', async () => {
  const api = fakeApi('https://login.microsoftonline.com/appverify');
  const seen = [];
  listenForCaptures(api, (c) => seen.push(c));
  api.listeners.errorOccurred({ url: 'https://evil.test/authorize', error: FIREFOX_UNKNOWN_PROTOCOL, tabId: 3, frameId: 0 });
  await api.listeners.errorOccurred({ url: URI, error: FIREFOX_UNKNOWN_PROTOCOL, tabId: 4, frameId: 0 });
  assert.deepEqual(seen, [
    { channel: 'error_occurred', uri: null, pageUrl: 'https://evil.test/authorize', tabId: 3, frameId: 0 },
    { channel: 'error_occurred', uri: URI, pageUrl: 'https://login.microsoftonline.com/appverify', tabId: 4, frameId: 0 },
  ]);
});

test('onBeforeNavigate (Firefox script navigation) carries the custom URI', async () => {
  const api = fakeApi('https://login.microsoftonline.com/appverify');
  const seen = [];
  listenForCaptures(api, (c) => seen.push(c));
  await api.listeners.beforeNavigate({ url: URI, tabId: 5, frameId: 0 });
  await api.listeners.beforeNavigate({ url: 'https://panel.test/', tabId: 5, frameId: 0 });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].channel, 'before_navigate');
});

// The popup's words for the host's state (extension/ui/view.js): one story per state.
import assert from 'node:assert/strict';
import test from 'node:test';

globalThis.chrome = {
  i18n: {
    // The key and its substitutions, so a test sees which message was chosen.
    getMessage: (key, subs = []) => [key, ...subs].join(' '),
  },
};
const { badgeFor, browserNameFrom, hostFix, hostLine } = await import('../../extension/ui/view.js');

const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

test('the browser name comes from the brands, honestly', () => {
  const brands = (...names) => names.map((brand) => ({ brand, version: '156' }));
  assert.equal(browserNameFrom({ userAgent: CHROME_UA, brands: brands('Chromium', 'Not.A/Brand') }), 'chromium');
  assert.equal(browserNameFrom({ userAgent: CHROME_UA, brands: brands('Chromium', 'Google Chrome') }), 'chrome');
  assert.equal(browserNameFrom({ userAgent: `${CHROME_UA} Edg/156.0`, brands: brands('Chromium', 'Microsoft Edge') }), 'edge');
  assert.equal(browserNameFrom({ userAgent: CHROME_UA, brands: brands('Chromium', 'Brave') }), 'brave');
  assert.equal(browserNameFrom({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0' }), 'firefox');
  assert.equal(browserNameFrom({ userAgent: 'curl/8' }), null);
});

test('host missing: the browser\'s own words, then the commands for this browser, without backticks', () => {
  const problem = { code: 'host_missing', message: 'The codecatch native host is not installed for this browser: run `codecatch install`.',
    detail: 'Specified native messaging host not found.' };
  const line = hostLine({ state: 'backoff', problem });
  assert.equal(line.problem, true);
  assert.ok(!line.text.includes('`'), line.text);
  const fix = hostFix(problem, { browser: 'chromium' });
  assert.equal(fix.browserSays, 'Specified native messaging host not found.');
  assert.deepEqual(fix.steps.map((s) => s.command), [
    'codecatch install --browser chromium',
    'codecatch install --browser chromium --user-data-dir DIR',
  ]);
  // Firefox reads one folder whatever the profile: no --user-data-dir there.
  assert.deepEqual(hostFix(problem, { browser: 'firefox' }).steps.map((s) => s.command), ['codecatch install --browser firefox']);
});

test('forbidden: this extension\'s id when it is not the one install allows', () => {
  const problem = { code: 'host_forbidden', detail: 'Access to the specified native messaging host is forbidden.' };
  assert.equal(hostFix(problem, { browser: 'chrome', extensionId: 'b'.repeat(32), ownId: null }).steps[0].command,
    `codecatch install --browser chrome --extension-id ${'b'.repeat(32)}`);
  assert.equal(hostFix(problem, { browser: 'chrome', extensionId: 'a'.repeat(32), ownId: 'a'.repeat(32) }).steps[0].command,
    'codecatch install --browser chrome --force');
});

test('no message that contradicts the connection: ready when connected, never "waiting"', () => {
  assert.equal(badgeFor({ connection: { state: 'connected' } }).label, 'stateReady');
  assert.equal(badgeFor({ connection: { state: 'connecting' } }).label, 'stateConnecting');
  assert.equal(badgeFor({ connection: { state: 'backoff', problem: { code: 'host_missing' } } }).label, 'stateHostMissing');
  assert.equal(badgeFor({ connection: { state: 'backoff', problem: { code: 'host_exited' } } }).label, 'stateHostProblem');
  assert.equal(hostFix(null).steps.length, 0);
});

// manifest.json against what the rest of the project relies on: the ids in
// host/codecatch/identity.py, the sign-in hosts, the files it names, and no
// permission broader than needed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { GECKO_ID, HOST_NAME, PROTOCOL_VERSION } from '../../extension/lib/identity.js';
import { SIGNIN_MATCH_PATTERNS } from '../../extension/lib/signin_hosts.js';

const root = new URL('../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', root), 'utf8'));
const identityPy = readFileSync(new URL('host/codecatch/identity.py', root), 'utf8');
const pyString = (name) => new RegExp(`${name} = \\(?\\s*"([^"]+)"`).exec(identityPy)?.[1];

test('the key gives the Chromium id that identity.py promises', () => {
  assert.equal(manifest.key, pyString('MANIFEST_KEY'));
  const digest = createHash('sha256').update(Buffer.from(manifest.key, 'base64')).digest('hex').slice(0, 32);
  const id = [...digest].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
  assert.equal(id, pyString('CHROMIUM_EXTENSION_ID'));
});

test('host name, gecko id and protocol agree with the Python side', () => {
  assert.equal(HOST_NAME, pyString('HOST_NAME'));
  assert.equal(GECKO_ID, pyString('GECKO_ID'));
  assert.equal(manifest.browser_specific_settings.gecko.id, GECKO_ID);
  const init = readFileSync(new URL('host/codecatch/__init__.py', root), 'utf8');
  assert.equal(PROTOCOL_VERSION, Number(/PROTOCOL_VERSION = (\d+)/.exec(init)[1]));
});

test('one manifest for both browsers', () => {
  assert.equal(manifest.manifest_version, 3);
  const bg = manifest.background;
  assert.equal(bg.type, 'module');
  assert.deepEqual(bg.scripts, [bg.service_worker]);
  const gecko = manifest.browser_specific_settings.gecko;
  assert.equal(gecko.strict_min_version, '142.0');
  assert.deepEqual(gecko.data_collection_permissions, { required: ['none'] });
});

test('host permissions: the sign-in hosts of every cloud and nothing broader', () => {
  assert.deepEqual(manifest.host_permissions, SIGNIN_MATCH_PATTERNS);
  assert.deepEqual(manifest.optional_host_permissions, ['https://*/*']);
  assert.ok(!manifest.permissions.includes('<all_urls>'));
  const [cs] = manifest.content_scripts;
  assert.deepEqual(cs.matches, SIGNIN_MATCH_PATTERNS);
  // Top frames only: a sign-in page framed by another page is never a source (background.js).
  assert.equal(cs.all_frames, false);
  assert.equal(cs.run_at, 'document_start');
});

test('only the permissions the code uses', () => {
  const used = {
    nativeMessaging: /connectNative/, webRequest: /webRequest\./, webNavigation: /webNavigation\./, tabs: /tabs\.(get|query)/,
    scripting: /scripting\.executeScript/, storage: /storage\.session/, notifications: /notifications\.create/, activeTab: /activeTab/,
    contextMenus: /contextMenus/, declarativeNetRequestWithHostAccess: /declarativeNetRequest\.updateSessionRules|dnr\.updateSessionRules/, offscreen: /offscreen\.createDocument/, clipboardWrite: /clipboard\.writeText/,
    // Reading is only to clear what codecatch copied, when the clipboard still holds it.
    clipboardRead: /clipboard\.readText|execCommand\('paste'\)/, alarms: /alarms\.create/,
  };
  const sources = ['background.js', 'capture_channels.js', 'fill.js', 'notify.js', 'session_state.js', 'tab_directory.js', 'redirect_guard.js', 'popup/popup.js', 'menus.js', 'clipboard.js', 'offscreen/clipboard.js']
    .map((f) => readFileSync(new URL(`extension/${f}`, root), 'utf8')).join('\n');
  for (const p of manifest.permissions) {
    assert.ok(used[p], `unexpected permission ${p}`);
    assert.match(sources, used[p], `${p} is declared but not used`);
  }
});

test('every file the manifest names exists', () => {
  const files = [
    manifest.background.service_worker, ...manifest.content_scripts.flatMap((c) => c.js),
    manifest.action.default_popup, ...Object.values(manifest.icons), ...Object.values(manifest.action.default_icon),
  ];
  for (const f of files) assert.ok(existsSync(new URL(f, root)), f);
});

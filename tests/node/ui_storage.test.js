// The popup, the options page and the context menu never write anything that
// outlives the browser session: no storage.local or storage.sync, no localStorage,
// no IndexedDB (issue 6). Codes live in the background's storage.session only.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../extension/', import.meta.url);
const files = ['menus.js', ...['popup', 'options', 'ui'].flatMap((dir) => readdirSync(new URL(`${dir}/`, root))
  .filter((f) => /\.(js|html)$/.test(f)).map((f) => `${dir}/${f}`))];

test('UI code writes nothing that outlives the browser session', () => {
  assert.ok(files.length >= 6, files.join(', '));
  for (const f of files) {
    const source = readFileSync(new URL(f, root), 'utf8');
    for (const banned of [/storage\.(local|sync|managed)/, /localStorage/, /indexedDB/, /document\.cookie/, /caches\.open/]) {
      assert.doesNotMatch(source, banned, `${f} uses ${banned}`);
    }
  }
});

test('every message the UI names exists in _locales/en/messages.json', () => {
  const messages = JSON.parse(readFileSync(new URL('../_locales/en/messages.json', root), 'utf8'));
  const manifest = readFileSync(new URL('../manifest.json', root), 'utf8');
  const used = new Set();
  for (const f of files) {
    const source = readFileSync(new URL(f, root), 'utf8');
    for (const m of source.matchAll(/\bt\('([A-Za-z]+)'|data-i18n(?:-[a-z-]+)?="([A-Za-z]+)"|getMessage\('([A-Za-z]+)'/g)) used.add(m[1] ?? m[2] ?? m[3]);
  }
  for (const m of manifest.matchAll(/__MSG_([A-Za-z]+)__/g)) used.add(m[1]);
  for (const key of used) assert.ok(messages[key]?.message, `missing message ${key}`);
});

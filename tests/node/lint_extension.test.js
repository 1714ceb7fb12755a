import { test } from 'node:test';
import assert from 'node:assert/strict';

import { classify, EXPECTED } from '../../scripts/lint_extension.mjs';

const worker = { code: 'BACKGROUND_SERVICE_WORKER_IGNORED', message: 'Unsupported "/background/service_worker" manifest property is ignored by Firefox.', file: 'manifest.json' };

test('the two-browser warning is expected, with a reason', () => {
  const { problems, expected } = classify({ errors: [], warnings: [worker], notices: [] });
  assert.deepEqual(problems, []);
  assert.equal(expected.length, 1);
  assert.match(expected[0].reason, /both browsers/);
});

test('every error fails, even with an expected code', () => {
  const { problems } = classify({ errors: [worker], warnings: [], notices: [] });
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, 'error');
});

test('an unlisted warning or notice fails', () => {
  const { problems } = classify({
    errors: [],
    warnings: [{ code: 'MANIFEST_PERMISSIONS', message: '/permissions: Invalid permissions "bogus" at 3.' }],
    notices: [{ code: 'SOMETHING_NEW', message: 'x' }],
  });
  assert.deepEqual(problems.map((p) => p.kind), ['warning', 'notice']);
});

test('each allowed finding says why', () => {
  for (const e of EXPECTED) assert.ok(e.reason.length > 20, e.code);
});

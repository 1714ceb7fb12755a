import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RecentKeys } from '../../extension/lib/dedupe.js';

test('a key is handled once until it expires', () => {
  let now = 1000;
  const keys = new RecentKeys({ ttlMs: 100, now: () => now });
  assert.equal(keys.add('a'), true);
  assert.equal(keys.add('a'), false);
  assert.equal(keys.has('a'), true);
  assert.equal(keys.has('zzz'), false);
  assert.equal(keys.add('b'), true);
  now += 100;
  assert.equal(keys.add('a'), true, 'forgotten after the ttl');
  assert.equal(keys.size, 1, 'expired keys are dropped');
});

// lib/core/fnv.ts: the FNV-1a hash behind lock and watcher file names.
import assert from 'node:assert/strict';
import { fnv1a64 } from '../../lib/core/fnv.js';

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    assert.equal(fnv1a64(''), 'cbf29ce484222325');
    assert.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
    assert.equal(fnv1a64('foobar'), '85944171f73967e8');
  });

  it('hashes the UTF-8 bytes, and tells paths apart', () => {
    assert.notEqual(fnv1a64('/run/user/1000/bt_u1000'), fnv1a64('/run/user/1000/bt_u1001'));
    assert.notEqual(fnv1a64('é'), fnv1a64('\u00e9'.normalize('NFD')), 'two spellings, two byte strings');
  });
});

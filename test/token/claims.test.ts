import assert from 'node:assert/strict';
import { assertLifetime, decodeClaims, secondsLeft, TokenExpiredError } from '../../lib/index.js';
import { formatDuration, formatRelative } from '../../lib/core/duration.js';
import { fakeJwt, fakeToken } from '../support/sandbox.js';

describe('claims', () => {
  it('decodes WLCG claims: audiences, scopes, groups, times', () => {
    const claims = decodeClaims(fakeJwt({ iss: 'https://i', sub: 's', aud: ['a', 'b'], scope: 'compute.read  compute.create', 'wlcg.ver': '1.0', 'wlcg.groups': ['/g'], iat: 10, nbf: 10, exp: 1010, azp: 'client' }));
    assert.equal(claims.format, 'jwt');
    if (claims.format !== 'jwt') return;
    assert.deepEqual(claims.audience, ['a', 'b']);
    assert.deepEqual(claims.scopes, ['compute.read', 'compute.create']);
    assert.deepEqual(claims.groups, ['/g']);
    assert.equal(claims.profile, 'wlcg:1.0');
    assert.equal(claims.clientId, 'client');
    assert.equal(secondsLeft(claims, 1000), 10);
  });

  it('reads SciTokens claims (ver, a single audience string)', () => {
    const claims = decodeClaims(fakeJwt({ ver: 'scitoken:2.0', aud: 'https://se.example:1094', scope: 'read:/store write:/store/user' }));
    assert.equal(claims.format, 'jwt');
    if (claims.format !== 'jwt') return;
    assert.equal(claims.profile, 'scitoken:2.0');
    assert.deepEqual(claims.audience, ['https://se.example:1094']);
    assert.deepEqual(claims.scopes, ['read:/store', 'write:/store/user']);
  });

  it('an opaque token is valid with unknown claims, never an error', () => {
    for (const token of [fakeToken(), 'a.b.c', 'eyJub3QganNvbg.eyJub3QganNvbg.sig']) {
      const claims = decodeClaims(token);
      assert.equal(claims.format, 'opaque');
      assert.equal(secondsLeft(claims, 0), undefined);
      assert.doesNotThrow(() => assertLifetime(claims, 0, 10_000));
    }
  });

  it('assertLifetime: expired, too short, long enough', () => {
    const claims = decodeClaims(fakeJwt({ exp: 1000 }));
    assert.throws(() => assertLifetime(claims, 1100), (e: Error) => e instanceof TokenExpiredError && /expired 100 s ago/.test(e.message));
    assert.throws(() => assertLifetime(claims, 900, 600), /100 s left, less than the required 600 s/);
    assert.doesNotThrow(() => assertLifetime(claims, 900, 60));
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(14 * 60 + 10), '14 min');
    assert.equal(formatDuration(3 * 3600 + 59 * 60 + 50), '3 h 59 min');
    assert.equal(formatDuration(2 * 86400 + 4 * 3600), '2 d 4 h');
    assert.equal(formatRelative(1000, 100), 'in 15 min');
    assert.equal(formatRelative(100, 3700), '60 min ago');
  });
});

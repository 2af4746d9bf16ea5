// The one freshness rule (lib/refresh/freshness.ts), on both sides of its boundaries, and what
// makes a token on disk "not what was asked for".
import assert from 'node:assert/strict';
import { decodeClaims } from '../../lib/token/claims.js';
import { freshUntilOf, judge, mismatch, MIN_FRESH_SECONDS, type Wanted } from '../../lib/refresh/freshness.js';
import { fakeJwt } from '../support/sandbox.js';

const T = 1_800_000_000;
const wanted = (minLifetime: number, extra: Partial<Wanted> = {}): Wanted => ({ minLifetime, refreshInterval: 600, ...extra });
const stateOf = (claims: Record<string, unknown>, w: Wanted, now: number, modifiedAt = T) => {
  const token = fakeJwt(claims);
  return judge(token, decodeClaims(token), modifiedAt, w, now);
};

describe('freshness rule', () => {
  describe('a 600 s token (the issue\'s example)', () => {
    it('min_lifetime 570: fresh for exactly 30 s, then refreshed with 570 s left (not after 5 min)', () => {
      assert.equal(freshUntilOf(T + 600, T, 570), T + 30);
      assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(570), T + 29).state, 'fresh');
      assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(570), T + 30).state, 'stale');
    });

    it('min_lifetime below the boundary (560) is honoured exactly: stale with 560 s left', () => {
      assert.equal(freshUntilOf(T + 600, T, 560), T + 40);
      assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(560), T + 39).state, 'fresh');
      assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(560), T + 40).state, 'stale');
    });

    it('min_lifetime above the boundary (580, 600, 900): still fresh for its first 30 s, no loop', () => {
      for (const minLifetime of [580, 600, 900]) {
        assert.equal(freshUntilOf(T + 600, T, minLifetime), T + MIN_FRESH_SECONDS, `min_lifetime ${minLifetime}`);
        assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(minLifetime), T + 29).state, 'fresh');
        assert.equal(stateOf({ iat: T, exp: T + 600 }, wanted(minLifetime), T + 30).state, 'stale');
      }
    });
  });

  it('a token shorter-lived than a minute is fresh for its first half', () => {
    assert.equal(freshUntilOf(T + 40, T, 300), T + 20);
    assert.equal(freshUntilOf(T + 60, T, 300), T + 30);
  });

  it('without iat, nbf is the issue time; without both, the time the file was written', () => {
    assert.equal(stateOf({ nbf: T, exp: T + 600 }, wanted(900), T + 31).state, 'stale');
    // A cached token written 10 s ago with 100 s left: fresh until 30 s after it was written.
    assert.equal((stateOf({ exp: T + 100 }, wanted(300), T + 10, T) as { freshUntil: number }).freshUntil, T + 30);
    assert.equal(stateOf({ exp: T + 100 }, wanted(300), T + 31, T).state, 'stale');
  });

  it('a cached token issued long ago, with less than min_lifetime left, is stale at once', () => {
    const state = stateOf({ iat: T - 1000, exp: T + 100 }, wanted(300), T, T);
    assert.equal(state.state, 'stale');
    assert.match(state.reason, /100 s left, less than min_lifetime 300 s/);
  });

  it('a JWT without exp is judged like an opaque token: fresh for refresh_interval after it was written', () => {
    assert.equal(stateOf({ iat: T }, wanted(300), T + 599, T).state, 'fresh');
    const stale = stateOf({ iat: T }, wanted(300), T + 600, T);
    assert.equal(stale.state, 'stale');
    assert.equal(stale.freshUntil, T + 600);
    assert.match(stale.reason, /JWT without exp \(expiry unknown\)/);
  });

  describe('what was asked for', () => {
    const claims = (c: Record<string, unknown>) => decodeClaims(fakeJwt({ exp: T + 3600, ...c }));
    it('an audience asked for and no aud, or aud: [], is a mismatch', () => {
      assert.match(mismatch(claims({}), { audience: 'https://se.example' })!, /the token names no audience/);
      assert.match(mismatch(claims({ aud: [] }), { audience: 'https://se.example' })!, /the token names no audience/);
      assert.match(mismatch(claims({ aud: 'https://other.example' }), { audience: 'https://se.example' })!, /not in the token's audience/);
      assert.equal(mismatch(claims({ aud: ['x', 'https://se.example'] }), { audience: 'https://se.example' }), undefined);
      assert.equal(mismatch(claims({ aud: 'https://wlcg.cern.ch/jwt/v1/any' }), { audience: 'https://se.example' }), undefined);
    });

    it('a scope asked for must be in scope or scp (string or array); identity scopes need not be', () => {
      assert.match(mismatch(claims({ scp: 'storage.read:/' }), { scope: 'storage.modify:/' })!, /scope storage\.modify:\/ not granted/);
      assert.match(mismatch(claims({ scp: ['storage.read:/'] }), { scope: 'storage.modify:/' })!, /not granted/);
      assert.match(mismatch(claims({}), { scope: 'compute.read' })!, /not granted/);
      assert.equal(mismatch(claims({ scp: ['compute.read', 'x'] }), { scope: 'compute.read openid' }), undefined);
      assert.equal(mismatch(claims({ scope: 'compute.read' }), { scope: 'compute.read offline_access' }), undefined);
    });

    it('nbf in the future (beyond 60 s of clock skew) is a mismatch', () => {
      assert.match(mismatch(claims({ nbf: T + 3600 }), {}, T)!, /not valid before/);
      assert.equal(mismatch(claims({ nbf: T + 30 }), {}, T), undefined);
      assert.equal(stateOf({ iat: T, nbf: T + 3600, exp: T + 7200 }, wanted(300), T).state, 'stale');
    });
  });
});

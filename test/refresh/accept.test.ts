// The one replacement rule (lib/refresh/accept.ts): what a source returned may replace the
// current token only when it is a token discovery accepts, of the kind the account issues, what
// was asked for, and not worse than the current one.
import assert from 'node:assert/strict';
import { acceptFetched, isPlausibleOpaqueToken } from '../../lib/refresh/accept.js';
import { judge, type TokenState, type Wanted } from '../../lib/refresh/freshness.js';
import { decodeClaims } from '../../lib/token/claims.js';
import { fakeJwt } from '../support/sandbox.js';

const T = 1_800_000_000;
const WANTED: Wanted = { minLifetime: 300, refreshInterval: 600, audience: 'https://se.example', scope: 'storage.read:/' };
const GOOD = { aud: 'https://se.example', scope: 'storage.read:/', iat: T, exp: T + 1200 };
const missing: TokenState = { state: 'missing', reason: 'does not exist' };
const onDisk = (token: string): TokenState => judge(token, decodeClaims(token), T - 100, WANTED, T);
const currentJwt = onDisk(fakeJwt({ ...GOOD, iat: T - 100, exp: T + 600 }));
const OPAQUE = 'hvs.CAESIJ7q1x9Zk2mN4pQ8rT0uV3wY6zA1bC5dE7fG9hK2';

function refusal(raw: string, current: TokenState, tokenFormat?: 'jwt' | 'opaque'): string {
  try {
    acceptFetched(raw, 'source s', current, WANTED, tokenFormat ? { tokenFormat } : {}, T);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('replacement rule', () => {
  // Words a failing source prints (jq -r .access_token prints null on any error).
  const WORDS = ['null', 'None', 'Unauthorized', 'error', 'undefined', 'Forbidden', 'invalid_grant', 'temporarily_unavailable',
    'InternalServerError', 'authorization_pending', 'AuthenticationFailedException', 'false', 'nil', 'NaN'];

  it(`never takes a bare word for an opaque token (${WORDS.length} words, with or without a current token, any token_format)`, () => {
    for (const word of WORDS) {
      for (const current of [missing, currentJwt]) {
        assert.notEqual(refusal(`${word}\n`, current, 'opaque'), 'accepted', word);
        assert.notEqual(refusal(`${word}\n`, current), 'accepted', word);
      }
      assert.ok(!isPlausibleOpaqueToken(word), word);
    }
    assert.match(refusal('null\n', missing, 'opaque'), /returned 4 characters without a digit: a word or a message, not an opaque token/);
  });

  it('a JWT is replaced only by a JWT, unless the account has token_format = opaque', () => {
    assert.match(refusal(OPAQUE, currentJwt), /opaque token where the current token is a JWT \(set token_format = opaque/);
    assert.equal(refusal(OPAQUE, currentJwt, 'opaque'), 'accepted');
  });

  it('an opaque token is accepted when there is no current JWT; token_format = jwt refuses it always', () => {
    assert.equal(refusal(OPAQUE, missing), 'accepted');
    assert.equal(refusal(OPAQUE, onDisk('s.some-older-opaque-token-4711')), 'accepted');
    assert.match(refusal(OPAQUE, missing, 'jwt'), /token_format = jwt/);
  });

  const WRONG: [string, Record<string, unknown>, RegExp][] = [
    ['no aud when an audience was asked', { aud: undefined }, /the token names no audience/],
    ['aud: []', { aud: [] }, /the token names no audience/],
    ['another audience', { aud: 'https://elsewhere.example' }, /not in the token's audience/],
    ['the scope asked for missing from scp', { scope: undefined, scp: 'compute.read' }, /scope storage\.read:\/ not granted/],
    ['no scope claim at all', { scope: undefined }, /not granted/],
    ['nbf an hour in the future', { nbf: T + 3600 }, /not valid before/],
    ['expired', { exp: T - 1 }, /returned an expired token/],
    ['no exp, replacing a token with one', { exp: undefined }, /JWT without exp, while the current token has one/],
    ['an earlier exp than the current token', { exp: T + 500 }, /expiring before the current one/],
  ];
  for (const [what, change, message] of WRONG) {
    it(`refuses ${what}`, () => {
      const claims = { ...GOOD, ...change };
      for (const key of Object.keys(claims)) if ((claims as Record<string, unknown>)[key] === undefined) delete (claims as Record<string, unknown>)[key];
      assert.match(refusal(fakeJwt(claims), currentJwt), message);
    });
  }

  it('accepts a JWT without exp when there is no current token (it is then refreshed every refresh_interval)', () => {
    const { exp: _exp, ...claims } = GOOD;
    assert.equal(refusal(fakeJwt(claims), missing), 'accepted');
  });

  it('accepts a right token, and one replacing a token that is not what is asked for now', () => {
    assert.equal(refusal(fakeJwt(GOOD), currentJwt), 'accepted');
    const otherAudience = onDisk(fakeJwt({ ...GOOD, aud: 'https://old.example', exp: T + 5000 }));
    assert.equal(refusal(fakeJwt(GOOD), otherAudience), 'accepted');
  });

  it('never accepts what discovery would refuse: 70 KB and 1 MB tokens, a token of exactly 64 KiB (plus its newline)', () => {
    const big = (bytes: number) => `${fakeJwt(GOOD)}${'A'.repeat(bytes)}`.slice(0, bytes);
    for (const size of [70_000, 1024 * 1024, 64 * 1024]) {
      assert.match(refusal(big(size), missing), /more than a token file may hold \(64 KiB\): not written/, String(size));
    }
    assert.equal(refusal(`${OPAQUE}${'x'.repeat(64 * 1024 - 1 - OPAQUE.length)}`, missing), 'accepted');
  });
});

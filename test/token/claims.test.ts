import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
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

  describe('decodes a payload exactly as jose\'s decodeJwt does', () => {
    const b64u = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
    /** Our payload, or undefined where decodeClaims calls the token opaque; jose's, or undefined where it throws. */
    const ours = (payload: string) => { const c = decodeClaims(`eyJhbGciOiJub25lIn0.${payload}.c2ln`); return c.format === 'jwt' ? c.payload : undefined; };
    const jose = (payload: string) => { try { return decodeJwt(`eyJhbGciOiJub25lIn0.${payload}.c2ln`); } catch { return undefined; } };
    const same = (payload: string) => assert.deepEqual(ours(payload), jose(payload), JSON.stringify(payload));

    it('on padding, whitespace, the alphabet and the JSON inside', () => {
      const cases = [
        'e30', 'e30=', 'e30==', 'e30===', 'e3=0', '=e30', 'e3 0', ' e30\n', 'e3\t0\f', '\r', '', ' ', 'e', 'e3', 'e30=\n', 'e30 =',
        '+30', 'e/0', 'e\u00e90', b64u('[]'), b64u('null'), b64u('1'), b64u('"s"'), b64u('{"a":1}x'), b64u('{"n":"\u00e9\u{1F600}"}'),
        b64u('\ufeff{"bom":true}'), b64u('\ufeff\ufeff{}'), b64u(Buffer.from([0x7b, 0xff, 0x7d])), b64u(Buffer.from([0xc0, 0xaf])),
        b64u(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), b64u('{"a":{"b":[1,2,{"c":null}]}}'), `${b64u('{}')}==`, b64u(' {} '),
        // Each refused by jose and decodable by a lenient decoder: invalid UTF-8 in a string, the
        // base64 alphabet's '+' for '-', a lone character after whole groups of four.
        b64u(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')])), b64u('{"x":"~~~"}').replace('-', '+'), `${b64u('{"abc":1}')}A`,
      ];
      for (const payload of cases) same(payload);
      assert.deepEqual(ours(b64u('{"n":"\u00e9"}')), { n: '\u00e9' });
      assert.equal(ours(b64u(Buffer.from([0x7b, 0xff, 0x7d]))), undefined);
      assert.deepEqual(ours(b64u('{"x":"~~~"}')), { x: '~~~' });
    });

    it('on 5,000 generated payloads', () => {
      let seed = 13;
      const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
      const pick = (chars: string, length: number) => Array.from({ length }, () => chars[random(chars.length)]).join('');
      const values = ['{}', '{"a":1}', '[1]', 'null', '"x"', '{"s":"\u00e9"}', '\ufeff{}', '{"a":'];
      for (let i = 0; i < 5000; i++) {
        const kind = random(3);
        if (kind === 0) same(pick('e30ab_-+/= \n\t{}', random(13)));
        else if (kind === 1) same(b64u(Buffer.from(Array.from({ length: random(7) }, () => random(256)))));
        else {
          // A valid encoding, then a character inserted or dropped, or padding added.
          const encoded = b64u(values[random(values.length)]!);
          const at = random(encoded.length + 1);
          same([encoded.slice(0, at) + pick('= \n_-+A', random(3)) + encoded.slice(at), encoded.slice(0, at) + encoded.slice(at + 1), `${encoded}${'='.repeat(random(4))}`][random(3)]!);
        }
      }
    });
  });
});

// One redact function for every message that quotes what a source printed: every token-like run,
// whatever its alphabet, and whatever follows Bearer, access_token, token= or X-Vault-Token;
// paths, host names and words stay readable.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { redact } from '../../lib/sources/source.js';
import { runTokenenvAsync } from '../support/cli.js';
import { assertNoSecret, fakeJwt, Sandbox } from '../support/sandbox.js';

// Deterministic "random" bytes: the heuristic part of redaction misses a small, measured share of
// random tokens (README), so a test on fresh randomness would flake now and then.
let counter = 0;
function randomBytes(n: number): Buffer {
  const chunks: Buffer[] = [];
  while (Buffer.concat(chunks).length < n) chunks.push(createHash('sha256').update(`redaction test ${counter++}`).digest());
  return Buffer.concat(chunks).subarray(0, n);
}
const b64url = (n: number) => randomBytes(n).toString('base64url');
const SECRETS: [string, () => string][] = [
  ['a JWT', () => fakeJwt({ sub: 'x', exp: 1 })],
  ['a Vault token (hvs.)', () => `hvs.CAESI${b64url(60)}`],
  ['a legacy Vault token (s.)', () => `s.${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`],
  ['a Google token (ya29.)', () => `ya29.a0${b64url(120)}`],
  ['standard base64 with + and /', () => randomBytes(48).toString('base64')],
  ['a hex key', () => randomBytes(20).toString('hex')],
  ['a GitHub-style token', () => `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'Q')}`],
];
// Shapes a failing source prints the secret in.
const SHAPES: [string, (s: string) => string][] = [
  ['bare', (s) => `error: got ${s} from the server`],
  ['Bearer', (s) => `> Authorization: Bearer ${s}`],
  ['access_token JSON', (s) => `{"access_token":"${s}","token_type":"Bearer"}`],
  ['escaped JSON', (s) => `{\\"access_token\\": \\"${s}\\"}`],
  ['token=', (s) => `GET /v1/auth?token=${s}&x=1`],
  ['X-Vault-Token', (s) => `X-Vault-Token: ${s}`],
  ['refresh_token=', (s) => `refresh_token=${s}`],
];

describe('redaction', () => {
  for (const [what, make] of SECRETS) {
    it(`redacts ${what} in every shape (${SHAPES.length})`, () => {
      for (const [shape, wrap] of SHAPES) {
        for (let i = 0; i < 20; i++) {
          const secret = make();
          const out = redact(wrap(secret));
          assert.ok(out.includes('[redacted]'), `${shape}: ${out}`);
          assertNoSecret(out, secret, `${what} as ${shape}`);
        }
      }
    });
  }

  it('redacts short values after the keywords, whatever they are', () => {
    assert.equal(redact('Authorization: Bearer abc'), 'Authorization: Bearer [redacted]');
    assert.equal(redact('X-Vault-Token: s.1234'), 'X-Vault-Token: [redacted]');
    assert.equal(redact('url?token=xyz&a=1'), 'url?token=[redacted]&a=1');
    assert.equal(redact('password: hunter2, user: bob'), 'password: [redacted], user: bob');
  });

  it('keeps paths, host names, URLs and words readable', () => {
    for (const text of [
      '/tmp/bt_u1000-tokenenv-default: does not exist',
      '/home/alice/.config/tokenenv/config.ini line 3',
      'cannot reach https://iam-escape.cloud.cnaf.infn.it/token: ECONNREFUSED',
      'ce01-condor-htcondor-9619.example.org: InternalServerError',
      'temporarily_unavailable (AuthenticationFailedException)',
      '/usr/lib/python3.11/site-packages/htgettoken/__init__.py',
      'audience https://wlcg.cern.ch/jwt/v1/any at 2026-11-21T23:50:01Z',
    ]) {
      assert.equal(redact(text), text);
    }
  });

  it('a failing source\'s stderr, through tokenenv refresh: no secret in any output', async () => {
    const box = new Sandbox();
    try {
      const secrets = SECRETS.map(([, make]) => make());
      const stderr = SHAPES.map(([, wrap], i) => wrap(secrets[i % secrets.length]!)).concat(secrets.map((s) => `plain ${s}`)).join('\n');
      box.write('stderr.txt', `${stderr}\n`);
      const script = box.write('fail.sh', `#!/bin/sh\ncat ${box.path('stderr.txt')} >&2\nexit 2\n`, 0o755);
      box.write('config.ini', `[account a]\ncommand = ${script}\n[token t]\naccount = a\ntoken_path = ${box.path('t.token')}\n`);
      for (const tail of [1, 3]) {
        // The excerpt keeps the last three lines: move each secret to the end once.
        if (tail === 3) box.write('stderr.txt', `${secrets.map((s) => `Bearer ${s}\n${s}`).join('\n')}\n`);
        const run = await runTokenenvAsync(['refresh', '--config', box.path('config.ini'), '--json'], { env: { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') } });
        assert.equal(run.status, 1);
        assert.match(JSON.parse(run.stdout)[0].detail, /exited with status 2: .*\[redacted\]/);
        for (const secret of secrets) assertNoSecret(run.stdout + run.stderr, secret);
      }
    } finally {
      box.remove();
    }
  });
});

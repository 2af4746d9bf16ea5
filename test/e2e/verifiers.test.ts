// Three independent verifiers of a token's signature and lifetime against its issuer's published
// keys: `tokenenv inspect --verify` (jose), scitokens-cpp's `scitokens-verify` and python
// scitokens (SciToken.deserialize, PyJWT). They must agree on valid, tampered, forged,
// unknown-key and expired tokens from an HTTPS issuer on loopback.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { runTokenenvAsync } from '../support/cli.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { run } from '../support/run.js';
import { issuerTrustUnavailable, makeTrustDir, scitokensVerify } from '../support/scitokens.js';
import { startSigningIssuer, type SigningIssuer } from '../support/signing-issuer.js';

const PYTHON = '/opt/peers/scitokens/bin/python';
// The token on stdin, never in argv; prints "valid" or the exception's class.
const PY_VERIFY = `import sys, scitokens
try:
    scitokens.SciToken.deserialize(sys.stdin.read().strip())
    print("valid")
except Exception as e:
    print(type(e).__name__)
`;

type Verdict = { valid: boolean; why: string };

describe('e2e: three verifiers agree (tokenenv inspect --verify, scitokens-verify, python scitokens)', function () {
  this.timeout(60_000);
  let work: string;
  let pki: TestPki;
  let issuer: SigningIssuer;
  let trustDir: string;
  let cases: Array<[string, string, boolean]>;

  before(async function () {
    requireCommands(this, 'scitokens-verify', 'openssl', 'unshare');
    requirePeer(this, existsSync(PYTHON), `python scitokens is not installed at ${PYTHON} (see ../shared/peers/README.md)`);
    const unavailable = issuerTrustUnavailable();
    requirePeer(this, unavailable === undefined, unavailable ?? '');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-verifiers-'));
    pki = createTestPki(join(work, 'pki'));
    issuer = await startSigningIssuer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) });
    trustDir = makeTrustDir(join(work, 'trust'), [pki.caCert]);
    const now = Math.floor(Date.now() / 1000);
    const valid = await issuer.sign({ aud: 'https://se.example.org' });
    const [header, payload, signature] = valid.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'storage.modify:/' })).toString('base64url');
    const { privateKey: stranger } = await generateKeyPair('ES256');
    const unknownKey = await new SignJWT({ scope: 'storage.read:/', 'wlcg.ver': '1.0', sub: 'x' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'not-published' }).setIssuer(issuer.url).setIssuedAt(now).setExpirationTime(now + 600).sign(stranger);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    cases = [
      ['valid', valid, true],
      ['tampered (payload changed, signature kept)', `${header}.${widened}.${signature}`, false],
      ['forged (signed by another key under the issuer\'s key id)', await issuer.sign({}, { unpublishedKey: true }), false],
      ['forged (alg none, no signature)', unsigned, false],
      ['signed with a key id the issuer does not publish', unknownKey, false],
      ['expired', await issuer.sign({ iat: now - 900, nbf: now - 900, exp: now - 300 }), false],
    ];
  });

  after(async () => {
    await issuer?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const tokenenv = async (token: string): Promise<Verdict> => {
    const r = await runTokenenvAsync(['inspect', '-', '--verify'], { input: token, env: { NODE_EXTRA_CA_CERTS: pki.caCert, HOME: work } });
    return { valid: r.status === 0, why: `exit ${r.status}: ${/^Signature +(.*)$/m.exec(r.stdout)?.[1] ?? r.stderr}` };
  };
  const cpp = async (token: string, i: number): Promise<Verdict> => {
    const v = await scitokensVerify(token, { trustDir, cacheDir: join(work, `cpp-cache-${i}`) });
    return { valid: v.valid, why: v.output };
  };
  const python = async (token: string, i: number): Promise<Verdict> => {
    const r = await run([PYTHON, '-c', PY_VERIFY], { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', SSL_CERT_FILE: pki.caCert, XDG_CACHE_HOME: join(work, `py-cache-${i}`), HOME: work }, undefined, 30_000, token);
    return { valid: r.stdout.trim() === 'valid', why: (r.stdout + r.stderr).trim().split('\n').pop() ?? '' };
  };

  it('each case: all three give the same verdict, the expected one', async () => {
    const disagreements: string[] = [];
    for (const [i, [name, token, expected]] of cases.entries()) {
      const verdicts = { tokenenv: await tokenenv(token), 'scitokens-verify': await cpp(token, i), 'python scitokens': await python(token, i) };
      for (const [who, v] of Object.entries(verdicts)) {
        if (v.valid !== expected) disagreements.push(`${name}: ${who} says ${v.valid ? 'valid' : 'not valid'} (${v.why})`);
      }
    }
    assert.deepEqual(disagreements, []);
  });
});

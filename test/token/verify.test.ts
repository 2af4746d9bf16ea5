// `tokenenv inspect --verify` against a real issuer's keys, and `--for`: would an endpoint
// accept the token for an operation.
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { decodeClaims } from '../../lib/index.js';
import { wouldAccept } from '../../lib/token/acceptance.js';
import { runTokenenvAsync } from '../support/cli.js';
import { assertNoSecret, fakeJwt } from '../support/sandbox.js';

const CE = 'ce1.example.org:9619';

async function clientCredentials(issuer: DemoIssuer, audience: string, scope: string): Promise<string> {
  const response = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('v:v-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience, scope }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const inspect = (token: string, ...args: string[]) => runTokenenvAsync(['inspect', '-', ...args], { input: token });

describe('inspect --verify and --for', function () {
  this.timeout(30_000);
  let issuer: DemoIssuer;
  let shortLived: DemoIssuer;

  before(async () => {
    const clients = [{ clientId: 'v', clientSecret: 'v-secret', scopes: ['compute.create', 'compute.read', 'storage.read:/data'] }];
    issuer = await startDemoIssuer({ clients });
    shortLived = await startDemoIssuer({ clients, accessTokenLifetime: 1 });
  });
  after(async () => {
    await issuer?.close();
    await shortLived?.close();
  });

  it('a token signed by its issuer: valid, with the key and the JWKS it was checked against', async () => {
    const token = await clientCredentials(issuer, CE, 'compute.create');
    const run = await inspect(token, '--verify');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^Signature +valid \\(ES256, key \\S+\\), checked against ${issuer.jwksUri.replace(/[.]/g, '\\.')}$`, 'm'));
    assertNoSecret(run.stdout + run.stderr, token);
  });

  it('a tampered payload: signature not valid, exit 4', async () => {
    const token = await clientCredentials(issuer, CE, 'compute.read');
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'compute.read compute.create' })).toString('base64url')}.${signature}`;
    const run = await inspect(forged, '--verify');
    assert.equal(run.status, 4);
    assert.match(run.stdout, /^Signature +NOT VALID: the signature does not match: the token was altered/m);
  });

  it('a key the issuer does not publish: not valid, exit 4', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ scope: 'compute.create', aud: CE }).setProtectedHeader({ alg: 'ES256', kid: 'not-published' })
      .setIssuer(issuer.url).setIssuedAt(now).setExpirationTime(now + 600).sign(privateKey);
    const run = await inspect(token, '--verify');
    assert.equal(run.status, 4);
    assert.match(run.stdout, /NOT VALID: no key of http:\/\/127\.0\.0\.1:\d+ matches the token's key id \(not-published\)/);
  });

  it('an expired token: exit 5', async () => {
    const token = await clientCredentials(shortLived, CE, 'compute.read');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const run = await inspect(token, '--verify');
    assert.equal(run.status, 5);
    assert.match(run.stdout, /NOT VALID: the token has expired/);
  });

  // Issue 10.14: an issuer out of reach says nothing about the signature: "cannot verify", exit 6.
  it('an unreachable issuer: CANNOT VERIFY (not "not valid"), exit 6, code ERR_VERIFY_UNAVAILABLE', async () => {
    const token = fakeJwt({ iss: 'http://127.0.0.1:1/', exp: Math.floor(Date.now() / 1000) + 60 });
    const run = await inspect(token, '--verify');
    assert.equal(run.status, 6);
    assert.match(run.stdout, /^Signature +CANNOT VERIFY, not checked: cannot read the OpenID configuration of http:\/\/127\.0\.0\.1:1\//m);
    assert.ok(!run.stdout.includes('NOT VALID'));
    const json = JSON.parse((await inspect(token, '--verify', '--json')).stdout);
    assert.deepEqual([json.verification.ok, json.verification.code, json.verification.kind], [false, 'ERR_VERIFY_UNAVAILABLE', 'unreachable']);
  });

  it('keys out of reach (the JWKS endpoint refuses connections): CANNOT VERIFY, exit 6', async () => {
    const { createServer } = await import('node:http');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `http://127.0.0.1:${deadPort}/jwks` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const run = await inspect(fakeJwt({ iss: url, exp: Math.floor(Date.now() / 1000) + 60 }), '--verify');
      assert.equal(run.status, 6, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`CANNOT VERIFY, not checked: cannot read the issuer's keys at http://127\\.0\\.0\\.1:${deadPort}/jwks`));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('--for: audience and the scope an operation needs', async () => {
    const token = await clientCredentials(issuer, CE, 'compute.read');
    let run = await inspect(token, '--for', 'ce1.example.org', '--op', 'condor_q');
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /^For +ce1\.example\.org \(condor_q\): accepted$/m);
    run = await inspect(token, '--for', CE, '--op', 'condor_submit');
    assert.equal(run.status, 4);
    assert.match(run.stdout, /REFUSED\n +ok: audience ce1\.example\.org:9619 names ce1\.example\.org:9619\n +no: scope compute\.create is missing \(the token has: compute\.read\)/);
    run = await inspect(token, '--for', 'ce2.example.org:9619');
    assert.equal(run.status, 4);
    assert.match(run.stdout, /no: audience ce1\.example\.org:9619 does not name ce2\.example\.org:9619/);
  });

  it('wouldAccept: the any audience, path-prefixed storage scopes, SciTokens scopes', () => {
    const claims = decodeClaims(fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', 'wlcg.ver': '1.0', scope: 'storage.read:/data storage.modify:/data/user read:/store' }));
    assert.ok(claims.format === 'jwt');
    const check = (operation: string) => wouldAccept(claims, 'https://se.example:1094', operation).accepted;
    assert.ok(check('storage.read:/data/run1/file'));
    assert.ok(!check('storage.read:/database'));
    assert.ok(check('storage.create:/data/user/x'), 'storage.modify implies storage.create');
    assert.ok(!check('storage.modify:/data'));
    assert.ok(check('read:/store/mc'));
    const url = decodeClaims(fakeJwt({ aud: 'https://se.example:1094' }));
    assert.ok(url.format === 'jwt' && wouldAccept(url, 'https://se.example:1094/path').audience.ok);
    const scitoken = decodeClaims(fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'read:/' }));
    assert.ok(scitoken.format === 'jwt' && !wouldAccept(scitoken, 'https://se.example:1094').audience.ok, 'the any audience counts only in WLCG-profile tokens');
  });
});

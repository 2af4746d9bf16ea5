// `inspect --verify` fetches the issuer's OpenID configuration and JWKS through lib/net: the
// answers are bounded (issue 12 item 7) and a site CA is trusted through X509_CERT_DIR (issue 9
// item 4).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { request } from '../../lib/net/http.js';
import { siteTrust } from '../../lib/net/trust.js';
import { runTokenenvAsync } from '../support/cli.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { fakeJwt, Sandbox } from '../support/sandbox.js';

function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, ' ');
  const more = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  more();
}

const inspect = (token: string, env: Record<string, string> = {}) => runTokenenvAsync(['inspect', '-', '--verify'], { input: token, env });

describe('inspect --verify: bounded answers, site CAs', function () {
  this.timeout(60_000);

  describe('an issuer that streams without end', () => {
    let server: Server;
    let base: string;
    before(async () => {
      server = createServer((req, res) => {
        if (req.url === '/keys/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: `${base}/keys`, jwks_uri: `${base}/jwks` }));
        endless(res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const now = Math.floor(Date.now() / 1000);

    it('its OpenID configuration is cut and reported with the URL', async () => {
      const run = await inspect(fakeJwt({ iss: `${base}/meta`, iat: now, exp: now + 600 }));
      assert.notEqual(run.status, 0);
      assert.match(run.stdout, new RegExp(`CANNOT VERIFY, not checked: cannot read the OpenID configuration of ${base}/meta \\(${base}/meta/\\.well-known/openid-configuration\\): the answer is larger than 1 MiB: refused`));
    });

    it('its JWKS is cut and reported with the URL', async () => {
      const run = await inspect(fakeJwt({ iss: `${base}/keys`, iat: now, exp: now + 600 }));
      assert.notEqual(run.status, 0);
      assert.match(run.stdout, new RegExp(`CANNOT VERIFY, not checked: cannot read the issuer's keys at ${base}/jwks: the answer is larger than 1 MiB: refused`));
    });
  });

  describe('an https issuer signed by a site CA', () => {
    let box: Sandbox;
    let pki: TestPki;
    let issuer: DemoIssuer;
    let token: string;
    before(async () => {
      box = new Sandbox();
      pki = createTestPki(box.path('pki'));
      issuer = await startDemoIssuer({
        tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
        clients: [{ clientId: 'v', clientSecret: 'v-secret', scopes: ['compute.read'] }],
      });
      const answer = await request(issuer.tokenEndpoint, {
        method: 'POST', timeoutMs: 10_000, trust: siteTrust({ X509_CERT_DIR: pki.caDir }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('v:v-secret').toString('base64')}` },
        body: 'grant_type=client_credentials&scope=compute.read',
      });
      token = (JSON.parse(answer.body) as { access_token: string }).access_token;
    });
    after(async () => {
      await issuer?.close();
      box?.remove();
    });

    it('not trusted: names the host and X509_CERT_DIR; trusted through X509_CERT_DIR', async () => {
      const untrusted = await inspect(token);
      assert.notEqual(untrusted.status, 0);
      assert.match(untrusted.stdout, new RegExp(`the certificate of ${new URL(issuer.url).host} is not signed by a trusted CA \\(\\w+\\): set X509_CERT_DIR`));
      const trusted = await inspect(token, { X509_CERT_DIR: pki.caDir });
      assert.equal(trusted.status, 0, trusted.stdout + trusted.stderr);
      assert.match(trusted.stdout, /^Signature +valid \(ES256/m);
    });
  });
});

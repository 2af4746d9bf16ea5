// The client-credentials source's HTTP: bounded answers (issue 12 item 7) and site CAs (issue 9
// item 4), through `tokenenv refresh` against the demo issuer over https and against loopback
// servers that stream without end.
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import type { AccountConfig } from '../../lib/config/config.js';
import { ClientCredentialsSource } from '../../lib/sources/client-credentials.js';
import { forgetKnownEndpoints } from '../../lib/sources/issuer-endpoints.js';
import { runTokenenvAsync } from '../support/cli.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { Sandbox } from '../support/sandbox.js';

const CLIENT = { clientId: 'robot', clientSecret: 'robot-secret-5e0d3c' };

/** Writes 64 KiB chunks until the client goes away. */
function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, ' ');
  const more = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"token_endpoint":"');
  more();
}

/** A JWT-shaped token (unsigned: refresh checks claims, not signatures) valid for 20 minutes. */
function grantedJwt(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part({ aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'storage.read:/', iat: now, exp: now + 1200 })}.${'s'.repeat(86)}`;
}

describe('client-credentials over HTTP(S)', function () {
  this.timeout(60_000);
  let box: Sandbox;
  let env: Record<string, string>;

  beforeEach(() => {
    box = new Sandbox();
    chmodSync(box.xdg, 0o700);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') };
  });
  afterEach(() => box.remove());

  const tokenPath = () => box.path('t.token');
  function configure(account: string): void {
    box.write('config.ini', `[account robot]\n${account}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}\n\n` +
      `[token t]\naccount = robot\ntoken_path = ${tokenPath()}\nscope = storage.read:/\n`);
  }
  const refresh = (extraEnv: Record<string, string> = {}) =>
    runTokenenvAsync(['refresh', '--config', box.path('config.ini')], { env: { ...env, ...extraEnv } });

  describe('an endless answer is cut and reported with its URL', () => {
    let server: Server;
    let base: string;
    before(async () => {
      server = createServer((_req, res) => endless(res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('from the token endpoint', async () => {
      configure(`token_request_url = ${base}/token`);
      const run = await refresh();
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`${base}/token: the answer is larger than 1 MiB: refused`));
    });

    it("from the issuer's OpenID configuration", async () => {
      configure(`issuer = ${base}`);
      const run = await refresh();
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`cannot read the issuer's OpenID configuration: ${base}/\\.well-known/openid-configuration: the answer is larger than 1 MiB: refused`));
    });
  });

  it('an issuer that answers the OpenID configuration but never the grant: the timeout holds for both together', async () => {
    let base = '';
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        setTimeout(() => res.end(JSON.stringify({ token_endpoint: `${base}/token` })), 600);
      }
      // /token: never answered
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      configure(`issuer = ${base}\ntimeout = 1`);
      const started = Date.now();
      const run = await refresh();
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`${base}/token: no complete answer within 0\\.\\d s`));
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe("the token endpoint from the issuer's OpenID configuration, once per process", () => {
    let server: Server;
    let base: string;
    let discoveries: number;
    let grants: number;
    let planted: number;
    /** Where the configuration points; the other endpoint answers 404. */
    let endpoint: string;
    before(async () => {
      server = createServer((req, res) => {
        if (req.url === '/.well-known/openid-configuration') {
          discoveries++;
          return res.end(JSON.stringify({ issuer: base, token_endpoint: `${base}${endpoint}` }));
        }
        if (req.url === '/planted') planted++;
        if (req.method === 'POST' && req.url === endpoint) {
          grants++;
          req.resume();
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify({ access_token: grantedJwt(), token_type: 'bearer', expires_in: 1200 }));
        }
        res.statusCode = 404;
        res.end('{"error":"not_found"}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    beforeEach(() => {
      discoveries = 0;
      grants = 0;
      planted = 0;
      endpoint = '/token-a';
      forgetKnownEndpoints();
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('a refresh of three tokens of one account reads the configuration once', async () => {
      box.write('config.ini', `[account robot]\nissuer = ${base}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}\n\n` +
        [1, 2, 3].map((n) => `[token t${n}]\naccount = robot\ntoken_path = ${box.path(`t${n}.token`)}\nscope = storage.read:/\n`).join('\n'));
      const run = await refresh();
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(grants, 3);
      assert.equal(discoveries, 1);
    });

    const issuersDir = () => box.path('xdg', 'tokenenv', 'issuers');
    const remembered = () => {
      const names = readdirSync(issuersDir());
      assert.equal(names.length, 1, names.join(' '));
      return `${issuersDir()}/${names[0]}`;
    };

    it('another refresh process uses the endpoint remembered in the private state directory (0600)', async () => {
      configure(`issuer = ${base}`);
      assert.equal((await refresh()).status, 0);
      assert.equal(statSync(remembered()).mode & 0o777, 0o600);
      const again = await runTokenenvAsync(['refresh', '--force', '--config', box.path('config.ini')], { env });
      assert.equal(again.status, 0, again.stdout + again.stderr);
      assert.deepEqual({ discoveries, grants }, { discoveries: 1, grants: 2 });
    });

    it('a remembered endpoint is believed only as tokenenv wrote it: not writable by others, and naming this issuer', async () => {
      configure(`issuer = ${base}`);
      const force = () => runTokenenvAsync(['refresh', '--force', '--config', box.path('config.ini')], { env });
      assert.equal((await refresh()).status, 0);
      const file = remembered();
      const entry = JSON.parse(readFileSync(file, 'utf8')) as { issuer: string; until: number };
      writeFileSync(file, JSON.stringify({ ...entry, token_endpoint: `${base}/planted` }));
      chmodSync(file, 0o666);
      assert.equal((await force()).status, 0);
      writeFileSync(file, JSON.stringify({ ...entry, issuer: `${base}/other`, token_endpoint: `${base}/planted` }));
      chmodSync(file, 0o600);
      assert.equal((await force()).status, 0);
      assert.deepEqual({ discoveries, grants, planted }, { discoveries: 3, grants: 3, planted: 0 });
    });

    it('a failed grant removes the remembered endpoint: the next process reads the configuration again', async () => {
      configure(`issuer = ${base}`);
      const force = () => runTokenenvAsync(['refresh', '--force', '--config', box.path('config.ini')], { env });
      assert.equal((await refresh()).status, 0);
      endpoint = '/token-b';
      const failed = await force();
      assert.equal(failed.status, 1, failed.stdout + failed.stderr);
      assert.match(failed.stdout, /\/token-a answered HTTP 404/);
      assert.deepEqual(readdirSync(issuersDir()), []);
      assert.equal((await force()).status, 0);
      assert.deepEqual({ discoveries, grants }, { discoveries: 2, grants: 2 });
    });

    it('a failed grant forgets the endpoint: the next one reads the configuration again, and follows an endpoint that moved', async () => {
      const account: AccountConfig = { name: 'robot', type: 'client-credentials', issuer: `${base}/`, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, timeout: 10 };
      const context = { env: {}, timeoutMs: 10_000 };
      const fetch = () => new ClientCredentialsSource(account).fetch({ scope: 'storage.read:/' }, context);
      assert.match(await fetch(), /^eyJ/);
      assert.match(await fetch(), /^eyJ/);
      assert.equal(discoveries, 1, 'the second grant used the endpoint already read');
      endpoint = '/token-b';
      await assert.rejects(fetch(), /\/token-a answered HTTP 404/);
      assert.match(await fetch(), /^eyJ/);
      assert.deepEqual({ discoveries, grants }, { discoveries: 2, grants: 3 });
    });
  });

  describe('an https issuer signed by a site CA', () => {
    let pki: TestPki;
    let pkiBox: Sandbox;
    let issuer: DemoIssuer;
    before(async () => {
      pkiBox = new Sandbox();
      pki = createTestPki(pkiBox.path('pki'));
      issuer = await startDemoIssuer({
        tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
        clients: [{ ...CLIENT, scopes: ['storage.read:/'] }],
      });
    });
    after(async () => {
      await issuer?.close();
      pkiBox?.remove();
    });

    it('not trusted: the error names the host and says which of X509_CERT_DIR, ca_file, ca_dir to set', async () => {
      configure(`issuer = ${issuer.url}`);
      const run = await refresh();
      assert.equal(run.status, 1, run.stdout + run.stderr);
      const host = new URL(issuer.url).host;
      assert.match(run.stdout, new RegExp(`the certificate of ${host.replace(/[.[\]]/g, '\\$&')} is not signed by a trusted CA \\(\\w+\\): ` +
        'set X509_CERT_DIR to a directory with its CA \\(hashed, like /etc/grid-security/certificates\\), or ca_file / ca_dir in \\[account robot\\]'));
    });

    it('trusted through X509_CERT_DIR', async () => {
      configure(`issuer = ${issuer.url}`);
      const run = await refresh({ X509_CERT_DIR: pki.caDir });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(readFileSync(tokenPath(), 'utf8'), /^eyJ/);
    });

    it('trusted through the account\'s ca_file, or its ca_dir', async () => {
      configure(`issuer = ${issuer.url}\nca_file = ${pki.caCert}`);
      const file = await refresh();
      assert.equal(file.status, 0, file.stdout + file.stderr);
      configure(`token_request_url = ${issuer.tokenEndpoint}\nca_dir = ${pki.caDir}`);
      const dir = await runTokenenvAsync(['refresh', '--force', '--config', box.path('config.ini')], { env });
      assert.equal(dir.status, 0, dir.stdout + dir.stderr);
    });
  });
});

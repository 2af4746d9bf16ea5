// lib/net/trust.ts: site CAs (X509_CERT_DIR, an account's ca_file / ca_dir) for https calls,
// against a loopback https server signed by a throwaway test CA that Node does not trust.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpError, request } from '../../lib/net/http.js';
import { siteTrust } from '../../lib/net/trust.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { Sandbox } from '../support/sandbox.js';

async function failsWith(promise: Promise<unknown>, failure: string): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpError, `not an HttpError: ${(error as Error).stack}`);
    assert.equal(error.failure, failure, error.message);
    return error;
  }
  assert.fail(`expected a '${failure}' failure, got an answer`);
}

describe('lib/net/trust: site CAs for https', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let pki: TestPki;
  let server: Server;
  let plain: HttpServer;
  let url: string;
  let host: string;
  let plainUrl: string;

  before(async () => {
    box = new Sandbox();
    pki = createTestPki(box.path('pki'));
    server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
      if (req.url === '/to-http') {
        res.writeHead(302, { location: `${plainUrl}/` });
        res.end();
        return;
      }
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    url = `https://${host}/.well-known/openid-configuration`;
    plain = createHttpServer((_req, res) => res.end('{"plain":true}'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    plain.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => plain.close(resolve));
    box.remove();
  });

  it('a CA nobody set: the error names the host and what to set', async () => {
    const plainNode = await failsWith(request(url, { timeoutMs: 5000, trust: siteTrust({}) }), 'untrusted');
    assert.match(plainNode.message, new RegExp(`^the certificate of ${host} is not signed by a trusted CA \\(\\w+\\): set X509_CERT_DIR to a directory with its CA`));
    const account = await failsWith(request(url, { timeoutMs: 5000, trust: siteTrust({}, { name: 'robot' }) }), 'untrusted');
    assert.match(account.message, /set X509_CERT_DIR to a directory with its CA \(hashed, like \/etc\/grid-security\/certificates\), or ca_file \/ ca_dir in \[account robot\]$/);
  });

  it('X509_CERT_DIR (a hashed directory) is trusted besides Node\'s CAs', async () => {
    const answer = await request(url, { timeoutMs: 5000, trust: siteTrust({ X509_CERT_DIR: pki.caDir }) });
    assert.equal(answer.body, '{"ok":true}');
  });

  it('an account\'s ca_file, or its ca_dir', async () => {
    assert.equal((await request(url, { timeoutMs: 5000, trust: siteTrust({}, { name: 'robot', caFile: pki.caCert }) })).status, 200);
    const dir = box.path('ca-dir');
    mkdirSync(dir);
    execFileSync('cp', [pki.caCert, `${dir}/site-ca.pem`]);
    assert.equal((await request(url, { timeoutMs: 5000, trust: siteTrust({}, { name: 'robot', caDir: dir }) })).status, 200);
  });

  it('an X509_CERT_DIR that does not exist is skipped; a configured ca_file that cannot be used is named', async () => {
    await failsWith(request(url, { timeoutMs: 5000, trust: siteTrust({ X509_CERT_DIR: box.path('nowhere') }) }), 'untrusted');
    const missing = await failsWith(request(url, { timeoutMs: 5000, trust: siteTrust({}, { name: 'robot', caFile: box.path('none.pem') }) }), 'trust');
    assert.equal(missing.message, `ca_file of [account robot] ${box.path('none.pem')}: cannot read (ENOENT)`);
    execFileSync('mkfifo', [box.path('fifo.pem')]);
    const fifo = await failsWith(request(url, { timeoutMs: 5000, trust: siteTrust({}, { name: 'robot', caFile: box.path('fifo.pem') }) }), 'trust');
    assert.match(fifo.message, /fifo\.pem: not a regular file$/);
  });

  it('a redirect from https to http is refused', async () => {
    const error = await failsWith(request(`https://${host}/to-http`, { timeoutMs: 5000, trust: siteTrust({ X509_CERT_DIR: pki.caDir }) }), 'redirect');
    assert.match(error.message, /refusing to leave https for http$/);
  });
});

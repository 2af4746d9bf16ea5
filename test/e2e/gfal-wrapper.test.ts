// End to end: the real gfal-ls and gfal-copy (gfal2 over https) through the shell wrappers,
// against the recording WebDAV stand-in: each request's Authorization is the token tokenenv keeps
// for that call (BEARER_TOKEN, trimmed), with the URL's audience and the operation's scope.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { gfalEnvironment, hasGfalPlugin } from '../support/gfal.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki } from '../support/pki.js';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-https.js';
import { SHELLS, ShellLab } from '../support/shell.js';
import { davStore, type DavStore } from '../support/webdav.js';

function authorizations(requests: RecordedRequest[]): string[] {
  return [...new Set(requests.map((r) => {
    const value = r.authorization[0];
    if (!value) return 'none';
    const m = /^Bearer (\S+)$/.exec(value);
    if (!m) return 'malformed';
    const { aud, scope } = decodeJwt(m[1]!);
    return `aud=${String(aud)} scope=${String(scope)}`;
  }))];
}

for (const shell of SHELLS) {
  describe(`e2e (${shell}): the real gfal2 clients through the wrappers (https)`, function () {
    this.timeout(60_000);
    let lab: ShellLab;
    let store: DavStore;
    let server: RecordingServer;
    let env: Record<string, string>;

    before(async function () {
      requireCommands(this, shell, 'gfal-ls', 'gfal-copy', 'openssl');
      requirePeer(this, hasGfalPlugin('http'), 'gfal2\'s http plugin is not installed (Debian gfal2-plugin-http)');
      lab = new ShellLab();
      const pki = createTestPki(lab.box.path('pki'));
      store = davStore({ '/data/hello.txt': 'hello from the store\n', '/upload/': '' });
      server = await startRecordingServer({ pki, fallback: store.handle });
      for (const client of ['gfal-ls', 'gfal-copy']) lab.unstub(client);
      const gfal = gfalEnvironment(lab.box.path('gfal'), pki);
      env = { X509_CERT_DIR: gfal.X509_CERT_DIR!, X509_USER_PROXY: gfal.X509_USER_PROXY!, ...(gfal.GFAL_PYTHONBIN ? { GFAL_PYTHONBIN: gfal.GFAL_PYTHONBIN } : {}) };
    });

    after(async () => {
      await server?.close();
      lab?.remove();
    });

    async function wrapped(body: string): Promise<RecordedRequest[]> {
      const before = server.requests.length;
      const run = await lab.run(shell, body, { env: { ...env, BEARER_TOKEN: 'users-own-token-value' } });
      assert.equal(run.status, 0, run.stderr);
      return server.requests.slice(before);
    }

    it('gfal-ls https://…/data/: every PROPFIND carries a read token for the server', async () => {
      const requests = await wrapped(`gfal-ls ${server.url}/data/`);
      assert.deepEqual(requests.map((r) => r.method), ['PROPFIND', 'PROPFIND']);
      assert.deepEqual(authorizations(requests), [`aud=${server.url} scope=storage.read:/`]);
      assert.ok(requests[0]!.authorization[0] === `Bearer ${lab.token(lab.tokenFile(server.url, 'read'))}`, 'not the kept token, trimmed');
    });

    it('gfal-copy https:// → file:// downloads with a read token; file:// → https:// uploads with a modify token', async function () {
      requirePeer(this, hasGfalPlugin('file'), 'gfal2\'s file plugin is not installed (Debian gfal2-plugin-file)');
      const local = lab.box.path(`copy-${shell}.txt`);
      const down = await wrapped(`gfal-copy -f ${server.url}/data/hello.txt file://${local}`);
      assert.equal(readFileSync(local, 'utf8'), 'hello from the store\n');
      assert.deepEqual(authorizations(down), [`aud=${server.url} scope=storage.read:/`]);
      writeFileSync(local, `uploaded from ${shell}\n`);
      const up = await wrapped(`gfal-copy file://${local} ${server.url}/upload/${shell}.txt`);
      assert.equal(store.files.get(`/upload/${shell}.txt`)?.toString(), `uploaded from ${shell}\n`);
      assert.deepEqual(authorizations(up), [`aud=${server.url} scope=storage.modify:/`]);
    });
  });
}

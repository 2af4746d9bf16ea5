// End to end: the real gfal2 clients (gfal-ls, gfal-copy over https) against a loopback WebDAV
// stand-in that records every request: which methods they use, and exactly which Authorization
// header they send for each way of giving them a token.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import { gfalEnvironment, hasGfalPlugin } from '../support/gfal.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki } from '../support/pki.js';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-https.js';
import { run, type Env, type RunResult } from '../support/run.js';
import { fakeJwt } from '../support/sandbox.js';
import { davStore, type DavStore } from '../support/webdav.js';
import { runTokenenvAsync } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';

const STORE_FILE = 'stored by the WebDAV stand-in\n';

/** Names an Authorization value by the token's claims, never by the token. */
function describeAuthorization(value: string): string {
  const match = /^Bearer (\S+)$/.exec(value);
  if (!match) return `${JSON.stringify(value.replace(/[A-Za-z0-9_-]{20,}/g, '<token>'))}`;
  const { aud, scope } = decodeJwt(match[1]!);
  return `Bearer aud=${String(aud)} scope=${String(scope)}`;
}

describe('e2e: the real gfal2 clients against a recording WebDAV stand-in', function () {
  this.timeout(60_000);
  let work: string;
  let store: DavStore;
  let server: RecordingServer;
  let env: Env;
  let token: string;
  let sent: string;

  before(async function () {
    requireCommands(this, 'gfal-ls', 'gfal-copy', 'openssl');
    requirePeer(this, hasGfalPlugin('http'), 'gfal2\'s http plugin is not installed (Debian gfal2-plugin-http)');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-gfal-'));
    const pki = createTestPki(join(work, 'pki'));
    store = davStore({ '/data/hello.txt': STORE_FILE, '/upload/': '' });
    server = await startRecordingServer({ pki, fallback: store.handle });
    env = gfalEnvironment(work, pki);
    token = fakeJwt({ iss: 'https://issuer.tokenenv.test', sub: 'gfal-e2e', aud: server.url, scope: 'storage.read:/ storage.modify:/upload', exp: Math.floor(Date.now() / 1000) + 1200 });
    sent = `Bearer aud=${server.url} scope=storage.read:/ storage.modify:/upload`;
  });

  after(async function () {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs a gfal command and returns its result with the requests it made. */
  async function gfal(argv: string[], extra: Env): Promise<{ result: RunResult; requests: RecordedRequest[] }> {
    const before = server.requests.length;
    const result = await run(argv, { ...env, ...extra });
    return { result, requests: server.requests.slice(before) };
  }
  const failed = (r: RunResult): string => `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr}`;
  const calls = (requests: RecordedRequest[]): string[] => requests.map((r) => `${r.method} ${r.path}${r.headers.depth ? ` depth ${r.headers.depth}` : ''}`);
  const authorizations = (requests: RecordedRequest[]): string[] => [...new Set(requests.flatMap((r) => r.authorization.length === 0 ? ['none'] : r.authorization.map(describeAuthorization)))];

  it('gfal-ls https://…/data/ sends BEARER_TOKEN with each PROPFIND', async () => {
    const { result, requests } = await gfal(['gfal-ls', `${server.url}/data/`], { BEARER_TOKEN: token });
    assert.equal(result.exitCode, 0, failed(result));
    assert.equal(result.stdout, 'hello.txt\n');
    assert.deepEqual(calls(requests), ['PROPFIND /data/ depth 0', 'PROPFIND /data/ depth 1']);
    assert.deepEqual(authorizations(requests), [sent]);
  });

  it('gfal-copy file:// → https:// uploads with BEARER_TOKEN', async function () {
    requirePeer(this, hasGfalPlugin('file'), 'gfal2\'s file plugin is not installed (Debian gfal2-plugin-file)');
    const local = join(work, 'local.txt');
    writeFileSync(local, 'uploaded by gfal-copy\n');
    const { result, requests } = await gfal(['gfal-copy', `file://${local}`, `${server.url}/upload/file.txt`], { BEARER_TOKEN: token });
    assert.equal(result.exitCode, 0, failed(result));
    assert.equal(store.files.get('/upload/file.txt')?.toString(), 'uploaded by gfal-copy\n');
    assert.deepEqual(calls(requests), [
      ...Array(3).fill(['PROPFIND /upload/file.txt depth 0', 'HEAD /upload/file.txt']).flat(), 'PUT /upload/file.txt']);
    assert.deepEqual(authorizations(requests), [sent]);
  });

  it('gfal-copy https:// → file:// downloads with BEARER_TOKEN', async function () {
    requirePeer(this, hasGfalPlugin('file'), 'gfal2\'s file plugin is not installed (Debian gfal2-plugin-file)');
    const local = join(work, 'downloaded.txt');
    const { result, requests } = await gfal(['gfal-copy', `${server.url}/data/hello.txt`, `file://${local}`], { BEARER_TOKEN: token });
    assert.equal(result.exitCode, 0, failed(result));
    assert.equal(readFileSync(local, 'utf8'), STORE_FILE);
    assert.deepEqual(calls(requests), ['PROPFIND /data/hello.txt depth 0', 'HEAD /data/hello.txt', 'GET /data/hello.txt']);
    assert.deepEqual(authorizations(requests), [sent]);
  });

  it('reads no token from BEARER_TOKEN_FILE or $XDG_RUNTIME_DIR/bt_u<uid>: asks the storage for a macaroon, then goes anonymous', async () => {
    const file = join(work, 'token-file');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    writeFileSync(join(env.XDG_RUNTIME_DIR!, `bt_u${process.geteuid!()}`), `${token}\n`, { mode: 0o600 });
    const { result, requests } = await gfal(['gfal-ls', `${server.url}/data/`], { BEARER_TOKEN_FILE: file });
    assert.equal(result.exitCode, 0, failed(result));
    assert.deepEqual(authorizations(requests), ['none']);
    const macaroon = requests.filter((r) => r.method === 'POST');
    assert.ok(macaroon.length > 0, `no macaroon request: ${calls(requests).join(', ')}`);
    assert.equal(macaroon[0]!.headers['content-type'], 'application/macaroon-request');
  });

  it('sends BEARER_TOKEN untrimmed: leading blanks go into the header', async () => {
    const { result, requests } = await gfal(['gfal-ls', `${server.url}/data/`], { BEARER_TOKEN: ` \t${token}` });
    assert.equal(result.exitCode, 0, failed(result));
    assert.deepEqual([...new Set(requests.flatMap((r) => r.authorization))].map((a) => a === `Bearer  \t${token}`), [true]);
  });

  it('a trailing newline in BEARER_TOKEN breaks the request (the server answers 400)', async () => {
    const { result, requests } = await gfal(['gfal-ls', `${server.url}/data/`], { BEARER_TOKEN: `${token}\n` });
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /HTTP 400/);
    assert.equal(requests.length, 0, 'the malformed request reached the handler');
  });

  it('an empty BEARER_TOKEN sends `Authorization: Bearer ` with no token', async () => {
    const { result, requests } = await gfal(['gfal-ls', `${server.url}/data/`], { BEARER_TOKEN: '' });
    assert.equal(result.exitCode, 0, failed(result));
    // HTTP parsing drops the trailing space of "Bearer ".
    assert.deepEqual(authorizations(requests), ['"Bearer"']);
  });

  it('trusts the test CA through X509_CERT_DIR, and refuses the server without it', async () => {
    const { X509_CERT_DIR: _dropped, ...withoutCa } = env;
    const result = await run(['gfal-ls', `${server.url}/data/`], { ...withoutCa, BEARER_TOKEN: token });
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /certificate verification failed/);
  });

  describe('tokenenv exec and gfal2', () => {
    let mint: Mint;
    let config: string;
    let runtime: string;
    before(() => {
      runtime = join(work, 'exec-runtime');
      mkdirSync(runtime, { mode: 0o700 });
      mkdirSync(join(work, 'mint'), { mode: 0o700 });
      mint = new Mint(join(work, 'mint'));
      config = join(work, 'exec.ini');
      writeFileSync(config, mintConfig(mint, { default: { audience: server.url, scope: 'storage.read:/' } }), { mode: 0o600 });
    });
    const exec = (...args: string[]) => runTokenenvAsync(['exec', '--config', config, ...args], { env: { ...env, XDG_RUNTIME_DIR: runtime, PATH: `${dirname(process.execPath)}:${env.PATH}` } });
    const tokenFile = () => join(runtime, `bt_u${process.geteuid!()}`);

    it('without --env-token gfal-ls sends no token (it reads only BEARER_TOKEN)', async () => {
      const before = server.requests.length;
      const run = await exec('--', 'gfal-ls', `${server.url}/data/`);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(authorizations(server.requests.slice(before)), ['none']);
    });

    it('--env-token: gfal-ls sends the kept token, trimmed, in every request', async () => {
      const before = server.requests.length;
      const run = await exec('--env-token', '--', 'gfal-ls', `${server.url}/data/`);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'hello.txt\n');
      const requests = server.requests.slice(before);
      assert.deepEqual(authorizations(requests), [`Bearer aud=${server.url} scope=storage.read:/`]);
      assert.ok(requests.every((r) => r.authorization[0] === `Bearer ${readFileSync(tokenFile(), 'utf8').trim()}`), 'not the token of the file');
    });

    it('--env-token: the help says that such a value does not follow refreshes', async () => {
      const run = await runTokenenvAsync(['help', 'exec']);
      assert.match(run.stdout.replace(/\s+/g, ' '), /--env-token also put the token itself in BEARER_TOKEN \(trimmed; never empty\).* it does NOT follow refreshes/);
    });
  });
});

// End to end against a real XRootD 5.5.3 server (roots://, ztn, SciTokens plugin) trusting two
// HTTPS issuers on loopback: the real xrdcp, xrdfs, gfal-ls/gfal-copy and scitokens-verify.
// Proves the harness (test/support/xrootd.ts) and pins what these versions do, so a change in
// the installed clients or server shows up here first.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { WLCG_ANY_AUDIENCE } from '../../lib/token/claims.js';
import { run, type Env } from '../support/arc.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { assertNoSecret } from '../support/sandbox.js';
import { scitokensVerify } from '../support/scitokens.js';
import { startSigningIssuer, type SigningIssuer } from '../support/signing-issuer.js';
import { startXrootd, xrootdUnavailable, type XrootdServer } from '../support/xrootd.js';

/** gfal-copy reads local files through gfal2's file plugin (Debian: gfal2-plugin-file). */
function gfalFilePluginInstalled(): boolean {
  const libDirs = ['/usr/lib64', '/usr/lib', ...(existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')).map((d) => `/usr/lib/${d}`) : [])];
  return libDirs.some((dir) => existsSync(join(dir, 'gfal2-plugins', 'libgfal_plugin_file.so')));
}

/** A client-credentials token from the demo issuer over HTTPS (fetch cannot take a CA). */
function demoToken(issuer: DemoIssuer, ca: string, audience: string, scope: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', audience, scope }).toString();
  return new Promise((resolve, reject) => {
    const req = request(issuer.tokenEndpoint, {
      method: 'POST', ca,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('xrd:xrd-secret').toString('base64')}` },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).access_token) : reject(new Error(`demo issuer answered ${res.statusCode}`))));
    });
    req.once('error', reject).end(body);
  });
}

/** The token with its payload changed (scope widened) and the old signature kept. */
function tampered(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'storage.read:/ storage.modify:/' })).toString('base64url')}.${signature}`;
}

describe('e2e: a real XRootD server with ztn and the SciTokens plugin', function () {
  this.timeout(60_000);
  let work: string;
  let pki: TestPki;
  let mint: SigningIssuer;
  let demo: DemoIssuer;
  let server: XrootdServer;
  const tokens: string[] = [];
  /** A token from the signing issuer for this server, remembered for the log check. */
  const sign = async (claims: Record<string, unknown> = {}): Promise<string> => {
    const token = await mint.sign({ aud: server.url, ...claims });
    tokens.push(token);
    return token;
  };
  const now = (): number => Math.floor(Date.now() / 1000);
  const withFile = (token: string, mode = 0o600): Env => {
    const file = join(server.scratch('token'), 'token');
    writeFileSync(file, `${token}\n`, { mode });
    return { ...server.env, BEARER_TOKEN_FILE: file };
  };

  before(async function () {
    this.timeout(120_000);
    requireCommands(this, 'xrootd', 'xrdcp', 'xrdfs', 'openssl', 'unshare', 'setpriv');
    const unavailable = xrootdUnavailable();
    requirePeer(this, unavailable === undefined, unavailable ?? '');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-xrootd-e2e-'));
    pki = createTestPki(join(work, 'pki'));
    const tls = { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) };
    mint = await startSigningIssuer(tls);
    demo = await startDemoIssuer({ tls, clients: [{ clientId: 'xrd', clientSecret: 'xrd-secret', scopes: ['storage.read:/', 'storage.create:/'] }] });
    server = await startXrootd({ pki, issuers: [{ url: mint.url, caFile: pki.caCert }, { url: demo.url, caFile: pki.caCert }] });
  });

  afterEach(function () {
    // The server's log says why it decided; it holds no tokens (checked below).
    if (this.currentTest?.state === 'failed' && server) console.log(`--- xrootd log (last 60 lines)\n${server.log().split('\n').slice(-60).join('\n')}`);
  });

  after(async () => {
    await server?.stop();
    await mint?.close();
    await demo?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('xrdcp uploads and downloads and xrdfs lists with a token in a 0600 BEARER_TOKEN_FILE', async () => {
    const env = withFile(await sign({ scope: 'storage.read:/ storage.create:/' }));
    const local = join(server.scratch('copy'), 'up.txt');
    writeFileSync(local, 'uploaded through xrdcp\n');

    const up = await run(['xrdcp', '--nopbar', local, server.urlOf('/data/e2e-up.txt')], env, server.wrap);
    assert.equal(up.exitCode, 0, `xrdcp upload: ${up.stderr}`);
    assert.equal(readFileSync(server.localPath('/data/e2e-up.txt'), 'utf8'), 'uploaded through xrdcp\n');

    const back = `${local}.back`;
    const down = await run(['xrdcp', '--nopbar', server.urlOf('/data/e2e-up.txt'), back], env, server.wrap);
    assert.equal(down.exitCode, 0, `xrdcp download: ${down.stderr}`);
    assert.equal(readFileSync(back, 'utf8'), 'uploaded through xrdcp\n');

    const ls = await run(['xrdfs', server.url, 'ls', '/data'], env, server.wrap);
    assert.equal(ls.exitCode, 0, `xrdfs ls: ${ls.stderr}`);
    assert.match(ls.stdout, /^\/data\/e2e-up\.txt$/m);
  });

  it('a token from the demo issuer (as tokenenv keeps them) is accepted for read', async () => {
    const token = await demoToken(demo, readFileSync(pki.caCert, 'utf8'), server.url, 'storage.read:/');
    tokens.push(token);
    assert.deepEqual(await server.decide(token, 'read', '/data/demo.txt'), { accepted: true, reason: 'done' });
    assert.deepEqual(await server.decide(token, 'write', '/data/demo-up.txt').then((d) => d.accepted), false);
  });

  describe('refusals, and where they happen', () => {
    it('no token: the client sends none', async () => {
      const decision = await server.decide(undefined, 'read', '/data/a.txt');
      assert.equal(decision.accepted, false);
      assert.equal(decision.refusedAt, 'client');
      assert.match(decision.reason, /No token found/);
    });

    it('expired: refused at login', async () => {
      const decision = await server.decide(await sign({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 }), 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'login']);
      assert.match(decision.reason, /token expired/);
    });

    it('tampered payload (old signature): refused at login', async () => {
      const decision = await server.decide(tampered(await sign()), 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'login']);
      assert.match(decision.reason, /Invalid signature/);
    });

    it('signed with a key the issuer does not publish: refused at login', async () => {
      const token = await mint.sign({ aud: server.url }, { unpublishedKey: true });
      tokens.push(token);
      const decision = await server.decide(token, 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt, decision.reason], [false, 'login', 'Invalid signature']);
    });

    it('opaque (not a JWT): refused at login', async () => {
      const decision = await server.decide('opaque-0123456789abcdef', 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'login']);
    });

    it('another audience: refused per request', async () => {
      const decision = await server.decide(await sign({ aud: 'roots://127.0.0.1:1' }), 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'request']);
      assert.match(decision.reason, /'aud' claim verification failed/);
    });

    it('a scope for another path: refused per request', async () => {
      const decision = await server.decide(await sign({ scope: 'storage.read:/other' }), 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'request']);
      assert.match(decision.reason, /\[3010\].*permission denied/);
    });

    it('a WLCG token without aud: refused at login (the profile requires one)', async () => {
      const decision = await server.decide(await sign({ aud: undefined }), 'read', '/data/a.txt');
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'login']);
      assert.match(decision.reason, /'aud' claim required/);
    });
  });

  describe('audiences: exact strings from scitokens.cfg', () => {
    const cases: Array<[string, (url: string) => unknown, boolean]> = [
      ['roots://127.0.0.1:PORT', (url) => url, true],
      ['127.0.0.1:PORT', (url) => url.replace('roots://', ''), true],
      ['the WLCG any audience', () => WLCG_ANY_AUDIENCE, true],
      ['a list naming the endpoint', (url) => ['https://elsewhere.example', url], true],
      ['roots://127.0.0.1:PORT/ (trailing slash)', (url) => `${url}/`, false],
      ['127.0.0.1 (host only)', () => '127.0.0.1', false],
      ['root://127.0.0.1:PORT (other scheme)', (url) => url.replace('roots:', 'root:'), false],
    ];
    for (const [name, aud, accepted] of cases) {
      it(`${name}: ${accepted ? 'accepted' : 'refused'}`, async () => {
        const decision = await server.decide(await sign({ aud: aud(server.url) }), 'read', '/data/a.txt');
        assert.equal(decision.accepted, accepted, decision.reason);
      });
    }

    it('scitokens-cpp accepts the any audience for WLCG tokens even when the server does not list it', async () => {
      const strict = await startXrootd({ pki, issuers: [{ url: mint.url, caFile: pki.caCert }], audiences: (port) => [`roots://127.0.0.1:${port}`] });
      try {
        const wlcg = await mint.sign({ aud: WLCG_ANY_AUDIENCE });
        const plain = await mint.sign({ aud: WLCG_ANY_AUDIENCE, 'wlcg.ver': undefined, scope: 'read:/' });
        tokens.push(wlcg, plain);
        assert.equal((await strict.decide(wlcg, 'read', '/data/a.txt')).accepted, true);
        assert.equal((await strict.decide(plain, 'read', '/data/a.txt')).accepted, false, 'a SciTokens 1.0 token for "any"');
      } finally {
        await strict.stop();
      }
    });
  });

  describe('scopes (relative to base_path /data)', () => {
    const cases: Array<[string, 'read' | 'write' | 'list' | 'mkdir' | 'delete', string, boolean]> = [
      ['storage.read:/', 'read', '/data/sub/a.txt', true],
      ['storage.read:/', 'list', '/data/sub', true],
      ['storage.read:/sub', 'read', '/data/sub/a.txt', true],
      ['storage.read:/data', 'read', '/data/a.txt', false], // means /data/data
      ['storage.read:/', 'write', '/data/w1.txt', false],
      ['storage.read:/ storage.create:/', 'write', '/data/w2.txt', true],
      ['storage.read:/ storage.modify:/', 'write', '/data/w3.txt', true],
      ['storage.create:/', 'write', '/data/w4.txt', false], // xrdcp stats the destination first: 5.5.3 grants stat only with read
      ['storage.modify:/', 'write', '/data/w5.txt', false],
      ['storage.create:/', 'mkdir', '/data/d1', true],
      ['storage.create:/', 'delete', '/data/x1.txt', false],
      ['storage.modify:/', 'delete', '/data/x2.txt', true],
      ['read:/', 'read', '/data/a.txt', true], // SciTokens-style scopes work too
    ];
    for (const [scope, operation, path, accepted] of cases) {
      it(`${scope} → ${operation} ${path}: ${accepted ? 'accepted' : 'refused'}`, async () => {
        const decision = await server.decide(await sign({ scope }), operation, path);
        assert.equal(decision.accepted, accepted, decision.reason);
        if (!accepted) assert.equal(decision.refusedAt, 'request');
      });
    }
  });

  it('with base_path / scope paths are the URL paths', async () => {
    const root = await startXrootd({ pki, issuers: [{ url: mint.url, caFile: pki.caCert }], basePath: '/' });
    try {
      const scoped = await mint.sign({ aud: root.url, scope: 'storage.read:/data' });
      tokens.push(scoped);
      assert.equal((await root.decide(scoped, 'read', '/data/a.txt')).accepted, true);
      assert.equal((await root.decide(scoped, 'read', '/other/a.txt')).accepted, false);
    } finally {
      await root.stop();
    }
  });

  describe('XRootD 5.5.3 client behaviours', () => {
    it('refuses a token file with group or other bits (0640) and does not send it', async () => {
      const decision = await server.decide(await sign(), 'read', '/data/a.txt', { fileMode: 0o640 });
      assert.deepEqual([decision.accepted, decision.refusedAt], [false, 'client']);
      assert.match(decision.reason, /excessive permissions/);
    });

    it('takes the token from BEARER_TOKEN', async () => {
      assert.equal((await server.decide(await sign(), 'read', '/data/a.txt', { viaEnv: true })).accepted, true);
    });

    it('looks for /tmp/bt_u11, not /tmp/bt_u<euid> (fixed in 5.6.2)', async function () {
      requirePeer(this, process.geteuid!() !== 11, 'running as uid 11 hides the bug');
      const token = await sign();
      const ls = (): Promise<{ exitCode?: number }> => run(['xrdfs', server.url, 'ls', '/data'], server.env, server.wrap);
      const inTmp = (name: string): string => join(server.clientTmp, name);
      try {
        writeFileSync(inTmp(`bt_u${process.geteuid!()}`), `${token}\n`, { mode: 0o600 });
        assert.notEqual((await ls()).exitCode, 0, 'xrdfs used /tmp/bt_u<euid>');
        writeFileSync(inTmp('bt_u11'), `${token}\n`, { mode: 0o600 });
        assert.equal((await ls()).exitCode, 0, 'xrdfs did not use /tmp/bt_u11');
      } finally {
        for (const name of [`bt_u${process.geteuid!()}`, 'bt_u11']) rmSync(inTmp(name), { force: true });
      }
    });
  });

  describe('gfal2 with roots:// URLs', () => {
    before(function () {
      requireCommands(this, 'gfal-ls', 'gfal-copy');
    });

    it('gfal-ls sends BEARER_TOKEN (XrdCl discovery) and is refused without a token', async () => {
      const token = await sign();
      const ok = await run(['gfal-ls', `${server.url}//data`], { ...server.env, BEARER_TOKEN: token }, server.wrap);
      assert.equal(ok.exitCode, 0, ok.stderr);
      const none = await run(['gfal-ls', `${server.url}//data`], server.env, server.wrap);
      // XrdCl's "[FATAL] Auth failed" reaches gfal2 as errno 52 (EBADE, "Invalid exchange").
      assert.equal(none.exitCode, 52, none.stderr);
    });

    it('gfal-copy uploads with storage.create:/ alone (it does not stop on the refused stat, unlike xrdcp)', async function () {
      requirePeer(this, gfalFilePluginInstalled(), 'gfal2 file plugin missing (Debian: gfal2-plugin-file): gfal-copy cannot read local files');
      const local = join(server.scratch('gfal'), 'up.txt');
      writeFileSync(local, 'uploaded through gfal-copy\n');
      const token = await sign({ scope: 'storage.create:/' });
      const up = await run(['gfal-copy', `file://${local}`, `${server.url}//data/gfal-up.txt`], { ...server.env, BEARER_TOKEN: token }, server.wrap);
      assert.equal(up.exitCode, 0, up.stderr);
      assert.equal(readFileSync(server.localPath('/data/gfal-up.txt'), 'utf8'), 'uploaded through gfal-copy\n');
      const down = await run(['gfal-copy', '-f', `${server.url}//data/gfal-up.txt`, `file://${local}.back`], { ...server.env, BEARER_TOKEN: await sign() }, server.wrap);
      assert.equal(down.exitCode, 0, down.stderr);
      assert.equal(readFileSync(`${local}.back`, 'utf8'), 'uploaded through gfal-copy\n');
    });
  });

  describe('scitokens-verify (scitokens-cpp): signature, key, expiry; not audience or scope', () => {
    before(function () {
      requireCommands(this, 'scitokens-verify');
    });
    const verify = (token: string) => scitokensVerify(token, { trustDir: server.trustDir, cacheDir: join(work, 'scitokens-cache') });

    it('valid for any audience', async () => {
      assert.deepEqual(await verify(await sign({ aud: 'https://elsewhere.example' })), { valid: true, output: 'Token deserialization successful.' });
    });

    it('not valid when tampered, expired or signed with an unpublished key', async () => {
      const expired = await sign({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 });
      const stranger = await mint.sign({}, { unpublishedKey: true });
      tokens.push(stranger);
      assert.match((await verify(tampered(await sign()))).output, /^Failed to deserialize a token: .*[Ss]ignature/);
      assert.match((await verify(expired)).output, /token expired/);
      assert.equal((await verify(stranger)).valid, false);
    });
  });

  // Last: mocha runs a suite's own tests before its nested suites.
  describe('logs', () => {
    it('the server log holds none of the tokens used above', function () {
      assert.ok(tokens.length > 20, `only ${tokens.length} tokens were used`);
      const log = server.log();
      assert.match(log, /scitokens_Access/);
      for (const token of tokens) assertNoSecret(log, token, 'the xrootd log');
    });
  });
});

// End to end, fully real: tokens that tokenenv keeps (client credentials from the demo issuer over
// HTTPS) handed by the shell wrappers to the real xrdcp, xrdfs and gfal-copy roots://, and by
// `tokenenv exec`, and accepted by a real XRootD server (ztn + SciTokens) that lists only its own
// audience. Each call asks for the scope of its operation: a download reads; xrdcp's upload reads
// and modifies (it stats the destination first, which XRootD 5.5.3 grants with read only).
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { wrapCommand } from '../support/cli.js';
import { hasGfalPlugin } from '../support/gfal.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { jwtClaims, ShellLab, type ProcessRun } from '../support/shell.js';
import { startXrootd, xrootdUnavailable, type XrootdServer } from '../support/xrootd.js';

const SCOPES = ['storage.read:/', 'storage.create:/', 'storage.modify:/'];

describe('e2e: tokens tokenenv keeps, through the wrappers, accepted by a real XRootD server', function () {
  this.timeout(120_000);
  let lab: ShellLab;
  let pki: TestPki;
  let demo: DemoIssuer;
  let server: XrootdServer;
  let env: Record<string, string>;

  before(async function () {
    this.timeout(120_000);
    requireCommands(this, 'bash', 'xrootd', 'xrdcp', 'xrdfs', 'openssl', 'unshare', 'setpriv');
    const unavailable = xrootdUnavailable();
    requirePeer(this, unavailable === undefined, unavailable ?? '');
    lab = new ShellLab();
    pki = createTestPki(lab.box.path('pki'));
    demo = await startDemoIssuer({
      tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
      clients: [{ clientId: 'xrd', clientSecret: 'xrd-secret', scopes: SCOPES }],
    });
    server = await startXrootd({ pki, issuers: [{ url: demo.url, caFile: pki.caCert }], audiences: (port) => [`roots://127.0.0.1:${port}`] });
    writeFileSync(lab.configFile, [
      '[account xrd]', `issuer = ${demo.url}`, 'client_id = xrd', 'client_secret = xrd-secret', '',
      '[token default]', 'account = xrd', 'scope = storage.read:/', '',
    ].join('\n'), { mode: 0o600 });
    for (const client of ['xrdcp', 'xrdfs', 'gfal-copy']) lab.unstub(client);
    const { PATH: _path, HOME: _home, ...clientEnv } = server.env;
    env = { ...clientEnv, NODE_EXTRA_CA_CERTS: pki.caCert };
  });

  after(async () => {
    await server?.stop();
    await demo?.close();
    lab?.remove();
  });

  /** The clients see a private /tmp (XRootD 5.5.3 would read the machine's /tmp/bt_u11). */
  const wrap = (argv: string[]): string[] => wrapCommand(argv, { privateTmp: server.clientTmp, keep: [dirname(dirname(server.clientTmp)), lab.box.dir] });
  const wrapped = (body: string): Promise<ProcessRun> => lab.run('bash', body, { env, wrap, timeoutMs: 90_000 });
  const claimsOf = (file: string) => {
    const { aud, scope } = jwtClaims(lab.token(file));
    return { aud, scope, mode: statSync(file).mode & 0o777 };
  };

  it('xrdcp downloads with a read token for the server', async () => {
    server.putFile('/data/in.txt', 'from the server\n');
    const local = lab.box.path('in.txt');
    const run = await wrapped(`xrdcp --nopbar ${server.urlOf('/data/in.txt')} ${local}`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(local, 'utf8'), 'from the server\n');
    assert.deepEqual(claimsOf(lab.tokenFile(server.url, 'read')), { aud: server.url, scope: 'storage.read:/', mode: 0o600 });
  });

  it('xrdcp uploads with a token that reads and modifies (the stat first)', async () => {
    const local = lab.box.path('up.txt');
    writeFileSync(local, 'uploaded through the wrapper\n');
    const run = await wrapped(`xrdcp --nopbar ${local} ${server.urlOf('/data/up.txt')}`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(server.localPath('/data/up.txt'), 'utf8'), 'uploaded through the wrapper\n');
    assert.deepEqual(claimsOf(lab.tokenFile(server.url, 'write')), { aud: server.url, scope: 'storage.read:/ storage.modify:/', mode: 0o600 });
  });

  it('xrdfs ls, mkdir and rm, each with the scope of its subcommand', async () => {
    server.putFile('/data/gone.txt', 'x\n');
    const run = await wrapped([`xrdfs ${server.url} ls /data`, `xrdfs ${server.url} mkdir /data/newdir`, `xrdfs ${server.url} rm /data/gone.txt`].join('\n'));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^\/data\/in\.txt$/m);
    assert.ok(statSync(server.localPath('/data/newdir')).isDirectory());
    assert.throws(() => statSync(server.localPath('/data/gone.txt')));
    assert.equal(claimsOf(lab.tokenFile(server.url, 'list')).scope, 'storage.read:/');
    assert.equal(claimsOf(lab.tokenFile(server.url, 'delete')).scope, 'storage.modify:/');
  });

  it('gfal-copy roots:// uploads and downloads with BEARER_TOKEN (gfal2\'s xrootd plugin)', async function () {
    requireCommands(this, 'gfal-copy');
    requirePeer(this, hasGfalPlugin('xrootd') && hasGfalPlugin('file'), 'gfal2\'s xrootd and file plugins are needed (Debian gfal2-plugin-xrootd, gfal2-plugin-file)');
    const local = lab.box.path('gfal.txt');
    writeFileSync(local, 'through gfal-copy\n');
    const run = await wrapped([`gfal-copy file://${local} ${server.url}//data/gfal.txt`, `gfal-copy -f ${server.url}//data/gfal.txt file://${local}.back`].join('\n'));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(server.localPath('/data/gfal.txt'), 'utf8'), 'through gfal-copy\n');
    assert.equal(readFileSync(`${local}.back`, 'utf8'), 'through gfal-copy\n');
    assert.equal(claimsOf(lab.tokenFile(server.url, 'create')).scope, 'storage.modify:/');
  });

  it('tokenenv exec --aud --scope: the token it keeps in BEARER_TOKEN_FILE is accepted for a download', async () => {
    const local = lab.box.path('exec.txt');
    const run = await wrapped(`"$TOKENENV_BIN" exec --aud ${server.url} --scope storage.read:/ --account xrd -- xrdcp --nopbar ${server.urlOf('/data/in.txt')} ${local}`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(local, 'utf8'), 'from the server\n');
  });

  it('inspect --for … --op agrees: the kept tokens are accepted for what they were fetched for, and not for more', async () => {
    const read = lab.tokenFile(server.url, 'read');
    const write = lab.tokenFile(server.url, 'write');
    const verdict = async (file: string, op: string) => (await wrapped(`"$TOKENENV_BIN" inspect ${file} --verify --for ${server.urlOf('/data/x')} --op ${op} >/dev/null`)).status;
    assert.deepEqual([await verdict(read, 'read'), await verdict(write, 'write'), await verdict(read, 'write'), await verdict(write, 'delete')], [0, 0, 4, 0]);
    assert.equal((await server.decide(lab.token(read), 'write', '/data/refused.txt')).accepted, false, 'the server refuses the read token for an upload too');
  });
});

// End to end: the real FTS client (fts-rest-* 3.13.4) through the shell wrappers, against the
// recording FTS3 stand-in. Each request's Authorization and, on submit, each file's source and
// destination tokens are decoded: audience and scope as the operations table says. The wrappers
// run the client in-process (shell/fts-inprocess.py): no token is in any process's argv or
// environment while it runs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { FTS_BIN, FTS_COMMANDS, JOB_ID, startFtsStandIn, type FtsStandIn, type FtsSubmission } from '../support/fts.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { processesShowing } from '../support/proc.js';
import type { RecordedRequest } from '../support/recording-https.js';
import { fakeJwt } from '../support/sandbox.js';
import { SHELLS, ShellLab, type ProcessRun } from '../support/shell.js';
import { waitFor } from '../support/wait.js';

const SRC = 'https://src.tokenenv.test:8443/data/in.dat';
const DST = 'davs://dst.tokenenv.test:2880/data/out.dat';

/** A token by its claims: `aud scope`, or `user:<jti>` for the user's own tokens; never its value. */
function tokenName(token: string | undefined): string {
  if (token === undefined) return 'none';
  const { aud, scope, jti } = decodeJwt(token);
  return typeof jti === 'string' && jti.startsWith('user:') ? jti : `${Array.isArray(aud) ? aud.join(',') : String(aud)} ${String(scope)}`;
}

const bearer = (r: RecordedRequest): string | undefined => (r.authorization[0]?.startsWith('Bearer ') ? r.authorization[0].slice(7) : undefined);

for (const shell of SHELLS) {
  describe(`e2e (${shell}): the real FTS client through the wrappers`, function () {
    this.timeout(120_000);
    let lab: ShellLab;
    let pki: TestPki;
    let fts: FtsStandIn;
    let env: Record<string, string>;
    let holdSubmit: Promise<void> | undefined;
    const user = (name: string): string => fakeJwt({ jti: `user:${name}`, aud: 'https://user.example', scope: 'user', exp: Math.floor(Date.now() / 1000) + 600 });
    const FTS_TOKEN = (): string => `${fts.url} fts`;
    const SRC_TOKEN = 'https://src.tokenenv.test:8443 storage.read:/';
    const DST_TOKEN = 'davs://dst.tokenenv.test:2880 storage.modify:/';

    /** Runs `body` in the shell; returns its result and the requests it caused. */
    async function wrapped(body: string): Promise<{ run: ProcessRun; requests: RecordedRequest[] }> {
      const before = fts.server.requests.length;
      const run = await lab.run(shell, body, { env, timeoutMs: 90_000 });
      return { run, requests: fts.server.requests.slice(before) };
    }
    const submissions = (requests: RecordedRequest[]) => requests.filter((r) => r.method === 'POST' && r.path === '/jobs').map((r) => r.json as FtsSubmission);
    const fileTokens = (s: FtsSubmission) => s.files.map((f) => [f.source_tokens?.map(tokenName), f.destination_tokens?.map(tokenName)]);

    before(async function () {
      requirePeer(this, existsSync(join(FTS_BIN, 'fts-rest-whoami')), `the FTS client is not installed in ${FTS_BIN} (see ../shared/peers/README.md)`);
      requireCommands(this, shell, 'openssl');
      lab = new ShellLab();
      pki = createTestPki(lab.box.path('pki'));
      fts = await startFtsStandIn(pki, { beforeReply: async (r) => { if (r.method === 'POST' && r.path === '/jobs') await holdSubmit; } });
      for (const command of FTS_COMMANDS) lab.unstub(command);
      env = { PATH: `${lab.env.PATH}:${FTS_BIN}`, X509_CERT_DIR: pki.caDir, X509_USER_PROXY: lab.box.path('no-proxy'), LANG: 'C.UTF-8' };
    });

    after(async () => {
      await fts?.close();
      lab?.remove();
    });

    // zsh runs the same wrapper code: it gets the submissions, not the full command list again.
    const full = shell === 'bash';
    if (full) it('every fts-rest-* command sends the FTS token (audience the server, scope fts) on each request', async () => {
      const ARGS: Record<string, string> = {
        'fts-rest-whoami': '', 'fts-rest-transfer-status': JOB_ID, 'fts-rest-transfer-cancel': JOB_ID, 'fts-rest-transfer-list': '',
        'fts-rest-delete-submit': DST, 'fts-rest-server-status': '', 'fts-rest-ban': '--storage https://dst.tokenenv.test',
        'fts-rest-delegate': '', 'fts-rest-transfer-submit': `${SRC} ${DST}`,
      };
      const { run, requests } = await wrapped(FTS_COMMANDS.map((c) => `${c} -s ${fts.url} ${ARGS[c]} >/dev/null`).join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.ok(requests.length >= 2 * FTS_COMMANDS.length, `only ${requests.length} requests`);
      assert.deepEqual([...new Set(requests.map((r) => tokenName(bearer(r))))], [FTS_TOKEN()]);
      assert.equal(lab.mint.calls, 3, 'one token for the FTS server, one per storage endpoint');
    });

    // user-given options → FTS server, source, destination
    const MIXES: Array<[string, string, [string, string, string]]> = [
      ['nothing given', '', ['fts', 'src', 'dst']],
      ['--fts-access-token given', `--fts-access-token ${user('fts')}`, ['user:fts', 'src', 'dst']],
      ['--src-access-token given', `--src-access-token=${user('src')}`, ['fts', 'user:src', 'dst']],
      ['--dst-access-token given', `--dst-access-token ${user('dst')}`, ['fts', 'src', 'user:dst']],
      ['--access-token given (one token for all three, the call untouched)', `--access-token ${user('all')}`, ['user:all', 'user:all', 'user:all']],
    ];
    for (const [what, options, [ftsRole, srcRole, dstRole]] of full ? MIXES : MIXES.slice(0, 2)) {
      it(`transfer-submit, ${what}: the server gets ${ftsRole}, the source ${srcRole}, the destination ${dstRole}`, async () => {
        const { run, requests } = await wrapped(`fts-rest-transfer-submit -s ${fts.url} ${options} ${SRC} ${DST}`);
        assert.equal(run.status, 0, run.stderr);
        const named = (role: string) => (role === 'fts' ? FTS_TOKEN() : role === 'src' ? SRC_TOKEN : role === 'dst' ? DST_TOKEN : role);
        assert.deepEqual([...new Set(requests.map((r) => tokenName(bearer(r))))], [named(ftsRole)]);
        const [submission] = submissions(requests);
        assert.deepEqual(fileTokens(submission!), [[[named(srcRole)], [named(dstRole)]]]);
      });
    }

    it('without a config, the user\'s BEARER_TOKEN goes to all three, through pipes (not argv)', async () => {
      const before = fts.server.requests.length;
      const runtime = lab.box.path(`runtime-no-config-${shell}`);
      mkdirSync(runtime, { mode: 0o700 }); // none of the other tests' fresh tokens
      const run = await lab.run(shell, `fts-rest-transfer-submit -s ${fts.url} ${SRC} ${DST}`,
        { env: { ...env, XDG_RUNTIME_DIR: runtime, TOKENENV_CONFIG: undefined, BEARER_TOKEN: ` ${user('env')}\n` }, timeoutMs: 90_000 });
      assert.equal(run.status, 0, run.stderr);
      const requests = fts.server.requests.slice(before);
      assert.deepEqual([...new Set(requests.map((r) => tokenName(bearer(r))))], ['user:env']);
      assert.deepEqual(fileTokens(submissions(requests)[0]!), [[['user:env'], ['user:env']]]);
    });

    it('a bulk submission (-f) gets the FTS token only; the file keeps its own storage tokens', async () => {
      const bulk = lab.box.path('bulk.json');
      writeFileSync(bulk, JSON.stringify({ files: [{ sources: [SRC], destinations: [DST], source_tokens: [user('bulk-src')], destination_tokens: [user('bulk-dst')] }] }), { mode: 0o600 });
      const { run, requests } = await wrapped(`fts-rest-transfer-submit -s ${fts.url} -f ${bulk}`);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual([...new Set(requests.map((r) => tokenName(bearer(r))))], [FTS_TOKEN()]);
      assert.deepEqual(fileTokens(submissions(requests)[0]!), [[['user:bulk-src'], ['user:bulk-dst']]]);
    });

    it('no process shows a token in its argv or environment while the wrapped client runs', async () => {
      assert.equal((await wrapped(`fts-rest-transfer-submit -s ${fts.url} ${SRC} ${DST}`)).run.status, 0, 'the tokens to look for');
      const tokens = [
        lab.tokenFile(fts.url, 'fts-rest-transfer-submit'), lab.tokenFile('https://src.tokenenv.test:8443', 'read'), lab.tokenFile('davs://dst.tokenenv.test:2880', 'create'),
      ].map((file) => readFileSync(file, 'utf8').trim());
      let release!: () => void;
      holdSubmit = new Promise((resolve) => { release = resolve; });
      try {
        const before = fts.server.requests.length;
        const running = lab.run(shell, `fts-rest-transfer-submit -s ${fts.url} ${SRC} ${DST}`, { env, timeoutMs: 90_000 });
        await waitFor(() => fts.server.requests.slice(before).some((r) => r.method === 'POST'), 60_000, 'the client to POST its submission');
        const { found, scanned } = processesShowing(tokens);
        release();
        const run = await running;
        assert.equal(run.status, 0, run.stderr);
        assert.ok(scanned.some((cmdline) => cmdline.includes('fts-inprocess.py')), 'the scan did not see the client running');
        assert.deepEqual(found, [], 'processes showing a token');
      } finally {
        release();
        holdSubmit = undefined;
      }
    });
  });
}

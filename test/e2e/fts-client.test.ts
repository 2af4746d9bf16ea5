// End to end: the real FTS3 client (fts-rest-* 3.13.4) against a loopback stand-in of the FTS3
// REST server that records every request. First the client on its own (which endpoints each
// command calls, how its token options combine), then through shell/fts-inprocess.py, which
// hands it tokens from files so that no token is in any process's argv or environment.
import { processesShowing } from '../support/proc.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { repoRoot } from '../support/cli.js';
import { FTS_BIN, FTS_COMMANDS, JOB_ID, ftsEnvironment, startFtsStandIn, type FtsStandIn } from '../support/fts.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import type { RecordedRequest } from '../support/recording-https.js';
import { run, type Env, type RunResult } from '../support/run.js';
import { fakeJwt } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const INPROCESS = join(repoRoot, 'shell', 'fts-inprocess.py');
const SRC = 'https://src.tokenenv.test:8443/data/in.dat';
const DST = 'https://dst.tokenenv.test:8443/data/out.dat';

type Role = 'fts' | 'src' | 'dst' | 'user';
const SCOPES: Record<Role, string> = { fts: 'fts', src: 'storage.read:/data', dst: 'storage.modify:/data', user: 'user-given' };
const TOKEN_FILE_VARIABLES = { fts: 'TOKENENV_FTS_ACCESS_TOKEN_FILE', src: 'TOKENENV_SRC_ACCESS_TOKEN_FILE', dst: 'TOKENENV_DST_ACCESS_TOKEN_FILE' } as const;

/** Names a token by its claims (`case/role: aud scope`), never by its value. */
function describeToken(token: string | undefined): string {
  if (token === undefined) return 'no token';
  try {
    const { jti, aud, scope } = decodeJwt(token);
    return `${String(jti)}: ${String(aud)} ${String(scope)}`;
  } catch {
    return `a ${token.length}-character value that is not a JWT`;
  }
}

const bearer = (request: RecordedRequest): string | undefined => {
  const value = request.authorization.length === 1 ? request.authorization[0] : undefined;
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
};

describe('e2e: the real FTS client against a recording FTS3 REST stand-in', function () {
  this.timeout(60_000);
  let work: string;
  let fts: FtsStandIn;
  let env: Env;
  let pki: TestPki;
  let python: string;
  /** While set, the stand-in holds its answer to POST /jobs until the promise resolves. */
  let holdSubmit: Promise<void> | undefined;

  const audience = (role: Role): string => (role === 'fts' ? fts.url : role === 'src' ? 'https://src.tokenenv.test:8443' : role === 'dst' ? 'https://dst.tokenenv.test:8443' : 'https://user.tokenenv.test');
  const expected = (caseId: string, role: Role): string => `${caseId}/${role}: ${audience(role)} ${SCOPES[role]}`;
  const mint = (caseId: string, role: Role): string => {
    const now = Math.floor(Date.now() / 1000);
    return fakeJwt({ iss: 'https://issuer.tokenenv.test', sub: 'fts-e2e', aud: audience(role), scope: SCOPES[role], jti: `${caseId}/${role}`, iat: now, exp: now + 1200 });
  };
  /** The requests whose bearer token belongs to `caseId` (cases run concurrently). */
  const requestsOf = (caseId: string): RecordedRequest[] =>
    fts.server.requests.filter((r) => describeToken(bearer(r)).startsWith(`${caseId}/`));
  const endpoints = (requests: RecordedRequest[]): string[] => requests.map((r) => `${r.method} ${r.path}`);
  const failed = (r: RunResult): string => `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr}${r.stdout}`;

  before(async function () {
    requirePeer(this, existsSync(join(FTS_BIN, 'fts-rest-whoami')), `the FTS client is not installed in ${FTS_BIN} (see ../shared/peers/README.md)`);
    requireCommands(this, 'openssl');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-fts-'));
    pki = createTestPki(join(work, 'pki'));
    fts = await startFtsStandIn(pki, { beforeReply: async (r) => { if (r.method === 'POST' && r.path === '/jobs') await holdSubmit; } });
    env = ftsEnvironment(work, pki);
    // The interpreter that can import the client: the one its scripts name (a venv's python).
    python = readFileSync(join(FTS_BIN, 'fts-rest-transfer-submit'), 'utf8').split('\n')[0]!.replace(/^#!\s*/, '').split(' ')[0]!;
  });

  after(async function () {
    await fts?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('the client on its own: every command sends --access-token on each request', () => {
    const ARGS: Record<(typeof FTS_COMMANDS)[number], { args: string[]; calls: string[] }> = {
      'fts-rest-whoami': { args: [], calls: ['GET /', 'GET /whoami'] },
      'fts-rest-transfer-submit': { args: [SRC, DST], calls: ['GET /', 'POST /jobs'] },
      'fts-rest-transfer-status': { args: [JOB_ID], calls: ['GET /', `GET /jobs/${JOB_ID}`] },
      'fts-rest-transfer-cancel': { args: [JOB_ID], calls: ['GET /', `DELETE /jobs/${JOB_ID}`] },
      'fts-rest-transfer-list': { args: [], calls: ['GET /', 'GET /jobs'] },
      'fts-rest-delete-submit': { args: [DST], calls: ['GET /', 'GET /whoami', 'GET /delegation/746f6b656e76', 'POST /jobs'] },
      'fts-rest-server-status': { args: [], calls: ['GET /', 'GET /status/hosts'] },
      'fts-rest-ban': { args: ['--storage', 'https://dst.tokenenv.test'], calls: ['GET /', 'POST /ban/se'] },
      'fts-rest-delegate': { args: [], calls: ['GET /', 'GET /whoami', 'GET /delegation/746f6b656e76', 'GET /whoami', 'GET /delegation/746f6b656e76'] },
    };
    const results = new Map<string, RunResult>();

    before(async () => {
      // Concurrently: each command has its own token, which tells its requests apart.
      // whoami trusts the CA through --capath instead of X509_CERT_DIR.
      const { X509_CERT_DIR: _unused, ...withoutCaDir } = env;
      await Promise.all(FTS_COMMANDS.map(async (command) => {
        const capath = command === 'fts-rest-whoami' ? ['--capath', pki.caDir] : [];
        const argv = [join(FTS_BIN, command), '-s', fts.url, '--access-token', mint(command, 'fts'), ...capath, ...ARGS[command].args];
        results.set(command, await run(argv, capath.length > 0 ? withoutCaDir : env));
      }));
    });

    for (const command of FTS_COMMANDS) {
      it(`${command} ${ARGS[command].args.join(' ')}`, () => {
        const result = results.get(command)!;
        assert.equal(result.exitCode, 0, failed(result));
        const requests = requestsOf(command);
        assert.deepEqual(endpoints(requests), ARGS[command].calls);
        for (const r of requests) assert.equal(describeToken(bearer(r)), expected(command, 'fts'), `${r.method} ${r.path}`);
      });
    }

    it('transfer-submit copies --access-token into each file\'s source and destination tokens', () => {
      const [submission] = requestsOf('fts-rest-transfer-submit').filter((r) => r.method === 'POST').map((r) => r.json as { files: Array<Record<string, string[]>> });
      assert.deepEqual(submission!.files.map((f) => [f.sources, f.destinations]), [[[SRC], [DST]]]);
      assert.deepEqual(submission!.files[0]!.source_tokens?.map(describeToken), [expected('fts-rest-transfer-submit', 'fts')]);
      assert.deepEqual(submission!.files[0]!.destination_tokens?.map(describeToken), [expected('fts-rest-transfer-submit', 'fts')]);
    });
  });

  describe('the client on its own: transfer-submit token options', () => {
    it('--fts-access-token with --src-access-token and --dst-access-token: one token each', async () => {
      const id = 'three-options';
      const result = await run([join(FTS_BIN, 'fts-rest-transfer-submit'), '-s', fts.url, '--fts-access-token', mint(id, 'fts'),
        '--src-access-token', mint(id, 'src'), '--dst-access-token', mint(id, 'dst'), SRC, DST], env);
      assert.equal(result.exitCode, 0, failed(result));
      const requests = requestsOf(id);
      assert.deepEqual(endpoints(requests), ['GET /', 'POST /jobs']);
      for (const r of requests) assert.equal(describeToken(bearer(r)), expected(id, 'fts'));
      const file = (requests[1]!.json as { files: Array<Record<string, string[]>> }).files[0]!;
      assert.deepEqual(file.source_tokens?.map(describeToken), [expected(id, 'src')]);
      assert.deepEqual(file.destination_tokens?.map(describeToken), [expected(id, 'dst')]);
    });

    const REFUSED: Array<[string, Role[], RegExp]> = [
      ['--access-token with --fts-access-token', ['user', 'fts'], /Cannot use both '--access-token' and '--fts-access-token'/],
      ['--access-token with --src-access-token', ['user', 'src'], /Cannot use both '--access-token' and '--src\/dst-access-token'/],
      ['--fts-access-token alone', ['fts'], /Source token doesn't exist/],
      ['--fts-access-token with --src-access-token only', ['fts', 'src'], /Destination token doesn't exist/],
      ['--src- and --dst-access-token without an FTS token', ['src', 'dst'], /FTS access token is missing/],
    ];
    const OPTION: Record<Role, string> = { user: '--access-token', fts: '--fts-access-token', src: '--src-access-token', dst: '--dst-access-token' };
    it('refuses these mixes with exit status 2 before sending anything', async () => {
      const results = await Promise.all(REFUSED.map(([, roles], i) =>
        run([join(FTS_BIN, 'fts-rest-transfer-submit'), '-s', fts.url, ...roles.flatMap((role) => [OPTION[role], mint(`refused-${i}`, role)]), SRC, DST], env)));
      REFUSED.forEach(([what, , message], i) => {
        assert.equal(results[i]!.exitCode, 2, `${what}: ${failed(results[i]!)}`);
        assert.match(results[i]!.stderr, message, what);
        assert.equal(requestsOf(`refused-${i}`).length, 0, `${what}: sent a request`);
      });
    });
  });

  describe('in-process (shell/fts-inprocess.py): tokens from files, never in argv', () => {
    /** Writes the case's fts/src/dst tokens to 0600 files and returns the variables naming them. */
    const tokenFiles = (caseId: string, roles: Array<keyof typeof TOKEN_FILE_VARIABLES> = ['fts', 'src', 'dst']): Env => {
      const variables: Env = {};
      for (const role of roles) {
        const file = join(work, `${caseId}-${role}.token`);
        writeFileSync(file, `${mint(caseId, role)}\n`, { mode: 0o600 });
        variables[TOKEN_FILE_VARIABLES[role]] = file;
      }
      return variables;
    };
    const inprocess = (command: string, args: string[], variables: Env, interpreter = python): Promise<RunResult> =>
      run([interpreter, INPROCESS, command, '-s', fts.url, ...args], { ...env, ...variables });

    // user-given options → what the FTS server, the source and the destination receive
    const MIXES: Array<[string, (id: string) => string[], [Role, Role, Role]]> = [
      ['nothing given', () => [], ['fts', 'src', 'dst']],
      ['--fts-access-token given', (id) => ['--fts-access-token', mint(id, 'user')], ['user', 'src', 'dst']],
      ['--fts-acc=T (abbreviated, with =)', (id) => [`--fts-acc=${mint(id, 'user')}`], ['user', 'src', 'dst']],
      ['--src-access-token given', (id) => ['--src-access-token', mint(id, 'user')], ['fts', 'user', 'dst']],
      ['--dst-access-token given', (id) => ['--dst-access-token', mint(id, 'user')], ['fts', 'src', 'user']],
      ['--access-token given (one token for all three)', (id) => ['--access-token', mint(id, 'user')], ['user', 'user', 'user']],
    ];
    const mixResults = new Map<string, RunResult>();
    before(async () => {
      await Promise.all(MIXES.map(async ([, userArgs], i) => {
        const id = `mix-${i}`;
        mixResults.set(id, await inprocess('fts-rest-transfer-submit', [...userArgs(id), SRC, DST], tokenFiles(id)));
      }));
    });

    MIXES.forEach(([what, , [ftsRole, srcRole, dstRole]], i) => {
      it(`transfer-submit, ${what}: FTS gets ${ftsRole}, source ${srcRole}, destination ${dstRole}`, () => {
        const id = `mix-${i}`;
        const result = mixResults.get(id)!;
        assert.equal(result.exitCode, 0, failed(result));
        const requests = requestsOf(id);
        assert.deepEqual(endpoints(requests), ['GET /', 'POST /jobs']);
        for (const r of requests) assert.equal(describeToken(bearer(r)), expected(id, ftsRole), `${r.method} ${r.path}`);
        const file = (requests[1]!.json as { files: Array<Record<string, string[]>> }).files[0]!;
        assert.deepEqual(file.source_tokens?.map(describeToken), [expected(id, srcRole)]);
        assert.deepEqual(file.destination_tokens?.map(describeToken), [expected(id, dstRole)]);
      });
    });

    it('whoami and a bulk submission (-f) take the FTS token only; the bulk file keeps its own tokens', async () => {
      const bulk = join(work, 'bulk.json');
      writeFileSync(bulk, JSON.stringify({ files: [{ sources: [SRC], destinations: [DST], source_tokens: [mint('bulk', 'src')], destination_tokens: [mint('bulk', 'dst')] }] }), { mode: 0o600 });
      const [whoami, submit] = await Promise.all([
        inprocess('fts-rest-whoami', [], tokenFiles('whoami', ['fts'])),
        inprocess('fts-rest-transfer-submit', ['-f', bulk], tokenFiles('bulk', ['fts'])),
      ]);
      assert.equal(whoami.exitCode, 0, failed(whoami));
      assert.deepEqual(requestsOf('whoami').map((r) => `${r.method} ${r.path} ${describeToken(bearer(r))}`),
        ['GET /', 'GET /whoami'].map((e) => `${e} ${expected('whoami', 'fts')}`));
      assert.equal(submit.exitCode, 0, failed(submit));
      const posted = requestsOf('bulk').filter((r) => r.method === 'POST');
      assert.equal(posted.length, 1);
      const file = (posted[0]!.json as { files: Array<Record<string, string[]>> }).files[0]!;
      assert.deepEqual([file.source_tokens?.map(describeToken), file.destination_tokens?.map(describeToken)], [[expected('bulk', 'src')], [expected('bulk', 'dst')]]);
    });

    it('works when started by another python (it runs itself again under the client\'s interpreter)', async function () {
      requirePeer(this, existsSync('/usr/bin/python3') && python !== '/usr/bin/python3', 'needs /usr/bin/python3 besides the client\'s own interpreter');
      const result = await inprocess('fts-rest-whoami', [], tokenFiles('other-python', ['fts']), '/usr/bin/python3');
      assert.equal(result.exitCode, 0, failed(result));
      assert.deepEqual(requestsOf('other-python').map((r) => describeToken(bearer(r))), [expected('other-python', 'fts'), expected('other-python', 'fts')]);
    });

    it('a token file it cannot read: exit 2, the message names the variable and the file, nothing sent', async () => {
      const variables = { ...tokenFiles('unreadable', ['fts', 'dst']), TOKENENV_SRC_ACCESS_TOKEN_FILE: join(work, 'missing.token') };
      const result = await inprocess('fts-rest-transfer-submit', [SRC, DST], variables);
      assert.equal(result.exitCode, 2, failed(result));
      assert.equal(result.stderr, `fts-inprocess: TOKENENV_SRC_ACCESS_TOKEN_FILE: cannot read ${join(work, 'missing.token')}: No such file or directory\n`);
      assert.equal(requestsOf('unreadable').length, 0);
    });

    /** Runs argv while the stand-in holds its answer to the submission; scans /proc meanwhile. */
    async function scanWhileSubmitting(argv: string[], variables: Env, secrets: string[], caseId: string): Promise<{ found: string[]; scanned: string[]; result: RunResult }> {
      let release!: () => void;
      holdSubmit = new Promise((resolve) => { release = resolve; });
      try {
        const running = run(argv, { ...env, ...variables });
        await waitFor(() => requestsOf(caseId).some((r) => r.method === 'POST'), 20_000, 'the client to POST its submission');
        const scan = processesShowing(secrets);
        release();
        return { ...scan, result: await running };
      } finally {
        release();
        holdSubmit = undefined;
      }
    }

    it('no process shows a token in its argv or environment while the client runs', async () => {
      const id = 'proc-scan';
      const variables = tokenFiles(id);
      const secrets = Object.values(variables).map((file) => readFileSync(file, 'utf8').trim());
      const { found, scanned, result } = await scanWhileSubmitting([python, INPROCESS, 'fts-rest-transfer-submit', '-s', fts.url, SRC, DST], variables, secrets, id);
      assert.ok(scanned.some((cmdline) => cmdline.includes(`${INPROCESS} `)), 'the scan did not see the client running');
      assert.deepEqual(found, [], 'processes showing a token');
      assert.equal(result.exitCode, 0, failed(result));
      const file = (requestsOf(id).find((r) => r.method === 'POST')!.json as { files: Array<Record<string, string[]>> }).files[0]!;
      assert.deepEqual([file.source_tokens?.map(describeToken), file.destination_tokens?.map(describeToken)], [[expected(id, 'src')], [expected(id, 'dst')]]);
    });

    it('(control) the same scan finds the tokens of the client run with token options', async () => {
      const id = 'proc-control';
      const secrets = (['fts', 'src', 'dst'] as const).map((role) => mint(id, role));
      const argv = [join(FTS_BIN, 'fts-rest-transfer-submit'), '-s', fts.url, '--fts-access-token', secrets[0]!,
        '--src-access-token', secrets[1]!, '--dst-access-token', secrets[2]!, SRC, DST];
      const { found, result } = await scanWhileSubmitting(argv, {}, secrets, id);
      assert.equal(result.exitCode, 0, failed(result));
      assert.equal(found.filter((f) => f.endsWith(' cmdline')).length, 1, `expected exactly the client's argv, found: ${found.join(', ')}`);
    });
  });
});

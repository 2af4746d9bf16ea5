// shell/tokenenv.sh's wrappers in the real bash and zsh, against recording stubs of the clients:
// every call runs under `set -euo pipefail` with the script sourced twice, and the stubs record
// argv, environment and stdin byte for byte.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommands } from '../support/peers.js';
import { assertNoSecret, fakeJwt } from '../support/sandbox.js';
import { CLIENTS, jwtClaims, q, redact, SHELLS, ShellLab } from '../support/shell.js';

/** Arguments a careless wrapper would mangle: spaces, quotes, globs, a newline, --, '' and more. */
const AWKWARD = ['a b', ' lead', 'trail ', '"double"', "it's", '*', '[ab]*', '~', '$HOME', '`id`', '$(id)', 'line1\nline2', '--', '', '-pool', '\\', 'tab\there', 'ünï'];

const list = (args: readonly string[]) => args.map(q).join(' ');

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: pass-through`, function () {
    this.timeout(60_000);
    let lab: ShellLab;

    beforeEach(function () {
      requireCommands(this, shell);
      lab = new ShellLab();
      // Files a glob would match, in the directory the shell runs in.
      for (const name of ['a1', 'b2', 'job.sub']) writeFileSync(join(lab.work, name), '');
    });
    afterEach(() => lab?.remove());

    it('argv reaches every client unchanged (and each kind its token)', async () => {
      const clients = [CLIENTS.condor[0], CLIENTS.arc[0], CLIENTS.arcdata[0], CLIENTS.fts[1]];
      const body = clients.map((c) => `${c} ${list(AWKWARD)}`).join('\n');
      const run = await lab.run(shell, body);
      assert.equal(run.status, 0, run.stderr);
      const records = lab.records();
      assert.deepEqual(records.map((r) => r.client), clients);
      const token = lab.token(lab.tokenFile());
      for (const record of records.slice(0, 3)) assert.deepEqual(record.argv, AWKWARD, `${record.client}'s argv`);
      // FTS: the token in front, the rest unchanged.
      assert.deepEqual(redact(records[3]!.argv, token), ['--access-token', '<token>', ...AWKWARD]);
      assert.ok(records[3]!.argv[1] === token, 'FTS got the default token file\'s content as --access-token');
      assertNoSecret(run.stdout + run.stderr, token);
    });

    it('no arguments at all, and a single empty one', async () => {
      const run = await lab.run(shell, `condor_q\ncondor_q ''\narcstat`);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(lab.records().map((r) => r.argv), [[], [''], []]);
    });

    it('the client\'s exit status: returned, checked with ||, and fatal under set -e', async () => {
      lab.stub('condor_submit', { status: 3 });
      lab.stub('arcsub', { status: 0 });
      lab.stub('fts-rest-transfer-submit', { status: 42 });
      const run = await lab.run(shell, [
        'rc=0; condor_submit job.sub || rc=$?; echo "condor=$rc"',
        'rc=0; arcsub -C arc.example.org job.xrsl || rc=$?; echo "arc=$rc"',
        'rc=0; fts-rest-transfer-submit -s https://fts.example:8446 a b || rc=$?; echo "fts=$rc"',
        'if condor_submit x; then echo then; else echo "else=$?"; fi',
        'condor_submit fatal',
        'echo not-reached',
      ].join('\n'));
      assert.equal(run.status, 3, 'set -e ends the shell with the client\'s status');
      assert.equal(run.stdout, 'condor=3\narc=0\nfts=42\nelse=3\n');
      assert.deepEqual(lab.records().map((r) => r.argv.at(-1)), ['job.sub', 'job.xrsl', 'b', 'x', 'fatal']);
    });

    it('stdin and stdout pass through, also in pipelines under pipefail', async () => {
      lab.stub('condor_q', { stdout: 'ID OWNER\n1.0 me\n\n' });
      lab.stub('arcls', { stdout: 'file1\nfile 2\n' });
      const run = await lab.run(shell, [
        `out=$(printf 'in 1\\n\\nin\\t3' | condor_q -af Owner)`,
        `printf '[%s]\\n' "$out"`,
        `printf 'x\\n' | arcls https://se.example.org/dir | while IFS= read -r line; do echo "got $line"; done`,
        'echo done',
      ].join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, '[ID OWNER\n1.0 me]\ngot file1\ngot file 2\ndone\n');
      const [q1, ls] = lab.records();
      assert.equal(q1!.stdin, 'in 1\n\nin\t3');
      assert.equal(ls!.stdin, 'x\n');
    });

    it('stdin of the shell itself reaches the client', async () => {
      const run = await lab.run(shell, 'condor_submit -', { input: 'executable = /bin/true\nqueue\n' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(lab.records()[0]!.stdin, 'executable = /bin/true\nqueue\n');
    });

    it('HTCondor gets BEARER_TOKEN_FILE and _condor_SCITOKENS_FILE; ARC gets BEARER_TOKEN_FILE; the user\'s BEARER_TOKEN reaches neither', async () => {
      const run = await lab.run(shell, 'condor_submit job.sub\narcsub job.xrsl\narcls https://se.example.org/\necho "still set: $BEARER_TOKEN"', {
        env: { BEARER_TOKEN: 'users-own-token-value', SOMETHING_ELSE: 'kept' },
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'still set: users-own-token-value\n', 'the shell keeps its BEARER_TOKEN');
      const [condor, arc, arcls] = lab.records();
      assert.equal(condor!.env.BEARER_TOKEN_FILE, lab.tokenFile());
      assert.equal(condor!.env._condor_SCITOKENS_FILE, lab.tokenFile());
      assert.equal(arc!.env.BEARER_TOKEN_FILE, lab.tokenFile());
      assert.equal(arc!.env._condor_SCITOKENS_FILE, undefined);
      assert.equal(arcls!.env.BEARER_TOKEN_FILE, lab.tokenFile('https://se.example.org', 'arcls'));
      for (const record of [condor!, arc!, arcls!]) {
        assert.ok(!('BEARER_TOKEN' in record.env), `${record.client} got BEARER_TOKEN`);
        assert.equal(record.env.SOMETHING_ELSE, 'kept');
      }
      const claims = jwtClaims(lab.token(lab.tokenFile()));
      assert.equal(claims.iss, 'https://mint.test');
    });

    it('FTS (a client that is not a Python script): --access-token with the token file\'s content, unless the call names its own', async () => {
      const run = await lab.run(shell, [
        'fts-rest-transfer-submit -s https://fts.example:8446 "src 1" dst',
        'fts-rest-whoami -s https://fts.example:8446 --access-token users-token',
        'fts-rest-transfer-status -s https://fts.example:8446 --access-token=users-token job-id',
        'fts-rest-delegate --access-token',
      ].join('\n'), { env: { BEARER_TOKEN: 'users-own-token-value' } });
      assert.equal(run.status, 0, run.stderr);
      const token = lab.token(lab.tokenFile('https://fts.example:8446', 'fts-rest-transfer-submit'));
      const [submit, whoami, status, delegate] = lab.records();
      assert.deepEqual(redact(submit!.argv, token), ['--access-token', '<token>', '-s', 'https://fts.example:8446', 'src 1', 'dst']);
      assert.ok(submit!.argv[1] === token, 'the injected token is the endpoint token file\'s content');
      assert.ok(!('BEARER_TOKEN' in submit!.env), 'FTS got BEARER_TOKEN');
      assert.deepEqual(whoami!.argv, ['-s', 'https://fts.example:8446', '--access-token', 'users-token']);
      assert.deepEqual(status!.argv, ['-s', 'https://fts.example:8446', '--access-token=users-token', 'job-id']);
      assert.deepEqual(delegate!.argv, ['--access-token']);
      assertNoSecret(run.stdout + run.stderr, token);
    });

    it('FTS with its own --access-token runs even when tokenenv cannot get a token', async () => {
      lab.mint.mode = 'garbage';
      const run = await lab.run(shell, 'fts-rest-whoami -s https://fts.example:8446 --access-token users-token');
      assert.equal(run.status, 0, run.stderr);
      assert.equal(lab.mint.calls, 0, 'no token was fetched for a call that brings its own');
      const [whoami] = lab.records();
      assert.deepEqual(whoami!.argv, ['-s', 'https://fts.example:8446', '--access-token', 'users-token']);
    });

    it('a client that is not installed: 127, as without the wrapper', async () => {
      const run = await lab.run(shell, `rc=0; PATH=${q(lab.env.PATH!.split(':').slice(1).join(':'))} condor_history || rc=$?; echo "rc=$rc"`);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'rc=127\n');
    });

    it('user variables with the helpers\' local names are left alone', async () => {
      const names = ['kind', 'client', 'token', 'arg', 'key', 'out', 'rc', 'value', 'stamp', 'until', 'rest', 'dir', 'exp', 'left', 'word'];
      const run = await lab.run(shell, [
        ...names.map((n) => `${n}=user-${n}`),
        'condor_submit -pool ce1.example.org job.sub',
        'fts-rest-whoami -s https://fts.example:8446',
        'condor_q',
        'tokenenv_prompt >/dev/null',
        `for v in ${names.join(' ')}; do eval "printf '%s\\n' \\"\\$v=\\$$v\\""; done`,
      ].join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, names.map((n) => `${n}=user-${n}\n`).join(''));
    });

    it('without a config: the discovered token as it is; FTS gets BEARER_TOKEN as --access-token', async () => {
      const run = await lab.run(shell, 'condor_submit job.sub\nfts-rest-whoami -s https://fts.example:8446', {
        env: { TOKENENV_CONFIG: undefined, BEARER_TOKEN: 'users-own-token-value' },
      });
      assert.equal(run.status, 0, run.stderr);
      const [condor, fts] = lab.records();
      assert.equal(condor!.env.BEARER_TOKEN, 'users-own-token-value', 'discovery finds BEARER_TOKEN: it is passed on');
      assert.equal(condor!.env.BEARER_TOKEN_FILE, undefined);
      assert.deepEqual(fts!.argv, ['--access-token', 'users-own-token-value', '-s', 'https://fts.example:8446'], 'FTS does no discovery');
      assert.ok(!('BEARER_TOKEN' in fts!.env));
      assert.equal(lab.mint.calls, 0);
    });

    it('without a config: a discovered token file is used and stamped', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = fakeJwt({ iss: 'https://own.example', aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now, exp: now + 3600 });
      writeFileSync(lab.tokenFile(), `${token}\n`, { mode: 0o600 });
      const run = await lab.run(shell, 'condor_submit job.sub\nfts-rest-whoami', { env: { TOKENENV_CONFIG: undefined } });
      assert.equal(run.status, 0, run.stderr);
      const [condor, fts] = lab.records();
      assert.equal(condor!.env.BEARER_TOKEN_FILE, lab.tokenFile());
      assert.ok(fts!.argv[0] === '--access-token' && fts!.argv[1] === token, 'FTS got the discovered token');
      assert.ok(existsSync(lab.stampFile(lab.tokenFile())), 'the discovered JWT was stamped for the fast path');
      assertNoSecret(run.stdout + run.stderr, token);
    });
  });
}

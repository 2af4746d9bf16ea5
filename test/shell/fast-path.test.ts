// The fast path, proven with strace: with a fresh token (its stamp present and not older than the
// file), a wrapped call executes no program besides the client; otherwise it executes tokenenv
// exactly once. The stubs use bash builtins only, so every execve in the log is accounted for.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tokenenvBin } from '../support/cli.js';
import { requireCommands } from '../support/peers.js';
import { execvedPrograms, q, SCRIPT, SHELLS, ShellLab } from '../support/shell.js';

/** One call of each kind: default token, HTCondor-CE, ARC CE, storage URL, FTS endpoint. */
const CALLS = [
  'condor_q',
  'condor_submit -pool ce1.example.org job.sub',
  'arcsub -C https://arc.example.org/arex job.xrsl',
  'arcls https://se.example.org/dir',
  'fts-rest-transfer-submit -s https://fts.example:8446 src dst',
];
const CLIENTS = CALLS.map((c) => c.split(' ')[0]!);

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: fast path (strace)`, function () {
    this.timeout(60_000);
    let lab: ShellLab;
    let trace: string;

    beforeEach(function () {
      requireCommands(this, shell, 'strace');
      lab = new ShellLab();
      trace = lab.box.path('execve.trace');
    });
    afterEach(() => lab?.remove());

    const stub = (client: string) => join(lab.stubs, client);
    const isNode = (program: string) => /^node/.test(basename(program));

    /** Runs `body` under strace; returns the programs executed after the shell itself. */
    async function traced(body: string): Promise<string[]> {
      rmSync(trace, { force: true });
      const run = await lab.run(shell, body, { trace });
      assert.equal(run.status, 0, run.stderr);
      const [first, ...rest] = execvedPrograms(trace);
      assert.equal(basename(first ?? ''), shell, 'the first program is the shell');
      return rest;
    }

    /** Gets every token of CALLS (slow path), so that each has a fresh stamp. */
    async function warmUp(): Promise<void> {
      const run = await lab.run(shell, CALLS.join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(lab.mint.calls, 5);
    }

    it('fresh tokens: each call executes the client and nothing else; the source is not called', async () => {
      await warmUp();
      const programs = await traced(CALLS.join('\n'));
      assert.deepEqual(programs, CLIENTS.map(stub));
      assert.equal(lab.mint.calls, 5, 'no source call on the fast path');
      assert.equal(lab.records().length, 10);
    });

    it('the fast path also holds with the script sourced once, without strict mode', async () => {
      await warmUp();
      rmSync(trace, { force: true });
      const run = await lab.run(shell, CALLS.join('\n'), { trace, prelude: `source ${q(SCRIPT)}\n` });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(execvedPrograms(trace).slice(1), CLIENTS.map(stub));
    });

    it('the fast path holds with a user\'s IFS and shell options', async () => {
      await warmUp();
      const options = shell === 'bash' ? 'IFS=:; set -o noclobber; shopt -s nullglob' : 'IFS=:; setopt noclobber nullglob sh_word_split';
      rmSync(trace, { force: true });
      const run = await lab.run(shell, `${options}\n${CALLS.join('\n')}`, { trace });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.deepEqual(execvedPrograms(trace).slice(1), CLIENTS.map(stub));
    });

    it('a fresh token without a stamp: tokenenv once (it keeps the token and stamps it), then the client', async () => {
      await warmUp();
      rmSync(join(lab.xdg, 'tokenenv', 'fresh'), { recursive: true });
      const programs = await traced('condor_q\ncondor_q\ncondor_q');
      assert.equal(programs.length, 5, programs.join('\n'));
      assert.deepEqual(programs.filter((p) => p !== stub('condor_q')).map((p) => (isNode(p) ? 'node' : p)), [tokenenvBin, 'node']);
      assert.deepEqual(programs.slice(2), Array(3).fill(stub('condor_q')), 'the later calls in the same shell take the fast path');
      assert.equal(lab.mint.calls, 5, 'a fresh token is kept, not fetched again');
      assert.match(readFileSync(lab.stampFile(lab.tokenFile()), 'utf8'), /^\d+ \d+ \d+:\d+:\d+:\d+\n$/);
      // The new stamp serves the next shell.
      assert.deepEqual(await traced('condor_q'), [stub('condor_q')]);
    });

    it('no token at all: tokenenv once, which runs the source once', async () => {
      const programs = await traced('condor_submit -pool ce1.example.org job.sub');
      assert.deepEqual(programs.map((p) => (isNode(p) ? 'node' : p)), [tokenenvBin, 'node', lab.mint.script, 'node', stub('condor_submit')]);
      assert.equal(lab.mint.calls, 1);
    });

    it('a token file newer than its stamp is not trusted', async () => {
      await warmUp();
      const future = Date.now() / 1000 + 30;
      utimesSync(lab.tokenFile(), future, future);
      const programs = await traced('condor_q');
      assert.equal(programs.filter((p) => p === tokenenvBin).length, 1);
      assert.equal(programs.at(-1), stub('condor_q'));
    });

    it('a stamp past its fresh-until time is not trusted', async () => {
      await warmUp();
      const stamp = lab.stampFile(lab.tokenFile('https://fts.example:8446', 'fts-rest-whoami'));
      const [, expiry] = readFileSync(stamp, 'utf8').trim().split(' ');
      writeFileSync(stamp, `${Math.floor(Date.now() / 1000) - 1} ${expiry}\n`);
      const programs = await traced('fts-rest-whoami -s https://fts.example:8446');
      assert.equal(programs.filter((p) => p === tokenenvBin).length, 1);
      assert.equal(programs.at(-1), stub('fts-rest-whoami'));
      assert.equal(lab.mint.calls, 5, 'the token itself was still fresh: kept');
    });

    it('an unreadable or malformed stamp means the slow path, never a failure', async () => {
      await warmUp();
      writeFileSync(lab.stampFile(lab.tokenFile()), 'garbage\n');
      writeFileSync(lab.stampFile(lab.tokenFile('ce1.example.org:9619', 'condor_q')), '');
      const programs = await traced('condor_q\ncondor_q -pool ce1.example.org');
      assert.equal(programs.filter((p) => p === tokenenvBin).length, 2);
      assert.deepEqual(programs.filter((p) => p.startsWith(lab.stubs)), [stub('condor_q'), stub('condor_q')]);
    });
  });
}

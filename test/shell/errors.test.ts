// The slow path's failures: when no token can be had, the wrapper says so on stderr, does not run
// the client, and returns non-zero (which set -e honours).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { q, SCRIPT, SHELLS, useShellLab } from '../support/shell.js';

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: no token, no client`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    it('a source that returns garbage: a clear error, the client not run, non-zero', async () => {
      ctx.lab.mint.mode = 'garbage';
      const run = await ctx.lab.run(shell, 'rc=0; condor_submit job.sub || rc=$?; echo "rc=$rc"\nrc=0; fts-rest-whoami -s https://fts.example:8446 || rc=$?; echo "rc=$rc"');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^rc=[1-9]\d*\nrc=[1-9]\d*\n$/);
      assert.match(run.stderr, /tokenenv: no valid token for this call; not running it \(exit \d+\)/);
      assert.match(run.stderr, /tokenenv: no valid token for https:\/\/fts\.example:8446; not running it/);
      assert.match(run.stderr, /mint/, 'tokenenv says which source failed');
      assert.deepEqual(ctx.lab.records(), [], 'no client ran');
      assert.ok(!existsSync(ctx.lab.tokenFile()), 'no token file');
    });

    it('under set -e, without ||: the shell stops there with a non-zero status', async () => {
      ctx.lab.mint.mode = 'garbage';
      const run = await ctx.lab.run(shell, 'arcsub -C arc.example.org job.xrsl\necho not-reached');
      assert.notEqual(run.status, 0);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /tokenenv: no valid token for https:\/\/arc\.example\.org; not running it/);
      assert.deepEqual(ctx.lab.records(), []);
    });

    it('a source that hangs is cut off at the account\'s timeout', async () => {
      ctx.lab.mint.mode = 'hang';
      ctx.lab.configure({ default: {} }, { timeout: 1 });
      const started = Date.now();
      const run = await ctx.lab.run(shell, 'rc=0; condor_q -pool ce1.example.org || rc=$?; echo "rc=$rc"');
      const elapsed = Date.now() - started;
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^rc=[1-9]\d*\n$/);
      assert.match(run.stderr, /tokenenv: no valid token for ce1\.example\.org:9619; not running it/);
      assert.deepEqual(ctx.lab.records(), []);
      assert.ok(elapsed < 15_000, `the wrapper returned after ${elapsed} ms`);
    });

    it('tokenenv itself missing: exit 127, reported, the client not run', async () => {
      const run = await ctx.lab.run(shell, 'rc=0; condor_q || rc=$?; echo "rc=$rc"', { env: { TOKENENV_BIN: ctx.lab.box.path('no-such-tokenenv') } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'rc=127\n');
      assert.match(run.stderr, /tokenenv: no valid token for this call; not running it \(exit 127\)/);
      assert.deepEqual(ctx.lab.records(), []);
    });

    it('the script gone after the shell started (an upgrade half done): said so, the client not run', async () => {
      const copy = ctx.lab.box.path('tokenenv.sh');
      copyFileSync(SCRIPT, copy);
      const run = await ctx.lab.run(shell, `source ${q(copy)}\nrm ${q(copy)}\nrc=0; condor_q || rc=$?; echo "rc=$rc"`, { prelude: 'set -euo pipefail\n' });
      assert.equal(run.stdout, 'rc=1\n');
      assert.match(run.stderr, new RegExp(`tokenenv: cannot read ${copy}`));
      assert.deepEqual(ctx.lab.records(), []);
    });

    it('a broken config: the config error, the client not run', async () => {
      ctx.lab.configure({ default: { no_such_key: 1 } });
      const run = await ctx.lab.run(shell, 'rc=0; arcls https://se.example.org/ || rc=$?; echo "rc=$rc"');
      assert.equal(run.stdout, 'rc=2\n');
      assert.match(run.stderr, /no_such_key/);
      assert.match(run.stderr, /not running it \(exit 2\)/);
      assert.deepEqual(ctx.lab.records(), []);
    });

    it('after a failure, a working source is used on the next call', async () => {
      ctx.lab.mint.mode = 'garbage';
      const run = await ctx.lab.run(shell, `rc=0; condor_q || rc=$?; echo "rc=$rc"\nprintf ok > ${q(ctx.lab.mint.dir + "/mode")}\ncondor_q\necho done`);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^rc=[1-9]\d*\ndone\n$/);
      assert.deepEqual(ctx.lab.records().map((r) => r.env.BEARER_TOKEN_FILE), [ctx.lab.tokenFile()]);
    });
  });
}

// BEARER_TOKEN in the user's shell (issue 10, item 8): what a wrapped client gets is decided by
// the config alone, never by a stamp left from earlier. Without a config, the client gets the
// user's BEARER_TOKEN (checked for expiry on every call); with one, the configured token file —
// learned from tokenenv once per shell, then taken on the fast path.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fakeJwt } from '../support/sandbox.js';
import { SHELLS, type StubRecord, useShellLab } from '../support/shell.js';

const now = () => Math.floor(Date.now() / 1000);
const CALLS = 'condor_q\nfts-rest-whoami\ncondor_q -pool ce1.example.org\narcsub -C arc.example.org job';

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: BEARER_TOKEN set`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    /** What each client got: ["BEARER_TOKEN" | file path] per call. */
    const received = (records: StubRecord[], userToken: string) => records.map((r) => {
      if (r.client.startsWith('fts-')) return r.argv[1] === userToken ? 'BEARER_TOKEN' : 'a file\'s token';
      if (r.env.BEARER_TOKEN_FILE === undefined && r.env.BEARER_TOKEN === userToken) return 'BEARER_TOKEN';
      assert.equal(r.env.BEARER_TOKEN, undefined, `${r.client} got both`);
      return r.env.BEARER_TOKEN_FILE;
    });

    it('no config: every client gets the user\'s BEARER_TOKEN, whether or not fresh stamps from an earlier config remain', async () => {
      // Earlier, with a config: fresh token files and stamps for the default token and ce1.
      const warm = await ctx.lab.run(shell, 'condor_q\ncondor_q -pool ce1.example.org');
      assert.equal(warm.status, 0, warm.stderr);
      ctx.lab.clearRecords();
      const userToken = fakeJwt({ aud: 'users-own', iat: now(), exp: now() + 3600 });
      const env = { TOKENENV_CONFIG: undefined, BEARER_TOKEN: userToken };

      const withStamps = await ctx.lab.run(shell, CALLS, { env });
      assert.equal(withStamps.status, 0, withStamps.stderr);
      const first = received(ctx.lab.records(), userToken);
      assert.deepEqual(first, Array(4).fill('BEARER_TOKEN'));

      rmSync(join(ctx.lab.xdg, 'tokenenv'), { recursive: true });
      ctx.lab.clearRecords();
      const withoutStamps = await ctx.lab.run(shell, CALLS, { env });
      assert.equal(withoutStamps.status, 0, withoutStamps.stderr);
      assert.deepEqual(received(ctx.lab.records(), userToken), first, 'the same with and without stamps');
    });

    it('no config, BEARER_TOKEN expired: the client is not run (exit 5), even in a shell that used it before', async () => {
      const valid = fakeJwt({ aud: 'a', iat: now(), exp: now() + 3600 });
      const expired = fakeJwt({ aud: 'a', iat: now() - 7200, exp: now() - 60 });
      const run = await ctx.lab.run(shell, `condor_q\nexport BEARER_TOKEN='${expired}'\nrc=0; condor_q || rc=$?; echo "rc=$rc"`, { env: { TOKENENV_CONFIG: undefined, BEARER_TOKEN: valid } });
      assert.equal(run.stdout, 'rc=5\n');
      assert.equal(ctx.lab.records().length, 1);
    });

    it('with a config: the configured token files, from the first call on; learned once per shell, then the fast path', async () => {
      const userToken = fakeJwt({ aud: 'users-own', iat: now(), exp: now() + 3600 });
      const tokenenv = ctx.lab.countingTokenenv();
      const env = { BEARER_TOKEN: userToken, TOKENENV_BIN: tokenenv.bin };
      const run = await ctx.lab.run(shell, `${CALLS}\n${CALLS}`, { env });
      assert.equal(run.status, 0, run.stderr);
      const expected = [ctx.lab.tokenFile(), 'a file\'s token', ctx.lab.tokenFile('ce1.example.org:9619', 'condor_q'), ctx.lab.tokenFile('https://arc.example.org', 'arcsub')];
      assert.deepEqual(received(ctx.lab.records(), userToken), [...expected, ...expected]);
      assert.equal(tokenenv.calls(), 3, 'one call per token file (FTS shares the default one), none for the second round');

      // A new shell: stamps exist, but with BEARER_TOKEN set it asks tokenenv once per token first.
      ctx.lab.clearRecords();
      const again = await ctx.lab.run(shell, CALLS, { env });
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(received(ctx.lab.records(), userToken), expected);
      assert.equal(tokenenv.calls(), 6);
    });
  });
}

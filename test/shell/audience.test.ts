// The audience of a wrapped call comes from its own arguments (DESIGN.md §4): each endpoint gets
// its own purpose-suffixed token file, minted with that audience (the Mint source copies
// TOKENENV_AUDIENCE into `aud`), passed to that call only; [endpoint] sections override it.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { EUID, jwtClaims, SHELLS, type StubRecord, useShellLab } from '../support/shell.js';

const WLCG_ANY = 'https://wlcg.cern.ch/jwt/v1/any';

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: audience per endpoint`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    /** The token file a client was given, by BEARER_TOKEN_FILE or (FTS) by --access-token. */
    function tokenOf(record: StubRecord): { file?: string; claims: Record<string, unknown> } {
      if (record.env.BEARER_TOKEN_FILE) return { file: record.env.BEARER_TOKEN_FILE, claims: jwtClaims(ctx.lab.token(record.env.BEARER_TOKEN_FILE)) };
      assert.equal(record.argv[0], '--access-token', `${record.client} got no token`);
      return { claims: jwtClaims(record.argv[1]!) };
    }

    const WRITE = 'compute.create compute.modify compute.cancel';
    /** A call, the audience of its token, the operation it is asked for, the scope that gives. */
    const CASES: { call: string; audience: string; op: string; scope: string }[] = [
      { call: 'condor_submit -pool ce1.example.org job.sub', audience: 'ce1.example.org:9619', op: 'condor_submit', scope: WRITE },
      { call: 'condor_q -name host.example.org:1234', audience: 'host.example.org:1234', op: 'condor_q', scope: 'compute.read' },
      { call: 'condor_rm -pool ce2.example.org:9620 1.0', audience: 'ce2.example.org:9620', op: 'condor_rm', scope: WRITE },
      { call: 'condor_q -name schedd.example.org -pool ce3.example.org:9620', audience: 'ce3.example.org:9620', op: 'condor_q', scope: 'compute.read' },
      { call: 'condor_q -pool ce3.example.org -name schedd.example.org:1234', audience: 'ce3.example.org:9619', op: 'condor_q', scope: 'compute.read' },
      { call: 'condor_ce_submit -remote schedd@ce4.example.org job.sub', audience: 'ce4.example.org:9619', op: 'condor_ce_submit', scope: WRITE },
      { call: "condor_ce_q -pool '[2001:db8::4]'", audience: '[2001:db8::4]:9619', op: 'condor_ce_q', scope: 'compute.read' },
      { call: 'condor_ce_trace --debug ce5.example.org', audience: 'ce5.example.org:9619', op: 'condor_ce_trace', scope: WRITE },
      { call: 'arcsub -C https://arc.example.org/arex job.xrsl', audience: 'https://arc.example.org', op: 'arcsub', scope: 'compute.create' },
      { call: 'arcstat --computing-element=arc2.example.org:8443/arex -a', audience: 'https://arc2.example.org:8443', op: 'arcstat', scope: 'compute.read' },
      { call: 'arcinfo -Carc3.example.org', audience: 'https://arc3.example.org', op: 'arcinfo', scope: 'compute.read' },
      { call: 'arckill -C arc3.example.org job1', audience: 'https://arc3.example.org', op: 'arckill', scope: 'compute.cancel' },
      { call: 'arcls -l davs://se.example.org:2880/dir/file', audience: 'davs://se.example.org:2880', op: 'read', scope: 'storage.read:/' },
      { call: 'arccp https://se1.example.org/a /tmp/b', audience: 'https://se1.example.org', op: 'read', scope: 'storage.read:/' },
      { call: 'fts-rest-transfer-submit -s https://fts.example:8446 src dst', audience: 'https://fts.example:8446', op: 'fts-rest-transfer-submit', scope: 'fts' },
      { call: 'fts-rest-whoami --endpoint=https://fts2.example:8446/path', audience: 'https://fts2.example:8446', op: 'fts-rest-whoami', scope: 'fts' },
    ];

    it('each endpoint and operation its own token file, with the audience and scope derived from the call', async () => {
      const run = await ctx.lab.run(shell, CASES.map((c) => c.call).join('\n'));
      assert.equal(run.status, 0, run.stderr);
      const records = ctx.lab.records();
      assert.equal(records.length, CASES.length);
      CASES.forEach(({ call, audience, op, scope }, i) => {
        const { file, claims } = tokenOf(records[i]!);
        assert.deepEqual([claims.aud, claims.scope], [audience, scope], `${call}: aud and scope`);
        const expectedFile = ctx.lab.tokenFile(audience, op);
        if (file) assert.equal(file, expectedFile, `${call}: token file`);
        else assert.ok(ctx.lab.token(expectedFile) === records[i]!.argv[1], `${call}: --access-token is the content of ${expectedFile}`);
      });
      assert.equal(ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit'), `${ctx.lab.xdg}/bt_u${EUID}-tokenenv-ep-ce1.example.org_3A9619__compute.create_20compute.modify_20compute.cancel`);
      assert.equal(ctx.lab.mint.calls, CASES.length, 'one source call per endpoint and scope');
    });

    it('a read and a write command at one CE: two tokens, each with its own scope, one source call each', async () => {
      const run = await ctx.lab.run(shell, 'condor_q -pool ce1.example.org\ncondor_submit -pool ce1.example.org a\ncondor_rm -pool ce1.example.org 1.0\ncondor_q -pool ce1.example.org:9619');
      assert.equal(run.status, 0, run.stderr);
      const files = ctx.lab.records().map((r) => r.env.BEARER_TOKEN_FILE!);
      assert.deepEqual(files, [ctx.lab.tokenFile('ce1.example.org:9619', 'condor_q'), ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit'),
        ctx.lab.tokenFile('ce1.example.org:9619', 'condor_rm'), ctx.lab.tokenFile('ce1.example.org:9619', 'condor_q')]);
      assert.deepEqual(files.map((f) => jwtClaims(ctx.lab.token(f)).scope), ['compute.read', WRITE, WRITE, 'compute.read']);
      assert.equal(ctx.lab.mint.calls, 2);
    });

    it('the same endpoint twice: one token, one source call', async () => {
      const run = await ctx.lab.run(shell, 'condor_submit -pool ce1.example.org a\ncondor_rm -pool ce1.example.org:9619 1.0\ncondor_hold -name ce1.example.org 1.0');
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(ctx.lab.records().map((r) => r.env.BEARER_TOKEN_FILE), Array(3).fill(ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit')));
      assert.equal(ctx.lab.mint.calls, 1);
    });

    it('no endpoint: the default token; endpoint calls leave it alone', async () => {
      let run = await ctx.lab.run(shell, 'condor_q\narcsub job.xrsl\nfts-rest-whoami');
      assert.equal(run.status, 0, run.stderr);
      const records = ctx.lab.records();
      assert.equal(records[0]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile());
      assert.equal(records[1]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile());
      assert.equal(jwtClaims(ctx.lab.token(ctx.lab.tokenFile())).aud, WLCG_ANY);
      assert.ok(records[2]!.argv[1] === ctx.lab.token(ctx.lab.tokenFile()), 'FTS without -s gets the default token');
      const before = { content: readFileSync(ctx.lab.tokenFile(), 'utf8'), mtime: statSync(ctx.lab.tokenFile()).mtimeMs, stamp: readFileSync(ctx.lab.stampFile(ctx.lab.tokenFile()), 'utf8') };

      run = await ctx.lab.run(shell, CASES.map((c) => c.call).join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.ok(readFileSync(ctx.lab.tokenFile(), 'utf8') === before.content, 'the default token is unchanged');
      assert.equal(statSync(ctx.lab.tokenFile()).mtimeMs, before.mtime);
      assert.equal(readFileSync(ctx.lab.stampFile(ctx.lab.tokenFile()), 'utf8'), before.stamp);
      for (const record of ctx.lab.records().slice(3)) {
        assert.notEqual(record.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile(), `${record.client} got the default token`);
      }
    });

    it('the endpoint token is for that call only: the next call without an endpoint gets the default', async () => {
      const run = await ctx.lab.run(shell, 'condor_submit -pool ce1.example.org a\ncondor_submit b\necho "BEARER_TOKEN_FILE=${BEARER_TOKEN_FILE:-unset} _condor_SCITOKENS_FILE=${_condor_SCITOKENS_FILE:-unset}"');
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(ctx.lab.records().map((r) => r.env.BEARER_TOKEN_FILE), [ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit'), ctx.lab.tokenFile()]);
      assert.equal(run.stdout, 'BEARER_TOKEN_FILE=unset _condor_SCITOKENS_FILE=unset\n', 'nothing is exported into the shell');
    });

    it('an [endpoint] section overrides audience and scope; the file is still named by the endpoint', async () => {
      ctx.lab.configure({ default: { scope: 'storage.read:/ compute.read' } }, {}, [
        '[endpoint ce2.example.org:9619]', 'audience = https://ce2.example.org', 'scope = compute.create compute.read', '',
        '[endpoint https://fts.example:8446]', 'audience = https://wlcg.cern.ch/jwt/v1/any', 'scope = storage.read:/ storage.modify:/', '',
      ].join('\n'));
      const run = await ctx.lab.run(shell, 'condor_submit -pool ce2.example.org job.sub\nfts-rest-transfer-submit -s https://fts.example:8446 a b\ncondor_q -pool ce1.example.org');
      assert.equal(run.status, 0, run.stderr);
      const [ce2, fts, ce1] = ctx.lab.records();
      assert.equal(ce2!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('ce2.example.org:9619', 'condor_submit'));
      const ce2Claims = jwtClaims(ctx.lab.token(ctx.lab.tokenFile('ce2.example.org:9619', 'condor_submit')));
      assert.equal(ce2Claims.aud, 'https://ce2.example.org');
      assert.equal(ce2Claims.scope, 'compute.create compute.read');
      const ftsClaims = jwtClaims(fts!.argv[1]!);
      assert.equal(ftsClaims.aud, WLCG_ANY);
      assert.equal(ftsClaims.scope, 'storage.read:/ storage.modify:/');
      assert.ok(fts!.argv[1] === ctx.lab.token(ctx.lab.tokenFile('https://fts.example:8446', 'fts-rest-transfer-submit')));
      // Without a section: the endpoint as audience, the operation's scope (not the default token's).
      const ce1Claims = jwtClaims(ctx.lab.token(ce1!.env.BEARER_TOKEN_FILE!));
      assert.equal(ce1Claims.aud, 'ce1.example.org:9619');
      assert.equal(ce1Claims.scope, 'compute.read');
    });

    it('endpoints that differ only in case or punctuation get files of their own, each with its own audience (issue 12, item 10)', async () => {
      // Each pair shared one file before: ':' and '_' were both written '_'.
      const calls = ['condor_q -pool ce_1:9619', 'condor_q -pool ce:1:9619', 'condor_q -pool ce%1:9619', 'condor_q -pool CE_1:9619',
        'arcsub -C https://a.example.org:443 job', 'arcsub -C https://a.example.org_443 job', 'condor_q -pool ce_1:9619'];
      const run = await ctx.lab.run(shell, calls.join('\n'));
      assert.equal(run.status, 0, run.stderr);
      const records = ctx.lab.records();
      const audiences = records.map((r) => jwtClaims(ctx.lab.token(r.env.BEARER_TOKEN_FILE!)).aud);
      assert.deepEqual(audiences, ['ce_1:9619', 'ce:1:9619', 'ce%1:9619', 'CE_1:9619', 'https://a.example.org:443', 'https://a.example.org_443', 'ce_1:9619']);
      assert.equal(new Set(records.map((r) => r.env.BEARER_TOKEN_FILE)).size, 6, 'six endpoints, six files');
      assert.equal(ctx.lab.mint.calls, 6);
    });

    it('an endpoint name too long for a file name: refused with the reason, the client not run', async () => {
      const long = `${'h'.repeat(190)}.example.org`;
      const run = await ctx.lab.run(shell, `rc=0; condor_q -pool ${long} || rc=$?; echo "rc=$rc"`);
      assert.equal(run.stdout, 'rc=2\n');
      assert.match(run.stderr, /too long for a token file name/);
      assert.deepEqual(ctx.lab.records(), []);
    });

    it('an endpoint that is not a plain host name cannot run code or reach outside XDG_RUNTIME_DIR', async () => {
      const hostile = 'x$(touch${IFS}pwned)`touch${IFS}pwned2`;y'; // no space: an audience with one would be a list
      const run = await ctx.lab.run(shell, `condor_q -pool '${hostile}'\ncondor_q -pool ../../escape\nls -A`);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, '', 'nothing was created in the working directory');
      const [first, second] = ctx.lab.records();
      assert.equal(first!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile(`${hostile}:9619`, 'condor_q'));
      assert.match(first!.env.BEARER_TOKEN_FILE!, new RegExp(`^${ctx.lab.xdg}/bt_u${EUID}-tokenenv-ep-[A-Za-z0-9._-]+$`));
      assert.equal(jwtClaims(ctx.lab.token(first!.env.BEARER_TOKEN_FILE!)).aud, `${hostile}:9619`);
      // host:port is what comes before the first '/'.
      assert.equal(second!.env.BEARER_TOKEN_FILE, `${ctx.lab.xdg}/bt_u${EUID}-tokenenv-ep-.._3A9619__compute.read`);
    });
  });
}

// The data clients and FTS through the wrappers, with recording stubs: which token each call gets
// (variable, file or option), its audience (every endpoint of the call) and its scope (the
// operation of each argument, from lib/token/operations.ts). The real clients are in test/e2e.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { ENDPOINT_CASES } from '../support/endpoints.js';
import { jwtClaims, q, redact, SHELLS, type StubRecord, useShellLab } from '../support/shell.js';
import { assertNoSecret } from '../support/sandbox.js';

const READ = 'storage.read:/';
const MODIFY = 'storage.modify:/';

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: data clients and FTS`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    const claimsOf = (record: StubRecord): { aud: unknown; scope: unknown } => {
      const { aud, scope } = jwtClaims(record.env.BEARER_TOKEN_FILE ? ctx.lab.token(record.env.BEARER_TOKEN_FILE) : record.env.BEARER_TOKEN!);
      return { aud, scope };
    };

    it('endpoints are parsed as lib/token/endpoint.ts parses them', async () => {
      const body = ['__tokenenv_load', ...ENDPOINT_CASES.map(([kind, text]) => `__tokenenv_norm ${kind} ${q(text)}; printf '%s\\n' "$__tokenenv_ep"`)].join('\n');
      const run = await ctx.lab.run(shell, body);
      assert.equal(run.status, 0, run.stderr);
      const got = run.stdout.split('\n').slice(0, -1);
      assert.deepEqual(ENDPOINT_CASES.map(([kind, text], i) => `${kind} ${text} → ${got[i] || 'none'}`),
        ENDPOINT_CASES.map(([kind, text, audience]) => `${kind} ${text} → ${audience ?? 'none'}`));
    });

    it('xrdcp and xrdfs: a 0600 BEARER_TOKEN_FILE per endpoint and operation; a source reads, a destination (stat first) reads and modifies', async () => {
      const run = await ctx.lab.run(shell, [
        'xrdcp --nopbar roots://se.example.org:1094//data/a /tmp/a',
        'xrdcp -f /tmp/a roots://se.example.org:1094//data/b',
        'xrdcp roots://a.example.org:1094//x root://b.example.org//y',
        'xrdfs roots://se.example.org:1094 ls /data',
        'xrdfs se.example.org:1094 rm /data/b',
        'xrdfs --no-cwd roots://se.example.org:1094',
        'xrdcp /tmp/a /tmp/b',
      ].join('\n'), { env: { BEARER_TOKEN: 'users-own-token-value' } });
      assert.equal(run.status, 0, run.stderr);
      const records = ctx.lab.records();
      const expected: Array<[string, string, string]> = [
        ['roots://se.example.org:1094', READ, 'read'],
        ['roots://se.example.org:1094', `${READ} ${MODIFY}`, 'write'],
        ['roots://a.example.org:1094 root://b.example.org', `${READ} ${MODIFY}`, ''],
        ['roots://se.example.org:1094', READ, 'list'],
        ['root://se.example.org:1094', MODIFY, 'delete'],
        ['roots://se.example.org:1094', `${READ} ${MODIFY}`, 'session'],
      ];
      expected.forEach(([aud, scope], i) => {
        const record = records[i]!;
        assert.ok(!('BEARER_TOKEN' in record.env), `${record.client}: BEARER_TOKEN would win over the file`);
        assert.equal(statSync(record.env.BEARER_TOKEN_FILE!).mode & 0o777, 0o600);
        assert.deepEqual(claimsOf(record), { aud: aud.includes(' ') ? aud.split(' ') : aud, scope }, `call ${i + 1}`);
      });
      assert.equal(records[0]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('roots://se.example.org:1094', 'read'));
      assert.equal(records[1]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('roots://se.example.org:1094', 'write'));
      assert.equal(records[2]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('roots://a.example.org:1094 root://b.example.org', 'read', 'write'));
      assert.equal(records[6]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile(), 'no remote URL: the default token');
    });

    it('gfal-*: the token in BEARER_TOKEN for that call only, trimmed; copies by position', async () => {
      const run = await ctx.lab.run(shell, [
        'gfal-ls https://se.example.org/dir/',
        'gfal-copy file:///tmp/x davs://se.example.org:2880/dir/x',
        'gfal-copy -f https://a.example.org/x https://b.example.org:8443/y',
        'gfal-rm davs://se.example.org:2880/dir/x',
        'gfal-mkdir -p https://se.example.org/new/',
        'echo "after: ${BEARER_TOKEN:-unset}"',
      ].join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'after: unset\n', 'BEARER_TOKEN is set for the call only');
      const records = ctx.lab.records();
      assert.deepEqual(records.map(claimsOf), [
        { aud: 'https://se.example.org', scope: READ },
        { aud: 'davs://se.example.org:2880', scope: MODIFY },
        { aud: ['https://a.example.org', 'https://b.example.org:8443'], scope: `${READ} ${MODIFY}` },
        { aud: 'davs://se.example.org:2880', scope: MODIFY },
        { aud: 'https://se.example.org', scope: MODIFY },
      ]);
      assert.ok(records[0]!.env.BEARER_TOKEN === ctx.lab.token(ctx.lab.tokenFile('https://se.example.org', 'gfal-ls')), 'the token file\'s content, trimmed');
      assert.deepEqual(records[2]!.argv, ['-f', 'https://a.example.org/x', 'https://b.example.org:8443/y']);
    });

    it('gfal-* without a config: the user\'s BEARER_TOKEN, trimmed (gfal2 would send blanks and newlines as they are)', async () => {
      const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0.c2ln';
      const run = await ctx.lab.run(shell, 'gfal-ls https://se.example.org/', { env: { BEARER_TOKEN: ` \t${token}\n`, TOKENENV_CONFIG: undefined } });
      assert.equal(run.status, 0, run.stderr);
      assert.ok(ctx.lab.records()[0]!.env.BEARER_TOKEN === token, 'not trimmed');
    });

    it('FTS (a client that is not a Python script): one token each for the server, the source and the destination', async () => {
      const run = await ctx.lab.run(shell, [
        'fts-rest-transfer-submit -s https://fts.example:8446 https://src.example.org/a davs://dst.example.org:2880/b',
        'fts-rest-transfer-submit -s https://fts.example:8446 --fts-access-token users-token https://src.example.org/a davs://dst.example.org:2880/b',
        'fts-rest-transfer-submit -s https://fts.example:8446 -f bulk.json',
      ].join('\n'));
      assert.equal(run.status, 0, run.stderr);
      const [three, given, bulk] = ctx.lab.records();
      const fts = ctx.lab.token(ctx.lab.tokenFile('https://fts.example:8446', 'fts-rest-transfer-submit'));
      const src = ctx.lab.token(ctx.lab.tokenFile('https://src.example.org', 'read'));
      const dst = ctx.lab.token(ctx.lab.tokenFile('davs://dst.example.org:2880', 'create'));
      const named = (argv: string[]) => redact(redact(redact(argv, fts, '<fts>'), src, '<src>'), dst, '<dst>');
      assert.deepEqual(named(three!.argv), ['--fts-access-token', '<fts>', '--src-access-token', '<src>', '--dst-access-token', '<dst>',
        '-s', 'https://fts.example:8446', 'https://src.example.org/a', 'davs://dst.example.org:2880/b']);
      assert.deepEqual([jwtClaims(fts).aud, jwtClaims(fts).scope], ['https://fts.example:8446', 'fts']);
      assert.deepEqual([jwtClaims(src).aud, jwtClaims(src).scope], ['https://src.example.org', READ]);
      assert.deepEqual([jwtClaims(dst).aud, jwtClaims(dst).scope], ['davs://dst.example.org:2880', MODIFY]);
      assert.deepEqual(named(given!.argv), ['--src-access-token', '<src>', '--dst-access-token', '<dst>',
        '-s', 'https://fts.example:8446', '--fts-access-token', 'users-token', 'https://src.example.org/a', 'davs://dst.example.org:2880/b'], 'the user\'s token is kept, only the missing ones added');
      assert.deepEqual(named(bulk!.argv), ['--access-token', '<fts>', '-s', 'https://fts.example:8446', '-f', 'bulk.json'], 'a bulk file carries its own storage tokens');
      for (const token of [fts, src, dst]) assertNoSecret(run.stdout + run.stderr, token);
    });
  });
}

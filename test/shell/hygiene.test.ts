// The script as a guest in the user's shell: the off switch, tokenenv_unwrap, sourcing twice,
// nothing exported and no names outside its own, and other shells (dash, bash --posix) that
// source it by mistake.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommands } from '../support/peers.js';
import { ALL_CLIENTS, CLIENTS, q, SCRIPT, SHELLS, ShellLab, STRICT_PRELUDE, useShellLab } from '../support/shell.js';

/** A wrapped call of each kind, slow and fast path. */
const CALLS = ['condor_q', 'condor_submit -pool ce1.example.org job.sub', 'arcsub -C arc.example.org x', 'arcls https://se.example.org/', 'fts-rest-whoami -s https://fts.example:8446', 'condor_q', 'tokenenv_prompt >/dev/null'];

/** Names of shell variables and functions, one per line, NUL-free. */
const LIST_NAMES = {
  bash: { variables: '{ compgen -v || true; }', functions: '{ compgen -A function || true; }' },
  zsh: { variables: "print -rl -- ${(k)parameters}", functions: "print -rl -- ${(k)functions}" },
} as const;

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: hygiene`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    it('TOKENENV_WRAP=0: the client runs as if there were no wrapper', async () => {
      const env = { BEARER_TOKEN: 'users-own-token-value', BEARER_TOKEN_FILE: '/users/own/file' };
      const calls = ['condor_submit -pool ce1.example.org "a b"', 'arcls https://se.example.org/', 'fts-rest-transfer-submit -s https://fts.example:8446 x y'];
      const run = await ctx.lab.run(shell, [
        'export TOKENENV_WRAP=0',
        ...calls,
        ...calls.map((c) => `command ${c}`),
        'unset TOKENENV_WRAP',
        'TOKENENV_WRAP=0 condor_q 1.0',
        'TOKENENV_WRAP=0 command condor_q 1.0',
        ':', // else the shell would exec the last command, one SHLVL down
      ].join('\n'), { env });
      assert.equal(run.status, 0, run.stderr);
      const records = ctx.lab.records();
      assert.equal(records.length, 8);
      for (const [wrapped, direct] of [[0, 3], [1, 4], [2, 5], [6, 7]] as const) {
        assert.deepEqual(records[wrapped], records[direct], `${records[direct]!.client}: the same argv, environment and stdin as without the wrapper`);
      }
      assert.equal(records[0]!.env.BEARER_TOKEN, 'users-own-token-value');
      assert.equal(records[0]!.env.BEARER_TOKEN_FILE, '/users/own/file');
      assert.equal(records[0]!.env._condor_SCITOKENS_FILE, undefined);
      assert.deepEqual(records[2]!.argv, ['-s', 'https://fts.example:8446', 'x', 'y']);
      assert.equal(ctx.lab.mint.calls, 0);
      assert.ok(!existsSync(join(ctx.lab.xdg, 'tokenenv')), 'tokenenv was not run');
    });

    it('a function or alias of yours with a client\'s name is left alone, and said so once on stderr (issue 10, item 9)', async () => {
      const body = [
        'condor_submit() { echo "mine $*"; }',
        "alias arcsub='echo aliased'",
        `source ${q(SCRIPT)}`, `source ${q(SCRIPT)}`,
        // eval: zsh -c parses its whole string first, before any alias exists.
        'condor_submit a', "eval 'arcsub b'", 'condor_q', 'tokenenv_unwrap', 'condor_submit c',
      ].join('\n');
      const run = await ctx.lab.run(shell, body, { prelude: '', interactive: true });
      assert.equal(run.stdout, 'mine a\naliased b\nmine c\n');
      const notes = run.stderr.split('\n').filter((l) => l.startsWith('tokenenv:'));
      assert.deepEqual(notes, ['tokenenv: left your own condor_submit (function), arcsub (alias) alone: not wrapped (unalias or unset -f, then source this again, to wrap)']);
      assert.deepEqual(ctx.lab.records().map((r) => [r.client, r.env.BEARER_TOKEN_FILE]), [['condor_q', ctx.lab.tokenFile()]]);
    });

    it('not interactive: left alone as well, silently', async () => {
      const run = await ctx.lab.run(shell, `condor_rm() { echo "mine $*"; }\nsource ${q(SCRIPT)}\ncondor_rm x\narcstat`, { prelude: 'set -euo pipefail\n' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'mine x\n');
      assert.equal(run.stderr, '');
      assert.deepEqual(ctx.lab.records().map((r) => r.client), ['arcstat']);
    });

    it('a wrapper you replaced with your own function survives sourcing the script again', async () => {
      const run = await ctx.lab.run(shell, [
        'condor_q() { echo "mine $*"; }', `source ${q(SCRIPT)}`, 'condor_q 1', 'arcls https://se.example.org/', 'tokenenv_unwrap', `source ${q(SCRIPT)}`, 'condor_q 2',
      ].join('\n'), { interactive: true });
      assert.equal(run.stdout, 'mine 1\nmine 2\n');
      assert.equal(run.stderr.split('\n').filter((l) => l.startsWith('tokenenv:')).length, 1, 'said once');
      assert.deepEqual(ctx.lab.records().map((r) => r.client), ['arcls']);
    });

    it('TOKENENV_WRAP=0 keeps the exit status and stdin', async () => {
      ctx.lab.stub('arcstat', { status: 5, stdout: 'out\n' });
      const run = await ctx.lab.run(shell, 'export TOKENENV_WRAP=0\nrc=0; out=$(printf in | arcstat -a) || rc=$?; echo "rc=$rc out=$out"');
      assert.equal(run.stdout, 'rc=5 out=out\n');
      assert.equal(ctx.lab.records()[0]!.stdin, 'in');
    });

    it('tokenenv_unwrap removes every wrapper; the clients are found on PATH again', async () => {
      const isFunction = (name: string) => `if typeset -f ${q(name)} >/dev/null 2>&1; then echo ${q(name)}; fi`;
      const run = await ctx.lab.run(shell, [
        'echo wrapped:', ...ALL_CLIENTS.map(isFunction),
        'tokenenv_unwrap',
        'echo unwrapped:', ...ALL_CLIENTS.map(isFunction),
        'type condor_submit',
        'condor_submit -pool ce1.example.org job.sub',
        'tokenenv_unwrap',
        'echo helpers:', ...['tokenenv_status', 'tokenenv_prompt', 'tokenenv_unwrap'].map(isFunction),
        `source ${q(SCRIPT)}`,
        'echo again:', isFunction('condor_submit'),
      ].join('\n'));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, [
        'wrapped:', ...ALL_CLIENTS, 'unwrapped:', `condor_submit is ${join(ctx.lab.stubs, 'condor_submit')}`,
        'helpers:', 'tokenenv_status', 'tokenenv_prompt', 'tokenenv_unwrap', 'again:', 'condor_submit', '',
      ].join('\n'));
      const [record] = ctx.lab.records();
      assert.equal(record!.env.BEARER_TOKEN_FILE, undefined, 'after tokenenv_unwrap the client runs unwrapped');
      assert.equal(ctx.lab.mint.calls, 0);
    });

    it('sourcing twice defines the same functions as sourcing once', async () => {
      const run = await ctx.lab.run(shell, [
        `source ${q(SCRIPT)}`,
        'once=$(typeset -f)',
        `source ${q(SCRIPT)}`,
        'twice=$(typeset -f)',
        '[ "$once" = "$twice" ] && echo same',
        ...CALLS, // the first call reads the script's second part
        'loaded=$(typeset -f)',
        `source ${q(SCRIPT)}`,
        ...CALLS,
        '[ "$loaded" = "$(typeset -f)" ] && echo same after calls',
      ].join('\n'), { prelude: 'set -euo pipefail\n' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'same\nsame after calls\n');
      assert.equal(ctx.lab.records().length, 12);
      assert.equal(ctx.lab.mint.calls, 5, 'the token cache survives sourcing again');
    });

    it('no exported variable is added or changed by sourcing and by wrapped calls', async () => {
      const run = await ctx.lab.run(shell, [
        `env -0 > ${q(ctx.lab.box.path('env.before'))}`,
        `source ${q(SCRIPT)}`, `source ${q(SCRIPT)}`,
        ...CALLS,
        `env -0 > ${q(ctx.lab.box.path('env.after'))}`,
        ':', // else the shell would exec env, one SHLVL down
      ].join('\n'), { prelude: 'set -euo pipefail\n', env: { BEARER_TOKEN: 'users-own-token-value' } });
      assert.equal(run.status, 0, run.stderr);
      const read = (name: string) => readFileSync(ctx.lab.box.path(name), 'utf8').split('\0').filter((e) => e && !e.startsWith('_='));
      assert.deepEqual(read('env.after'), read('env.before'));
    });

    it('new shell variables and functions are its own names only', async () => {
      const names = LIST_NAMES[shell];
      const run = await ctx.lab.run(shell, [
        'true | true', // the shell's own bookkeeping (bash's PIPESTATUS) exists before the first listing
        `${names.variables} > ${q(ctx.lab.box.path('vars.before'))}`,
        `${names.functions} > ${q(ctx.lab.box.path('funcs.before'))}`,
        `source ${q(SCRIPT)}`, `source ${q(SCRIPT)}`,
        ...CALLS,
        `${names.variables} > ${q(ctx.lab.box.path('vars.after'))}`,
        `${names.functions} > ${q(ctx.lab.box.path('funcs.after'))}`,
      ].join('\n'), { prelude: 'set -euo pipefail\n' });
      assert.equal(run.status, 0, run.stderr);
      const added = (kind: string) => {
        const before = new Set(readFileSync(ctx.lab.box.path(`${kind}.before`), 'utf8').split('\n'));
        return readFileSync(ctx.lab.box.path(`${kind}.after`), 'utf8').split('\n').filter((n) => n && !before.has(n)).sort();
      };
      const own = (name: string) => /^(__tokenenv_|tokenenv_)/.test(name) || ALL_CLIENTS.includes(name);
      // Documented exception: zsh's EPOCHSECONDS, from `zmodload -F zsh/datetime p:EPOCHSECONDS`
      // (the clock without a process).
      const allowed = (name: string) => own(name) || (shell === 'zsh' && name === 'EPOCHSECONDS');
      const vars = added('vars');
      const funcs = added('funcs');
      assert.deepEqual(vars.filter((n) => !allowed(n)), [], 'variables outside the script\'s names');
      assert.deepEqual(funcs.filter((n) => !own(n)), [], 'functions outside the script\'s names');
      assert.deepEqual(funcs.filter((n) => ALL_CLIENTS.includes(n)), [...ALL_CLIENTS].sort());
      assert.ok(vars.includes('__tokenenv_files'), vars.join(' '));
    });

    it('a user\'s noclobber, nounset, nullglob/NO_NOMATCH and IFS do not break a call', async () => {
      const options = shell === 'bash' ? 'set -o noclobber; shopt -s nullglob failglob; IFS=:' : 'setopt noclobber nullglob no_nomatch sh_word_split ksh_glob; IFS=:';
      const run = await ctx.lab.run(shell, `${options}\ncondor_submit -pool ce1.example.org 'a b:c' '*'\nfts-rest-whoami -s https://fts.example:8446 '?'\ncondor_q\ntokenenv_prompt; echo`);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, '');
      const [submit, whoami, q1] = ctx.lab.records();
      assert.deepEqual(submit!.argv, ['-pool', 'ce1.example.org', 'a b:c', '*']);
      assert.equal(submit!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit'));
      assert.deepEqual(whoami!.argv.slice(2), ['-s', 'https://fts.example:8446', '?']);
      assert.equal(q1!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile());
      assert.match(run.stdout, /^tok \d+m\n$/);
    });
  });
}

describe('shell/tokenenv.sh sourced by other shells', function () {
  this.timeout(60_000);
  let lab: ShellLab;

  beforeEach(() => {
    lab = new ShellLab();
  });
  afterEach(() => lab?.remove());

  it('sh (dash): sourcing it twice succeeds and defines nothing', async function () {
    requireCommands(this, 'sh');
    const run = await lab.run('sh', [
      `. ${q(SCRIPT)}`, 'echo "rc=$?"', `. ${q(SCRIPT)}`, 'echo "rc=$?"',
      'command -v condor_submit', 'command -v fts-rest-whoami', 'command -v tokenenv_status || echo no tokenenv_status',
      'condor_submit -pool ce1.example.org x',
    ].join('\n'), { prelude: 'set -eu\n' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `rc=0\nrc=0\n${join(lab.stubs, 'condor_submit')}\n${join(lab.stubs, 'fts-rest-whoami')}\nno tokenenv_status\n`);
    assert.equal(lab.records()[0]!.env.BEARER_TOKEN_FILE, undefined);
  });

  it('bash --posix (bash as sh): sourcing succeeds; the hyphenated FTS and gfal2 wrappers are absent, the others work', async function () {
    requireCommands(this, 'bash');
    const hyphenated = [...CLIENTS.fts, ...CLIENTS.gfal];
    const others = [...CLIENTS.condor, ...CLIENTS.arc, ...CLIENTS.arcdata, ...CLIENTS.xrd];
    const run = await lab.run('bash --posix', [
      `. ${q(SCRIPT)}`, `. ${q(SCRIPT)}`, 'echo "rc=$?"',
      ...hyphenated.map((c) => `command -v ${c}`),
      ...others.map((c) => `command -v ${c}`),
      'condor_submit -pool ce1.example.org x',
      'fts-rest-whoami -s https://fts.example:8446',
    ].join('\n'), { prelude: 'set -euo pipefail\n' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, ['rc=0', ...hyphenated.map((c) => join(lab.stubs, c)), ...others, ''].join('\n'));
    const [submit, whoami] = lab.records();
    assert.equal(submit!.env.BEARER_TOKEN_FILE, lab.tokenFile('ce1.example.org:9619', 'condor_submit'));
    assert.deepEqual(whoami!.argv, ['-s', 'https://fts.example:8446'], 'unwrapped in POSIX mode');
  });

  it('bash --posix, then posix mode turned off and the script sourced again: the FTS wrappers appear', async function () {
    requireCommands(this, 'bash');
    const run = await lab.run('bash --posix', `. ${q(SCRIPT)}\nset +o posix\n. ${q(SCRIPT)}\ncommand -v fts-rest-whoami`, { prelude: STRICT_PRELUDE.split('\n')[0] + '\n' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'fts-rest-whoami\n');
  });
});

// The rest of the shell integration: tokenenv_prompt and tokenenv_status, `tokenenv shell-path`
// and `tokenenv init`, completion of the tokenenv command, and shellcheck.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runTokenenvAsync, tokenenvBin } from '../support/cli.js';
import { requireCommands } from '../support/peers.js';
import { fakeJwt } from '../support/sandbox.js';
import { execvedPrograms, jwtClaims, q, runProcess, SCRIPT, SHELLS, ShellLab, useShellLab } from '../support/shell.js';

const jwtClaimsOrNone = (token: string) => { try { return jwtClaims(token); } catch { return 'opaque'; } };

const now = () => Math.floor(Date.now() / 1000);

for (const shell of SHELLS) {
  describe(`shell integration in ${shell}: prompt, status, init`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    it('tokenenv_prompt: "tok ?" without a stamp, "tok Nm" once a wrapped call got the default token', async () => {
      const run = await ctx.lab.run(shell, 'tokenenv_prompt; echo\ncondor_q\ntokenenv_prompt; echo');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^tok \?\ntok (19|20)m\n$/);
    });

    it('tokenenv_prompt follows a default token with its own token_path, once a call learned it', async () => {
      ctx.lab.configure({ default: { token_path: ctx.lab.box.path('custom.token') } });
      const run = await ctx.lab.run(shell, 'tokenenv_prompt; echo\ncondor_q\ntokenenv_prompt; echo');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^tok \?\ntok (19|20)m\n$/);
    });

    it('tokenenv_prompt: a token written by another tool (htgettoken, oidc-token), without a stamp: its own lifetime (issue 10, item 10)', async () => {
      const file = ctx.lab.tokenFile();
      const cases: [string, RegExp][] = [
        [fakeJwt({ sub: 'u', exp: now() + 45, iat: now() }), /^tok (4[3-5])s$/],
        [fakeJwt({ exp: now() + 3 * 3600 + 600 }), /^tok 3h$/],
        [fakeJwt({ 'wlcg.ver': '1.0', aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'storage.read:/ compute.read', exp: now() + 30 * 60 + 30, iat: now(), jti: 'x' }), /^tok (29|30)m$/],
        [fakeJwt({ a: 'b', exp: now() - 10 }), /^tok expired$/],
        [fakeJwt({ exp: 'soon' }), /^tok \?$/],
        ['opaque-token-value', /^tok \?$/],
      ];
      // Every byte alignment of "exp" in the payload, and a 2 KB payload.
      for (let pad = 0; pad < 3; pad++) cases.push([fakeJwt({ s: 'x'.repeat(pad), exp: now() + 600 }), /^tok (9|10)m$/]);
      cases.push([fakeJwt({ groups: Array(100).fill('/wlcg/group'), exp: now() + 600 }), /^tok (9|10)m$/]);
      for (const [token, expected] of cases) {
        writeFileSync(file, `${token}\n`, { mode: 0o600 });
        const run = await ctx.lab.run(shell, 'tokenenv_prompt');
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stdout, expected, JSON.stringify(jwtClaimsOrNone(token)));
      }
      rmSync(file);
      assert.equal((await ctx.lab.run(shell, 'tokenenv_prompt')).stdout, 'tok ?', 'no token at all');
    });

    it('tokenenv_prompt: BEARER_TOKEN, and a BEARER_TOKEN_FILE of another tool, are shown too', async () => {
      const run = await ctx.lab.run(shell, 'tokenenv_prompt', { env: { BEARER_TOKEN: fakeJwt({ exp: now() + 45 * 60 }) } });
      assert.match(run.stdout, /^tok (44|45)m$/);
      const elsewhere = ctx.lab.box.path('htgettoken.token');
      // A minute over 5 h: the prompt rounds down, and a second may pass before it runs.
      writeFileSync(elsewhere, `  ${fakeJwt({ exp: now() + 5 * 3600 + 60 })}\n`, { mode: 0o644 });
      const viaFile = await ctx.lab.run(shell, 'tokenenv_prompt', { env: { BEARER_TOKEN_FILE: elsewhere } });
      assert.equal(viaFile.stdout, 'tok 5h');
    });

    it('tokenenv_prompt believes a stamp bound to the token file (without reading the token)', async () => {
      const run = await ctx.lab.run(shell, 'condor_q');
      assert.equal(run.status, 0, run.stderr);
      const stamp = ctx.lab.stampFile(ctx.lab.tokenFile());
      const [, , identity] = readFileSync(stamp, 'utf8').trim().split(' ');
      writeFileSync(stamp, `${now()} ${now() + 45} ${identity}\n`);
      execFileSync('touch', ['-m', '-r', ctx.lab.tokenFile(), stamp]);
      assert.match((await ctx.lab.run(shell, 'tokenenv_prompt')).stdout, /^tok (4[3-5])s$/);
      // Not bound any more: the token's own lifetime.
      execFileSync('touch', ['-m', '-d', '@1700000000', stamp]);
      assert.match((await ctx.lab.run(shell, 'tokenenv_prompt')).stdout, /^tok (19|20)m$/);
    });

    it('tokenenv_prompt follows BEARER_TOKEN_FILE, like the default token does', async () => {
      const custom = ctx.lab.box.path('custom.token');
      const run = await ctx.lab.run(shell, 'condor_q\ntokenenv_prompt', { env: { BEARER_TOKEN_FILE: custom } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(ctx.lab.records()[0]!.env.BEARER_TOKEN_FILE, custom);
      assert.match(run.stdout, /^tok (19|20)m$/);
    });

    it('tokenenv_prompt executes no program', async function () {
      requireCommands(this, 'strace');
      await ctx.lab.run(shell, 'condor_q');
      const trace = ctx.lab.box.path('trace');
      const run = await ctx.lab.run(shell, 'PS1="[$(tokenenv_prompt)] "; printf %s "$PS1"', { trace });
      assert.match(run.stdout, /^\[tok (19|20)m\] $/);
      assert.deepEqual(execvedPrograms(trace).map((p) => basename(p)), [shell]);
    });

    it('tokenenv_status runs `tokenenv status` with its arguments and exit status', async () => {
      const stub = ctx.lab.stub('tokenenv-stub', { status: 1, stdout: 'status table\n' });
      const run = await ctx.lab.run(shell, 'rc=0; tokenenv_status --json || rc=$?; echo "rc=$rc"', { env: { TOKENENV_BIN: stub } });
      assert.equal(run.stdout, 'status table\nrc=1\n');
      assert.deepEqual(ctx.lab.records().map((r) => [r.client, r.argv]), [['tokenenv-stub', ['status', '--json']]]);

      const real = await ctx.lab.run(shell, 'condor_q\ntokenenv_status');
      assert.equal(real.status, 0, real.stderr);
      assert.match(real.stdout, /^TOKEN\s+PATH/);
      assert.match(real.stdout, new RegExp(`^default\\s+${ctx.lab.tokenFile()}\\s.*fresh`, 'm'));
      const direct = await runTokenenvAsync(['status', '--json'], { env: ctx.lab.env });
      const viaFunction = await ctx.lab.run(shell, 'tokenenv_status --json');
      assert.deepEqual(Object.keys(JSON.parse(viaFunction.stdout)), Object.keys(JSON.parse(direct.stdout)));
    });

    it('eval "$(tokenenv init SHELL)" with tokenenv on PATH (as npm links it) loads the wrappers', async () => {
      const bin = ctx.lab.box.path('npm-bin');
      mkdirSync(bin);
      symlinkSync(tokenenvBin, join(bin, 'tokenenv'));
      const run = await ctx.lab.run(shell, [
        `eval "$(tokenenv init ${shell})"`,
        'typeset -f condor_submit >/dev/null && echo wrapped',
        'echo "TOKENENV_BIN=$TOKENENV_BIN"',
        'condor_submit -pool ce1.example.org job.sub',
      ].join('\n'), { prelude: 'set -euo pipefail\n', env: { TOKENENV_BIN: undefined, PATH: `${bin}:${ctx.lab.env.PATH}` } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `wrapped\nTOKENENV_BIN=${realpathSync(tokenenvBin)}\n`);
      assert.equal(ctx.lab.records()[0]!.env.BEARER_TOKEN_FILE, ctx.lab.tokenFile('ce1.example.org:9619', 'condor_submit'));
      assert.equal(ctx.lab.records()[0]!.env.TOKENENV_BIN, undefined, 'TOKENENV_BIN is a shell variable, not exported');
    });

    it('source "$(tokenenv shell-path)" loads the wrappers', async () => {
      const run = await ctx.lab.run(shell, 'source "$("$TOKENENV_BIN" shell-path)"\ntypeset -f arcsub >/dev/null && echo wrapped', { prelude: 'set -euo pipefail\n' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'wrapped\n');
    });
  });
}

describe('tokenenv shell-path and init', function () {
  this.timeout(30_000);
  let lab: ShellLab;
  beforeEach(() => { lab = new ShellLab(); });
  afterEach(() => lab?.remove());

  it('shell-path prints the absolute path of shell/tokenenv.sh, also through a symlinked bin', async () => {
    const direct = await runTokenenvAsync(['shell-path'], { env: lab.env });
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(direct.stdout, `${realpathSync(SCRIPT)}\n`);
    const link = lab.box.path('tokenenv');
    symlinkSync(tokenenvBin, link);
    const viaLink = await runProcess([link, 'shell-path'], lab.env);
    assert.equal(viaLink.stdout, `${realpathSync(SCRIPT)}\n`);
  });

  it('init prints TOKENENV_BIN and a source line, quoted; other shells are a usage error', async () => {
    for (const shell of ['bash', 'zsh']) {
      const run = await runTokenenvAsync(['init', shell], { env: lab.env });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `# tokenenv shell integration (tokenenv init ${shell}); these lines start no process\nTOKENENV_BIN=${q(realpathSync(tokenenvBin))}\nsource ${q(realpathSync(SCRIPT))}\n`);
    }
    const fish = await runTokenenvAsync(['init', 'fish'], { env: lab.env });
    assert.equal(fish.status, 2);
    assert.match(fish.stderr, /bash or zsh/);
    assert.equal(fish.stdout, '');
  });
});

describe('completion of the tokenenv command', function () {
  this.timeout(30_000);
  let lab: ShellLab;
  beforeEach(() => { lab = new ShellLab(); });
  afterEach(() => lab?.remove());

  it('bash: complete -p tokenenv names the function; it completes commands, then files', async function () {
    requireCommands(this, 'bash');
    writeFileSync(join(lab.work, 'job.sub'), '');
    const body = [
      'complete -p tokenenv',
      'COMP_WORDS=(tokenenv sh); COMP_CWORD=1; __tokenenv_bash_complete; printf "%s\\n" "${COMPREPLY[@]}"',
      'COMP_WORDS=(tokenenv inspect jo); COMP_CWORD=2; __tokenenv_bash_complete; printf "%s\\n" "${COMPREPLY[@]}"',
      'COMP_WORDS=(tokenenv zzz); COMP_CWORD=1; __tokenenv_bash_complete; echo "none: ${#COMPREPLY[@]}"',
    ].join('\n');
    const expected = 'complete -F __tokenenv_bash_complete tokenenv\nshell-token\nshell-path\njob.sub\nnone: 0\n';
    const plain = await lab.run('bash', body);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, expected);
    // An interactive bash (no rc files, no terminal).
    const interactive = await runProcess(['bash', '--norc', '--noprofile', '-i', '-c', `source ${q(SCRIPT)}\n${body}`], lab.env, { cwd: lab.work });
    assert.equal(interactive.status, 0, interactive.stderr);
    assert.equal(interactive.stdout, expected);
  });

  it('zsh: with compinit loaded first, tokenenv is bound to the completion function; without it, nothing breaks', async function () {
    requireCommands(this, 'zsh');
    const withCompinit = await lab.run('zsh', 'print -r -- "${_comps[tokenenv]:-none}"', { prelude: `autoload -Uz compinit; compinit -u -D\nset -euo pipefail\nsource ${q(SCRIPT)}\nsource ${q(SCRIPT)}\n` });
    assert.equal(withCompinit.status, 0, withCompinit.stderr);
    assert.equal(withCompinit.stdout, '__tokenenv_zsh_complete\n');
    const without = await lab.run('zsh', 'typeset -f __tokenenv_zsh_complete >/dev/null && echo defined');
    assert.equal(without.status, 0, without.stderr);
    assert.equal(without.stdout, 'defined\n');
  });
});

describe('shellcheck', function () {
  this.timeout(60_000);

  it('shellcheck -s bash shell/tokenenv.sh passes', async function () {
    requireCommands(this, 'shellcheck');
    const run = await runProcess(['shellcheck', '-s', 'bash', SCRIPT], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, '');
  });
});

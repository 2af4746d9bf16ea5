// `tokenenv doctor`: a healthy set-up passes; each broken one is reported, and every "fix:" line
// is a command that resolves its check in the state it was printed for (issue 10.13): the test
// pastes each fix into bash, as a user would, and runs doctor again in that same shell.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { privateTmpAvailable, repoRoot, runTokenenv, wrapCommand, type CliOptions } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';
import { createAccount, loadedAccounts, startOidcAgent, unloadAccount, type OidcAgent } from '../support/oidc-agent.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { fakeJwt, isRoot, Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

interface Check {
  check: string;
  level: 'ok' | 'info' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}

const MARK = '--- doctor again ---';

/** What a user types at a terminal once `prompt` shows. */
interface Terminal {
  prompt: RegExp;
  type: string;
}
const now = () => Math.floor(Date.now() / 1000);

describe('tokenenv doctor', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;
  const euid = process.geteuid!();

  beforeEach(function () {
    requirePeer(this, privateTmpAvailable(), 'needs a private /tmp (root or user namespaces, unshare)');
    box = new Sandbox();
    mint = new Mint(box.dir);
    chmodSync(box.xdg, 0o700);
    // `tokenenv` on PATH, as after `npm link`: the fixes are pasted as printed.
    mkdirSync(box.path('bin'));
    writeFileSync(box.path('bin', 'tokenenv'), `#!/bin/sh\nexec '${process.execPath}' '${join(repoRoot, 'bin', 'tokenenv.cjs')}' "$@"\n`, { mode: 0o755 });
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home'), TOKENENV_CONFIG: box.path('config.ini'), PATH: `${box.path('bin')}:/usr/bin:/bin`, TMPDIR: box.path('tmpdir') };
    mkdirSync(box.path('tmpdir'), { mode: 0o700 });
    box.write('config.ini', mintConfig(mint, { default: {} }));
  });
  afterEach(() => box?.remove());

  const run = (options: CliOptions = {}) => runTokenenv(['doctor'], { env, privateTmp: box.tmp, ...options });
  const token = () => join(box.xdg, `bt_u${euid}`);
  const line = (out: string, check: string) => out.split('\n').find((l) => l.slice(6).startsWith(check)) ?? '';
  const jwt = (lifetime: number, extra: Record<string, unknown> = {}) => `${fakeJwt({ iat: now() - 60, exp: now() + lifetime, ...extra })}\n`;

  it('a healthy set-up: every check ok or info, exit 0 (a missing watcher is a warning)', () => {
    assert.equal(runTokenenv(['refresh'], { env }).status, 0);
    const result = run();
    assert.equal(result.status, 0, result.stdout);
    assert.match(line(result.stdout, 'discovery'), /^ok +discovery +token found at step 3:/);
    assert.match(line(result.stdout, 'token file'), /^ok .*owned by you, mode 0600/);
    assert.match(line(result.stdout, 'expiry'), /^ok .*20 min left/);
    assert.match(line(result.stdout, 'clock'), /^ok /);
    assert.match(line(result.stdout, 'config'), /^ok .*1 account\(s\), 1 token\(s\)/);
    assert.match(result.stdout, /^WARN +watcher +not running.*\n +fix: tokenenv watch$/m);
    assert.ok(!/^FAIL/m.test(result.stdout));
  });

  it('a token issued in the future: clock skew, the advice in the detail', () => {
    box.write(token(), fakeJwt({ iat: now() + 600, exp: now() + 1800 }) + '\n');
    const result = run();
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL +clock +the token was issued 10 min in the future: .*synchronise it/m);
  });

  it('an endpoint the default token does not fit: info, the way out in the detail', () => {
    box.write('config.ini', `${mintConfig(mint, { default: {} })}\n[endpoint ce1.example.org:9619]\nscope = compute.read\n`);
    box.write(token(), jwt(1800, { aud: 'https://se.example:1094' }));
    const result = run();
    assert.match(result.stdout, /^info +endpoint ce1\.example\.org:9619 +the default token would be refused \(audience https:\/\/se\.example:1094 does not name ce1\.example\.org:9619\); the shell wrappers and tokenenv exec --aud ce1\.example\.org:9619 get a token for it$/m);
  });

  it('--json: every check with level, detail and fix (null when none)', () => {
    const json = JSON.parse(runTokenenv(['doctor', '--json'], { env, privateTmp: box.tmp }).stdout);
    assert.equal(json.ok, false);
    assert.deepEqual(Object.keys(json.checks[0]), ['check', 'level', 'detail', 'fix']);
    assert.deepEqual([json.checks[0].check, json.checks[0].level, json.checks[0].fix], ['discovery', 'fail', 'tokenenv refresh default']);
    assert.ok(json.checks.some((c: Check) => c.fix === null));
  });

  describe('every fix works in the state it is printed for', () => {
    let issuer: DemoIssuer;
    before(async () => {
      issuer = await startDemoIssuer({ clients: [{ clientId: 'robot', clientSecret: 'robot-secret-1c9e', scopes: ['storage.read:/', 'compute.read'] }] });
    });
    after(() => issuer?.close());

    /**
     * bash, in the private /tmp, with `env`; asynchronous, since the issuer answers from here.
     * With `terminal`, bash runs on a pseudo-terminal (util-linux script), and `terminal.type` is
     * typed there, with Enter, once `terminal.prompt` shows (colours aside): as a user answers a password prompt.
     */
    function bash(script: string, shellEnv: Record<string, string>, terminal?: Terminal): Promise<{ status: number; stdout: string; stderr: string }> {
      const argv = terminal ? ['script', '-qec', `bash ${box.write('pasted.sh', script)}`, '/dev/null'] : ['bash', '-c', script];
      const [file, ...args] = wrapCommand(argv, { privateTmp: box.tmp });
      return new Promise((resolve, reject) => {
        const child = spawn(file!, args, { env: shellEnv, cwd: box.dir, stdio: [terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
        // A prompt that never shows must not hang the test past its own timeout.
        const timer = terminal ? setTimeout(() => child.kill('SIGKILL'), 25_000) : undefined;
        let stdout = '';
        let stderr = '';
        let typed = false;
        child.stdout!.on('data', (d) => {
          stdout += d;
          if (terminal && !typed && terminal.prompt.test(stdout.replace(/\x1b\[[\d;]*m/g, ''))) {
            typed = true;
            child.stdin!.write(`${terminal.type}\r`);
          }
        });
        child.stderr!.on('data', (d) => { stderr += d; });
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          child.stdin?.destroy();
          // The password was typed at a prompt that does not echo it (nor may anything print it).
          if (terminal && stdout.includes(terminal.type)) reject(new Error('what was typed at the terminal shows in its output'));
          else resolve({ status: code ?? -1, stdout, stderr });
        });
      });
    }

    async function doctor(shellEnv: Record<string, string>, args = ''): Promise<Check[]> {
      const result = await bash(`tokenenv doctor --json ${args}`, shellEnv);
      return (JSON.parse(result.stdout) as { checks: Check[] }).checks;
    }

    /**
     * Doctor prints `fix` for `check`; pasted into bash (then doctor, in the
     * same shell), the check is no longer a problem. `answer` completes a fix that asks on a
     * terminal (setup) with the flags that answer its questions; `terminal` runs the shell on a
     * terminal and types the answer to a prompt (a password).
     */
    async function fixResolves(check: string, fix: string | RegExp, options: { env?: Record<string, string>; args?: string; answer?: (fix: string) => string; terminal?: Terminal } = {}): Promise<Check[]> {
      const shellEnv = options.env ?? env;
      const args = options.args ?? '';
      const before = (await doctor(shellEnv, args)).find((c) => c.check === check && c.fix);
      assert.ok(before, `no fix for ${check}`);
      assert.ok(before.level !== 'ok', `${check}: ok, with a fix`);
      if (typeof fix === 'string') assert.equal(before.fix, fix);
      else assert.match(before.fix!, fix);
      const pasted = options.answer ? options.answer(before.fix!) : before.fix!;
      const again = `if type tokenenv_doctor >/dev/null 2>&1; then tokenenv_doctor --json ${args}; else tokenenv doctor --json ${args}; fi`;
      const result = await bash(`${pasted}\necho '${MARK}'\n${again}`, shellEnv, options.terminal);
      assert.ok(result.stdout.includes(MARK), `the fix failed (${result.status}): ${result.stderr}`);
      const after = (JSON.parse(result.stdout.slice(result.stdout.indexOf(MARK) + MARK.length)) as { checks: Check[] }).checks;
      // A problem is gone; a piece of information (with a command that completes it) turns ok.
      const still = after.find((c) => c.check === check && (before.level === 'info' ? c.level !== 'ok' : (c.level === 'warn' || c.level === 'fail') && c.detail === before.detail));
      assert.equal(still, undefined, `still: ${JSON.stringify(still)} after: ${pasted}\n${result.stderr}`);
      return after;
    }

    const level = (checks: Check[], check: string) => checks.find((c) => c.check === check)?.level;

    it('no config and no token: tokenenv setup NAME, and discovery finds its first token', async () => {
      const noConfig = { ...env, TOKENENV_CONFIG: '', XDG_CONFIG_HOME: box.path('config') };
      const secret = box.write('robot.secret', 'robot-secret-1c9e\n');
      const after = await fixResolves('discovery', 'tokenenv setup NAME', {
        env: noConfig,
        answer: (fix) => `${fix.replace('NAME', 'robot')} --client-credentials --client-id robot --client-secret-file ${secret} --issuer ${issuer.url} --can storage-read`,
      });
      // The same fix stood on the config line ("setup creates one").
      assert.deepEqual([level(after, 'discovery'), level(after, 'config')], ['ok', 'ok']);
    });

    it('a config with no token: tokenenv setup NAME adds the first', async () => {
      box.write('config.ini', `[account mint]\ncommand = ${mint.script}\n`);
      const secret = box.write('robot.secret', 'robot-secret-1c9e\n');
      const after = await fixResolves('discovery', 'tokenenv setup NAME', {
        answer: (fix) => `${fix.replace('NAME', 'robot')} --client-credentials --client-id robot --client-secret-file ${secret} --issuer ${issuer.url} --can storage-read`,
      });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('a config whose default token is missing: tokenenv refresh default', async () => {
      assert.equal(level(await fixResolves('discovery', 'tokenenv refresh default'), 'discovery'), 'ok');
    });

    it('a config with one token discovery does not look at: refresh it and point BEARER_TOKEN_FILE at it', async () => {
      box.write('config.ini', mintConfig(mint, { ce1: { audience: 'ce1.example.org:9619' } }));
      const after = await fixResolves('discovery', `tokenenv refresh ce1 && export BEARER_TOKEN_FILE=${token()}-tokenenv-ce1`);
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('--config FILE: the fixes name the same config', async () => {
      box.write('other.ini', mintConfig(mint, { default: {} }));
      const after = await fixResolves('discovery', `tokenenv refresh --config ${box.path('other.ini')} default`, { env: { ...env, TOKENENV_CONFIG: '' }, args: `--config ${box.path('other.ini')}` });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('an expired token: refresh it', async () => {
      box.write(token(), jwt(-420));
      assert.equal(level(await fixResolves('expiry', 'tokenenv refresh default'), 'expiry'), 'ok');
    });

    it('a token about to expire, though min_lifetime calls it fresh: refresh --force', async () => {
      box.write('config.ini', mintConfig(mint, { default: { min_lifetime: 30 } }));
      box.write(token(), jwt(100, { iat: now() - 1100 }));
      assert.equal(level(await fixResolves('expiry', 'tokenenv refresh --force default'), 'expiry'), 'ok');
    });

    it('an expired BEARER_TOKEN: unset it (the file behind it is fresh)', async () => {
      box.write(token(), jwt(1200));
      const after = await fixResolves('expiry', 'unset BEARER_TOKEN', { env: { ...env, BEARER_TOKEN: jwt(-60).trim() } });
      assert.equal(level(after, 'expiry'), 'ok');
    });

    it('an expired token from another tool, no config: setup', async () => {
      box.write(token(), jwt(-60));
      const noConfig = { ...env, TOKENENV_CONFIG: '', XDG_CONFIG_HOME: box.path('config') };
      const secret = box.write('robot.secret', 'robot-secret-1c9e\n');
      await fixResolves('expiry', 'tokenenv setup NAME', {
        env: noConfig,
        answer: (fix) => `${fix.replace('NAME', 'robot')} --client-credentials --client-id robot --client-secret-file ${secret} --issuer ${issuer.url} --can storage-read`,
      });
    });

    it('a token whose exp is not a number: refresh --force', async () => {
      box.write(token(), `${fakeJwt({ iat: now() - 60, exp: 'tomorrow' })}\n`);
      assert.equal(level(await fixResolves('expiry', 'tokenenv refresh --force default'), 'expiry'), 'ok');
    });

    it('BEARER_TOKEN that is no token: unset it', async () => {
      box.write(token(), jwt(1800));
      const after = await fixResolves('discovery', 'unset BEARER_TOKEN', { env: { ...env, BEARER_TOKEN: 'not a token' } });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('no token in the file the config writes: refresh --force', async () => {
      box.write(token(), 'not a token\n');
      assert.equal(level(await fixResolves('discovery', 'tokenenv refresh --force default'), 'discovery'), 'ok');
    });

    it('no token in the file BEARER_TOKEN_FILE names, no config: unset it', async () => {
      box.write(token(), jwt(1800));
      const noConfig = { ...env, TOKENENV_CONFIG: '', XDG_CONFIG_HOME: box.path('config') };
      const after = await fixResolves('discovery', 'unset BEARER_TOKEN_FILE', { env: { ...noConfig, BEARER_TOKEN_FILE: box.write('junk', 'not a token\n') } });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('no token in a file another tool wrote where discovery looks: remove it and get one', async () => {
      box.write('config.ini', mintConfig(mint, { ce1: { audience: 'ce1.example.org:9619' } }));
      box.write(token(), 'not a token\n');
      const after = await fixResolves('discovery', `rm -f ${token()} && tokenenv refresh ce1 && export BEARER_TOKEN_FILE=${token()}-tokenenv-ce1`);
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('BEARER_TOKEN_FILE naming a directory: unset it', async () => {
      box.write(token(), jwt(1800));
      mkdirSync(box.path('a-directory'));
      const after = await fixResolves('discovery', 'unset BEARER_TOKEN_FILE', { env: { ...env, BEARER_TOKEN_FILE: box.path('a-directory') } });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('a config with a problem, or a syntax error: no fix line (an edit; each problem says what to change)', async () => {
      box.write('config.ini', `${mintConfig(mint, { default: {} })}min_lifetime = soon\n`);
      const problem = (await doctor(env)).filter((c) => c.check === 'config');
      assert.deepEqual(problem.map((c) => [c.level, c.fix]), [['fail', null], ['fail', null]]);
      assert.match(problem[1]!.detail, /config\.ini:\d+: key "min_lifetime" .*whole number of seconds/);
      box.write('config.ini', '[token default\n');
      const syntax = (await doctor(env)).filter((c) => c.check === 'config');
      assert.deepEqual(syntax.map((c) => [c.level, c.fix]), [['fail', null]]);
    });

    it('a token file readable by others: chmod 600', async () => {
      box.write(token(), jwt(1800), 0o644);
      await fixResolves('token file mode', `chmod 600 ${token()}`);
    });

    it('a token file writable by everyone (refused): chmod 600', async () => {
      box.write(token(), jwt(1800), 0o666);
      await fixResolves('discovery', `chmod 600 ${token()}`);
    });

    it('BEARER_TOKEN_FILE naming a missing file that the config writes: refresh it', async () => {
      const file = box.path('mine.token');
      box.write(token(), jwt(1800));
      await fixResolves('BEARER_TOKEN_FILE', 'tokenenv refresh default', { env: { ...env, BEARER_TOKEN_FILE: file } });
    });

    it('BEARER_TOKEN_FILE naming a missing file, no config: unset it', async () => {
      box.write(token(), jwt(1800));
      await fixResolves('BEARER_TOKEN_FILE', 'unset BEARER_TOKEN_FILE', { env: { ...env, TOKENENV_CONFIG: '', XDG_CONFIG_HOME: box.path('config'), BEARER_TOKEN_FILE: box.path('gone') } });
    });

    it('/tmp/bt_u$ID planted by someone else: remove it and fetch your own', async function () {
      requirePeer(this, isRoot, 'needs root (files owned by other users)');
      const noXdg = { ...env, XDG_RUNTIME_DIR: '' };
      const planted = box.write(join(box.tmp, `bt_u${euid}`), jwt(1800));
      chownSync(planted, 4242, 4242);
      const after = await fixResolves('discovery', `rm -rf /tmp/bt_u${euid} && tokenenv refresh default`, { env: noXdg });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    it('no watcher: tokenenv watch (run as a user would, in another terminal)', async () => {
      assert.equal(runTokenenv(['refresh'], { env }).status, 0);
      const before = (await doctor(env)).find((c) => c.check === 'watcher')!;
      assert.equal(before.fix, 'tokenenv watch');
      const [file, ...args] = wrapCommand(['bash', '-c', `exec ${before.fix}`], { privateTmp: box.tmp });
      const watcher: ChildProcess = spawn(file!, args, { env, stdio: 'ignore' });
      try {
        await waitFor(async () => level(await doctor(env), 'watcher') === 'ok', 15_000, 'doctor to see the watcher');
      } finally {
        watcher.kill('SIGTERM');
        await new Promise((resolve) => watcher.once('close', resolve));
      }
    });

    it('the shell wrappers: source them and run tokenenv_doctor', async () => {
      const after = await fixResolves('shell wrappers', 'source "$(tokenenv shell-path)" && tokenenv_doctor');
      assert.equal(level(after, 'shell wrappers'), 'ok');
    });

    const stub = (name: string, script: string) => box.write(join(box.path('bin'), name), `#!/bin/sh\n${script}\n`, 0o755);

    it('XRootD before 5.6.2 and the token only in /tmp: export BEARER_TOKEN_FILE', async () => {
      stub('xrdcp', 'echo v5.5.3 >&2');
      box.write(join(box.tmp, `bt_u${euid}`), jwt(1800));
      await fixResolves('XRootD /tmp', `export BEARER_TOKEN_FILE=/tmp/bt_u${euid}`, { env: { ...env, XDG_RUNTIME_DIR: '' } });
    });

    it('XRootD and a token file with group bits: chmod 600', async () => {
      stub('xrdcp', 'echo v5.5.3 >&2');
      box.write(token(), jwt(1800), 0o640);
      await fixResolves('XRootD token file', `chmod 600 ${token()}`);
    });

    it('gfal2 and the token only in a file: the shell wrappers', async () => {
      stub('gfal-ls', 'exit 0');
      box.write(token(), jwt(1800));
      await fixResolves('gfal2', 'source "$(tokenenv shell-path)" && tokenenv_doctor');
    });

    it('a token readable by everyone in /tmp: chmod 600 and a new token', async () => {
      box.write(join(box.tmp, `bt_u${euid}`), jwt(1800), 0o644);
      const after = await fixResolves('token file mode', `chmod 600 /tmp/bt_u${euid} && tokenenv refresh --force default`, { env: { ...env, XDG_RUNTIME_DIR: '' } });
      assert.equal(level(after, 'discovery'), 'ok');
    });

    /** An oidc-agent account (its password file empty) and a valid token; skipped without oidc-agent. */
    function oidcAgentAccountWithToken(test: Mocha.Context): void {
      requireCommands(test, 'oidc-agent', 'oidc-agent-service', 'oidc-add');
      box.write('config.ini', '[account wlcg]\noidc_account = wlcg\npassword_file = /dev/null\n[token default]\naccount = wlcg\n');
      box.write(token(), jwt(1800));
      mkdirSync(env.HOME!, { recursive: true });
    }

    it('an oidc-agent account and no agent: eval "$(oidc-agent-service use)"', async function () {
      oidcAgentAccountWithToken(this);
      const result = await fixResolves('oidc-agent', 'eval "$(oidc-agent-service use)"', {
        // The fix starts the user's agent (here: in the sandbox's HOME and TMPDIR); stopped afterwards.
        answer: (fix) => `${fix} >/dev/null; trap 'oidc-agent-service kill >/dev/null 2>&1' EXIT`,
      });
      assert.equal(level(result, 'oidc-agent'), 'ok');
    });

    it('OIDC_SOCK naming an agent that is gone: eval "$(oidc-agent-service use)"', async function () {
      oidcAgentAccountWithToken(this);
      const result = await fixResolves('oidc-agent', 'eval "$(oidc-agent-service use)"', {
        env: { ...env, OIDC_SOCK: box.path('gone.sock') },
        answer: (fix) => `trap 'oidc-agent-service kill >/dev/null 2>&1' EXIT; ${fix} >/dev/null`,
      });
      assert.equal(level(result, 'oidc-agent'), 'ok');
    });

    it("the config's oidc_sock unreachable: no fix for the agent, and no refresh offered for its token", async function () {
      requireCommands(this, 'oidc-add');
      box.write('config.ini', `[account wlcg]\noidc_account = wlcg\noidc_sock = ${box.path('gone.sock')}\n[token default]\naccount = wlcg\n`);
      const checks = await doctor(env);
      assert.deepEqual(checks.filter((c) => c.check === 'discovery' || c.check === 'oidc-agent').map((c) => [c.check, c.level, c.fix]),
        [['discovery', 'fail', null], ['oidc-agent', 'fail', null]]);
    });

    describe('an oidc-agent account on disk, encrypted, not loaded (real oidc-agent)', () => {
      const password = 'typed-at-the-prompt-5d2e';
      /** oidc-add's prompt, as a user answers it: the password and Enter. */
      const typing: Terminal = { prompt: /password[^\n]*:\s*$/i, type: password };
      let agent: OidcAgent | undefined;
      let agentEnv: Record<string, string>;

      /** The account `wlcg` (the demo issuer's robot client) in the HOME of the shell, its
       * password only in the user's head; the agent that created it still running, or not. */
      async function unloadedAccount(keepAgent: boolean): Promise<void> {
        agent = await startOidcAgent(box.path('agent'));
        const refreshToken = await issuer.mintRefreshToken('robot', { scope: 'openid offline_access storage.read:/' });
        const { passwordFile } = await createAccount(agent, { name: 'wlcg', issuerUrl: issuer.url, clientId: 'robot', clientSecret: 'robot-secret-1c9e',
          refreshToken, password, scopes: ['openid', 'offline_access', 'storage.read:/'] });
        rmSync(passwordFile);
        await unloadAccount(agent, 'wlcg');
        agentEnv = { ...env, HOME: agent.home, ...(keepAgent ? { OIDC_SOCK: agent.socket } : {}) };
        if (!keepAgent) await agent.stop();
        box.write('config.ini', '[account wlcg]\noidc_account = wlcg\n[token default]\naccount = wlcg\n');
      }
      afterEach(async () => {
        await agent?.stop();
        agent = undefined;
      });

      it('oidc-add NAME, the password typed at its prompt', async function () {
        requireCommands(this, 'oidc-agent', 'oidc-add', 'oidc-gen', 'script');
        await unloadedAccount(true);
        box.write(token(), jwt(1800));
        const after = await fixResolves('account wlcg', 'oidc-add wlcg', { env: agentEnv, terminal: typing });
        assert.equal(level(after, 'account wlcg'), 'ok');
        assert.deepEqual(await loadedAccounts(agent!), ['wlcg']);
      });

      it('and no token: the refresh fix loads the account first', async function () {
        requireCommands(this, 'oidc-agent', 'oidc-add', 'oidc-gen', 'oidc-token', 'script');
        await unloadedAccount(true);
        const after = await fixResolves('discovery', 'oidc-add wlcg && tokenenv refresh default', { env: agentEnv, terminal: typing });
        assert.deepEqual([level(after, 'discovery'), level(after, 'account wlcg')], ['ok', 'ok']);
      });

      it('and no agent, no token: the refresh fix starts the agent and loads the account first', async function () {
        requireCommands(this, 'oidc-agent', 'oidc-agent-service', 'oidc-add', 'oidc-gen', 'oidc-token', 'script');
        await unloadedAccount(false);
        const after = await fixResolves('discovery', 'eval "$(oidc-agent-service use)" && oidc-add wlcg && tokenenv refresh default', {
          env: agentEnv,
          answer: (fix) => `trap 'oidc-agent-service kill >/dev/null 2>&1' EXIT; ${fix}`,
          terminal: typing,
        });
        assert.deepEqual([level(after, 'discovery'), level(after, 'oidc-agent'), level(after, 'account wlcg')], ['ok', 'ok', 'ok']);
      });
    });
  });

  describe('the data clients (XRootD, gfal2)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const jwt = () => `${fakeJwt({ iat: now(), exp: now() + 1800 })}\n`;
    /** PATH holding only stubs: `xrdcp --version` prints `xrootd`, gfal-ls exists when `gfal`. */
    function clients(xrootd: string | undefined, gfal: boolean): string {
      const dir = box.path('bin');
      if (xrootd) box.write(join(dir, 'xrdcp'), `#!/bin/sh\necho ${xrootd} >&2\n`, 0o755);
      if (gfal) box.write(join(dir, 'gfal-ls'), '#!/bin/sh\nexit 0\n', 0o755);
      return dir;
    }
    const inTmp = () => join(box.tmp, `bt_u${euid}`);
    // With a private /tmp, PATH needs the tools that mount it: the stubs go first.
    const onlyTmp = (path: string) => ({ HOME: env.HOME!, TOKENENV_CONFIG: env.TOKENENV_CONFIG!, PATH: `${path}:/usr/bin:/bin` });
    // Without one (the token in XDG_RUNTIME_DIR), PATH can hold the stubs only.
    const direct = (extra: Record<string, string>) => runTokenenv(['doctor'], { env: { ...env, ...extra } });

    it('only /tmp/bt_u$ID and XRootD 5.5.3: WARN, it looks for /tmp/bt_u11', () => {
      box.write(inTmp(), jwt());
      const result = run({ env: onlyTmp(clients('v5.5.3', false)) });
      assert.match(result.stdout, /^info +XRootD client +5\.5\.3: /m);
      assert.match(result.stdout, new RegExp(`^WARN +XRootD /tmp +XRootD 5\\.5\\.3 looks for /tmp/bt_u11 instead of /tmp/bt_u${euid} \\(fixed in 5\\.6\\.2\\).*\\n +fix: export BEARER_TOKEN_FILE=/tmp/bt_u${euid}$`, 'm'));
    });

    it('XRootD 5.6.2 finds /tmp/bt_u$ID: no warning', () => {
      box.write(inTmp(), jwt());
      const result = run({ env: onlyTmp(clients('v5.6.2', false)) });
      assert.match(result.stdout, /^info +XRootD client +5\.6\.2/m);
      assert.doesNotMatch(result.stdout, /XRootD \/tmp/);
    });

    it('a token file with group bits and XRootD installed: WARN, xrdcp refuses it', () => {
      box.write(token(), jwt(), 0o640);
      const result = direct({ PATH: clients('v5.5.3', false) });
      assert.match(result.stdout, /^WARN +XRootD token file +\S+ has group or other permission bits \(mode 0640\): xrdcp and xrdfs refuse it/m);
      const without = direct({ PATH: box.path('empty-bin') });
      assert.doesNotMatch(without.stdout, /XRootD/);
    });

    it('gfal2 installed and the token only in a file: WARN, with the wrappers as the fix (or exec --env-token)', () => {
      box.write(token(), jwt());
      const result = direct({ PATH: clients(undefined, true) });
      assert.match(result.stdout, /^WARN +gfal2 +gfal-\* read only BEARER_TOKEN, never a token file.*tokenenv exec --env-token.*\n +fix: source "\$\(tokenenv shell-path\)" && tokenenv_doctor$/m);
      const withVariable = direct({ PATH: clients(undefined, true), BEARER_TOKEN: fakeJwt({ exp: now() + 1800 }) });
      assert.doesNotMatch(withVariable.stdout, /gfal2/);
    });

    it('a world-readable token file in a directory others can enter (/tmp): FAIL, not a warning', () => {
      box.write(inTmp(), jwt(), 0o644);
      const result = run({ env: onlyTmp(box.path('empty-bin')) });
      assert.equal(result.status, 1, result.stdout);
      assert.match(result.stdout, new RegExp(`^FAIL +token file mode +/tmp/bt_u${euid} is readable by everyone \\(mode 0644\\) in /tmp, which others can enter.*\\n +fix: chmod 600`, 'm'));
      box.write(token(), jwt(), 0o644); // the same mode in a private XDG_RUNTIME_DIR: a warning
      const private_ = direct({ PATH: box.path('empty-bin') });
      assert.match(private_.stdout, /^WARN +token file mode/m);
      assert.doesNotMatch(private_.stdout, /^FAIL/m);
    });
  });
});

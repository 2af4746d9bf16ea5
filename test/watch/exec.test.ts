// `tokenenv exec`, `status`, `systemd` and `demo`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runTokenenvAsync } from '../support/cli.js';
import { mintConfig, mintLab, type Mint } from '../support/mint.js';
import { requireCommands } from '../support/peers.js';
import { fakeJwt, Sandbox } from '../support/sandbox.js';
import { reap, startTokenenv, waitFor, type RunningCommand } from '../support/wait.js';

describe('exec, status, systemd, demo', function () {
  this.timeout(60_000);
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;
  let running: RunningCommand | undefined;

  beforeEach(async () => {
    ({ box, mint, env } = await mintLab());
  });
  afterEach(async () => {
    await reap(running);
    running = undefined;
    box.remove();
  });

  const tokenPath = (name = 't') => box.path(`${name}.token`);
  const configure = (tokens: Record<string, Record<string, string | number>> = { default: { token_path: tokenPath() } }) =>
    box.write('config.ini', mintConfig(mint, tokens));
  const tokenenv = (args: string[], extra: Record<string, string> = {}) => runTokenenvAsync(args, { env: { ...env, ...extra } });

  describe('tokenenv exec', () => {
    it('runs the command with BEARER_TOKEN_FILE (and no BEARER_TOKEN), and exits with its status', async () => {
      configure();
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), '--', 'sh', '-c', 'echo "file=$BEARER_TOKEN_FILE token=${BEARER_TOKEN:-unset}"; exit 7'], { BEARER_TOKEN: 'stale' });
      assert.equal(run.status, 7, run.stderr);
      assert.equal(run.stdout, `file=${tokenPath()} token=unset\n`);
      assert.ok(existsSync(tokenPath()));
    });

    it('passes arguments through unchanged, without --', async () => {
      configure();
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), 'printf', '[%s]', 'a b', '--', '*', '']);
      assert.equal(run.stdout, '[a b][--][*][]');
    });

    it('a command killed by a signal: exec dies of the same signal', async () => {
      configure();
      const run = spawnSync(process.execPath, [`${process.cwd()}/bin/tokenenv.cjs`, 'exec', '--config', box.path('config.ini'), '--', 'sh', '-c', 'kill -TERM $$'],
        { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
      assert.equal(run.signal, 'SIGTERM', `status ${run.status}, stderr: ${run.stderr}`);
    });

    it('forwards SIGTERM to the command', async () => {
      configure();
      const marker = box.path('got-term');
      running = startTokenenv(['exec', '--config', box.path('config.ini'), '--', 'sh', '-c', `trap 'echo term > ${marker}; exit 42' TERM; echo ready; while :; do sleep 0.05; done`], env);
      await waitFor(() => running!.stdout().includes('ready'), 10_000, 'the command to start');
      running.child.kill('SIGTERM');
      assert.equal(await running.exited, 42);
      assert.equal(readFileSync(marker, 'utf8'), 'term\n');
    });

    it('the command sees its token refreshed while it runs', async () => {
      configure({ default: { token_path: tokenPath(), min_lifetime: 2 } });
      mint.lifetime = 5;
      const script = `read1=$(cat "$BEARER_TOKEN_FILE"); sleep 4.5; read2=$(cat "$BEARER_TOKEN_FILE"); [ "$read1" != "$read2" ] && echo refreshed`;
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), '--', 'sh', '-c', script]);
      assert.equal(run.stdout, 'refreshed\n', run.stderr);
      assert.ok(mint.calls >= 2);
    });

    it('--aud/--scope: a per-audience token in a purpose-suffixed file', async () => {
      configure();
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), '--aud', 'https://se.example:1094', '--scope', 'storage.read:/', '--',
        'sh', '-c', 'echo "$BEARER_TOKEN_FILE"; tokenenv_none=1']);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout.trim(), new RegExp(`${box.xdg}/bt_u\\d+-tokenenv-aud-se\\.example_1094-storage\\.read_$`));
    });

    it('no token can be had: exit 3 and the command does not run', async () => {
      configure();
      mint.mode = 'garbage';
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), '--', 'sh', '-c', 'echo ran']);
      assert.equal(run.status, 3);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /no valid token for default: .*JSON object/);
    });

    it('a missing command: 127', async () => {
      configure();
      const run = await tokenenv(['exec', '--config', box.path('config.ini'), '--', 'no-such-command-xyz']);
      assert.equal(run.status, 127);
      assert.match(run.stderr, /no-such-command-xyz: command not found/);
    });
  });

  describe('tokenenv status', () => {
    it('a table of every token; exit 1 while one is missing; the watcher and its next refresh', async () => {
      configure({ a: { token_path: tokenPath('a') }, b: { token_path: tokenPath('b') } });
      box.write(tokenPath('a'), fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', exp: Math.floor(Date.now() / 1000) + 1800, iat: Math.floor(Date.now() / 1000) }) + '\n');
      let run = await tokenenv(['status', '--config', box.path('config.ini')]);
      assert.equal(run.status, 1);
      assert.match(run.stdout, /^TOKEN +PATH +SOURCE +STATE +NEXT REFRESH +LAST RESULT$/m);
      assert.match(run.stdout, /^a +\S+a\.token +command mint +fresh, 30 min left +- +-$/m);
      assert.match(run.stdout, /^b +\S+b\.token +command mint +missing/m);
      assert.match(run.stdout, /no watcher running/);
      assert.ok(!run.stdout.includes('\x1b['), 'no colour without a terminal');
      running = startTokenenv(['watch', '--config', box.path('config.ini')], env);
      await waitFor(() => existsSync(tokenPath('b')), 10_000, 'the watcher');
      let last = '';
      await waitFor(async () => (last = (await tokenenv(['status', '--json', '--config', box.path('config.ini')])).stdout).includes('"lastResult": "refreshed"'), 5000, 'the status file')
        .catch((e: Error) => { throw new Error(`${e.message}: ${last}\n${running!.stderr()}`); });
      run = await tokenenv(['status', '--json', '--config', box.path('config.ini')]);
      assert.equal(run.status, 0);
      const status = JSON.parse(run.stdout);
      assert.equal(status.watcher.pid, running.child.pid);
      assert.deepEqual(status.tokens.map((t: { name: string; state: string }) => [t.name, t.state]), [['a', 'fresh'], ['b', 'fresh']]);
      assert.ok(status.tokens[1].nextRefreshAt > Date.now() / 1000);
      assert.match((await tokenenv(['status', '--config', box.path('config.ini')])).stdout, /watcher running \(pid \d+\)/);
    });
  });

  describe('tokenenv systemd', () => {
    before(function () {
      requireCommands(this, 'systemd-analyze');
    });

    const verify = (...files: string[]) => spawnSync('systemd-analyze', ['verify', '--user', ...files], {
      env: { ...process.env, XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') }, encoding: 'utf8',
    });

    it('writes a watcher unit that passes systemd-analyze verify', async () => {
      configure();
      const units = box.path('units');
      const run = await tokenenv(['systemd', '--install', '--dir', units, '--config', box.path('config.ini')]);
      assert.equal(run.status, 0, run.stderr);
      const unit = readFileSync(`${units}/tokenenv-watch.service`, 'utf8');
      assert.match(unit, /^ExecStart=\S+node --single-threaded \S+tokenenv\.cjs watch --config \S+config\.ini$/m);
      assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
      const result = verify(`${units}/tokenenv-watch.service`);
      assert.equal(result.status, 0, result.stderr);
    });

    it("the watcher runs as its unit starts it: Node without V8's worker threads, glibc's malloc thresholds fixed", async () => {
      configure();
      const unit = (await tokenenv(['systemd', '--config', box.path('config.ini')])).stdout;
      const [node, ...argv] = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
      const cli = argv.findIndex((arg) => arg.endsWith('tokenenv.cjs'));
      assert.equal(node, process.execPath);
      assert.deepEqual(argv.slice(0, cli), ['--single-threaded']);
      assert.deepEqual(argv.slice(cli + 1), ['watch', '--config', box.path('config.ini')]);
      const environment = Object.fromEntries(/^Environment=(.*)$/m.exec(unit)![1]!.split(' ').map((pair) => pair.split('=')));
      assert.deepEqual(environment, { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' });
      running = startTokenenv(argv.slice(cli + 1), { ...env, ...environment }, argv.slice(0, cli));
      await waitFor(() => existsSync(tokenPath()), 10_000, 'the unit\'s watcher to write the token');
      assert.equal(mint.calls, 1);
    });

    it('writes a refresh service and timer that pass systemd-analyze verify', async () => {
      configure();
      const units = box.path('units');
      await tokenenv(['systemd', '--install', '--timer', '--interval', '10min', '--dir', units, '--config', box.path('config.ini')]);
      assert.deepEqual(readdirSync(units).sort(), ['tokenenv-refresh.service', 'tokenenv-refresh.timer']);
      assert.match(readFileSync(`${units}/tokenenv-refresh.timer`, 'utf8'), /^OnUnitActiveSec=10min$/m);
      const result = verify(`${units}/tokenenv-refresh.service`, `${units}/tokenenv-refresh.timer`);
      assert.equal(result.status, 0, result.stderr);
    });

    it('systemd-analyze verify does fail on a broken unit (the check can fail)', () => {
      const broken = box.write('units/broken.service', '[Service]\nExecStart=relative/path\n');
      assert.notEqual(verify(broken).status, 0);
    });

    it('without --install, prints the unit', async () => {
      configure();
      const run = await tokenenv(['systemd', '--config', box.path('config.ini')]);
      assert.match(run.stdout, /^# tokenenv-watch\.service\n\[Unit\]/);
    });
  });

  describe('tokenenv demo', () => {
    it('runs a local issuer and the watcher, refreshes short-lived tokens, and cleans up', async function () {
      this.timeout(30_000);
      const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('tokenenv-demo-')));
      const run = await tokenenv(['demo', '--lifetime', '6', '--duration', '7']);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /OpenID issuer at http:\/\/127\.0\.0\.1:\d+ issues 6 s tokens/);
      assert.match(run.stdout, /token default: refreshed \(start\)/);
      assert.match(run.stdout, /token ce: refreshed \(timer\)/);
      assert.match(run.stdout, /demo stopped, temporary files removed/);
      assert.ok(!(run.stdout + run.stderr).includes('Unsupported runtime'));
      const after = readdirSync(tmpdir()).filter((n) => n.startsWith('tokenenv-demo-') && !before.has(n));
      assert.deepEqual(after, []);
    });
  });
});

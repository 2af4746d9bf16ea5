// `tokenenv demo` (issue 10.2): installed from the packed package into a fresh npm prefix, it
// runs; the lines it prints for another terminal work as printed (status sees the demo's
// watcher, a wrapped client call gets a token for its CE, oidc-token asks the demo's agent);
// and however it ends — Ctrl-C, its output pipe closing — its directory and secrets go.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, tokenenvBin } from '../support/cli.js';
import { paste, pasteLines, startDemo, type RunningDemo } from '../support/demo.js';
import { hasCommand, peersRequired } from '../support/peers.js';
import { Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

const demoDirs = (tmp: string) => readdirSync(tmp).filter((f) => f.startsWith('tokenenv-demo-'));

describe('tokenenv demo', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let demo: RunningDemo | undefined;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = new Sandbox('tokenenv-demo-test-');
    // A user's terminal: a token of their own in BEARER_TOKEN, which the printed lines set aside.
    env = { PATH: process.env.PATH, HOME: box.path('home'), TMPDIR: box.dir, BEARER_TOKEN: 'users-own-token', LANG: 'C' };
  });
  afterEach(async () => {
    // A failed test's demo: SIGTERM first, so that it stops its oidc-agent and removes its files.
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGTERM');
      const timer = setTimeout(() => demo?.child.kill('SIGKILL'), 5000);
      await demo.exited;
      clearTimeout(timer);
    }
    demo = undefined;
    box.remove();
  });

  it('from `npm install -g` of the packed package: the printed lines work, status sees its watcher, Ctrl-C cleans up', async () => {
    const withAgent = hasCommand('oidc-agent') && hasCommand('oidc-gen');
    if (!withAgent && peersRequired()) throw new Error('required peer missing (TOKENENV_REQUIRE_PEERS=1): oidc-agent');
    // dist/ is built by `npm test`; --ignore-scripts keeps pack from building again.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', box.dir], { cwd: repoRoot });
    const tarball = readdirSync(box.dir).find((f) => f.endsWith('.tgz'))!;
    const prefix = box.path('prefix');
    const npmEnv = { ...process.env, npm_config_prefix: prefix, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
    await run('npm', ['install', '-g', join(box.dir, tarball)], { env: npmEnv, cwd: box.dir });
    const installed = join(prefix, 'bin', 'tokenenv');
    assert.ok(existsSync(installed));

    env.PATH = `${join(prefix, 'bin')}:/usr/bin:/bin`;
    demo = startDemo([installed, 'demo', '--lifetime', '10'], env);
    await waitFor(() => /For +ce\.example\.org:9619 \(condor_q\): accepted/.test(demo!.output()) || demo!.child.exitCode !== null, 60_000, 'the wrapped call');
    const output = demo.output();
    assert.match(output, /A wrapped client call, as in another terminal \(source "\$\(tokenenv shell-path\)"; condor_q -pool ce\.example\.org\):\n {2}\| condor_q \(demo stand-in\) for ce\.example\.org:9619 got BEARER_TOKEN_FILE=/);
    assert.match(output, /info +token default: refreshed \(start\)/);
    assert.match(output, withAgent ? /oidc-agent: a private agent holds the account tokenenv-demo/ : /oidc-agent: not installed/);
    const dir = /Everything is in (\S+) /.exec(output)![1]!;
    assert.ok(existsSync(join(dir, 'client.secret')));

    const lines = pasteLines(output);
    assert.equal(lines.some((l) => l.startsWith('oidc-token ')), withAgent);
    const results = await paste(lines, env);
    for (const result of results) assert.equal(result.status, 0, `${result.line}:\n${result.output}`);
    const output_ = (start: string) => results.find((r) => r.line.startsWith(start))!.output;
    assert.match(output_('tokenenv inspect'), /^Signature +valid \(ES256/m);
    assert.match(output_('tokenenv status'), new RegExp(`^watcher running \\(pid ${demo.child.pid}\\)$`, 'm'));
    assert.match(output_('condor_q'), /^For +ce\.example\.org:9619 \(condor_q\): accepted$/m);
    if (withAgent) assert.match(output_('oidc-token'), /^Issuer +http:\/\/127\.0\.0\.1:\d+$/m);
    // After `rm`, the watcher puts the token back.
    const removed = lines.at(-1)!.replace(/^rm /, '');
    await waitFor(() => existsSync(removed), 10_000, 'the removed token to come back');

    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0);
    assert.match(demo.output(), /demo stopped, temporary files removed/);
    assert.deepEqual(demoDirs(box.dir), []);
  });

  it('`| head`: when its output pipe closes, it stops and removes its directory', async () => {
    demo = startDemo(['sh', '-c', `'${process.execPath}' '${tokenenvBin}' demo --lifetime 5 --no-agent | head -n 3`], env);
    assert.equal(await demo.exited, 0);
    assert.equal(demo.output().split('\n').length, 4);
    // The shell waits for both ends of the pipe: the demo has exited too.
    assert.deepEqual(demoDirs(box.dir), []);
  });

  it('`| tee` then Ctrl-C: the reader is gone before the demo says goodbye, and it still cleans up', async () => {
    demo = startDemo([process.execPath, tokenenvBin, 'demo', '--lifetime', '5', '--no-agent'], env);
    await waitFor(() => /watching 2 token/.test(demo!.output()), 30_000, 'the watcher');
    const dir = /Everything is in (\S+) /.exec(demo.output())![1]!;
    assert.ok(existsSync(join(dir, 'client.secret')));
    demo.child.stdout!.destroy(); // tee died with Ctrl-C
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0);
    assert.ok(!existsSync(dir), `${dir} left behind`);
  });

  it('SIGTERM and SIGHUP stop it as Ctrl-C does', async () => {
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
      demo = startDemo([process.execPath, tokenenvBin, 'demo', '--no-agent'], env);
      await waitFor(() => /watching 2 token/.test(demo!.output()), 30_000, 'the watcher');
      demo.child.kill(signal);
      assert.equal(await demo.exited, 0, demo.output());
      assert.deepEqual(demoDirs(box.dir), []);
    }
  });

  it('the client secret never appears in its output', async () => {
    demo = startDemo([process.execPath, tokenenvBin, 'demo', '--duration', '3', '--no-agent'], env);
    let secret = '';
    await waitFor(() => {
      const dir = /Everything is in (\S+) /.exec(demo!.output())?.[1];
      if (dir && existsSync(join(dir, 'client.secret'))) secret = readFileSync(join(dir, 'client.secret'), 'utf8').trim();
      return secret !== '' || demo!.child.exitCode !== null;
    }, 30_000, 'the secret file');
    assert.equal(await demo.exited, 0);
    assert.ok(secret.length > 10 && !demo.output().includes(secret));
  });
});

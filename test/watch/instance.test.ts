// One watcher per config (issue 12 item 12): the same config reached through a symbolic link or
// another spelling is the same instance; a pid file whose pid now belongs to another process
// (reused after a crash or reboot) does not stop a watcher from starting.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../lib/core/processes.js';
import { AlreadyRunningError, claimInstance, runningWatcher, watcherFiles } from '../../lib/watch/instance.js';
import { runTokenenvAsync } from '../support/cli.js';
import { mintConfig, mintLab, type Mint } from '../support/mint.js';
import { type Sandbox } from '../support/sandbox.js';
import { reap, startTokenenv, waitFor, type RunningCommand } from '../support/wait.js';

describe('watch/instance', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;
  let stateDir: string;
  const euid = process.geteuid!();

  beforeEach(async () => {
    ({ box, mint, env } = await mintLab());
    stateDir = join(box.xdg, 'tokenenv');
  });
  afterEach(() => box.remove());

  it('a config reached through a symbolic link, or spelled differently, has the same pid file', () => {
    const config = box.write('conf/config.ini', '[account a]\ncommand = true\n');
    symlinkSync(join(box.dir, 'conf'), box.path('alias'));
    const direct = watcherFiles(stateDir, config);
    assert.deepEqual(watcherFiles(stateDir, box.path('alias', 'config.ini')), direct);
    assert.deepEqual(watcherFiles(stateDir, `${box.dir}//conf/../conf/./config.ini`), direct);
    symlinkSync(config, box.path('link.ini'));
    assert.deepEqual(watcherFiles(stateDir, box.path('link.ini')), direct);
  });

  it('a second `tokenenv watch` on the config through a symbolic link is refused', async () => {
    let first: RunningCommand | undefined;
    try {
      box.write('conf/config.ini', mintConfig(mint, { t: { token_path: box.path('t.token') } }));
      symlinkSync(join(box.dir, 'conf'), box.path('alias'));
      first = startTokenenv(['watch', '--config', box.path('conf', 'config.ini')], env);
      await waitFor(() => /watching \d+ token/.test(first!.stderr()), 10_000, 'the first watcher');
      const second = await runTokenenvAsync(['watch', '--config', box.path('alias', 'config.ini')], { env });
      assert.equal(second.status, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`a watcher for .*config\\.ini is already running \\(pid ${first.child.pid}\\)`));
    } finally {
      await reap(first);
    }
  });

  it('the pid file records the pid and its start time, and a live watcher is found', () => {
    const { pidFile } = watcherFiles(stateDir, box.path('config.ini'));
    const release = claimInstance(stateDir, pidFile, euid, 'x');
    try {
      assert.equal(readFileSync(pidFile, 'utf8'), `${process.pid} ${processStartTime(process.pid)}\n`);
      assert.equal(runningWatcher(pidFile), process.pid);
      assert.throws(() => claimInstance(stateDir, pidFile, euid, 'x'), AlreadyRunningError);
    } finally {
      release();
    }
  });

  describe('a pid file whose pid was reused by another process', () => {
    let other: ChildProcess;
    beforeEach(() => {
      // Any live process that is not the watcher that wrote the file.
      other = spawn('sleep', ['60'], { stdio: 'ignore' });
    });
    afterEach(() => {
      other.kill('SIGKILL');
    });

    it('is stale: the watcher starts', async () => {
      const config = box.write('config.ini', mintConfig(mint, { t: { token_path: box.path('t.token') } }));
      const { pidFile } = watcherFiles(stateDir, config);
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      await waitFor(() => processStartTime(other.pid!) !== undefined, 2000, 'the other process');
      // What a watcher that died (kill -9, reboot) left behind, its pid since given to `sleep`.
      const deadWatcherStart = String(Number(processStartTime(other.pid!)) - 1000);
      writeFileSync(pidFile, `${other.pid} ${deadWatcherStart}\n`, { mode: 0o600 });
      assert.equal(runningWatcher(pidFile), undefined);
      const watch = startTokenenv(['watch', '--config', config], env);
      try {
        await waitFor(() => /watching \d+ token/.test(watch.stderr()) || watch.child.exitCode !== null, 10_000, 'the watcher');
        assert.match(watch.stderr(), /watching 1 token/);
        assert.match(readFileSync(pidFile, 'utf8'), new RegExp(`^${watch.child.pid} \\d+\\n$`));
      } finally {
        await reap(watch);
      }
    });

    it('with the right start time, it is the running watcher', () => {
      const { pidFile } = watcherFiles(stateDir, box.path('config.ini'));
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      writeFileSync(pidFile, `${other.pid} ${processStartTime(other.pid!)}\n`, { mode: 0o600 });
      assert.equal(runningWatcher(pidFile), other.pid);
    });
  });
});

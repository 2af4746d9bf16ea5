// Locks are keyed by the resolved token file, so every spelling of one file makes one source
// call; a lock left by a refresh that died is taken over at once; temporary files are unique
// per writer and one writer's clean-up never removes another's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lockPathFor, withTokenLock } from '../../lib/files/lock.js';
import { writeTokenFile } from '../../lib/files/write.js';
import { runTokenenvAsync } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';
import { fakeJwt, Sandbox } from '../support/sandbox.js';
import { startTokenenv, waitFor } from '../support/wait.js';

describe('token locks and temporary files', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let env: Record<string, string>;

  beforeEach(() => {
    box = new Sandbox();
    chmodSync(box.xdg, 0o700);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') };
  });
  afterEach(() => box.remove());

  describe('one lock per resolved file', () => {
    it('a symlinked directory, // and .. name one lock', () => {
      mkdirSync(box.path('real/sub'), { recursive: true });
      symlinkSync(box.path('real'), box.path('link'));
      const state = box.path('state');
      const spellings = [box.path('real/t.token'), box.path('link/t.token'), `${box.dir}//real//t.token`, box.path('real/sub/../t.token')];
      const locks = new Set(spellings.map((p) => lockPathFor(p, state)));
      assert.equal(locks.size, 1, [...locks].join(' '));
      assert.notEqual(lockPathFor(box.path('real/u.token'), state), [...locks][0]);
    });

    it('three refreshes spelling one file differently, at once, cause one source call', async () => {
      mkdirSync(box.path('real/sub'), { recursive: true });
      symlinkSync(box.path('real'), box.path('link'));
      // A slow source (0.5 s): without one lock, all three would be inside it at once.
      box.write('token', `${fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 })}\n`);
      const script = box.write('slow.sh', `#!/bin/sh\necho . >> ${box.path('calls')}\nsleep 0.5\ncat ${box.path('token')}\n`, 0o755);
      const spellings = [box.path('real/t.token'), box.path('link/t.token'), `${box.dir}//real/sub/../t.token`];
      spellings.forEach((path, i) => box.write(`config${i}.ini`, `[account slow]\ncommand = ${script}\n[token t]\naccount = slow\ntoken_path = ${path}\n`));
      const runs = await Promise.all(spellings.map((_, i) => runTokenenvAsync(['refresh', '--config', box.path(`config${i}.ini`)], { env })));
      for (const run of runs) assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(readFileSync(box.path('calls'), 'utf8'), '.\n', runs.map((r) => r.stdout).join(''));
      assert.deepEqual(readdirSync(box.path('real')).sort(), ['sub', 't.token']);
    });
  });

  describe('a lock whose holder died', () => {
    it('is taken over at once when its pid is gone', async () => {
      const state = box.path('state');
      const target = box.path('t.token');
      // What a refresh killed with -9 leaves: its lock, naming it.
      const dead = spawn('true');
      await new Promise((resolve) => dead.on('exit', resolve));
      mkdirSync(join(state, 'locks'), { recursive: true, mode: 0o700 });
      chmodSync(state, 0o700);
      writeFileSync(lockPathFor(target, state), `${hostname()} ${dead.pid} - 0123456789abcdef\n`, { mode: 0o600 });
      const started = Date.now();
      assert.equal(await withTokenLock(target, { stateDir: state, euid: process.geteuid!(), waitMs: 5000 }, async () => 'mine'), 'mine');
      assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
      assert.ok(!existsSync(lockPathFor(target, state)), 'released');
    });

    it('a pid now used by another process is not the holder (start time differs)', async () => {
      const state = box.path('state');
      const target = box.path('t.token');
      mkdirSync(join(state, 'locks'), { recursive: true, mode: 0o700 });
      chmodSync(state, 0o700);
      writeFileSync(lockPathFor(target, state), `${hostname()} ${process.pid} 1 0123456789abcdef\n`, { mode: 0o600 });
      assert.equal(await withTokenLock(target, { stateDir: state, euid: process.geteuid!(), waitMs: 1000 }, async () => 'mine'), 'mine');
    });

    it('a tokenenv refresh killed with SIGKILL: the next refresh recovers within 2 s (was about 16 s)', async () => {
      const mint = new Mint(box.dir);
      const tokenPath = box.path('t.token');
      box.write('config.ini', mintConfig(mint, { t: { token_path: tokenPath } }));
      mint.mode = 'hang';
      const victim = startTokenenv(['refresh', '--config', box.path('config.ini')], env);
      await waitFor(() => mint.calls === 1, 5000, 'the hanging source');
      victim.child.kill('SIGKILL');
      await victim.exited;
      assert.equal(readdirSync(join(box.xdg, 'tokenenv', 'locks')).filter((n) => n.endsWith('.held')).length, 1, 'the lock is left behind');
      mint.mode = 'ok';
      const started = Date.now();
      const run = await runTokenenvAsync(['refresh', '--config', box.path('config.ini')], { env });
      const took = Date.now() - started;
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.ok(took < 2000, `took ${took} ms`);
      assert.ok(existsSync(tokenPath));
      // The hanging source of the killed refresh is left running (SIGKILL cannot be caught): end it.
      for (const pid of readFileSync(join(box.dir, 'calls'), 'utf8').split('\n').filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  });

  describe('temporary files', () => {
    const euid = () => process.geteuid!();

    it('are named per writer (pid and randomness); a live writer\'s file survives another writer\'s clean-up', async () => {
      const target = box.path('t.token');
      const sleeper = spawn('sleep', ['30']);
      try {
        const live = box.write(`.t.token.tokenenv-tmp-${sleeper.pid}-aaaaaaaaaaaa`, 'half a tok');
        const dead = spawn('true');
        await new Promise((resolve) => dead.on('exit', resolve));
        const orphan = box.write(`.t.token.tokenenv-tmp-${dead.pid}-bbbbbbbbbbbb`, 'left by a crash');
        await writeTokenFile(target, 'tok-1', { expectedUid: euid() });
        assert.ok(existsSync(live), "another writer's temporary file was removed");
        assert.ok(!existsSync(orphan), 'an orphan was kept');
        assert.equal(readFileSync(target, 'utf8'), 'tok-1\n');
      } finally {
        sleeper.kill('SIGKILL');
      }
    });

    it('concurrent writers in one directory never delete each other\'s temporary file', async () => {
      const targets = Array.from({ length: 20 }, (_, i) => box.path(i % 2 ? 't.token' : 'link/../t.token'));
      mkdirSync(box.path('link'));
      const results = await Promise.allSettled(targets.map((t, i) => writeTokenFile(t, `tok-${i}`, { expectedUid: euid() })));
      assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
      assert.match(readFileSync(box.path('t.token'), 'utf8'), /^tok-\d+\n$/);
      assert.deepEqual(readdirSync(box.dir).filter((n) => n.includes('tokenenv-tmp')), []);
    });
  });
});

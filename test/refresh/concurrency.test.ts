// Many refreshes at once cause one source call; a refresh killed at any moment never leaves the
// token file missing, empty or partial.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenenvBin } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';
import { Sandbox } from '../support/sandbox.js';

interface Exit { code: number | null; stdout: string }

function runAsync(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [tokenenvBin, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  const done = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout })));
  return { child, done };
}

describe('refresh under concurrency and crashes', function () {
  this.timeout(120_000);
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;
  let tokenPath: string;

  beforeEach(() => {
    box = new Sandbox();
    mint = new Mint(box.dir);
    chmodSync(box.xdg, 0o700);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') };
    tokenPath = box.path('t.token');
    box.write('config.ini', mintConfig(mint, { t: { token_path: tokenPath, min_lifetime: 60 } }));
  });
  afterEach(() => box.remove());

  it('50 concurrent refreshes of one stale token call the source once and agree on the token', async () => {
    const runs = Array.from({ length: 50 }, () => runAsync(['refresh', '--config', box.path('config.ini')], env));
    const exits = await Promise.all(runs.map((r) => r.done));
    assert.deepEqual(exits.map((e) => e.code), Array(50).fill(0));
    assert.equal(mint.calls, 1);
    const actions = exits.map((e) => / (kept|refreshed) /.exec(e.stdout)?.[1]).sort();
    assert.deepEqual(actions, [...Array(49).fill('kept'), 'refreshed']);
    const discovered = await runAsync(['discover', '--min-lifetime', '60'], { BEARER_TOKEN_FILE: tokenPath }).done;
    assert.equal(discovered.code, 0);
    assert.equal(discovered.stdout, readFileSync(tokenPath, 'utf8'));
  });

  it('SIGKILL at random moments never leaves the file missing, empty or partial', async () => {
    // A first token, then a reader checking every version it sees while refreshes are killed.
    assert.equal((await runAsync(['refresh', '--config', box.path('config.ini')], env).done).code, 0);
    const readerScript = box.write('reader.cjs', `
      const fs = require('fs');
      const path = process.argv[2];
      let reads = 0, bad = 0, last = '';
      const check = () => {
        for (let i = 0; i < 200; i++) {
          let text;
          try { text = fs.readFileSync(path, 'latin1'); } catch (e) { bad++; last = 'missing: ' + e.code; continue; }
          reads++;
          if (!/^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\n$/.test(text)) { bad++; last = 'partial or empty (' + text.length + ' bytes)'; }
        }
      };
      const loop = setInterval(check, 0);
      process.on('SIGTERM', () => { clearInterval(loop); process.stdout.write(JSON.stringify({ reads, bad, last })); process.exit(0); });
    `);
    const reader = spawn(process.execPath, [readerScript, tokenPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let report = '';
    reader.stdout.on('data', (d) => { report += d; });
    const ROUNDS = 200;
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const run = runAsync(['refresh', '--force', '--config', box.path('config.ini')], env);
      // Spread the kills over start-up, the source call and the write.
      const delay = Math.floor(Math.random() * 150);
      const timer = setTimeout(() => { if (run.child.kill('SIGKILL')) killed++; }, delay);
      const exit = await run.done;
      clearTimeout(timer);
      assert.ok(exit.code === 0 || exit.code === null, `exit ${exit.code}`);
    }
    const finished = new Promise((resolve) => reader.on('close', resolve));
    reader.kill('SIGTERM');
    await finished;
    const { reads, bad, last } = JSON.parse(report) as { reads: number; bad: number; last: string };
    assert.ok(reads > 1000, `reader made only ${reads} reads`);
    assert.equal(bad, 0, `reader saw ${bad} bad reads, last: ${last}`);
    assert.ok(killed > ROUNDS / 4, `only ${killed} of ${ROUNDS} runs were killed`);
    // A later refresh cleans up whatever temporary files the killed writers left.
    assert.equal((await runAsync(['refresh', '--force', '--config', box.path('config.ini')], env).done).code, 0);
    assert.deepEqual(readdirSync(box.dir).filter((n) => n.includes('tokenenv-tmp')), []);
    writeFileSync(join(box.dir, 'done'), String(killed));
  });
});

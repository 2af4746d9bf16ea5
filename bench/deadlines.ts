// Issue 12's deadline figure: the longest time any command ran past its deadline, over every
// way a source can hang. `node dist/bench/deadlines.js [ROUNDS]` (default 10 rounds of each).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTokenLock } from '../lib/files/lock.js';
import { runSourceCommand } from '../lib/sources/run.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));
const rounds = Number(process.argv[2] ?? 10);

function tree(dir: string): { script: string; pids: string } {
  const pids = join(dir, 'pids');
  const script = join(dir, 'hang.sh');
  writeFileSync(script, `#!/bin/sh
date +%s%N > ${pids}.started
echo $$ >> ${pids}
setsid sh -c 'echo $$ >> ${pids}; exec sleep 300' &
(setsid sh -c 'echo $$ >> ${pids}; exec sleep 300' &)
(setsid env -i sh -c 'echo $$ >> ${pids}.escaped; exec sleep 300' &)
exec sleep 300
`, { mode: 0o755 });
  return { script, pids };
}

function cleanUp(dir: string): void {
  for (const file of ['pids', 'pids.escaped']) {
    if (!existsSync(join(dir, file))) continue;
    for (const pid of readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

async function untilExists(file: string, lines: number): Promise<void> {
  while (!existsSync(file) || readFileSync(file, 'utf8').split('\n').filter(Boolean).length < lines) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function measure(name: string, once: (dir: string) => Promise<number>): Promise<number> {
  let worst = 0;
  for (let i = 0; i < rounds; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'tokenenv-deadline-'));
    chmodSync(dir, 0o700);
    try {
      worst = Math.max(worst, await once(dir));
    } finally {
      cleanUp(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`${name.padEnd(72)} worst ${worst.toFixed(0).padStart(4)} ms past the deadline (${rounds} runs)`);
  return worst;
}

const figures = [
  await measure('command, setsid + double-fork + env -i descendants, timeout 1 s', async (dir) => {
    const { script } = tree(dir);
    const started = performance.now();
    await runSourceCommand('x', [script], { env: { PATH: process.env.PATH }, timeoutMs: 1000 }).catch(() => undefined);
    return performance.now() - started - 1000;
  }),
  await measure('tokenenv refresh, same tree, timeout = 1 (source start to exit)', async (dir) => {
    const { script } = tree(dir);
    writeFileSync(join(dir, 'config.ini'), `[account a]\ncommand = ${script}\ntimeout = 1\n[token t]\naccount = a\ntoken_path = ${dir}/t\n`);
    await new Promise((resolve) => spawn(process.execPath, [bin, 'refresh', '--config', join(dir, 'config.ini')], {
      env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir, HOME: dir }, stdio: 'ignore',
    }).on('close', resolve));
    // From the moment the source started (its deadline's start) to tokenenv's exit.
    const sourceStarted = Number(readFileSync(join(dir, 'pids.started'), 'utf8')) / 1e6;
    return Date.now() - sourceStarted - 1000;
  }),
  await measure('file source on a FIFO, timeout = 1 (refused at once)', async (dir) => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(join(dir, 'config.ini'), `[account a]\ntype = file\npath = ${dir}/fifo\ntimeout = 1\n[token t]\naccount = a\ntoken_path = ${dir}/t\n`);
    const started = performance.now();
    await new Promise((resolve) => spawn(process.execPath, [bin, 'refresh', '--config', join(dir, 'config.ini')], {
      env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir, HOME: dir }, stdio: 'ignore',
    }).on('close', resolve));
    return Math.max(0, performance.now() - started - 1000);
  }),
];
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  for (const command of ['refresh', 'shell-token']) {
    figures.push(await measure(`${signal} to tokenenv ${command} while the tree hangs (signal = deadline)`, async (dir) => {
      const { script, pids } = tree(dir);
      writeFileSync(join(dir, 'config.ini'), `[account a]\ncommand = ${script}\n[token default]\naccount = a\ntoken_path = ${dir}/t\n`);
      const child = spawn(process.execPath, [bin, command, '--config', join(dir, 'config.ini')], {
        env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir, HOME: dir }, stdio: 'ignore',
      });
      const closed = new Promise((resolve) => child.on('close', resolve));
      await untilExists(pids, 3);
      const started = performance.now();
      child.kill(signal);
      await closed;
      return performance.now() - started;
    }));
  }
}
figures.push(await measure('lock waiter, deadline 1 s, holder never releases', async (dir) => {
  const options = { stateDir: join(dir, 'state'), euid: process.geteuid!() };
  let release!: () => void;
  const held = withTokenLock(join(dir, 't'), options, () => new Promise<void>((resolve) => { release = resolve; }));
  while (!release) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.now();
  await withTokenLock(join(dir, 't'), { ...options, waitMs: 1000 }, async () => undefined).catch(() => undefined);
  const past = performance.now() - started - 1000;
  release();
  await held;
  return past;
}));
console.log(`longest time past a deadline: ${Math.max(...figures).toFixed(0)} ms`);

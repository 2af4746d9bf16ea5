// Issue 4's figures: an idle watcher's memory with 1 and 500 tokens and its CPU over a quiet
// minute, against an idle `node` process measured alongside; and the time from deleting a
// token file to its restoration, against the file-system event latency that bounds it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './measure.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));
const QUIET_SECONDS = Number(process.env.BENCH_QUIET_SECONDS ?? 60);
const SETTLE_SECONDS = 30;

function procStats(pid: number): { rssMb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssMb: rssKb / 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

function fakeJwt(lifetime: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256' })}.${part({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now, exp: now + lifetime })}.${'s'.repeat(86)}`;
}

/** A config of `count` tokens copied from one long-lived token file (a local source). */
function fileConfig(dir: string, count: number): string {
  const source = join(dir, 'source.token');
  writeFileSync(source, `${fakeJwt(86_400)}\n`, { mode: 0o600 });
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const lines = ['[account local]', 'type = file', `path = ${source}`, ''];
  for (let i = 0; i < count; i++) lines.push(`[token t${i}]`, 'account = local', `token_path = ${join(tokens, `t${i}.token`)}`, '');
  const config = join(dir, 'config.ini');
  writeFileSync(config, lines.join('\n'));
  return config;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function startWatcher(dir: string, config: string): ChildProcess {
  return spawn(process.execPath, [bin, 'watch', '--config', config], {
    env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir, HOME: dir }, stdio: 'ignore',
  });
}

export async function benchWatch(): Promise<boolean> {
  const root = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const children: ChildProcess[] = [];
  try {
    const dirs = [1, 500].map((count) => {
      const dir = join(root, `w${count}`);
      mkdirSync(dir, { mode: 0o700 });
      return { count, dir, config: fileConfig(dir, count) };
    });
    const watchers = dirs.map(({ dir, config }) => startWatcher(dir, config));
    children.push(...watchers);
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    children.push(idle);
    for (const { dir, count } of dirs) await until(() => existsSync(join(dir, 'tokens', `t${count - 1}.token`)), 60_000);
    // Let start-up settle: after the burst of first refreshes V8 keeps collecting and shrinking
    // its heaps for up to half a minute (measured: nothing at all runs after that).
    await new Promise((resolve) => setTimeout(resolve, SETTLE_SECONDS * 1000));
    const before = [...watchers, idle].map((c) => procStats(c.pid!));
    await new Promise((resolve) => setTimeout(resolve, QUIET_SECONDS * 1000));
    const after = [...watchers, idle].map((c) => procStats(c.pid!));
    const baseline = after[2]!;
    const cpu = (i: number) => (after[i]!.cpuTicks - before[i]!.cpuTicks) * 10; // ms, at 100 ticks/s
    let ok = true;
    for (const [i, { count }] of dirs.entries()) {
      const rss = after[i]!.rssMb;
      const rssOk = count < 500 || rss <= 80;
      const cpuOk = cpu(i) <= Math.max(10, cpu(2));
      ok = ok && rssOk && cpuOk;
      console.log(`idle watcher, ${count} token(s), ${SETTLE_SECONDS} s after start: ${rss.toFixed(1)} MB resident vs idle node ${baseline.rssMb.toFixed(1)} MB = ${(rss / baseline.rssMb).toFixed(2)}x` +
        `${count === 500 ? ` (target <= 80 MB) ${rssOk ? 'OK' : 'OVER TARGET'}` : ''}; CPU over a quiet ${QUIET_SECONDS} s: ${cpu(i)} ms vs idle node ${cpu(2)} ms (target: no measurable use) ${cpuOk ? 'OK' : 'OVER TARGET'}`);
    }

    // Deletion to restoration, with the 1-token watcher; the floor is the fs event latency.
    const one = join(dirs[0]!.dir, 'tokens', 't0.token');
    const restore: number[] = [];
    const eventLatency: number[] = [];
    for (let i = 0; i < 20; i++) {
      let seen = 0;
      const watcher = watch(join(dirs[0]!.dir, 'tokens'), () => { seen ||= performance.now(); });
      const start = performance.now();
      unlinkSync(one);
      await until(() => existsSync(one), 5000);
      restore.push(performance.now() - start);
      eventLatency.push(seen - start);
      watcher.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ms = median(restore);
    const restoreOk = ms < 200;
    console.log(`deleted token file restored after ${ms.toFixed(1)} ms (median of 20; max ${Math.max(...restore).toFixed(1)} ms) vs file-system event latency ${median(eventLatency).toFixed(2)} ms (target < 200 ms) ${restoreOk ? 'OK' : 'OVER TARGET'}`);
    return ok && restoreOk;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(root, { recursive: true, force: true });
  }
}

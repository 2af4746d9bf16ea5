// Small measuring helpers: every figure is a ratio against a baseline measured in the same run,
// with the two interleaved so that machine noise hits both alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** BENCH_QUICK=1: fewer rounds and shorter waits, for a run of a few minutes. */
export const QUICK = process.env.BENCH_QUICK === '1';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nanoseconds per call of `fn`, over `calls` calls. */
export function timePerCall(fn: () => unknown, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / calls;
}

/** Median per-call time of `subject` and `baseline`, measured in alternating rounds. */
export function compareCalls(subject: () => unknown, baseline: () => unknown, rounds = 15, calls = 20000): { subject: number; baseline: number; ratio: number } {
  for (let i = 0; i < 20000; i++) { subject(); baseline(); } // warm up the JIT and the page cache
  const s: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    b.push(timePerCall(baseline, calls));
    s.push(timePerCall(subject, calls));
  }
  const result = { subject: median(s), baseline: median(b), ratio: 0 };
  result.ratio = result.subject / result.baseline;
  return result;
}

/** Wall time in ms of one run of argv. */
export function timeProcess(argv: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

/** Median wall times of two commands, alternating runs. */
export function compareProcesses(subject: string[], baseline: string[], env: NodeJS.ProcessEnv, runs = 40): { subject: number; baseline: number; ratio: number } {
  timeProcess(subject, env);
  timeProcess(baseline, env);
  const s: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    b.push(timeProcess(baseline, env));
    s.push(timeProcess(subject, env));
  }
  const result = { subject: median(s), baseline: median(b), ratio: 0 };
  result.ratio = result.subject / result.baseline;
  return result;
}

/** Prints and records one ratio; `note` adds a figure of the same run (e.g. the CPU ratio). */
export function report(name: string, unit: string, r: { subject: number; baseline: number; ratio: number }, target: number, note?: string): boolean {
  const ok = r.ratio <= target;
  const fmt = (v: number) => (unit === 'ns' ? `${(v / 1000).toFixed(2)} µs` : `${v.toFixed(1)} ms`);
  const verdict = Number.isFinite(target) ? ` (target <= ${target}x) ${ok ? 'OK' : 'OVER TARGET'}` : ' (for information)';
  const extra = note ? `; ${note}` : '';
  console.log(`${name}: ${fmt(r.subject)} vs baseline ${fmt(r.baseline)} = ${r.ratio.toFixed(2)}x${extra}${verdict}`);
  record(name, `${r.ratio.toFixed(2)}x (${fmt(r.subject)} vs ${fmt(r.baseline)}${extra})`, Number.isFinite(target) ? `≤ ${target}x` : '', Number.isFinite(target) ? ok : undefined);
  return ok;
}

/** One row of the closing table: every printed figure, for the README's performance section. */
export interface Row {
  what: string;
  figure: string;
  target: string;
  /** undefined: for information. */
  ok?: boolean;
}

export const table: Row[] = [];

export function record(what: string, figure: string, target: string, ok?: boolean): void {
  table.push({ what, figure, target, ok });
}

export function verdict(ok: boolean): string {
  return ok ? 'OK' : 'OVER TARGET';
}

/** The closing table, in markdown. */
export function markdownTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = ['| what | figure | target | |', '|---|---|---|---|'];
  for (const row of table) lines.push(`| ${cell(row.what)} | ${cell(row.figure)} | ${cell(row.target || 'for information')} | ${row.ok === undefined ? '' : row.ok ? 'OK' : 'OVER'} |`);
  return lines.join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident memory (MB) and CPU time used so far (ms) of a process, from /proc. */
export function procStats(pid: number): { rssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssMb: rssKb / 1024, cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim() || 100);

const TMPFS_MAGIC = 0x01021994;

/** A tmpfs with `bytes` free ($XDG_RUNTIME_DIR's, else /dev/shm), or undefined. */
export function tmpfsRoot(bytes: number): string | undefined {
  for (const dir of [process.env.XDG_RUNTIME_DIR, '/dev/shm']) {
    if (!dir) continue;
    try {
      const fs = statfsSync(dir);
      if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= bytes) return dir;
    } catch {
      // Not there: try the next.
    }
  }
  return undefined;
}

/**
 * A new private directory for a measured process's $XDG_RUNTIME_DIR, on a tmpfs as in a login
 * session (pam_systemd mounts /run/user/UID): tokenenv keeps its locks, stamps and remembered
 * endpoints there, and on the ext4 of /tmp their creations and renames cost a refresh up to 0.4 ms.
 * Without a tmpfs, in tmpdir(). The caller removes it.
 */
export function sessionRuntimeDir(): string {
  return mkdtempSync(join(tmpfsRoot(64 * 1024 ** 2) ?? tmpdir(), 'tokenenv-run-'));
}

// Issue 13's linearity figures: a watcher of N client-credentials tokens (real grants at the demo
// issuer) at two sizes, each beside a reference watcher of REFERENCE tokens started with it: first-
// pass time and CPU per token, settled resident memory per token, and steady-state CPU per refresh
// over one whole refresh cycle, which must stay within 1.3x of each other across sizes and within
// 1.5x of the first pass.
// "Per token" is the cost of the tokens beyond the reference's, divided by their number: what a
// watcher pays once (Node's start, its modules, timers, the JIT's first hundred tokens) is paid by
// the reference too, and is not spread over the tokens of the smaller size. (The JIT warms up for
// longer, about 1,500 refreshes: the smaller size still carries some of it.)
// Tokens live 2R seconds with min_lifetime R, so each is refreshed R s (minus jitter) after its
// first write; R is chosen to come after the first pass (from the previous size's rate).
// BENCH_LINEAR_TOKENS=1000,20000 picks the sizes; BENCH_LINEAR_BUDGET (s) bounds a first pass:
// an unfinished one is reported as a lower bound and its other figures are skipped.
// The token files live on a tmpfs, where a login session keeps them ($XDG_RUNTIME_DIR, else
// /dev/shm; BENCH_LINEAR_DIR overrides): on an ext4 without a journal (this project's VMs) each
// file creation first skips every inode freed in the last seconds, so its cost depends on the
// files deleted just before (by the previous bench: twice the CPU per token at 1,000 tokens),
// not on the watcher.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchIssuer, type BenchIssuer } from './issuer.js';
import { procStats, QUICK, record, sleep, verdict } from './measure.js';
import { issuerLab, SETTLE_SECONDS, startWatcher, until, written } from './watchers.js';

const SIZES = (process.env.BENCH_LINEAR_TOKENS ?? (QUICK ? '500,2000' : '1000,20000')).split(',').map(Number);
const BUDGET_S = Number(process.env.BENCH_LINEAR_BUDGET ?? (QUICK ? 40 : 180));
/** A first guess of the first pass's ms per token, before any size has been measured. */
const GUESS_MS_PER_TOKEN = 8;
const SPREAD = 1.3;
const REFERENCE = QUICK ? 50 : 100;
const STEADY_VS_FIRST = 1.5;

interface Size {
  count: number;
  finished: boolean;
  written: number;
  elapsedMs: number;
  /** Per token beyond the reference watcher's: first-pass wall time and CPU, ms. */
  passMs: number;
  passCpuMs: number;
  peakRssMb: number;
  settledRssMb?: number;
  baseRssMb?: number;
  /** Settled resident KB per token beyond the reference watcher's. */
  rssKb?: number;
  steadyCpuMs?: number;
  steadyRefreshes?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

async function measureSize(root: string, count: number, msPerToken: number): Promise<Size> {
  // Refresh R s after each write, jitter included (at most R/10 early): after the first pass
  // (estimated linearly, with room for twice that, up to the budget) and SETTLE_SECONDS of rest.
  const estimateS = (msPerToken * count) / 1000;
  const refreshS = Math.ceil(Math.max(15, (Math.min(BUDGET_S, 2 * estimateS) + SETTLE_SECONDS) / 0.88));
  const issuers: BenchIssuer[] = [await startBenchIssuer(2 * refreshS), await startBenchIssuer(2 * refreshS)];
  const children: ChildProcess[] = [];
  try {
    const reference = issuerLab(join(root, `reference-${count}`), REFERENCE, issuers[0]!, refreshS);
    const many = issuerLab(join(root, `many-${count}`), count, issuers[1]!, refreshS);
    const start = performance.now();
    const [referenceWatcher, manyWatcher] = [startWatcher(reference), startWatcher(many)];
    children.push(referenceWatcher, manyWatcher);
    await until(() => written(reference) === REFERENCE, 60_000, 5);
    const referenceMs = performance.now() - start;
    const referenceCpu = procStats(referenceWatcher.pid!).cpuMs;
    const beyond = count - REFERENCE;
    let peakRssMb = 0;
    const finished = await until(() => {
      peakRssMb = Math.max(peakRssMb, procStats(manyWatcher.pid!).rssMb);
      return written(many) === count;
    }, BUDGET_S * 1000, 200);
    const elapsedMs = performance.now() - start;
    const manyCpu = procStats(manyWatcher.pid!).cpuMs;
    const size: Size = {
      count, finished, written: written(many), elapsedMs, peakRssMb,
      passMs: (elapsedMs - referenceMs) / beyond, passCpuMs: (manyCpu - referenceCpu) / beyond,
    };
    if (!finished) return size;

    // Settled: just before the earliest refresh (R minus at most a tenth of R of jitter).
    const settleAt = start + 0.88 * refreshS * 1000;
    const restS = (settleAt - performance.now()) / 1000;
    if (restS < SETTLE_SECONDS) console.log(`  (${fmt(count)} tokens: the first pass ended only ${restS.toFixed(0)} s before the first refreshes were due: memory may not have settled)`);
    await sleep(Math.max(0, settleAt - performance.now()));
    size.settledRssMb = procStats(manyWatcher.pid!).rssMb;
    size.baseRssMb = procStats(referenceWatcher.pid!).rssMb;
    size.rssKb = ((size.settledRssMb - size.baseRssMb) * 1024) / beyond;

    // Steady state: one whole refresh cycle, from the first refresh until every token has been
    // refreshed once, as the first pass is one whole cycle of first writes. (The refreshes come
    // due at the first pass's pace spread by their jitter, sparse at the leading edge: a window
    // at the start of the cycle would measure the edge only.)
    let grants = await issuers[1]!.grants();
    while (grants <= count && performance.now() - start < (refreshS * 1.2 + BUDGET_S) * 1000) {
      await sleep(100);
      grants = await issuers[1]!.grants();
    }
    // The reference's tokens come due at the same times (same R, started together): over the same
    // cycle, its CPU and refreshes are subtracted like its first pass.
    const referenceGrants = await issuers[0]!.grants();
    const cpu0 = [procStats(manyWatcher.pid!).cpuMs, procStats(referenceWatcher.pid!).cpuMs];
    const cycleStart = grants;
    const cycleEnd = performance.now() + 1.5 * (elapsedMs + 0.1 * refreshS * 1000) + 10_000;
    while (grants < 2 * count && performance.now() < cycleEnd) {
      await sleep(200);
      grants = await issuers[1]!.grants();
    }
    const cpu1 = [procStats(manyWatcher.pid!).cpuMs, procStats(referenceWatcher.pid!).cpuMs];
    size.steadyRefreshes = grants - cycleStart;
    const referenceRefreshes = (await issuers[0]!.grants()) - referenceGrants;
    const extra = size.steadyRefreshes - referenceRefreshes;
    if (extra > 0) size.steadyCpuMs = (cpu1[0]! - cpu0[0]! - (cpu1[1]! - cpu0[1]!)) / extra;
    return size;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode === null ? c.once('exit', resolve) : resolve(null)))));
    for (const issuer of issuers) await issuer.close();
  }
}

function within(a: number, b: number, limit: number): { ratio: number; ok: boolean } {
  const ratio = b / a;
  return { ratio, ok: Math.max(ratio, 1 / ratio) <= limit };
}

const TMPFS_MAGIC = 0x01021994;
/** Room for the largest size's tokens, stamps and status file, with plenty to spare. */
const TMPFS_NEEDED_BYTES = 1024 ** 3;

function tokenRoot(): string {
  if (process.env.BENCH_LINEAR_DIR) return process.env.BENCH_LINEAR_DIR;
  for (const dir of [process.env.XDG_RUNTIME_DIR, '/dev/shm']) {
    if (!dir) continue;
    try {
      const fs = statfsSync(dir);
      if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= TMPFS_NEEDED_BYTES) return dir;
    } catch {
      // Not there: try the next.
    }
  }
  console.log(`  (no tmpfs with 1 GiB free: token files in ${tmpdir()}, whose file system may add its own costs)`);
  return tmpdir();
}

export async function benchLinear(): Promise<boolean> {
  const root = mkdtempSync(join(tokenRoot(), 'tokenenv-bench-'));
  try {
    const sizes: Size[] = [];
    let ok = true;
    let msPerToken = GUESS_MS_PER_TOKEN;
    for (const count of SIZES) {
      const s = await measureSize(root, count, msPerToken);
      sizes.push(s);
      msPerToken = Math.max(msPerToken, s.passMs);
      const name = `watcher, ${fmt(count)} client-credentials tokens`;
      if (!s.finished) {
        console.log(`${name}: first pass NOT finished within ${BUDGET_S} s (${fmt(s.written)} of ${fmt(count)} tokens written: >= ${(s.elapsedMs / s.written).toFixed(2)} ms per token); ` +
          `settled memory and steady state not measured (BENCH_LINEAR_BUDGET=SECONDS waits longer) ${verdict(false)}`);
        record(`${name}, first pass`, `not finished within ${BUDGET_S} s: ${fmt(s.written)} of ${fmt(count)} written, ≥ ${(s.elapsedMs / s.written).toFixed(2)} ms per token`, `within ${BUDGET_S} s`, false);
        ok = false;
        continue;
      }
      const steady = s.steadyCpuMs === undefined ? undefined : { ratio: s.steadyCpuMs / s.passCpuMs };
      const steadyOk = steady !== undefined && steady.ratio <= STEADY_VS_FIRST;
      ok = ok && steadyOk;
      console.log(`${name}: first pass ${(s.elapsedMs / 1000).toFixed(1)} s = ${s.passMs.toFixed(2)} ms and ${s.passCpuMs.toFixed(2)} ms of CPU per token beyond a ${REFERENCE}-token watcher; ` +
        `resident ${s.peakRssMb.toFixed(0)} MB at peak, ${s.settledRssMb!.toFixed(0)} MB settled = ${s.rssKb!.toFixed(1)} KB per token beyond the ${REFERENCE}-token watcher's ${s.baseRssMb!.toFixed(0)} MB (peak ${(s.peakRssMb / s.settledRssMb!).toFixed(2)}x settled)`);
      console.log(`${name}: steady state ${s.steadyCpuMs === undefined ? 'not measured (no refresh seen)' : `${s.steadyCpuMs.toFixed(2)} ms of CPU per refresh over ${fmt(s.steadyRefreshes!)} refreshes`} ` +
        `vs the first pass's ${s.passCpuMs.toFixed(2)} ms per token${steady ? ` = ${steady.ratio.toFixed(2)}x` : ''} (target <= ${STEADY_VS_FIRST}x) ${verdict(steadyOk)}`);
      record(`${name}, first pass per token (beyond a ${REFERENCE}-token watcher)`, `${s.passMs.toFixed(2)} ms wall, ${s.passCpuMs.toFixed(2)} ms CPU (${(s.elapsedMs / 1000).toFixed(1)} s in all)`, '');
      record(`${name}, resident memory settled / at first-pass peak`, `${s.settledRssMb!.toFixed(0)} MB / ${s.peakRssMb.toFixed(0)} MB = ${s.rssKb!.toFixed(1)} KB per token beyond ${REFERENCE} tokens (${s.baseRssMb!.toFixed(0)} MB)`, '');
      record(`${name}, steady-state CPU per refresh vs first-pass CPU per token`,
        steady ? `${steady.ratio.toFixed(2)}x (${s.steadyCpuMs!.toFixed(2)} vs ${s.passCpuMs.toFixed(2)} ms, ${fmt(s.steadyRefreshes!)} refreshes)` : 'not measured (no refresh seen)', `≤ ${STEADY_VS_FIRST}x`, steadyOk);
    }
    if (sizes.length >= 2) {
      const [a, b] = [sizes[0]!, sizes[sizes.length - 1]!];
      const label = `watcher linearity, ${fmt(b.count)} vs ${fmt(a.count)} tokens`;
      const figures: [string, number | undefined, number | undefined, string][] = [
        ['first-pass time per token', a.passMs, b.finished ? b.passMs : b.elapsedMs / b.written, 'ms'],
        ['first-pass CPU per token', a.passCpuMs, b.finished ? b.passCpuMs : undefined, 'ms'],
        ['steady-state CPU per refresh', a.steadyCpuMs, b.steadyCpuMs, 'ms'],
        ['settled resident memory per token', a.rssKb, b.rssKb, 'KB'],
      ];
      for (const [what, x, y, unit] of figures) {
        if (x === undefined || y === undefined) {
          console.log(`${label}: ${what} not measured at both sizes ${verdict(false)}`);
          record(`${label}: ${what}`, 'not measured at both sizes', `within ${SPREAD}x`, false);
          ok = false;
          continue;
        }
        const w = within(x, y, SPREAD);
        // An unfinished first pass gives a lower bound: never within the target.
        const lowerBound = what === 'first-pass time per token' && !b.finished ? '>= ' : '';
        if (lowerBound) w.ok = false;
        ok = ok && w.ok;
        console.log(`${label}: ${what} ${lowerBound}${y.toFixed(2)} vs ${x.toFixed(2)} ${unit} = ${lowerBound}${w.ratio.toFixed(2)}x (target within ${SPREAD}x) ${verdict(w.ok)}`);
        record(`${label}: ${what}`, `${lowerBound}${w.ratio.toFixed(2)}x (${lowerBound}${y.toFixed(2)} vs ${x.toFixed(2)} ${unit})`, `within ${SPREAD}x`, w.ok);
      }
    }
    return ok;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

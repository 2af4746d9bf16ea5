// Issue 13's linearity figures: a watcher of N client-credentials tokens (real grants at the demo
// issuer), started as its systemd unit starts it (`WATCHER_PROCESS`), at two sizes: first-pass
// time and CPU per token, settled resident memory per token, and steady-state CPU per refresh over
// the second whole refresh cycle, which must stay within 1.3x of each other across sizes and within
// 1.5x of the first pass.
// "Per token" is the cost of one more token at that size, without what a watcher pays once: Node's
// start, its modules, and the JIT, which compiles the first pass's code over its first few hundred
// refreshes and the steady state's (replacing files, file events, timers) over the first few
// hundred refreshes of that (~0.5 s of CPU each; spread over 1,000 tokens, 1.4-1.7x what a token
// costs at 20,000).
// - Time and CPU are those of the second half: from the moment the watcher has written N/2 tokens
//   (or made N/2 refreshes of the cycle) until it has written N (made N), in the same process.
//   (Taken as the difference from a separate watcher of N/2 tokens instead, the per-token figure at
//   1,000 tokens was the difference of two totals of 1.2-1.7 s of CPU, each ±5 % from run to run:
//   ±25 % for the difference.)
// - Memory is the settled RSS beyond that of a reference watcher of N/2 tokens, measured alone
//   before it (side by side, the two slowed each other down, and the larger kept up to 40 MB more).
// Each size also reports what a token costs with everything counted (its watcher's CPU and
// resident memory divided by N), for information.
// Tokens live 2R seconds with min_lifetime R, so each is refreshed R s (minus jitter) after its
// first write; R is chosen to come after the first pass (from the previous size's rate).
// BENCH_LINEAR_TOKENS=1000,20000 picks the sizes; BENCH_LINEAR_BUDGET (s) bounds a first pass:
// an unfinished one is reported as a lower bound and its other figures are skipped.
// The token files live on a tmpfs, where a login session keeps them ($XDG_RUNTIME_DIR, else
// /dev/shm; BENCH_LINEAR_DIR overrides): on an ext4 without a journal (this project's VMs) each
// file creation first skips every inode freed in the last seconds, so its cost depends on the
// files deleted just before (by the previous bench: twice the CPU per token at 1,000 tokens),
// not on the watcher.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchIssuer, type BenchIssuer } from './issuer.js';
import { median, procStats, QUICK, record, sleep, tmpfsRoot, verdict } from './measure.js';
import { issuerLab, SETTLE_SECONDS, startWatcher, until, written } from './watchers.js';

const SIZES = (process.env.BENCH_LINEAR_TOKENS ?? (QUICK ? '500,2000' : '1000,20000')).split(',').map(Number);
const BUDGET_S = Number(process.env.BENCH_LINEAR_BUDGET ?? (QUICK ? 40 : 180));
/** A first guess of the first pass's ms per token, before any size has been measured. */
const GUESS_MS_PER_TOKEN = 3;
/** Sizes up to this many tokens are measured this many times, and each figure is the median: their
 * per-token memory rests on a difference of 1-3 MB between two processes, whose settled RSS moves
 * by ±0.5 MB from run to run (the allocator's arenas, not V8's heap, which moves by 0.1 MB). */
const SMALL_SIZE = 2000;
const SMALL_SIZE_RUNS = QUICK ? 1 : 5;
const SPREAD = 1.3;
const STEADY_VS_FIRST = 1.5;

interface Size {
  count: number;
  referenceCount: number;
  finished: boolean;
  written: number;
  elapsedMs: number;
  /** Per token of the first pass's second half: wall time and CPU, ms. */
  passMs: number;
  passCpuMs: number;
  /** The watcher's CPU for its first pass, start included, divided by its tokens. */
  passCpuAllMs: number;
  peakRssMb: number;
  settledRssMb?: number;
  baseRssMb?: number;
  /** Settled resident KB per token beyond the reference watcher's. */
  rssKb?: number;
  /** CPU per refresh of the cycle's second half, ms. */
  steadyCpuMs?: number;
  /** The watcher's CPU over the cycle divided by its refreshes. */
  steadyCpuAllMs?: number;
  steadyRefreshes?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Where a watcher was at one moment: its wall time since start, its CPU, and how far it had got. */
interface Mark {
  ms: number;
  cpuMs: number;
  done: number;
}

/** What one watcher costs, alone on the machine. */
interface Run {
  finished: boolean;
  /** When the first pass had written half of the tokens, and when it ended (all written, or the
   * budget spent): wall time and CPU since the watcher's start. */
  passHalf?: Mark;
  passEnd: Mark;
  peakRssMb: number;
  settledRssMb?: number;
  /** The second whole refresh cycle: at its start, when it had made half of its refreshes, at its
   * end (the reference watcher does not wait for it). */
  cycleStart?: Mark;
  cycleHalf?: Mark;
  cycleEnd?: Mark;
}

/** Per unit of work between two marks: wall ms and CPU ms (undefined without both marks). */
function perUnit(from: Mark | undefined, to: Mark | undefined): { ms: number; cpuMs: number } | undefined {
  if (!from || !to || to.done <= from.done) return undefined;
  return { ms: (to.ms - from.ms) / (to.done - from.done), cpuMs: (to.cpuMs - from.cpuMs) / (to.done - from.done) };
}

/** Waits until the issuer has made `count` more grants (one refresh cycle) or `timeoutMs` has
 * passed, telling `progress` the refreshes so far at each poll; returns them. */
async function refreshCycle(issuer: BenchIssuer, count: number, timeoutMs: number, progress: (refreshes: number) => void = () => undefined): Promise<number> {
  const before = await issuer.grants();
  const deadline = performance.now() + timeoutMs;
  let refreshes = 0;
  while (refreshes < count && performance.now() < deadline) {
    await sleep(25);
    refreshes = (await issuer.grants()) - before;
    progress(refreshes);
  }
  return refreshes;
}

async function measureWatcher(dir: string, count: number, msPerToken: number, steadyState: boolean): Promise<Run> {
  // Refresh R s after each write, at most R/10 early by jitter and a second by the timer's
  // rounding to whole seconds: after the first pass (estimated linearly, with room for twice
  // that, up to the budget) and SETTLE_SECONDS of rest.
  const estimateS = (msPerToken * count) / 1000;
  const refreshS = Math.ceil(Math.max(15, (Math.min(BUDGET_S, 2 * estimateS) + SETTLE_SECONDS + 1) / 0.88));
  const earliestRefreshMs = (0.88 * refreshS - 1) * 1000;
  const issuer = await startBenchIssuer(2 * refreshS);
  const lab = issuerLab(dir, count, issuer, refreshS);
  const start = performance.now();
  const watcher = startWatcher(lab);
  const mark = (done: number): Mark => ({ ms: performance.now() - start, cpuMs: procStats(watcher.pid!).cpuMs, done });
  const half = count / 2;
  try {
    let peakRssMb = 0;
    let passHalf: Mark | undefined;
    // Polled often enough that the poll's delay is small per token, and no more: a readdir of
    // thousands of names takes milliseconds of the cores the watcher shares.
    const finished = await until(() => {
      peakRssMb = Math.max(peakRssMb, procStats(watcher.pid!).rssMb);
      const done = written(lab);
      if (!passHalf && done >= half) passHalf = mark(done);
      return done === count;
    }, BUDGET_S * 1000, Math.max(5, count / 100));
    const run: Run = { finished, passHalf, passEnd: mark(written(lab)), peakRssMb };
    if (!finished) return run;

    // Settled: just before the earliest refresh.
    const settleAt = start + earliestRefreshMs;
    const restS = (settleAt - performance.now()) / 1000;
    if (restS < SETTLE_SECONDS) console.log(`  (${fmt(count)} tokens: the first pass ended only ${restS.toFixed(0)} s before the first refreshes were due: memory may not have settled)`);
    await sleep(Math.max(0, settleAt - performance.now()));
    run.settledRssMb = procStats(watcher.pid!).rssMb;

    if (!steadyState) return run;

    // Steady state: the second whole refresh cycle, from the end of the first until every token
    // has been refreshed once more, as the first pass is one whole cycle of first writes. (The
    // refreshes come due at the first pass's pace, spread by their jitter.) The first cycle is
    // not steady: the collection after the first pass drops the object shapes that optimised
    // code holds, and V8 optimises the refresh code again during it, once (1,000 tokens: 1.2 ms
    // of CPU per refresh in the first cycle, 0.8 in the second, third and fourth).
    const cycleMs = 0.12 * refreshS * 1000 + 1.5 * (run.passEnd.ms + 0.1 * refreshS * 1000) + 10_000;
    await refreshCycle(issuer, count, cycleMs);
    run.cycleStart = mark(0);
    const refreshes = await refreshCycle(issuer, count, refreshS * 1000 + cycleMs, (done) => {
      if (!run.cycleHalf && done >= half) run.cycleHalf = mark(done);
    });
    run.cycleEnd = mark(refreshes);
    return run;
  } finally {
    watcher.kill('SIGTERM');
    await new Promise((resolve) => (watcher.exitCode === null ? watcher.once('exit', resolve) : resolve(null)));
    await issuer.close();
  }
}

/** A size measured `runs` times: each run a reference watcher of half as many tokens, then the
 * watcher itself, one after the other. Each figure is the median over the runs. */
async function measureSize(root: string, count: number, msPerToken: number, runs: number): Promise<Size> {
  const referenceCount = Math.round(count / 2);
  const sizes: Size[] = [];
  for (let r = 0; r < runs; r++) {
    const reference = await measureWatcher(join(root, `run-${r}`, `reference-${count}`), referenceCount, msPerToken, false);
    const many = reference.finished
      ? await measureWatcher(join(root, `run-${r}`, `many-${count}`), count, msPerToken, true)
      : { ...reference, finished: false };
    const pass = perUnit(many.passHalf, many.passEnd);
    const size: Size = {
      count, referenceCount, finished: many.finished, written: many.passEnd.done, elapsedMs: many.passEnd.ms, peakRssMb: many.peakRssMb,
      passMs: pass?.ms ?? NaN, passCpuMs: pass?.cpuMs ?? NaN, passCpuAllMs: many.passEnd.cpuMs / count,
    };
    if (!many.finished) return size;
    size.settledRssMb = many.settledRssMb;
    size.baseRssMb = reference.settledRssMb;
    size.steadyCpuMs = perUnit(many.cycleHalf, many.cycleEnd)?.cpuMs;
    const cycle = perUnit(many.cycleStart, many.cycleEnd);
    size.steadyRefreshes = many.cycleEnd!.done;
    if (cycle) size.steadyCpuAllMs = cycle.cpuMs;
    sizes.push(size);
    if (runs > 1) {
      console.log(`  (${fmt(count)} tokens, run ${r + 1} of ${runs}: second half ${size.passMs.toFixed(2)} ms, ${size.passCpuMs.toFixed(2)} ms of CPU per token, ` +
        `${size.steadyCpuMs?.toFixed(2) ?? '-'} ms per refresh; settled ${reference.settledRssMb!.toFixed(1)} MB at ${fmt(referenceCount)} tokens, ${many.settledRssMb!.toFixed(1)} MB at ${fmt(count)})`);
    }
  }
  const medianOf = (key: keyof Size): number | undefined => {
    const values = sizes.map((s) => s[key]).filter((v): v is number => typeof v === 'number');
    return values.length === 0 ? undefined : median(values);
  };
  const figures = Object.fromEntries((Object.keys(sizes[0]!) as (keyof Size)[])
    .filter((key) => typeof sizes[0]![key] === 'number')
    .map((key) => [key, medianOf(key)]));
  const size = { ...sizes[0]!, ...figures } as Size;
  // Memory per token from the median watcher of each size, so that one process's noise counts once.
  size.rssKb = ((size.settledRssMb! - size.baseRssMb!) * 1024) / (count - referenceCount);
  return size;
}

function within(a: number, b: number, limit: number): { ratio: number; ok: boolean } {
  const ratio = b / a;
  // A negative figure (memory noise larger than the difference) is never within.
  return { ratio, ok: ratio > 0 && Math.max(ratio, 1 / ratio) <= limit };
}

/** Room for the largest size's tokens, stamps and status file, with plenty to spare. */
const TMPFS_NEEDED_BYTES = 1024 ** 3;

function tokenRoot(): string {
  if (process.env.BENCH_LINEAR_DIR) return process.env.BENCH_LINEAR_DIR;
  const tmpfs = tmpfsRoot(TMPFS_NEEDED_BYTES);
  if (tmpfs) return tmpfs;
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
      const runs = count <= SMALL_SIZE ? SMALL_SIZE_RUNS : 1;
      const s = await measureSize(root, count, msPerToken, runs);
      sizes.push(s);
      msPerToken = Math.max(msPerToken, s.finished ? s.passMs : s.elapsedMs / s.written);
      const name = `watcher, ${fmt(count)} client-credentials tokens${runs > 1 ? ` (median of ${runs} runs)` : ''}`;
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
      const secondHalf = (what: string) => `in the second half (${what} ${fmt(s.count - s.referenceCount + 1)}-${fmt(s.count)})`;
      const allCounted = `${s.passCpuAllMs.toFixed(2)} ms of CPU per token in the first pass, ` +
        `${s.steadyCpuAllMs === undefined ? '-' : s.steadyCpuAllMs.toFixed(2)} ms per refresh in the steady state, ${((s.settledRssMb! * 1024) / s.count).toFixed(1)} KB resident per token`;
      console.log(`${name}: first pass ${(s.elapsedMs / 1000).toFixed(1)} s = ${s.passMs.toFixed(2)} ms and ${s.passCpuMs.toFixed(2)} ms of CPU per token ${secondHalf('tokens')}; ` +
        `resident ${s.peakRssMb.toFixed(0)} MB at peak, ${s.settledRssMb!.toFixed(0)} MB settled = ${s.rssKb!.toFixed(1)} KB per token beyond the ${fmt(s.referenceCount)}-token watcher's ${s.baseRssMb!.toFixed(0)} MB (peak ${(s.peakRssMb / s.settledRssMb!).toFixed(2)}x settled)`);
      console.log(`${name}: steady state ${s.steadyCpuMs === undefined ? 'not measured (no refresh seen)' : `${s.steadyCpuMs.toFixed(2)} ms of CPU per refresh ${secondHalf('refreshes')} of ${fmt(s.steadyRefreshes!)}`} ` +
        `vs the first pass's ${s.passCpuMs.toFixed(2)} ms per token${steady ? ` = ${steady.ratio.toFixed(2)}x` : ''} (target <= ${STEADY_VS_FIRST}x) ${verdict(steadyOk)}`);
      console.log(`${name}: with everything counted (Node's start, modules, the JIT): ${allCounted} (for information)`);
      record(`${name}, first pass per token ${secondHalf('tokens')}`, `${s.passMs.toFixed(2)} ms wall, ${s.passCpuMs.toFixed(2)} ms CPU (${(s.elapsedMs / 1000).toFixed(1)} s in all)`, '');
      record(`${name}, resident memory settled / at first-pass peak`, `${s.settledRssMb!.toFixed(0)} MB / ${s.peakRssMb.toFixed(0)} MB = ${s.rssKb!.toFixed(1)} KB per token beyond ${fmt(s.referenceCount)} tokens (${s.baseRssMb!.toFixed(0)} MB)`, '');
      record(`${name}, per token with everything counted (Node's start, modules, the JIT)`, allCounted, '');
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

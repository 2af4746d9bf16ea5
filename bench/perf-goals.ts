// Issue 13 goals 1, 3 and 4, each as a ratio measured within one run:
//   node dist/bench/perf-goals.js            (PERF_ONLY=startup,memory,linear picks parts)
// PERF_BIN=/other/checkout/bin/tokenenv.cjs measures another build (say, main before a change)
// with this script and this checkout's demo issuer. PERF_RUNS (default 30) interleaved rounds
// for the start-up figures; PERF_SIZES (default 1000,20000) for linearity; PERF_QUIET_S (60).
// Every grant is a real client-credentials grant at the demo issuer, in a child process.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildRuntime, ccAccount, fakeJwt, lab, procStats, quiescent, sleep, startIssuer, startWatcher, stop, timeInterleaved, until, written,
  type Issuer, type Lab, type Timed,
} from './perf/lab.js';

const BIN = process.env.PERF_BIN ?? fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));
const RUNS = Number(process.env.PERF_RUNS ?? 30);
const SIZES = (process.env.PERF_SIZES ?? '1000,20000').split(',').map(Number);
const QUIET_S = Number(process.env.PERF_QUIET_S ?? 60);
const ONLY = process.env.PERF_ONLY?.split(',');

interface Row {
  goal: string;
  figure: string;
  value: string;
  target: string;
  ok?: boolean;
}
const rows: Row[] = [];

function record(row: Row): void {
  rows.push(row);
  console.log(`[${row.goal}] ${row.figure}: ${row.value}${row.target ? ` (target ${row.target})` : ''}${row.ok === undefined ? '' : row.ok ? ' OK' : ' OVER'}`);
}

function ratioRow(goal: string, figure: string, subject: number, baseline: number, limit: number, unit = 'ms'): void {
  const ratio = subject / baseline;
  record({ goal, figure, value: `${ratio.toFixed(2)}x (${subject.toFixed(1)} vs ${baseline.toFixed(1)} ${unit})`, target: `≤ ${limit}x`, ok: ratio <= limit });
}

/** Wall time (the goal) and CPU time (steadier on a loaded machine), each as a ratio. */
function timeRow(goal: string, figure: string, subject: { wall: number; cpu: number }, baseline: { wall: number; cpu: number }, limit: number): void {
  const wall = subject.wall / baseline.wall;
  const cpu = subject.cpu / baseline.cpu;
  record({
    goal, figure, target: `≤ ${limit}x`, ok: wall <= limit,
    value: `${wall.toFixed(2)}x wall (${subject.wall.toFixed(1)} vs ${baseline.wall.toFixed(1)} ms); ${cpu.toFixed(2)}x CPU (${subject.cpu.toFixed(1)} vs ${baseline.cpu.toFixed(1)} ms)`,
  });
}

const within = (a: number, b: number) => Math.max(a / b, b / a);

function spreadRow(goal: string, figure: string, small: number, large: number, limit: number, unit: string): void {
  const spread = within(small, large);
  record({ goal, figure, value: `${(large / small).toFixed(2)}x (${large.toFixed(2)} vs ${small.toFixed(2)} ${unit})`, target: `within ${limit}x`, ok: spread <= limit });
}

// Goals 1 and 3: start-up of short commands, against `node -e 0` and `tokenenv discover`.
async function startup(root: string): Promise<void> {
  const dir = join(root, 'startup');
  mkdirSync(dir, { mode: 0o700 });
  const env = { PATH: process.env.PATH, HOME: dir, XDG_RUNTIME_DIR: dir };
  const fresh = join(dir, 'fresh.token');
  writeFileSync(fresh, `${fakeJwt(3600)}\n`, { mode: 0o600 });
  const issuer = await startIssuer(1200);
  try {
    const file = lab(join(dir, 'file'), 1, ['[account local]', 'type = file', `path = ${fresh}`, '']);
    writeFileSync(join(file.tokens, 't0.token'), `${fakeJwt(3600)}\n`, { mode: 0o600 });
    const keys = ['scope = storage.read:/'];
    const viaDiscovery = lab(join(dir, 'cc'), 1, ccAccount(issuer, dir), keys);
    const direct = lab(join(dir, 'cc-direct'), 1, ccAccount(issuer, dir, true), keys);
    const stale = lab(join(dir, 'stale'), 1, ccAccount(issuer, dir), keys);
    const staleToken = join(stale.tokens, 't0.token');
    const node = process.execPath;
    const commands: Timed[] = [
      { name: 'node -e 0', argv: [node, '-e', '0'], env },
      { name: 'discover', argv: [node, BIN, 'discover'], env: { ...env, BEARER_TOKEN_FILE: fresh } },
      { name: '--help', argv: [node, BIN, '--help'], env },
      { name: 'inspect', argv: [node, BIN, 'inspect'], env: { ...env, BEARER_TOKEN_FILE: fresh } },
      { name: 'status', argv: [node, BIN, 'status', '--config', file.config], env },
      { name: 'refresh --force (issuer discovery + grant)', argv: [node, BIN, 'refresh', '--force', '--config', viaDiscovery.config], env },
      { name: 'refresh --force (token_request_url grant)', argv: [node, BIN, 'refresh', '--force', '--config', direct.config], env },
      {
        name: 'shell-token, stale token', argv: [node, BIN, 'shell-token', '--config', stale.config], env,
        before: () => writeFileSync(staleToken, `${fakeJwt(1200, 1260)}\n`, { mode: 0o600 }),
      },
    ];
    const grants0 = await issuer.grants();
    const t = timeInterleaved(commands, RUNS);
    const grants = (await issuer.grants()) - grants0;
    const base = t.get('node -e 0')!;
    const discover = t.get('discover')!;
    timeRow('1', '`discover` vs `node -e 0`', discover, base, 1.25);
    timeRow('1', '`refresh --force`, one grant (token_request_url) vs `discover`', t.get('refresh --force (token_request_url grant)')!, discover, 2);
    timeRow('1', '`refresh --force`, OpenID discovery + grant vs `discover`', t.get('refresh --force (issuer discovery + grant)')!, discover, 2);
    timeRow('1', '`shell-token` with a stale token (slow path) vs `discover`', t.get('shell-token, stale token')!, discover, 2.5);
    record({ goal: '1', figure: 'grants made by the timed runs', value: `${grants} (expected ${3 * (RUNS + 1)})`, target: '', ok: grants === 3 * (RUNS + 1) });
    timeRow('3', '`--help` vs `node -e 0`', t.get('--help')!, base, 1.3);
    timeRow('3', '`inspect` (file token) vs `node -e 0`', t.get('inspect')!, base, 1.3);
    timeRow('3', '`status` (file token) vs `node -e 0`', t.get('status')!, base, 1.3);
  } finally {
    await issuer.close();
  }
}

// Goal 4, memory and quiet CPU: client-credentials watchers of 1 and 500 tokens beside an idle node.
async function memory(root: string): Promise<void> {
  const issuer = await startIssuer(1200);
  const children: ChildProcess[] = [];
  try {
    const one = lab(join(root, 'mem-1'), 1, ccAccount(issuer, root), ['scope = storage.read:/']);
    const many = lab(join(root, 'mem-500'), 500, ccAccount(issuer, root), ['scope = storage.read:/']);
    const started = Date.now();
    const idle = (await import('node:child_process')).spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    const w1 = startWatcher(BIN, one);
    const w500 = startWatcher(BIN, many);
    children.push(idle, w1, w500);
    if (!(await until(() => written(many) === 500 && written(one) === 1, 120_000))) throw new Error('perf: the memory watchers did not write their tokens within 120 s');
    await sleep(Math.max(0, started + 30_000 - Date.now()));
    const at30 = [idle, w1, w500].map((c) => procStats(c.pid!));
    ratioRow('4', 'client-credentials watcher, 1 token: resident memory vs an idle node, 30 s after start', at30[1]!.rssMb, at30[0]!.rssMb, 1.3, 'MB');
    record({ goal: '4', figure: 'client-credentials watcher, 500 tokens: resident memory 30 s after start', value: `${at30[2]!.rssMb.toFixed(1)} MB`, target: '≤ 80 MB', ok: at30[2]!.rssMb <= 80 });
    await sleep(QUIET_S * 1000);
    const after = [idle, w1, w500].map((c) => procStats(c.pid!));
    const cpu = (i: number) => after[i]!.cpuMs - at30[i]!.cpuMs;
    record({ goal: '4', figure: `CPU in a quiet ${QUIET_S} s (500 / 1 client-credentials tokens; idle node)`, value: `${cpu(2)} / ${cpu(1)} ms; ${cpu(0)} ms`, target: '0 ms', ok: cpu(2) === 0 && cpu(1) === 0 });
  } finally {
    await stop(children);
    await issuer.close();
  }
}

interface Size {
  count: number;
  passMs?: number;
  passCpuMs?: number;
  rssKb?: number;
  settled?: boolean;
  steadyCpuMs?: number;
  note?: string;
}

/** First pass, settled memory and steady state of a watcher of `count` client-credentials tokens
 * in one directory, beside a 1-token watcher started with it. Tokens live 2R s with min_lifetime R:
 * each is refreshed about R s after its first write, once the first pass is over. */
async function linearSize(root: string, count: number, estimateMsPerToken: number): Promise<Size> {
  const refreshS = Math.ceil(Math.max(60, (count * estimateMsPerToken / 1000 + 25) / 0.85));
  const issuers: Issuer[] = [await startIssuer(2 * refreshS), await startIssuer(2 * refreshS)];
  const children: ChildProcess[] = [];
  const size: Size = { count };
  try {
    const keys = ['scope = storage.read:/', `min_lifetime = ${refreshS}`];
    const one = lab(join(root, `one-${count}`), 1, ccAccount(issuers[0]!, root), keys);
    const many: Lab = lab(join(root, `many-${count}`), count, ccAccount(issuers[1]!, root), keys);
    const start = Date.now();
    const w1 = startWatcher(BIN, one);
    const wN = startWatcher(BIN, many);
    children.push(w1, wN);
    // First pass: from start to the last token written, beyond what the 1-token watcher takes to
    // write its one token (Node's start, tokenenv's modules).
    await until(() => existsSync(join(one.tokens, 't0.token')), 60_000, 5);
    const oneMs = Date.now() - start;
    const oneCpu = procStats(w1.pid!).cpuMs;
    const budgetMs = 0.85 * refreshS * 1000 - 10_000;
    const pollMs = Math.max(20, count / 100);
    if (!(await until(() => written(many) === count, budgetMs, pollMs))) {
      size.note = `first pass not finished in ${(budgetMs / 1000).toFixed(0)} s (${written(many)} of ${count} written)`;
      return size;
    }
    const passEnd = Date.now();
    size.passMs = (passEnd - start - oneMs) / (count - 1);
    size.passCpuMs = (procStats(wN.pid!).cpuMs - oneCpu) / (count - 1);
    const quietAt = await quiescent(wN.pid!, 1000, Math.max(5000, start + budgetMs - Date.now()));
    // Settled: just before the earliest refresh (R minus at most a tenth of R of jitter).
    const settleAt = start + 0.88 * refreshS * 1000;
    size.settled = settleAt - quietAt >= 10_000;
    await sleep(Math.max(0, settleAt - Date.now()));
    size.rssKb = ((procStats(wN.pid!).rssMb - procStats(w1.pid!).rssMb) * 1024) / (count - 1);
    // Steady state: every token refreshed once more, at the pace it was first written.
    await until(async () => (await issuers[1]!.grants()) > count, 2 * refreshS * 1000, 100);
    const cpu0 = procStats(wN.pid!).cpuMs;
    const grants0 = await issuers[1]!.grants();
    const steadyBudget = Math.max(120_000, 3 * (quietAt - start));
    await until(async () => (await issuers[1]!.grants()) >= 2 * count, steadyBudget, 200);
    await quiescent(wN.pid!, 1000, 60_000);
    const total = await issuers[1]!.grants();
    const refreshes = total - grants0;
    size.steadyCpuMs = (procStats(wN.pid!).cpuMs - cpu0) / Math.max(1, refreshes);
    if (total < 2 * count) size.note = `steady state: ${total - count} of ${count} tokens refreshed within ${(steadyBudget / 1000).toFixed(0)} s`;
    return size;
  } finally {
    await stop(children);
    for (const issuer of issuers) await issuer.close();
  }
}

async function linear(root: string): Promise<void> {
  const sizes: Size[] = [];
  let estimate = 6;
  for (const count of SIZES) {
    const s = await linearSize(root, count, estimate);
    sizes.push(s);
    if (s.passMs) estimate = Math.max(estimate, s.passMs * 1.5);
    const name = `${count.toLocaleString('en-US')} client-credentials tokens`;
    if (s.note) record({ goal: '4', figure: name, value: s.note, target: '', ok: false });
    if (s.passMs === undefined) continue;
    record({ goal: '4', figure: `${name}: first pass per token`, value: `${s.passMs.toFixed(2)} ms wall, ${s.passCpuMs!.toFixed(2)} ms CPU`, target: '' });
    record({ goal: '4', figure: `${name}: settled resident memory per token`, value: `${s.rssKb!.toFixed(2)} KB${s.settled ? '' : ' (less than 10 s after the first pass)'}`, target: '' });
    ratioRow('4', `${name}: steady-state CPU per refresh vs first-pass CPU per token`, s.steadyCpuMs!, s.passCpuMs!, 1.5);
  }
  const [a, b] = [sizes[0], sizes[sizes.length - 1]];
  if (!a || !b || a === b || a.passMs === undefined || b.passMs === undefined) return;
  const label = `${b.count.toLocaleString('en-US')} vs ${a.count.toLocaleString('en-US')} tokens`;
  spreadRow('4', `${label}: first-pass time per token`, a.passMs, b.passMs, 1.3, 'ms');
  spreadRow('4', `${label}: first-pass CPU per token`, a.passCpuMs!, b.passCpuMs!, 1.3, 'ms');
  if (a.steadyCpuMs !== undefined && b.steadyCpuMs !== undefined) spreadRow('4', `${label}: steady-state CPU per refresh`, a.steadyCpuMs, b.steadyCpuMs, 1.3, 'ms');
  if (a.rssKb !== undefined && b.rssKb !== undefined) spreadRow('4', `${label}: settled resident memory per token`, a.rssKb, b.rssKb, 1.3, 'KB');
}

const root = mkdtempSync(join(tmpdir(), 'tokenenv-perf-'));
try {
  console.log(`perf goals of ${BIN} (node ${process.version}, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  buildRuntime(root);
  if (!ONLY || ONLY.includes('startup')) await startup(root);
  if (!ONLY || ONLY.includes('memory')) await memory(root);
  if (!ONLY || ONLY.includes('linear')) await linear(root);
  console.log('\n| goal | figure | value | target | |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.goal} | ${r.figure} | ${r.value} | ${r.target} | ${r.ok === undefined ? '' : r.ok ? 'OK' : 'OVER'} |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

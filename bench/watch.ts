// Issue 4's and 13's figures: an idle watcher's memory with 1 and 500 tokens and its CPU over a
// quiet minute, against an idle `node` process measured alongside, with client-credentials
// tokens from the demo issuer (the targets) and with a local `file` source (for comparison);
// started as its systemd unit starts it, and (for information) with 1 token as typed in a shell;
// and the time from deleting a token file to its restoration, against the file-system event
// latency that bounds it. BENCH_SETTLE_SECONDS and BENCH_QUIET_SECONDS shorten the waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchIssuer } from './issuer.js';
import { median, procStats, QUICK, record, sleep, verdict } from './measure.js';
import { fileLab, issuerLab, SETTLE_SECONDS, startWatcher, until, written, type WatchLab } from './watchers.js';

const QUIET_SECONDS = Number(process.env.BENCH_QUIET_SECONDS ?? (QUICK ? 10 : 60));

/** Median ms from deleting the token file of `l`'s only token to its restoration. */
async function restoration(l: WatchLab): Promise<{ ms: number; max: number; eventMs: number }> {
  const one = join(l.tokens, 't0.token');
  const restore: number[] = [];
  const eventLatency: number[] = [];
  for (let i = 0; i < 20; i++) {
    let seen = 0;
    const watcher = watch(l.tokens, () => { seen ||= performance.now(); });
    const start = performance.now();
    unlinkSync(one);
    if (!(await until(() => existsSync(one), 5000))) throw new Error(`bench: ${one} not restored within 5 s`);
    restore.push(performance.now() - start);
    eventLatency.push(seen - start);
    watcher.close();
    await sleep(50);
  }
  return { ms: median(restore), max: Math.max(...restore), eventMs: median(eventLatency) };
}

export async function benchWatch(): Promise<boolean> {
  const root = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const issuer = await startBenchIssuer();
  const children: ChildProcess[] = [];
  try {
    const labs = [
      { source: 'client-credentials', target: true, lab: issuerLab(join(root, 'cc1'), 1, issuer) },
      { source: 'client-credentials', target: true, lab: issuerLab(join(root, 'cc500'), 500, issuer) },
      { source: 'file', target: false, lab: fileLab(join(root, 'file1'), 1) },
      { source: 'file', target: false, lab: fileLab(join(root, 'file500'), 500) },
      { source: 'client-credentials', target: false, lab: issuerLab(join(root, 'cc1-shell'), 1, issuer), typed: true },
    ];
    const watchers = labs.map(({ lab, typed }) => startWatcher(lab, !typed));
    children.push(...watchers);
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    children.push(idle);
    for (const { lab } of labs) {
      if (!(await until(() => written(lab) === lab.count, 120_000, 50))) throw new Error(`bench: the watcher of ${lab.config} did not write its ${lab.count} token(s) within 2 minutes`);
    }
    await sleep(SETTLE_SECONDS * 1000); // V8 shrinks its heaps after the first pass
    const pids = [...watchers, idle].map((c) => c.pid!);
    const before = pids.map(procStats);
    await sleep(QUIET_SECONDS * 1000);
    const after = pids.map(procStats);
    const node = after[labs.length]!;
    const cpu = (i: number) => after[i]!.cpuMs - before[i]!.cpuMs;
    const idleCpu = cpu(labs.length);
    let ok = true;
    for (const [i, { source, target, lab, typed }] of labs.entries()) {
      const rss = after[i]!.rssMb;
      const ratio = rss / node.rssMb;
      // 1 token: at most 1.3x an idle node with client credentials (issue 13); 500: 80 MB.
      const rssTarget = !target ? Infinity : lab.count === 1 ? 1.3 : 80;
      const what = `idle watcher${typed ? ' typed in a shell' : ''}, ${lab.count} ${source} token${lab.count === 1 ? '' : 's'}`;
      const rssOk = lab.count === 1 ? ratio <= rssTarget : rss <= rssTarget;
      const cpuOk = cpu(i) <= Math.max(10, idleCpu);
      ok = ok && rssOk && cpuOk;
      const rssGoal = !Number.isFinite(rssTarget) ? 'for information' : lab.count === 1 ? `target <= ${rssTarget}x` : `target <= ${rssTarget} MB`;
      console.log(`${what}, ${SETTLE_SECONDS} s after start: ${rss.toFixed(1)} MB resident vs idle node ${node.rssMb.toFixed(1)} MB = ${ratio.toFixed(2)}x` +
        ` (${rssGoal})${Number.isFinite(rssTarget) ? ` ${verdict(rssOk)}` : ''}; CPU over a quiet ${QUIET_SECONDS} s: ${cpu(i).toFixed(0)} ms vs idle node ${idleCpu.toFixed(0)} ms (target: no measurable use) ${verdict(cpuOk)}`);
      record(`${what}, resident memory ${SETTLE_SECONDS} s after start`, `${rss.toFixed(1)} MB = ${ratio.toFixed(2)}x an idle node (${node.rssMb.toFixed(1)} MB)`,
        rssGoal === 'for information' ? '' : rssGoal.replace('target <= ', '≤ '), Number.isFinite(rssTarget) ? rssOk : undefined);
      record(`${what}, CPU over a quiet ${QUIET_SECONDS} s`, `${cpu(i).toFixed(0)} ms (idle node: ${idleCpu.toFixed(0)} ms)`, 'no measurable use', cpuOk);
    }

    for (const { source, lab } of [labs[2]!, labs[0]!]) {
      const r = await restoration(lab);
      const restoreOk = r.ms < 200;
      ok = ok && restoreOk;
      console.log(`deleted token file restored (${source} source) after ${r.ms.toFixed(1)} ms (median of 20; max ${r.max.toFixed(1)} ms) vs file-system event latency ${r.eventMs.toFixed(2)} ms (target < 200 ms) ${verdict(restoreOk)}`);
      record(`deleted token file restored by the watcher (${source} source)`, `${r.ms.toFixed(1)} ms median (fs event latency ${r.eventMs.toFixed(2)} ms)`, '< 200 ms', restoreOk);
    }
    return ok;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(300);
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  }
}

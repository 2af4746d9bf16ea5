// `npm run bench`: every figure is a ratio against a baseline measured in the same run, and ends
// with a markdown table for the README's performance section. Every grant is a real
// client-credentials grant at the demo issuer on loopback. Variables:
//   BENCH_ONLY=discovery,startup,storm,shell,watch,linear   some of them (default: all, ≈20 min)
//   BENCH_QUICK=1              fewer rounds, shorter waits, smaller sizes (≈2–3 min)
//   BENCH_SETTLE_SECONDS, BENCH_QUIET_SECONDS   the watcher's rest and quiet period (30/60; quick 10/10)
//   BENCH_LINEAR_TOKENS=1000,20000, BENCH_LINEAR_BUDGET=180   linearity sizes, seconds per first pass
//   BENCH_LINEAR_DIR           where the linearity watchers write (default: a tmpfs, see linear.ts)
//   OSG_TOKEN_RENEWER_SRC      osg-token-renewer's tarball, directory or .py (default ../shared/peers/)
import { availableParallelism, cpus, loadavg } from 'node:os';
import { benchDiscovery } from './discovery.js';
import { benchLinear } from './linear.js';
import { markdownTable, QUICK } from './measure.js';
import { benchShell } from './shell.js';
import { benchStartup } from './startup.js';
import { benchStorm } from './storm.js';
import { benchWatch } from './watch.js';

const benches: Record<string, () => boolean | Promise<boolean>> = {
  discovery: benchDiscovery, startup: benchStartup, storm: benchStorm, shell: benchShell, watch: benchWatch, linear: benchLinear,
};
const only = process.env.BENCH_ONLY?.split(',');
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start, Node ${process.version}${QUICK ? ', BENCH_QUICK=1' : ''}`;
console.log(`Machine: ${machine}\n`);
const started = Date.now();
const results: boolean[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (only && !only.includes(name)) continue;
  results.push(await bench());
}
if (results.some((ok) => !ok)) console.log('\nSome figures are over their targets (see above).');
console.log(`\n${markdownTable()}\n\nMeasured by \`npm run bench\` in ${((Date.now() - started) / 60_000).toFixed(1)} min: ${machine}; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);

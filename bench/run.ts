// `npm run bench`: every figure is a ratio against a baseline measured in the same run.
// BENCH_ONLY=discovery,refresh,shell,watch picks some; BENCH_QUIET_SECONDS shortens the idle minute.
import { benchDiscovery } from './discovery.js';
import { benchRefresh } from './refresh.js';
import { benchShell } from './shell.js';
import { benchWatch } from './watch.js';

const benches: Record<string, () => boolean | Promise<boolean>> = { discovery: benchDiscovery, refresh: benchRefresh, shell: benchShell, watch: benchWatch };
const only = process.env.BENCH_ONLY?.split(',');
const results: boolean[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (only && !only.includes(name)) continue;
  results.push(await bench());
}
if (results.some((ok) => !ok)) console.log('\nSome figures are over their targets (see above).');

// `npm run bench`: every figure is a ratio against a baseline measured in the same run.
import { benchDiscovery } from './discovery.js';
import { benchRefresh } from './refresh.js';

const results = [benchDiscovery(), await benchRefresh()];
if (results.some((ok) => !ok)) console.log('\nSome figures are over their targets (see above).');

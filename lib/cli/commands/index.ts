// Every command except the fast ones in main.ts, for the CLI's one command bundle
// (scripts/bundle-cli.mjs). Names match lib/cli/registry.ts.
export { command as inspect } from './inspect.js';
export { command as refresh } from './refresh.js';
export { command as config } from './config.js';
export { command as watch } from './watch.js';
export { command as status } from './status.js';
export { command as exec } from './exec.js';
export { command as systemd } from './systemd.js';
export { command as demo } from './demo.js';
export { command as doctor } from './doctor.js';
export { command as setup } from './setup.js';
export { shellToken as 'shell-token', shellPath as 'shell-path', init } from './shell.js';

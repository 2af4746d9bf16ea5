// Every command except `discover` (part of main.ts), each loaded only when it runs: an import()
// per command, which the CLI bundle turns into its own chunk (scripts/bundle-cli.mjs), so that
// `tokenenv inspect` never parses `setup` or `demo`. Names match lib/cli/registry.ts.
import type { Command } from '../io.js';

export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<Command>>> = {
  inspect: async () => (await import('./inspect.js')).command,
  refresh: async () => (await import('./refresh.js')).command,
  config: async () => (await import('./config.js')).command,
  watch: async () => (await import('./watch.js')).command,
  status: async () => (await import('./status.js')).command,
  exec: async () => (await import('./exec.js')).command,
  systemd: async () => (await import('./systemd.js')).command,
  demo: async () => (await import('./demo.js')).command,
  doctor: async () => (await import('./doctor.js')).command,
  setup: async () => (await import('./setup.js')).command,
  'shell-token': async () => (await import('./shell.js')).shellToken,
  'shell-path': async () => (await import('./shell.js')).shellPath,
  init: async () => (await import('./shell.js')).init,
};

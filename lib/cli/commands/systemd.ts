import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findConfigFile } from '../../config/config.js';
import { envValue, resolveEnvironment } from '../../core/environment.js';
import { ExitCode } from '../exit-codes.js';
import { UsageError } from '../../core/errors.js';
import { parseCommandArgs, shown, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  install: { type: 'boolean' },
  timer: { type: 'boolean' },
  interval: { type: 'string' },
  dir: { type: 'string' },
} as const;

// systemd splits ExecStart= like a shell but expands % specifiers and $VARIABLES: quote and escape.
function execArg(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replace(/(["\\])/g, '\\$1')}"` : escaped;
}

function execLine(args: string[], nodeFlags: readonly string[] = []): string {
  const cli = realpathSync(process.argv[1] ?? 'tokenenv');
  return [process.execPath, ...nodeFlags, cli, ...args].map(execArg).join(' ');
}

/**
 * How the watcher's unit starts Node: for a process that lives for weeks, memory that follows its
 * tokens rather than what V8 happened to compile in its first minute.
 * - `--single-threaded` keeps V8's compilations and collections on the main thread, which a
 *   watcher waiting for its next refresh can spare. On worker threads they leave 2.5-4.5 MB in
 *   glibc's per-thread malloc arenas, a different amount at every start.
 * - glibc raises its mmap threshold whenever a block above it is freed, here TurboFan's scratch
 *   zones of up to 520 KB, and then keeps up to twice that much freed memory at the top of its
 *   heap: up to 1 MB more or less from one start to the next. Setting the thresholds (to glibc's
 *   own defaults, 128 KiB) turns that adjustment off (mallopt(3)); other C libraries ignore them.
 * Together: 500 client-credentials tokens settle at 53.4-53.6 MB in every start instead of
 * 55.7-58.4 MB, and memory grows with V8's heap: 2.2 KB per token from 500 to 1,000 tokens, 2.3
 * KB from 10,000 to 20,000 (npm run bench). Both work only from Node's start, so `tokenenv watch`
 * typed in a shell runs without them.
 */
export const WATCHER_PROCESS = {
  nodeFlags: ['--single-threaded'],
  environment: { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' },
} as const;

// Sources talk to issuers: start once the network is up.
function serviceHeader(description: string): string {
  return `[Unit]
Description=tokenenv: ${description}
After=network-online.target
Wants=network-online.target
`;
}

export function watchService(config: string): string {
  return `${serviceHeader(`keep WLCG bearer tokens fresh (${config})`)}
[Service]
Type=simple
Environment=${Object.entries(WATCHER_PROCESS.environment).map(([name, value]) => `${name}=${value}`).join(' ')}
ExecStart=${execLine(['watch', '--config', config], WATCHER_PROCESS.nodeFlags)}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10s
# Let a running source finish or be cancelled; tokenenv exits within a second of SIGTERM.
TimeoutStopSec=10s

[Install]
WantedBy=default.target
`;
}

export function refreshService(config: string): string {
  return `${serviceHeader(`refresh WLCG bearer tokens once (${config})`)}
[Service]
Type=oneshot
ExecStart=${execLine(['refresh', '--all', '--config', config])}
`;
}

// A systemd time span (systemd.time(7)): numbers with units, "5min", "1h 30min", "90" (seconds).
const TIME_UNIT = 'usec|us|µs|msec|ms|seconds|second|sec|s|minutes|minute|min|m|hours|hour|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y';
const TIME_SPAN = new RegExp(`^\\s*(?:\\d+(?:\\.\\d+)?\\s*(?:${TIME_UNIT})?\\s*)+$`);

/** The --interval as systemd will read it, or a usage error naming it: a span above zero. */
export function checkTimeSpan(option: string, value: string): string {
  if (value.length > 64 || !TIME_SPAN.test(value) || !/[1-9]/.test(value)) {
    throw new UsageError(`systemd: ${option}: ${shown(value)} is not a systemd time span above zero (e.g. 5min, 1h 30min, 90 for seconds)`);
  }
  return value.trim();
}

export function refreshTimer(interval: string): string {
  return `[Unit]
Description=tokenenv: refresh WLCG bearer tokens every ${interval}

[Timer]
OnBootSec=1min
OnUnitActiveSec=${interval}
RandomizedDelaySec=30s
Persistent=true

[Install]
WantedBy=timers.target
`;
}

export const command: Command = {
  usage: `tokenenv systemd [--install] [--timer [--interval 5min]] [--config FILE] [--dir DIR]

Prints (or with --install, writes to ~/.config/systemd/user/) a user unit running
\`tokenenv watch\` for the config, or with --timer a oneshot \`tokenenv refresh --all\` service
and a timer, for those who prefer osg-token-renewer's model. Then:
  systemctl --user daemon-reload
  systemctl --user enable --now tokenenv-watch.service     (or tokenenv-refresh.timer)`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('systemd', args, OPTIONS);
    if (values.interval !== undefined && !values.timer) throw new UsageError('systemd: --interval goes with --timer');
    const interval = checkTimeSpan('--interval', values.interval ?? '5min');
    const environment = resolveEnvironment({ env: io.env });
    const config = resolve(findConfigFile(values.config, environment.env));
    const units: Record<string, string> = values.timer
      ? { 'tokenenv-refresh.service': refreshService(config), 'tokenenv-refresh.timer': refreshTimer(interval) }
      : { 'tokenenv-watch.service': watchService(config) };
    if (!values.install) {
      for (const [name, text] of Object.entries(units)) io.stdout(`# ${name}\n${text}\n`);
      return ExitCode.ok;
    }
    const configHome = envValue(environment.env, 'XDG_CONFIG_HOME') ?? join(envValue(environment.env, 'HOME') ?? '', '.config');
    const dir = values.dir ?? join(configHome, 'systemd', 'user');
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(units)) {
      writeFileSync(join(dir, name), text, { mode: 0o644 });
      io.stdout(`wrote ${join(dir, name)}\n`);
    }
    const main = Object.keys(units).find((n) => n.endsWith('.timer')) ?? Object.keys(units)[0];
    io.stdout(`now run: systemctl --user daemon-reload && systemctl --user enable --now ${main}\n`);
    return ExitCode.ok;
  },
};

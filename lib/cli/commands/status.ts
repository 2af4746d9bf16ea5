import { resolve } from 'node:path';
import { loadValidConfig } from '../../config/config.js';
import { formatDuration, formatRelative } from '../../core/duration.js';
import { resolveEnvironment } from '../../core/environment.js';
import { UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { assessTokenFile, secondsLeftOf, wantedOf } from '../../refresh/freshness.js';
import { stateDirectory } from '../../files/paths.js';
import { runningWatcher, watcherFiles } from '../../watch/instance.js';
import type { TokenStatus } from '../../watch/status-file.js';
import { isTerminal, parseCommandArgs, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
} as const;

interface Row {
  name: string;
  path: string;
  source: string;
  state: 'fresh' | 'stale' | 'expired' | 'missing' | 'unusable';
  secondsLeft: number | null;
  detail: string;
  nextRefreshAt: number | null;
  lastResult: string | null;
  lastError: string | null;
}

const COLOURS: Record<Row['state'], string> = { fresh: '32', stale: '33', expired: '31', missing: '31', unusable: '31' };

function table(rows: Row[], watcher: string, now: number, colour: boolean): string {
  const cells = rows.map((r) => [
    r.name, r.path, r.source,
    r.state === 'fresh' || r.state === 'stale' ? `${r.state}, ${r.secondsLeft === null ? 'expiry unknown' : `${formatDuration(r.secondsLeft)} left`}` : r.state,
    r.nextRefreshAt === null ? '-' : formatRelative(r.nextRefreshAt, now),
    r.lastError ? `failed: ${r.lastError}` : r.lastResult ?? '-',
  ]);
  const header = ['TOKEN', 'PATH', 'SOURCE', 'STATE', 'NEXT REFRESH', 'LAST RESULT'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[], state?: Row['state']) => c.map((cell, i) => {
    const padded = i < c.length - 1 ? cell.padEnd(widths[i]!) : cell;
    return colour && state && i === 3 ? `\x1b[${COLOURS[state]}m${padded}\x1b[0m` : padded;
  }).join('  ').trimEnd();
  return [line(header), ...cells.map((c, i) => line(c, rows[i]!.state)), '', watcher].join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv status [--config FILE] [--json]

One line per configured token: name, path, source, state and lifetime left, next refresh and
last result or error (from the watcher, when one runs), and whether a watcher is running.
--json prints the same as stable JSON. Exit 0 when every token is present and valid, 1 when any
is missing, expired or unusable, 2 for a usage or config error.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('status', args, OPTIONS);
    const environment = resolveEnvironment({ env: io.env });
    const config = loadValidConfig({ env: io.env, ...(values.config ? { file: values.config } : {}) });
    const { pidFile, statusFile } = watcherFiles(stateDirectory(environment.env), resolve(config.file!));
    const pid = runningWatcher(pidFile);
    // The watcher's view, when one runs (its reader is loaded only then).
    const watching = pid ? (await import('../../watch/status-file.js')).readStatusFile(statusFile)?.tokens : undefined;
    const watched = new Map<string, TokenStatus>((watching ?? []).map((t) => [t.name, t]));
    const now = io.now();
    const rows: Row[] = [];
    for (const token of config.tokens) {
      const account = config.accounts.get(token.account)!;
      const state = assessTokenFile(token.path, environment.euid, wantedOf(token), now);
      const left = secondsLeftOf(state);
      const w = watched.get(token.name);
      rows.push({
        name: token.name, path: token.path, source: `${account.type} ${account.name}`,
        state: state.state === 'stale' && left !== null && left <= 0 ? 'expired' : state.state,
        secondsLeft: left, detail: state.reason,
        nextRefreshAt: w?.nextAt ?? null,
        lastResult: w?.lastAction ?? null,
        lastError: w?.lastAction === 'failed' ? w.lastDetail : null,
      });
    }
    const watcher = pid ? `watcher running (pid ${pid})` : 'no watcher running (start one with: tokenenv watch, or tokenenv systemd --install)';
    if (values.json) {
      io.stdout(JSON.stringify({ config: config.file, watcher: pid ? { pid } : null, tokens: rows }, null, 2) + '\n');
    } else {
      io.stdout(table(rows, watcher, now, isTerminal(1) && !io.env.NO_COLOR));
    }
    return rows.every((r) => r.state === 'fresh' || r.state === 'stale') ? ExitCode.ok : ExitCode.failure;
  },
};

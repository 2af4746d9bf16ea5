import { selectTokens } from '../../config/config.js';
import { formatDuration } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { refreshTokens, type RefreshResult } from '../../refresh/refresh.js';
import { commandConfig, CONFIG_OPTIONS, CONFIG_USAGE } from '../config-source.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  ...CONFIG_OPTIONS,
  all: { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function lifetime(result: RefreshResult): string {
  if (result.secondsLeft === null) return result.action === 'failed' ? 'no valid token' : 'expiry unknown';
  return result.secondsLeft > 0 ? `${formatDuration(result.secondsLeft)} left` : 'expired';
}

function summaryLines(results: RefreshResult[]): string {
  const rows = results.map((r) => [r.name, r.path, r.action, lifetime(r)]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return results.map((r, n) => {
    const row = rows[n]!;
    const line = row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ');
    return r.action === 'failed' ? `${line}\n  ${r.detail}` : line;
  }).join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv refresh [NAME...|--all] [--force] [--json] [--config FILE | SOURCE FLAGS]

Keeps each configured token (all of them by default) valid for at least its min_lifetime:
a token that still is is kept; otherwise tokenenv locks it, checks again, fetches a new one,
checks it (syntax, expiry, audience and scope) and replaces the file atomically. A failed or
worse fetch leaves the old file alone. Many concurrent refreshes cause one source call.

  --all       every configured token (the default when no NAME is given)
  --force     fetch even when the token is still fresh
  --json      a JSON array with one object per token: {name, path, action (kept, refreshed
              or failed), secondsLeft (null: unknown or no token), detail}; see the README

${CONFIG_USAGE}

Exit codes: 0 every token kept or refreshed, 1 at least one failed, 2 usage or config error.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('refresh', args, OPTIONS, Infinity);
    const { config, adHoc } = commandConfig(values, io);
    if (adHoc && positionals.length) throw new UsageError('token names go with a config file, not with source flags');
    if (values.all && positionals.length) throw new UsageError('--all and token names exclude each other');
    const tokens = selectTokens(config, positionals);
    if (tokens.length === 0) throw new UsageError(`${config.file}: no [token NAME] sections`);
    const results = await refreshTokens(config, tokens, { env: io.env, force: values.force ?? false });
    if (values.json) {
      io.stdout(JSON.stringify(results.map((r) => ({ name: r.name, path: r.path, action: r.action, secondsLeft: r.secondsLeft, detail: r.detail })), null, 2) + '\n');
    } else {
      io.stdout(summaryLines(results));
    }
    return results.some((r) => r.action === 'failed') ? ExitCode.failure : ExitCode.ok;
  },
};

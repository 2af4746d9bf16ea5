import { assertLifetime, decodeClaims } from '../../token/claims.js';
import { discoverTokenSync, type DiscoveredToken } from '../../discovery/discovery.js';
import { NoTokenFileError, TokenenvError, UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatSteps } from '../explain.js';
import { parseCommandArgs, parseSeconds, type CliIo, type Command } from '../io.js';
import { claimsSummary, originOf } from '../summary.js';
import type { LoadedToken } from '../token-input.js';

const OPTIONS = {
  purpose: { type: 'string' },
  token: { type: 'string', short: 't' },
  config: { type: 'string', short: 'c' },
  path: { type: 'boolean' },
  export: { type: 'boolean' },
  json: { type: 'boolean' },
  explain: { type: 'boolean' },
  'min-lifetime': { type: 'string' },
} as const;

function discovered(io: CliIo, purpose: string | undefined, explain: boolean): LoadedToken {
  let found: DiscoveredToken;
  try {
    found = discoverTokenSync({ env: io.env, ...(purpose === undefined ? {} : { purpose }) });
  } catch (error) {
    if (explain && error instanceof TokenenvError && error.steps) io.stderr(formatSteps(error.steps));
    throw error;
  }
  if (explain) io.stderr(formatSteps(found.steps));
  return { token: found.token, origin: originOf(found), label: found.path ?? found.source };
}

export const command: Command = {
  usage: `tokenenv discover [--purpose P | --token NAME [--config FILE]] [--path | --export] [--json] [--explain] [--min-lifetime SECONDS]

Prints the token found by WLCG Bearer Token Discovery on stdout, for TOKEN=$(tokenenv discover):
BEARER_TOKEN, then BEARER_TOKEN_FILE, then $XDG_RUNTIME_DIR/bt_u<euid>, then /tmp/bt_u<euid>.

  --purpose P          read bt_u<euid>-P at the implicit locations (steps 3 and 4)
  --token NAME         the token of [token NAME] in the config instead (its file, checked as
                       discovery checks its own locations); --config FILE names the config
  --path               print the file the token came from instead of the token
  --export             print export BEARER_TOKEN_FILE=FILE, for eval "$(tokenenv discover --export)"
                       (like oidc-token -c; with --token NAME, that token's file)
  --json               print where it came from and its claims (never the token); see the README
  --explain            print every discovery step and why it was used or skipped, on stderr
  --min-lifetime S     fail (exit 5) unless the token is valid for at least S more seconds

Warnings (a token file readable by others, a BEARER_TOKEN_FILE that does not exist) go to stderr.
Exit codes: 0 found, 2 usage, 3 none found, 4 invalid token or unsafe file, 5 expired or too short-lived.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('discover', args, OPTIONS);
    const minLifetime = parseSeconds('--min-lifetime', values['min-lifetime']) ?? 0;
    if (values.token !== undefined && (values.purpose !== undefined || values.explain)) {
      throw new UsageError(`discover: --token names a configured token: it goes without ${values.explain ? '--explain' : '--purpose'}`);
    }
    if (values.config !== undefined && values.token === undefined) throw new UsageError('discover: --config goes with --token NAME');
    const loaded = values.token === undefined
      ? discovered(io, values.purpose, values.explain ?? false)
      : await (await import('../token-input.js')).tokenFromConfig(values.token, io, values.config);
    if (!values.explain) for (const warning of loaded.origin.warnings) io.stderr(`tokenenv: warning: ${warning}\n`);

    const now = io.now();
    const claims = decodeClaims(loaded.token);
    assertLifetime(claims, now, minLifetime, loaded.label);
    if (values.json) {
      io.stdout(JSON.stringify({ ...loaded.origin, claims: claimsSummary(claims, now) }, null, 2) + '\n');
    } else if (values.path || values.export) {
      if (loaded.origin.path === null) throw new NoTokenFileError('the token comes from BEARER_TOKEN: there is no token file');
      io.stdout(values.export ? `export BEARER_TOKEN_FILE='${loaded.origin.path.replace(/'/g, `'\\''`)}'\n` : loaded.origin.path + '\n');
    } else {
      io.stdout(loaded.token + '\n');
    }
    return ExitCode.ok;
  },
};

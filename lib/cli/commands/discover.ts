import { assertLifetime, decodeClaims } from '../../token/claims.js';
import { discoverTokenSync, type DiscoveredToken } from '../../discovery/discovery.js';
import { NoTokenFileError, TokenenvError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatSteps } from '../explain.js';
import { parseCommandArgs, parseSeconds, type CliIo, type Command } from '../io.js';
import { claimsSummary } from '../summary.js';

const OPTIONS = {
  purpose: { type: 'string' },
  path: { type: 'boolean' },
  json: { type: 'boolean' },
  explain: { type: 'boolean' },
  'min-lifetime': { type: 'string' },
} as const;

export const command: Command = {
  usage: `tokenenv discover [--purpose P] [--path] [--json] [--explain] [--min-lifetime SECONDS]

Prints the token found by WLCG Bearer Token Discovery on stdout, for TOKEN=$(tokenenv discover):
BEARER_TOKEN, then BEARER_TOKEN_FILE, then $XDG_RUNTIME_DIR/bt_u<euid>, then /tmp/bt_u<euid>.

  --purpose P          read bt_u<euid>-P at the implicit locations (steps 3 and 4)
  --path               print the file the token came from instead of the token
  --json               print source, path and a claims summary (never the token)
  --explain            print every discovery step and why it was used or skipped, on stderr
  --min-lifetime S     fail (exit 5) unless the token is valid for at least S more seconds

Exit codes: 0 found, 2 usage, 3 none found, 4 invalid token or unsafe file, 5 expired or too short-lived.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('discover', args, OPTIONS);
    const minLifetime = parseSeconds('--min-lifetime', values['min-lifetime']) ?? 0;
    let found: DiscoveredToken;
    try {
      found = discoverTokenSync({ env: io.env, ...(values.purpose === undefined ? {} : { purpose: values.purpose }) });
    } catch (error) {
      if (values.explain && error instanceof TokenenvError && error.steps) io.stderr(formatSteps(error.steps));
      throw error;
    }
    if (values.explain) io.stderr(formatSteps(found.steps));
    else for (const warning of found.warnings) io.stderr(`tokenenv: warning: ${warning}\n`);

    const now = io.now();
    const claims = decodeClaims(found.token);
    assertLifetime(claims, now, minLifetime, found.path ?? found.source);
    if (values.json) {
      const report = { step: found.step, source: found.source, path: found.path ?? null, warnings: found.warnings, claims: claimsSummary(claims, now) };
      io.stdout(JSON.stringify(report, null, 2) + '\n');
    } else if (values.path) {
      if (found.path === undefined) throw new NoTokenFileError('the token comes from BEARER_TOKEN: there is no token file');
      io.stdout(found.path + '\n');
    } else {
      io.stdout(found.token + '\n');
    }
    return ExitCode.ok;
  },
};

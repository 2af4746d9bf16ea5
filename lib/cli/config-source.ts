// The configuration a command works on: the config file (--config, $TOKENENV_CONFIG, the
// user's, the system's) or, with source flags, one ad-hoc token and no file at all.
import { adHocConfig, loadConfig, type AccountConfig, type Config } from '../config/config.js';
import { DEFAULTS } from '../config/schema.js';
import { splitCommandLine } from '../config/words.js';
import { tokenLocation } from '../discovery/discovery.js';
import { UsageError } from '../core/errors.js';
import type { CliIo } from './io.js';
import { parseSeconds, shown } from './io.js';

/** Options shared by commands that take a config or an ad-hoc token. */
export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'oidc-agent': { type: 'string' },
  command: { type: 'string' },
  'from-file': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  issuer: { type: 'string' },
  'token-url': { type: 'string' },
  aud: { type: 'string' },
  scope: { type: 'string' },
  'min-lifetime': { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

export const CONFIG_USAGE = `Configuration: --config FILE, else $TOKENENV_CONFIG, else ~/.config/tokenenv/config.ini, else
/etc/tokenenv/config.ini (osg-token-renewer's config.ini works unchanged). Or one ad-hoc token:
  --oidc-agent ACCOUNT | --command "CMD ARGS" | --from-file PATH |
  --client-id ID --client-secret-file FILE (--issuer URL | --token-url URL)
  [--aud A] [--scope S] [--min-lifetime SECONDS] [--out PATH (default: the discovery location)]`;

type Values = { [K in keyof typeof CONFIG_OPTIONS]?: string };

function adHocAccount(values: Values): AccountConfig | undefined {
  const base = { name: 'command-line', timeout: DEFAULTS.timeout };
  const chosen = [values['oidc-agent'] && 'oidc-agent', values.command && 'command', values['from-file'] && 'from-file', values['client-id'] && 'client-id'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one source: --${chosen.join(', --')}`);
  if (values['oidc-agent']) return { ...base, type: 'oidc-agent', oidcAccount: values['oidc-agent'] };
  if (values.command) return { ...base, type: 'command', command: commandWords(values.command) };
  if (values['from-file']) return { ...base, type: 'file', path: values['from-file'] };
  if (values['client-id']) {
    if (!values['client-secret-file']) throw new UsageError('--client-id needs --client-secret-file (secrets never go in argv)');
    if (!values.issuer && !values['token-url']) throw new UsageError('--client-id needs --issuer URL or --token-url URL');
    return {
      ...base, type: 'client-credentials', clientId: values['client-id'], clientSecretFile: values['client-secret-file'],
      ...(values.issuer ? { issuer: values.issuer } : {}), ...(values['token-url'] ? { tokenRequestUrl: values['token-url'] } : {}),
    };
  }
  return undefined;
}

/** --command split like a shell would (never run by one); a mistake in it is a usage error. */
function commandWords(text: string): string[] {
  let words: string[];
  try {
    words = splitCommandLine(text);
  } catch (error) {
    throw new UsageError(`--command: ${(error as Error).message} in ${shown(text)}`);
  }
  if (words.length === 0) throw new UsageError('--command: empty');
  return words;
}

export interface CommandConfig {
  config: Config;
  adHoc: boolean;
}

/** The config for this command; problems in a config file are reported and make it exit 2. */
export function commandConfig(values: Values, io: CliIo): CommandConfig {
  const account = adHocAccount(values);
  if (account) {
    if (values.config) throw new UsageError('--config and source flags (--oidc-agent, --command, ...) exclude each other');
    const config = adHocConfig(account, {
      path: values.out ?? tokenLocation({ env: io.env }).path,
      minLifetime: parseSeconds('--min-lifetime', values['min-lifetime']) ?? DEFAULTS.minLifetime,
      refreshInterval: DEFAULTS.refreshInterval,
      ...(values.aud ? { audience: values.aud } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
    });
    return { config, adHoc: true };
  }
  for (const flag of ['aud', 'scope', 'min-lifetime', 'out', 'client-secret-file', 'issuer', 'token-url'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with a source flag (--oidc-agent, --command, --from-file, --client-id); with a config file, set it in the [token] section`);
  }
  const { config, problems } = loadConfig({ env: io.env, ...(values.config ? { file: values.config } : {}) });
  if (problems.length) {
    for (const problem of problems) io.stderr(`tokenenv: ${problem.message}\n`);
    throw new UsageError(`${config.file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}; see \`tokenenv config check\``);
  }
  return { config, adHoc: false };
}

// Which token file serves which use: the user's default token, a token per endpoint (the shell
// wrappers), a token per audience (exec --aud). One place for these rules, so the CLI commands
// and the shell script cannot disagree.
import { tokenPurpose, type Config, type TokenConfig } from '../config/config.js';
import { DEFAULTS } from '../config/schema.js';
import type { TokenEnvironment } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { tokenLocation } from '../discovery/discovery.js';
import { encodeName } from '../files/name-encoding.js';

/** The default token: the one named `default`, or the only one. */
export function defaultToken(config: Config): TokenConfig | undefined {
  return config.tokens.find((t) => t.name === 'default') ?? (config.tokens.length === 1 ? config.tokens[0] : undefined);
}

/** The account for a token derived from the default one: `preferred`, the default token's, or the only one. */
export function derivedAccount(config: Config, preferred?: string): string | undefined {
  return preferred ?? defaultToken(config)?.account ?? (config.accounts.size === 1 ? [...config.accounts.keys()][0] : undefined);
}

/** Longest encoded endpoint name: the purpose (`tokenenv-ep-` + it) must stay within 200 characters. */
export const MAX_ENCODED_ENDPOINT = 188;

/**
 * The purpose suffix of an endpoint's token file: `tokenenv-ep-` and the endpoint through
 * encodeName, so that distinct endpoints never share a file (shell/tokenenv.sh computes the same
 * with builtins). A name too long for that is refused rather than cut, since a cut could clash.
 */
export function endpointPurpose(endpoint: string): string {
  if (endpoint.includes('\uFFFD')) throw new UsageError(`endpoint ${JSON.stringify(endpoint)}: not valid UTF-8`);
  const encoded = encodeName(endpoint);
  if (encoded.length > MAX_ENCODED_ENDPOINT) {
    throw new UsageError(`endpoint ${JSON.stringify(endpoint.slice(0, 40))}…: too long for a token file name (${encoded.length} characters encoded, at most ${MAX_ENCODED_ENDPOINT})`);
  }
  return `tokenenv-ep-${encoded}`;
}

/** The token the shell wrappers use for `endpoint`: audience the endpoint unless an [endpoint]
 * section says otherwise; the default token when no endpoint is named. */
export function wrapperToken(config: Config, endpoint: string | undefined, environment: Pick<TokenEnvironment, 'env' | 'euid' | 'tmpDir'>): TokenConfig | undefined {
  const fallback = defaultToken(config);
  if (!endpoint) return fallback;
  const override = config.endpoints?.get(endpoint);
  const account = derivedAccount(config, override?.account);
  if (!account) throw new UsageError(`${config.file}: no account for endpoint ${endpoint}: add [endpoint ${endpoint}] with account = NAME, or a [token default]`);
  const scope = override?.scope ?? fallback?.scope;
  return {
    name: `endpoint ${endpoint}`,
    account,
    path: tokenLocation({ ...environment, purpose: endpointPurpose(endpoint) }).path,
    audience: override?.audience ?? endpoint,
    ...(scope ? { scope } : {}),
    minLifetime: override?.minLifetime ?? fallback?.minLifetime ?? DEFAULTS.minLifetime,
    refreshInterval: fallback?.refreshInterval ?? DEFAULTS.refreshInterval,
  };
}

function slug(text: string): string {
  return text.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/** A token for an audience and scope (exec --aud/--scope), in a file of its own: never the default token's. */
export function audienceToken(config: Config, wanted: { audience?: string; scope?: string; account?: string }, environment: Pick<TokenEnvironment, 'env' | 'euid' | 'tmpDir'>): TokenConfig {
  const account = derivedAccount(config, wanted.account);
  if (!account || !config.accounts.has(account)) throw new UsageError('--aud/--scope: name the account that issues the token with --account NAME');
  const name = `aud-${slug(`${wanted.audience ?? 'any'}-${wanted.scope ?? ''}`)}`;
  return {
    name, account, path: tokenLocation({ ...environment, purpose: tokenPurpose(name) }).path,
    minLifetime: defaultToken(config)?.minLifetime ?? DEFAULTS.minLifetime, refreshInterval: DEFAULTS.refreshInterval,
    ...(wanted.audience ? { audience: wanted.audience } : {}), ...(wanted.scope ? { scope: wanted.scope } : {}),
  };
}

// Which token file serves which use: the user's default token, a token per endpoint (the shell
// wrappers), a token per audience (exec --aud). One place for these rules, so the CLI commands
// and the shell script cannot disagree.
import { tokenPurpose, type Config, type TokenConfig } from '../config/config.js';
import { DEFAULTS } from '../config/schema.js';
import type { TokenEnvironment } from '../core/environment.js';
import { UsageError } from '../core/errors.js';
import { tokenLocation } from '../discovery/discovery.js';
import { encodeName } from '../files/name-encoding.js';
import { joinScopes, requestFor } from '../token/operations.js';

/** The default token: the one named `default`, or the only one. */
export function defaultToken(config: Config): TokenConfig | undefined {
  return config.tokens.find((t) => t.name === 'default') ?? (config.tokens.length === 1 ? config.tokens[0] : undefined);
}

/** The account for a token derived from the default one: `preferred`, the default token's, or the only one. */
export function derivedAccount(config: Config, preferred?: string): string | undefined {
  return preferred ?? defaultToken(config)?.account ?? (config.accounts.size === 1 ? [...config.accounts.keys()][0] : undefined);
}

/** One thing a call does at one endpoint: `operation` is a client or data operation
 * (lib/token/operations.ts) or, with `scope`, replaced by an explicit scope. */
export interface EndpointUse {
  endpoint: string;
  operation?: string;
  scope?: string;
}

/** Longest encoded part of an endpoint token's purpose: `tokenenv-ep-` and it stay within 200 characters. */
export const MAX_ENCODED_ENDPOINT = 188;

/**
 * The purpose suffix of an endpoint token's file: `tokenenv-ep-`, the endpoints through
 * encodeName, then `__` and the scope asked for (encodeName never writes `__`, so the two parts
 * cannot be mistaken for each other). Distinct endpoints and scopes never share a file
 * (shell/tokenenv.sh computes the same with builtins); a name too long for that is refused
 * rather than cut, since a cut could clash.
 */
export function endpointPurpose(endpoint: string, scope?: string): string {
  if (`${endpoint}${scope ?? ''}`.includes('\uFFFD')) throw new UsageError(`endpoint ${JSON.stringify(endpoint)}: not valid UTF-8`);
  const encoded = `${encodeName(endpoint)}${scope ? `__${encodeName(scope)}` : ''}`;
  if (encoded.length > MAX_ENCODED_ENDPOINT) {
    throw new UsageError(`endpoint ${JSON.stringify(endpoint.slice(0, 40))}${endpoint.length > 40 ? '…' : ''}: too long for a token file name (${encoded.length} characters encoded with its scope, at most ${MAX_ENCODED_ENDPOINT})`);
  }
  return `tokenenv-ep-${encoded}`;
}

/** The scope a use asks for by default (not counting [endpoint] sections). */
function requestOf(use: EndpointUse): string | undefined {
  return use.scope ?? (use.operation ? requestFor([use.operation]) : undefined);
}

/**
 * The token for one wrapped call: its audience is every endpoint it uses, its scope the union of
 * what its operations need (lib/token/operations.ts), each overridden by an [endpoint] section
 * (audience, scope, account, min_lifetime). Without endpoints: the default token.
 * The file is named by the endpoints and the scope the operations ask for, so that the shell's
 * fast path finds it without the config.
 */
export function callToken(config: Config, uses: EndpointUse[], environment: Pick<TokenEnvironment, 'env' | 'euid' | 'tmpDir'>): TokenConfig | undefined {
  const fallback = defaultToken(config);
  if (uses.length === 0) return fallback;
  const endpoints = [...new Set(uses.map((u) => u.endpoint))];
  const overrides = endpoints.map((e) => config.endpoints?.get(e));
  const account = derivedAccount(config, overrides.find((o) => o?.account)?.account);
  const named = endpoints.join(' ');
  if (!account) throw new UsageError(`${config.file}: no account for endpoint ${named}: add [endpoint ${endpoints[0]}] with account = NAME, or a [token default]`);
  const audience = joinScopes(endpoints.map((e, i) => overrides[i]?.audience ?? e));
  const scope = joinScopes(uses.map((u) => config.endpoints?.get(u.endpoint)?.scope ?? requestOf(u) ?? ''));
  const fileScope = joinScopes(uses.map((u) => requestOf(u) ?? ''));
  const lifetimes = overrides.flatMap((o) => (o?.minLifetime !== undefined ? [o.minLifetime] : []));
  const operations = [...new Set(uses.map((u) => u.operation ?? u.scope).filter(Boolean))];
  return {
    name: `endpoint ${named}${operations.length ? ` (${operations.join(', ')})` : ''}`,
    account,
    path: tokenLocation({ ...environment, purpose: endpointPurpose(named, fileScope) }).path,
    audience,
    ...(scope ? { scope } : {}),
    minLifetime: lifetimes.length ? Math.max(...lifetimes) : fallback?.minLifetime ?? DEFAULTS.minLifetime,
    refreshInterval: fallback?.refreshInterval ?? DEFAULTS.refreshInterval,
  };
}

/** The [endpoint] section a user would add to change what is asked for at `uses`' endpoints. */
export function endpointAdvice(config: Config, token: TokenConfig, uses: EndpointUse[]): string {
  const endpoint = uses[0]?.endpoint ?? '';
  const section = config.endpoints?.has(endpoint) ? `the [endpoint ${endpoint}] section` : `an [endpoint ${endpoint}] section`;
  return `asked for audience ${token.audience ?? '(none)'} and scope ${token.scope ?? '(the issuer\'s default)'}; ` +
    `to ask for something else, set scope = … (or audience, account) in ${section} of ${config.file ?? 'the config'}`;
}

/** The token the shell wrappers use for `endpoint` and `operation` (see callToken). */
export function wrapperToken(config: Config, endpoint: string | undefined, environment: Pick<TokenEnvironment, 'env' | 'euid' | 'tmpDir'>, operation?: string): TokenConfig | undefined {
  return callToken(config, endpoint ? [{ endpoint, ...(operation ? { operation } : {}) }] : [], environment);
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

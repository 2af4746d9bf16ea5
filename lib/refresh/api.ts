// The library's refresh entry points: by token name from the config, or for a token and account
// given in code. Same guarantees as `tokenenv refresh`: lock, judge again under the lock, atomic
// write, never replace a valid token with a worse one.
import { loadValidConfig, selectTokens, type AccountConfig, type Config, type TokenConfig } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { refreshTokenFile, refreshTokens, type RefreshOptions, type RefreshResult } from './refresh.js';

export interface ConfigRefreshOptions extends RefreshOptions {
  /** The config file (default: --config's lookup: $TOKENENV_CONFIG, ~/.config/tokenenv/config.ini, /etc/tokenenv/config.ini). */
  configFile?: string;
  /** A configuration built in code instead of a file. */
  config?: Config;
}

/** A token and the account that issues it, given in code rather than by name. */
export interface RefreshTarget {
  token: TokenConfig;
  account: AccountConfig;
}

function configOf(options: ConfigRefreshOptions): Config {
  return options.config ?? loadValidConfig({ ...options, ...(options.configFile ? { file: options.configFile } : {}) });
}

/**
 * Makes sure one token is fresh: the configured token `name`, or `target`. Resolves with what was
 * done (`kept`, `refreshed` or `failed`, with the reason); a failure is a result, not an
 * exception, and leaves the old file alone. Throws only for a bad config or an unknown name.
 */
export async function refreshToken(target: string | RefreshTarget, options: ConfigRefreshOptions = {}): Promise<RefreshResult> {
  if (typeof target !== 'string') return refreshTokenFile(target.token, target.account, options);
  const config = configOf(options);
  const [token] = selectTokens(config, [target]);
  const account = config.accounts.get(token!.account);
  if (!account) throw new UsageError(`token ${target}: no account ${token!.account}`);
  return refreshTokenFile(token!, account, options);
}

/** Refreshes every configured token (or those in `names`), a few at a time; one failure does
 * not stop the others. */
export async function refreshAll(options: ConfigRefreshOptions & { names?: string[] } = {}): Promise<RefreshResult[]> {
  const config = configOf(options);
  return refreshTokens(config, selectTokens(config, options.names ?? []), options);
}

// Where tokenenv keeps its own files: the config file, and a private 0700 directory for locks
// and watcher state (never beside /tmp/bt_u$ID, where others can create files).
import envPaths from 'env-paths';
import { join } from 'node:path';
import { envValue, type TokenEnvironment } from '../core/environment.js';

/** The user's config directory: $XDG_CONFIG_HOME/tokenenv, else ~/.config/tokenenv. */
function userConfigDirectory(env: TokenEnvironment['env']): string {
  // env-paths reads process.env; an injected environment's XDG_CONFIG_HOME wins.
  const xdg = envValue(env, 'XDG_CONFIG_HOME');
  return xdg ? join(xdg, 'tokenenv') : envPaths('tokenenv', { suffix: '' }).config;
}

export const SYSTEM_CONFIG = '/etc/tokenenv/config.ini';
/** osg-token-renewer's default config (its $OSG_TOKEN_RENEWER_CONFIG_PATH overrides it). */
export const OSG_TOKEN_RENEWER_CONFIG = '/etc/osg/token-renewer/config.ini';

export interface ConfigCandidate {
  path: string;
  origin: string;
  /** Another tool's file: used only when this user can read it (see findConfigFile). */
  foreign?: boolean;
}

/** Config files in lookup order after `--config`: $TOKENENV_CONFIG, the user's, the system's,
 * then osg-token-renewer's, so that its users switch without flags. */
export function configCandidates(env: TokenEnvironment['env']): ConfigCandidate[] {
  const candidates: ConfigCandidate[] = [];
  const fromEnv = envValue(env, 'TOKENENV_CONFIG');
  if (fromEnv) candidates.push({ path: fromEnv, origin: 'TOKENENV_CONFIG' });
  candidates.push({ path: join(userConfigDirectory(env), 'config.ini'), origin: 'user config' });
  candidates.push({ path: SYSTEM_CONFIG, origin: 'system config' });
  const osg = envValue(env, 'OSG_TOKEN_RENEWER_CONFIG_PATH');
  if (osg) candidates.push({ path: osg, origin: 'OSG_TOKEN_RENEWER_CONFIG_PATH', foreign: true });
  candidates.push({ path: OSG_TOKEN_RENEWER_CONFIG, origin: 'osg-token-renewer', foreign: true });
  return candidates;
}

/**
 * tokenenv's private state directory: $XDG_RUNTIME_DIR/tokenenv, else $XDG_CACHE_HOME/tokenenv/run,
 * else ~/.cache/tokenenv/run. Relative values are ignored (the XDG spec calls them invalid), and
 * the path is put together as shell/tokenenv.sh does (no normalisation), so both name the
 * same stamps (test/shell/contract.test.ts).
 */
export function stateDirectory(env: TokenEnvironment['env']): string {
  const runtime = envValue(env, 'XDG_RUNTIME_DIR');
  if (runtime?.startsWith('/')) return under(runtime, 'tokenenv');
  const cache = envValue(env, 'XDG_CACHE_HOME');
  if (cache?.startsWith('/')) return under(cache, 'tokenenv/run');
  const home = envValue(env, 'HOME');
  // node:os only without HOME: loading it costs 0.2 ms of every command that reads a config.
  return under(home?.startsWith('/') ? home : (process.getBuiltinModule('node:os') as typeof import('node:os')).homedir(), '.cache/tokenenv/run');
}

function under(dir: string, rest: string): string {
  return dir.endsWith('/') ? dir + rest : `${dir}/${rest}`;
}

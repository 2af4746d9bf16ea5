// One token's refresh: check without a lock; if stale, lock, check again (another process may
// have refreshed it meanwhile), fetch, validate, write atomically. A failed or worse fetch
// leaves the old file alone.
import type { AccountConfig, Config, TokenConfig } from '../config/config.js';
import { forEachLimited } from '../core/concurrency.js';
import { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../core/environment.js';
import { hasCode, isTokenenvError, TokenenvError } from '../core/errors.js';
import { assessTokenFile, judge, secondsLeftOf, wantedOf, type TokenState } from './freshness.js';
import { acceptFetched } from './accept.js';
import { stateDirectory } from '../files/paths.js';
import type { TokenSource } from '../sources/source.js';
import type { FileIdentity, FileOwner } from '../files/write.js';

export type RefreshAction = 'kept' | 'refreshed' | 'failed';

export interface RefreshResult {
  name: string;
  path: string;
  action: RefreshAction;
  /** Seconds the token on disk is valid for now (null: unknown, or no token). */
  secondsLeft: number | null;
  /** Why it was kept, or what failed (never contains a token). */
  detail: string;
  /** The source was called (counted by tests and benchmarks). */
  sourceCalled: boolean;
  /** When the token on disk stops being fresh (epoch seconds), or null when there is none. */
  freshUntil: number | null;
}

export interface RefreshOptions extends EnvironmentOptions {
  force?: boolean;
  /** Overrides the source built from the account (tests). */
  source?: TokenSource;
  /** tokenenv's private directory for locks; default stateDirectory(env). */
  stateDir?: string;
  /** Aborts a running source command or request (the watcher's shutdown). */
  signal?: AbortSignal;
  /** Refresh a fresh token too when it stops being fresh within this many seconds (the
   * watcher's timers fire a little early, by their jitter). */
  refreshWithin?: number;
  /** Called with the identity of each token file written (the watcher ignores its own writes). */
  onWritten?: (path: string, file: FileIdentity) => void;
}

interface Ownership {
  expectedUid: number;
  chownTo?: FileOwner;
}

async function ownership(token: TokenConfig, environment: TokenEnvironment): Promise<Ownership> {
  if (!token.owner) return { expectedUid: environment.euid };
  const { resolveOwner } = await import('../files/owner.js');
  const owner = resolveOwner(token.owner);
  if (owner.uid === environment.euid) return { expectedUid: owner.uid };
  if (environment.euid !== 0) throw new TokenenvError(`token ${token.name}: owner ${token.owner} needs tokenenv to run as root`);
  return { expectedUid: owner.uid, chownTo: owner };
}

export async function refreshTokenFile(token: TokenConfig, account: AccountConfig, options: RefreshOptions = {}): Promise<RefreshResult> {
  const environment = resolveEnvironment(options);
  const wanted = wantedOf(token);
  const result = (action: RefreshAction, state: TokenState, detail: string, sourceCalled = false): RefreshResult =>
    ({ name: token.name, path: token.path, action, secondsLeft: secondsLeftOf(state), detail, sourceCalled,
      freshUntil: 'freshUntil' in state ? state.freshUntil : null });
  let owners: Ownership;
  try {
    owners = await ownership(token, environment);
  } catch (error) {
    return result('failed', { state: 'missing', reason: '' }, (error as Error).message);
  }
  const keep = (state: TokenState) => state.state === 'fresh' && !options.force
    && state.freshUntil - environment.now() > (options.refreshWithin ?? 0);
  const before = assessTokenFile(token.path, owners.expectedUid, wanted, environment.now());
  if (keep(before)) return result('kept', before, before.reason);
  // A file someone else could have planted is reported, never written over.
  if (before.state === 'unusable' && hasCode(before.error, 'ERR_UNSAFE_TOKEN_FILE')) {
    return result('failed', before, before.reason);
  }
  const stateDir = options.stateDir ?? stateDirectory(environment.env);
  // Only a stale token needs locking, sources and writing: keep them off the fast path.
  const [{ withTokenLock }, { createSource }, { writeTokenFile }] = await Promise.all([
    import('../files/lock.js'), import('../sources/index.js'), import('../files/write.js'),
  ]);
  // A waiter gives up at the account's deadline: the holder's source has the same one.
  const lock = { stateDir, euid: environment.euid, waitMs: account.timeout * 1000, ...(options.signal ? { signal: options.signal } : {}) };
  try {
    return await withTokenLock(token.path, lock, async () => {
      // Someone else may have refreshed while we waited for the lock.
      const current = assessTokenFile(token.path, owners.expectedUid, wanted, environment.now());
      if (keep(current)) return result('kept', current, `${current.reason} (refreshed by another process)`);
      const source = options.source ?? await createSource(account);
      let fetched;
      try {
        const raw = await source.fetch(
          { ...(token.audience ? { audience: token.audience } : {}), ...(token.scope ? { scope: token.scope } : {}), minLifetime: token.minLifetime },
          { env: environment.env, timeoutMs: account.timeout * 1000, stateDir, ...(options.signal ? { signal: options.signal } : {}) },
        );
        fetched = acceptFetched(raw, source.description, current, wanted, account, environment.now());
      } catch (error) {
        return result('failed', current, `${(error as Error).message}${keptNote(current)}`, true);
      }
      if ('token' in current && current.token === fetched.token) {
        // Nothing to write. A fresh one (--force, or the watcher's early timer) is kept; a stale
        // one stays stale: nothing gained, a failure.
        if (current.state === 'fresh') return result('kept', current, `${current.reason} (${source.description} returned it again)`, true);
        return result('failed', current, `${source.description}: returned the current token again (${current.reason})${keptNote(current)}`, true);
      }
      const written = writeTokenFile(token.path, fetched.token, owners);
      options.onWritten?.(token.path, written);
      const after = judge(fetched.token, fetched.claims, written.mtimeMs / 1000, wanted, environment.now());
      // Stamps serve this user's shell wrappers (lib/files/stamp.ts); not a root service's tokens for others.
      if (after.state === 'fresh' && !owners.chownTo) {
        const { stampQuietly } = await import('../files/stamp.js');
        await stampQuietly(stateDir, environment.euid, token.path, after.freshUntil, after.expiresAt);
      }
      // Written, since it is better than what was there; but a token that is not fresh (a cached
      // one, with less than min_lifetime left) leaves the work undone: the watcher backs off.
      return result('refreshed', after, after.state === 'fresh' ? after.reason : `written, but not fresh: ${after.reason}`, true);
    });
  } catch (error) {
    if (isTokenenvError(error)) return result('failed', before, error.message);
    throw error;
  }
}

function keptNote(state: TokenState): string {
  if ((state.state === 'fresh' || state.state === 'stale') && (state.secondsLeft ?? 1) > 0) return '; the current token was kept';
  return '';
}

/** Refreshes every token in `tokens`, a few at a time; one failure does not stop the others. */
export async function refreshTokens(config: Config, tokens: TokenConfig[], options: RefreshOptions = {}, parallel = 4): Promise<RefreshResult[]> {
  const results: RefreshResult[] = new Array(tokens.length);
  await forEachLimited(tokens, parallel, async (token, index) => {
    results[index] = await refreshTokenFile(token, config.accounts.get(token.account)!, options);
  });
  return results;
}

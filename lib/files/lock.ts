// One refresh per token at a time, across processes: proper-lockfile's mkdir locks, kept in
// tokenenv's private directory, named after a hash of the token file's path (FNV: a name, not a secret).
import { join } from 'node:path';
import { fnv1a64 } from '../core/fnv.js';
import { TokenenvError, type ErrorCode } from '../core/errors.js';
import { ensurePrivateDirectory } from './private-dir.js';

export interface LockOptions {
  /** tokenenv's private state directory (see stateDirectory()). */
  stateDir: string;
  euid: number;
  /** How long to wait for another holder, in ms. */
  waitMs?: number;
}

export class LockError extends TokenenvError {
  override name = 'LockError';
  override readonly code: ErrorCode = 'ERR_LOCK';
}

export function lockPathFor(target: string, stateDir: string): string {
  return join(stateDir, 'locks', fnv1a64(target));
}

/** Runs `fn` while holding the lock for `target` (a token file path). */
export async function withTokenLock<T>(target: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile');
  ensurePrivateDirectory(options.stateDir, options.euid);
  const lockDir = ensurePrivateDirectory(join(options.stateDir, 'locks'), options.euid);
  const lockFile = lockPathFor(target, options.stateDir);
  const waitMs = options.waitMs ?? 60_000;
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockFile, {
      realpath: false,
      lockfilePath: `${lockFile}.lock`,
      stale: 15_000,
      update: 5_000,
      // Waiters poll quickly at first: a refresh usually takes well under a second.
      retries: { retries: Math.ceil(waitMs / 100), factor: 1.3, minTimeout: 5, maxTimeout: 100, randomize: true },
      onCompromised: (error) => { compromised = error; },
    });
  } catch (error) {
    throw new LockError(`${target}: could not lock for refresh (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); lock in ${lockDir}`);
  }
  try {
    const result = await fn();
    if (compromised) throw new LockError(`${target}: lock was lost during the refresh (${compromised.message})`);
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

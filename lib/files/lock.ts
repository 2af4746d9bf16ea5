// One refresh per token file at a time, across processes. A lock is a file in tokenenv's private
// directory, named after the *resolved* token file (the real path of its directory plus its
// name: /a/../b/t, //b/t and a symlinked directory are one file, one lock). It is created
// atomically with its holder in it (`host pid start-time nonce`, written to a private file, then
// hard-linked into place), so a waiter can tell a holder that died (kill -9, a crash) and take
// over at once, instead of waiting for the lock to age. A holder on another host (a state
// directory on NFS) cannot be checked: its lock counts as abandoned when not touched for 15 s
// (holders touch it every 5 s). Waiters give up at their own deadline.
import { linkSync, mkdirSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { TokenenvError, type ErrorCode } from '../core/errors.js';
import { fnv1a64 } from '../core/fnv.js';
import { isAlive, processStartTime, startTimeOfThisProcess } from '../core/processes.js';
import { randomHex } from '../core/random.js';
import { ensurePrivateDirectory } from './private-dir.js';
import { rmdirQuietly, unlinkQuietly } from './remove.js';

export interface LockOptions {
  /** tokenenv's private state directory (see stateDirectory()). */
  stateDir: string;
  euid: number;
  /** How long to wait for another holder, in ms (default 60 s). */
  waitMs?: number;
  /** Stops waiting (the watcher's shutdown). */
  signal?: AbortSignal;
}

export class LockError extends TokenenvError {
  override name = 'LockError';
  override readonly code: ErrorCode = 'ERR_LOCK';
}

/** A lock nobody touched for this long is abandoned, whoever holds it. */
export const STALE_MS = 15_000;
const TOUCH_MS = 5_000;
/** A breaker (see breakLock) older than this died while breaking. */
const BREAKER_STALE_MS = 5_000;

/** The token file a path names, as one string for every spelling of it. */
export function resolvedTokenFile(target: string): string {
  const absolute = isAbsolute(target) ? target : join(process.cwd(), target);
  const dir = dirname(absolute);
  try {
    return join(realpathSync.native(dir), basename(absolute));
  } catch {
    // No such directory yet: the write will fail and say why; any stable key will do.
    return join(dir, basename(absolute));
  }
}

export function lockPathFor(target: string, stateDir: string): string {
  const digest = fnv1a64(resolvedTokenFile(target));
  return join(stateDir, 'locks', `${digest}.held`);
}

interface Holder {
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat), or '-' when unknown. */
  start: string;
  nonce: string;
}

function parseHolder(text: string): Holder | undefined {
  const [host, pid, start, nonce] = text.trim().split(' ');
  if (!host || !pid || !/^\d+$/.test(pid) || !start || !nonce) return undefined;
  return { host, pid: Number(pid), start, nonce };
}

/** Whether the holder is known to be gone: on this host, and its pid is dead or now another process. */
function holderIsDead(holder: Holder): boolean {
  if (holder.host !== hostname()) return false;
  if (!isAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.start !== '-' && start !== undefined && start !== holder.start;
}

// The lock's files are tokenenv's own, in its private directory: read and written synchronously,
// a few system calls each (see write.ts). Only waiting for another holder yields the event loop.

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function readLock(lockFile: string): { text: string; holder?: Holder; mtimeMs: number } | undefined {
  try {
    const text = readFileSync(lockFile, 'latin1');
    const stat = statSync(lockFile);
    const holder = parseHolder(text);
    return { text, mtimeMs: stat.mtimeMs, ...(holder ? { holder } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock that was judged abandoned (`judged` is its content), unless it changed
 * meanwhile. One breaker at a time (a directory beside the lock), so that two waiters cannot
 * both remove a lock and then each take a new one.
 */
function breakLock(lockFile: string, judged: string): void {
  const breaker = `${lockFile}.break`;
  try {
    mkdirSync(breaker, { mode: 0o700 });
  } catch {
    const stat = statSync(breaker, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > BREAKER_STALE_MS) rmdirQuietly(breaker);
    return;
  }
  try {
    if (readText(lockFile) === judged) unlinkQuietly(lockFile);
  } finally {
    rmdirQuietly(breaker);
  }
}

/** Tries once to create the lock with `content` in it; false when someone holds it. */
function tryCreate(lockFile: string, content: string): boolean {
  const draft = `${lockFile}.${process.pid}.${randomHex(4)}`;
  writeFileSync(draft, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, lockFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(draft);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` while holding the lock for `target` (a token file path). */
export async function withTokenLock<T>(target: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  ensurePrivateDirectory(options.stateDir, options.euid);
  const lockDir = ensurePrivateDirectory(join(options.stateDir, 'locks'), options.euid);
  const lockFile = lockPathFor(target, options.stateDir);
  const waitMs = options.waitMs ?? 60_000;
  const content = `${hostname()} ${process.pid} ${startTimeOfThisProcess() ?? '-'} ${randomHex(8)}\n`;
  const started = Date.now();
  let pause = 5;
  let lastHolder: Holder | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new LockError(`${target}: cancelled while waiting for the lock`);
    try {
      if (tryCreate(lockFile, content)) break;
    } catch (error) {
      throw new LockError(`${target}: could not lock for refresh (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); lock in ${lockDir}`);
    }
    const existing = readLock(lockFile);
    if (existing) {
      lastHolder = existing.holder;
      const abandoned = (existing.holder && holderIsDead(existing.holder)) || Date.now() - existing.mtimeMs > STALE_MS;
      if (abandoned) {
        breakLock(lockFile, existing.text);
        continue;
      }
    }
    const waited = Date.now() - started;
    if (waited >= waitMs) {
      const by = lastHolder ? ` (held by pid ${lastHolder.pid}${lastHolder.host === hostname() ? '' : ` on ${lastHolder.host}`})` : '';
      throw new LockError(`${target}: another refresh of this token is still running${by}; gave up waiting after ${Math.round(waited / 100) / 10} s (lock ${lockFile})`);
    }
    // Poll quickly at first: a refresh usually takes well under a second.
    await sleep(Math.min(pause, waitMs - waited));
    pause = Math.min(100, pause * 1.5);
  }
  let lost: string | undefined;
  const touch = setInterval(() => {
    const text = readText(lockFile);
    if (text === undefined) lost = 'removed by someone else';
    else if (text !== content) lost = 'taken over by another process';
    else {
      try {
        utimesSync(lockFile, new Date(), new Date());
      } catch {
        lost = 'removed by someone else';
      }
    }
  }, TOUCH_MS);
  touch.unref();
  try {
    const result = await fn();
    if (lost) throw new LockError(`${target}: lock was lost during the refresh (${lost})`);
    return result;
  } finally {
    clearInterval(touch);
    if (readText(lockFile) === content) unlinkQuietly(lockFile);
  }
}

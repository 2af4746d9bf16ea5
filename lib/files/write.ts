// Writing token files: atomically (a new 0600 file in the same directory, fsync, rename over
// the target), never through a symbolic link, never over a file someone else owns. Readers see
// the old token or the new one, never a missing, empty or partial file. As root, the directory
// is reached without following links that someone else controls (trusted-dir.ts).
// Synchronous, like every access to the token files and tokenenv's own state (lock.ts, stamp.ts):
// a write is a dozen system calls on a local file, and through libuv's threads each would cost a
// round trip: a quarter of a watcher's CPU per refresh, 3 ms of a one-shot refresh.
import {
  closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, futimesSync, lstatSync, openSync,
  readdirSync, renameSync, statSync, writeSync, type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TokenFileError, UnsafeFileError } from '../core/errors.js';
import { isAlive } from '../core/processes.js';
import { randomHex } from '../core/random.js';
import { unlinkQuietly } from './remove.js';
import { openTrustedDirectory, type TrustedDirectory } from './trusted-dir.js';

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface WriteTokenOptions {
  /** The uid that must own the file (the effective uid, or `owner` for root-run services). */
  expectedUid: number;
  /** When running as root for another user: chown the new file to this owner. */
  chownTo?: FileOwner;
}

const TEMP_MARK = '.tokenenv-tmp-';
const STICKY = 0o1000;
/** A temporary file this old is an orphan whoever wrote it (a pid reused, another host). */
const ORPHAN_AGE_MS = 10 * 60_000;

/** What identifies a file we wrote, so that the watcher can tell its own writes from others'. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function tempPrefix(target: string): string {
  return `.${basename(target)}${TEMP_MARK}`;
}

/** A temporary name unique to this writer: its pid (so that clean-up can tell a live writer) and
 * randomness (two writes at once in one process). */
function tempName(target: string): string {
  return join(dirname(target), `${tempPrefix(target)}${process.pid}-${randomHex(6)}`);
}

/** Whether the temporary file `name` (in `dir`) was left by a writer that is gone. */
function isOrphan(dir: string, name: string, prefix: string): boolean {
  const pid = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length))?.[1];
  if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) return true;
  const stat = lstatSync(join(dir, name), { throwIfNoEntry: false });
  return !!stat && Date.now() - stat.mtimeMs > ORPHAN_AGE_MS;
}

function lstatOrUndefined(path: string, shown = path): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenFileError(shown, `cannot inspect: ${(error as NodeJS.ErrnoException).code}`);
  }
}

/** Refuses targets that an atomic rename cannot replace safely. `at` reaches `target` (through
 * an opened directory, for root); messages name `target`. */
function checkTarget(target: string, at: string, options: WriteTokenOptions): void {
  const dir = dirname(target);
  let dirStat: Stats;
  try {
    dirStat = statSync(dirname(at));
  } catch (error) {
    throw new TokenFileError(dir, `token directory unusable (${(error as NodeJS.ErrnoException).code})`);
  }
  if (!dirStat.isDirectory()) throw new TokenFileError(dir, 'token directory is not a directory');
  if (dirStat.mode & 0o002 && !(dirStat.mode & STICKY)) {
    throw new UnsafeFileError(dir, 'token directory is writable by every user without the sticky bit: anyone could replace the token');
  }
  const existing = lstatOrUndefined(at, target);
  if (!existing) return;
  if (existing.isSymbolicLink()) {
    throw new UnsafeFileError(target, 'is a symbolic link: tokenenv never writes through links; remove it or point the config at the real file');
  }
  if (!existing.isFile()) throw new TokenFileError(target, 'exists and is not a regular file');
  if (existing.uid !== options.expectedUid) {
    throw new UnsafeFileError(target, `owned by uid ${existing.uid}, not by uid ${options.expectedUid}: refusing to replace another user's file`);
  }
}

// Reading the directory at every write would make a watcher of N tokens in one directory O(N²):
// each directory is read once per ORPHAN_RESCAN_MS per process, and each write looks only at the
// temporary files of its own token that the last reading found (a name is never reused: it holds
// a pid and 48 random bits). One still in use is looked at again at the token's next write.
const ORPHAN_RESCAN_MS = 3600_000;
const orphanScans = new Map<string, { at: number; byPrefix: Map<string, string[]> }>();

/** `key` names the directory (its path); `dir` is where to read it (an opened one, for root). */
function temporaryFilesOf(key: string, dir: string, prefix: string): string[] {
  let scan = orphanScans.get(key);
  if (!scan || Date.now() - scan.at > ORPHAN_RESCAN_MS) {
    const byPrefix = new Map<string, string[]>();
    for (const name of readdirOrEmpty(dir)) {
      const mark = name.indexOf(TEMP_MARK);
      if (!name.startsWith('.') || mark < 0) continue;
      const key = name.slice(0, mark + TEMP_MARK.length);
      const names = byPrefix.get(key) ?? [];
      names.push(name);
      byPrefix.set(key, names);
    }
    scan = { at: Date.now(), byPrefix };
    orphanScans.set(key, scan);
  }
  return scan.byPrefix.get(prefix) ?? [];
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes temporary files left by writers that died; a live writer's file is left alone. `at`
 * is the target reached through its opened directory (root), else the target itself. */
function removeOrphans(target: string, at: string): void {
  const dir = dirname(at);
  const prefix = tempPrefix(target);
  const names = temporaryFilesOf(dirname(target), dir, prefix);
  const left = [];
  for (const name of names) {
    if (!isOrphan(dir, name, prefix)) {
      if (lstatSync(join(dir, name), { throwIfNoEntry: false })) left.push(name);
      continue;
    }
    unlinkQuietly(join(dir, name));
  }
  orphanScans.get(dirname(target))?.byPrefix.set(prefix, left);
}

/** Forgets which directories were read for orphans (tests; a long-lived process rereads hourly). */
export function forgetOrphanScans(): void {
  orphanScans.clear();
}

/**
 * Writes `token` plus one newline to `target` atomically, and returns what identifies the new
 * file. Call it while holding the token's lock (withTokenLock): temporary files of earlier
 * writers that died are removed.
 */
export function writeTokenFile(target: string, token: string, options: WriteTokenOptions): FileIdentity {
  const dir = tokenDirectory(target, options);
  try {
    const at = join(dir.path, basename(target));
    checkTarget(target, at, options);
    removeOrphans(target, at);
    return writeAtomically(at, `${token}\n`, options, target);
  } finally {
    dir.close();
  }
}

/** The target's directory: as root, opened without following links that others control (the
 * file's owner and root are the only users trusted with its directories); else its path. */
function tokenDirectory(target: string, options: WriteTokenOptions): TrustedDirectory {
  if (process.geteuid?.() !== 0) return { path: dirname(target), close: () => undefined };
  return openTrustedDirectory(dirname(target), [...new Set([0, options.chownTo?.uid ?? options.expectedUid])]);
}

export interface WriteAtomicallyOptions extends Pick<WriteTokenOptions, 'chownTo'> {
  /** fsync the new file before it replaces the old one (default): after a crash the target is
   * the old file or the new one, whole, never an empty one. The directory is not synced: a crash
   * may bring back the old file, which the next refresh replaces again. Off for files that are
   * only caches or reports (stamps, the watcher's status). */
  durable?: boolean;
}

/** Replaces `target` with `content` (mode 0600) so that readers see the old or the new file.
 * Messages name `shown` (the target, when `target` goes through an opened directory). */
export function writeAtomically(target: string, content: string, options: WriteAtomicallyOptions = {}, shown = target): FileIdentity {
  const durable = options.durable ?? true;
  const temp = tempName(target);
  let identity: FileIdentity;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let fd: number | undefined;
  try {
    fd = openSync(temp, flags, 0o600);
    const bytes = Buffer.from(content);
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
    if (options.chownTo) fchownSync(fd, options.chownTo.uid, options.chownTo.gid);
    fchmodSync(fd, 0o600); // the umask cannot widen it, but it could narrow it below 0600
    // A time set through Node has whole microseconds, one the shell stamps can copy exactly
    // (lib/files/stamp.ts), so stamping never has to touch the file again.
    const now = Date.now() / 1000;
    futimesSync(fd, now, now);
    if (durable) fsyncSync(fd);
    const { dev, ino, size, mtimeMs } = fstatSync(fd);
    identity = { dev, ino, size, mtimeMs };
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    unlinkQuietly(temp);
    if (error instanceof TokenFileError) throw error;
    throw new TokenFileError(shown, `cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return identity;
}

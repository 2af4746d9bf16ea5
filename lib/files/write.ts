// Writing token files: atomically (a new 0600 file in the same directory, fsync, rename over
// the target), never through a symbolic link, never over a file someone else owns. Readers see
// the old token or the new one, never a missing, empty or partial file. As root, the directory
// is reached without following links that someone else controls (trusted-dir.ts).
import { closeSync, constants, openSync, promises as fsp, readSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TokenFileError, UnsafeFileError } from '../core/errors.js';
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

function tempPrefix(target: string): string {
  return `.${basename(target)}${TEMP_MARK}`;
}

async function lstatOrUndefined(path: string, shown = path): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenFileError(shown, `cannot inspect: ${(error as NodeJS.ErrnoException).code}`);
  }
}

/** Refuses targets that an atomic rename cannot replace safely. `at` reaches `target` (through
 * an opened directory, for root); messages name `target`. */
async function checkTarget(target: string, at: string, options: WriteTokenOptions): Promise<void> {
  const dir = dirname(target);
  let dirStat: Stats;
  try {
    dirStat = await fsp.stat(dirname(at));
  } catch (error) {
    throw new TokenFileError(dir, `token directory unusable (${(error as NodeJS.ErrnoException).code})`);
  }
  if (!dirStat.isDirectory()) throw new TokenFileError(dir, 'token directory is not a directory');
  if (dirStat.mode & 0o002 && !(dirStat.mode & STICKY)) {
    throw new UnsafeFileError(dir, 'token directory is writable by every user without the sticky bit: anyone could replace the token');
  }
  const existing = await lstatOrUndefined(at, target);
  if (!existing) return;
  if (existing.isSymbolicLink()) {
    throw new UnsafeFileError(target, 'is a symbolic link: tokenenv never writes through links; remove it or point the config at the real file');
  }
  if (!existing.isFile()) throw new TokenFileError(target, 'exists and is not a regular file');
  if (existing.uid !== options.expectedUid) {
    throw new UnsafeFileError(target, `owned by uid ${existing.uid}, not by uid ${options.expectedUid}: refusing to replace another user's file`);
  }
}

// Temporary files left by writers that died are removed by the next writer of the same token,
// which holds that token's lock, so no live writer's file is touched. Reading the directory on
// every write would make a watcher of N tokens in one directory O(N²): each directory is read once
// per ORPHAN_RESCAN_MS per process, and each write removes the orphans of its own token that the
// last reading found (a name is never reused: it has 48 random bits).
const ORPHAN_RESCAN_MS = 3600_000;
const orphanScans = new Map<string, { at: number; byPrefix: Map<string, string[]> }>();

/** `key` names the directory (its path); `dir` is where to read it (an opened one, for root). */
async function orphansOf(key: string, dir: string, prefix: string): Promise<string[]> {
  let scan = orphanScans.get(key);
  if (!scan || Date.now() - scan.at > ORPHAN_RESCAN_MS) {
    const byPrefix = new Map<string, string[]>();
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
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
  const names = scan.byPrefix.get(prefix) ?? [];
  scan.byPrefix.delete(prefix);
  return names;
}

/** Removes temporary files left by writers that died (callers hold the token's lock); `at` is
 * the target reached through its opened directory (root), else the target itself. */
async function removeOrphans(target: string, at: string): Promise<void> {
  const dir = dirname(at);
  const names = await orphansOf(dirname(target), dir, tempPrefix(target));
  await Promise.all(names.map((n) => fsp.unlink(join(dir, n)).catch(() => undefined)));
}

/** Forgets which directories were read for orphans (tests; a long-lived process rereads hourly). */
export function forgetOrphanScans(): void {
  orphanScans.clear();
}

/**
 * Writes `token` plus one newline to `target` atomically. Call it while holding the token's
 * lock (withTokenLock): orphaned temporary files of earlier writers are removed.
 */
export async function writeTokenFile(target: string, token: string, options: WriteTokenOptions): Promise<void> {
  const dir = tokenDirectory(target, options);
  try {
    const at = join(dir.path, basename(target));
    await checkTarget(target, at, options);
    await removeOrphans(target, at);
    await writeAtomically(at, `${token}\n`, options, target);
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
  /** fsync the file and its directory (default). Off for files that are only caches or reports
   * (stamps, the watcher's status): after a crash they may be lost, never torn for a reader. */
  durable?: boolean;
}

/** Replaces `target` with `content` (mode 0600) so that readers see the old or the new file.
 * Messages name `shown` (the target, when `target` goes through an opened directory). */
export async function writeAtomically(target: string, content: string, options: WriteAtomicallyOptions = {}, shown = target): Promise<void> {
  const durable = options.durable ?? true;
  const temp = join(dirname(target), `${tempPrefix(target)}${await randomHex(6)}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(temp, flags, 0o600);
    await handle.writeFile(content);
    if (options.chownTo) await handle.chown(options.chownTo.uid, options.chownTo.gid);
    await handle.chmod(0o600); // the umask cannot widen it, but it could narrow it below 0600
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    if (error instanceof TokenFileError) throw error;
    throw new TokenFileError(shown, `cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (durable) await syncDirectory(dirname(target));
}

// The rename is durable only once the directory itself is on disk.
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, constants.O_RDONLY).catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

/** `bytes` random bytes as hex, for temporary names others cannot guess (and so cannot plant in a
 * shared directory): from /dev/urandom, as node:crypto would cost a refresh 2–3 ms to load. */
async function randomHex(bytes: number): Promise<string> {
  const buffer = Buffer.alloc(bytes);
  try {
    const fd = openSync('/dev/urandom', constants.O_RDONLY);
    try {
      if (readSync(fd, buffer, 0, bytes, null) === bytes) return buffer.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom here: below.
  }
  return (await import('node:crypto')).randomBytes(bytes).toString('hex');
}

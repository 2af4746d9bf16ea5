// Freshness stamps for the shell wrappers, which read them with shell builtins alone (no process).
//
// A stamp at `<state dir>/fresh/<encodeName(token directory)>/<token file name>` holds one line
// "<fresh-until> <exp or -> <dev>:<ino>:<size>:<mtime ns>" (epoch seconds, then the identity of
// the token file it vouches for) and has, as its own modification time, exactly the token file's.
// tokenenv writes one only for a regular file that it has just checked (owned by the user, not a
// link, not writable by others, its content the token it judged). shell/tokenenv.sh trusts a
// stamp only when the stamp, its directories and the token file are the user's own, neither is a
// link, and `-nt`/`-ot` find the two modification times equal: the very file tokenenv checked,
// unchanged since (bash and zsh compare nanoseconds). A file planted or swapped in since, an
// older copy moved into place, or a stamp made by anyone else sends the wrapper to the slow path.
import { closeSync, constants, fstatSync, futimesSync, openSync, readSync, renameSync, writeSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomHex } from '../core/random.js';
import { decodeClaims } from '../token/claims.js';
import { MAX_TOKEN_BYTES } from '../token/syntax.js';
import { encodeName } from './name-encoding.js';
import { ensurePrivateDirectory } from './private-dir.js';
import { unlinkQuietly } from './remove.js';

const NAME_MAX = 255;

/**
 * Where the stamp of `tokenPath` lives; undefined for a path that gets none (relative, naming a
 * directory, or in a directory whose encoded name is too long). Split and joined as strings,
 * exactly as shell/tokenenv.sh does, so that both sides name the same file.
 */
export function stampPath(stateDir: string, tokenPath: string): string | undefined {
  const slash = tokenPath.lastIndexOf('/');
  const name = tokenPath.slice(slash + 1);
  if (!tokenPath.startsWith('/') || name === '' || name === '.' || name === '..') return undefined;
  const dir = encodeName(tokenPath.slice(0, slash) || '/');
  if (dir.length > NAME_MAX) return undefined;
  return `${stateDir}/fresh/${dir}/${name}`;
}

/** The stamp's line: what the shell reads (fields 1–2) and the identity it vouches for (field 3). */
export function stampLine(freshUntil: number, expiresAt: number | undefined, token: Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs'>): string {
  return `${Math.floor(freshUntil)} ${expiresAt === undefined ? '-' : Math.floor(expiresAt)} ${token.dev}:${token.ino}:${token.size}:${token.mtimeNs}\n`;
}

// Node sets file times through a double that libuv cuts to whole microseconds, so a time with
// nanoseconds cannot be copied exactly: the token file's time is first cut to its microsecond
// (by less than a microsecond), then both files get the same double. Half a microsecond keeps
// rounding in the conversion from dropping to the microsecond below.
function microsecondTime(mtimeNs: bigint): number {
  return Number(mtimeNs / 1_000_000_000n) + (Number((mtimeNs % 1_000_000_000n) / 1000n) + 0.5) / 1e6;
}

function readAll(fd: number, size: number): Buffer {
  const buffer = Buffer.alloc(size + 1);
  let length = 0;
  for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, length)) > 0;) length += n;
  return buffer.subarray(0, length);
}

/** The token file, opened and checked as the shell fast path will trust it; undefined when it is not such a file. */
function openCheckedToken(tokenPath: string, euid: number): { fd: number; stat: BigIntStats; content: Buffer } | undefined {
  let fd: number;
  try {
    fd = openSync(tokenPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const stat = fstatSync(fd, { bigint: true });
  if (!stat.isFile() || stat.uid !== BigInt(euid) || stat.mode & 0o002n || stat.size > BigInt(MAX_TOKEN_BYTES)) {
    closeSync(fd);
    return undefined;
  }
  return { fd, stat, content: readAll(fd, Number(stat.size)) };
}

/** The expiry of `content` (null: none) when it is the token that was judged (its expiry within a second of `expiresAt`); undefined when not. */
function judgedExpiry(content: Buffer, expiresAt: number | undefined): number | null | undefined {
  const claims = decodeClaims(content.toString('latin1').trim());
  const exp = claims.format === 'jwt' && claims.expiresAt !== undefined ? Math.floor(claims.expiresAt) : null;
  if (exp === null || expiresAt === undefined) return exp === null && expiresAt === undefined ? null : undefined;
  return Math.abs(exp - expiresAt) <= 1 ? exp : undefined;
}

/**
 * Writes the stamp of `tokenPath`; call it after the token file is written and judged fresh
 * until `freshUntil` (expiring at `expiresAt`). Returns whether a stamp was written: none for a
 * file the fast path must not trust, or one that changed under us.
 */
export async function writeStamp(stateDir: string, euid: number, tokenPath: string, freshUntil: number, expiresAt: number | undefined): Promise<boolean> {
  const path = stampPath(stateDir, tokenPath);
  if (!path) return false;
  const token = openCheckedToken(tokenPath, euid);
  if (!token) return false;
  let temp: string | undefined;
  let tempFd: number | undefined;
  try {
    const exp = judgedExpiry(token.content, expiresAt);
    if (exp === undefined) return false;
    const time = microsecondTime(token.stat.mtimeNs);
    if (token.stat.mtimeNs % 1000n !== 0n) futimesSync(token.fd, time, time);
    const after = fstatSync(token.fd, { bigint: true });
    // A writer that changed the file in place meanwhile: its content is not what was judged.
    if (!readAll(token.fd, Number(after.size)).equals(token.content)) return false;

    ensurePrivateDirectory(stateDir, euid);
    ensurePrivateDirectory(join(stateDir, 'fresh'), euid);
    ensurePrivateDirectory(dirname(path), euid);
    temp = join(dirname(path), `.${randomHex(6)}.tmp`);
    tempFd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeSync(tempFd, stampLine(exp === null ? freshUntil : Math.min(freshUntil, exp), exp ?? undefined, after));
    futimesSync(tempFd, time, time);
    // A file system with coarser times than the token's cannot carry the binding: no stamp.
    if (fstatSync(tempFd, { bigint: true }).mtimeNs !== after.mtimeNs) return false;
    closeSync(tempFd);
    tempFd = undefined;
    renameSync(temp, path);
    temp = undefined;
    return true;
  } finally {
    closeSync(token.fd);
    if (tempFd !== undefined) closeSync(tempFd);
    if (temp !== undefined) unlinkQuietly(temp);
  }
}

/** writeStamp, best effort: a stamp that cannot be written only costs the wrappers a slow path. */
export async function stampQuietly(stateDir: string, euid: number, tokenPath: string, freshUntil: number, expiresAt: number | undefined): Promise<void> {
  await writeStamp(stateDir, euid, tokenPath, freshUntil, expiresAt).catch(() => undefined);
}

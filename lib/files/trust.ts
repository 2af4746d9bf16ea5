// "May I trust this file?" for the files that steer tokenenv: the config and the secret files it
// names (password_file, client_secret_file). As ssh and sudo do, a file is used only when nobody
// but the user (or root) can have written it:
//
// - it is a regular file (a FIFO or device is refused without blocking), at most `maxBytes`;
// - it is owned by the effective uid or by root, and not writable by group or others;
// - every directory from / to it (after resolving links: where it really is) is owned by the
//   user or root; one writable by others needs the sticky bit (/tmp), one writable by its group
//   needs the sticky bit or to be the user's own group (osg-token-renewer's /etc/osg/tokens is
//   root:osg-token-svc 0770, and its service account reads password files there).
//
// A secret file readable by every user is refused too; one readable by its group is a warning
// (the group may be how a service account was meant to read it, as with osg's config.ini 0640).
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { TokenenvError, type ErrorCode } from '../core/errors.js';

/** A config larger than this is refused. Generated configs are big (20,000 tokens in one config,
 * a size the watcher is measured at, take about 2 MB), but not this big. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** A password or client secret larger than this is refused. */
export const MAX_SECRET_BYTES = 64 * 1024;

const STICKY = 0o1000;

/** A config or secret file that must not be used; `message` names the file and the fix. */
export class UntrustedFileError extends TokenenvError {
  override name = 'UntrustedFileError';
  // The fix is the user's, like a broken config: exit 2.
  override readonly code: ErrorCode = 'ERR_CONFIG';
  constructor(readonly path: string, readonly reason: string, readonly errno?: string) {
    super(`${path}: ${reason}`);
  }
}

export interface TrustOptions {
  /** The user the file must belong to (besides root): the effective uid. */
  euid: number;
  /** The user's own group: a directory writable by this group is fine. Default: process.getegid(). */
  egid?: number;
  maxBytes: number;
  /** A secret: refused when every user can read it, a warning when its group can. */
  secret?: boolean;
  /** false: judge the file only, without reading its contents (text is then ''). */
  read?: boolean;
}

export interface TrustedFile {
  text: string;
  stat: Stats;
  /** One-line notes, each naming the file and the fix. */
  warnings: string[];
}

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function describeType(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Why a file at `path` with `stat` may have been written by someone else, with the fix. */
export function fileWriterProblem(path: string, stat: Stats, euid: number): string | undefined {
  if (stat.uid !== euid && stat.uid !== 0) {
    return `owned by uid ${stat.uid}, not by you (uid ${euid}) or root: another user could have written it; if it is yours: sudo chown ${euid} ${path}`;
  }
  if (stat.mode & 0o022) return `writable by ${stat.mode & 0o002 ? 'every user' : 'its group'} (mode ${octal(stat.mode)}): chmod go-w ${path}`;
  return undefined;
}

/**
 * Why a directory could let someone else replace what is in it: an owner outside `uids`, or
 * write access for others (without the sticky bit) or for a group outside `gids`.
 */
export function directoryProblem(path: string, stat: Stats, uids: readonly number[], gids: readonly number[]): string | undefined {
  if (!uids.includes(stat.uid)) {
    return `directory owned by uid ${stat.uid}, not by ${uids.map((u) => `uid ${u}`).join(' or ')}: its owner could replace what is in it`;
  }
  if (stat.mode & STICKY) return undefined;
  if (stat.mode & 0o002) return `directory writable by every user without the sticky bit (mode ${octal(stat.mode)}): chmod o-w ${path}`;
  if (stat.mode & 0o020 && !gids.includes(stat.gid)) {
    return `directory writable by group ${stat.gid} (mode ${octal(stat.mode)}): its members could replace what is in it; chmod g-w ${path}`;
  }
  return undefined;
}

/** Every directory from / down to the real location of `realFile` must be the user's or root's. */
function chainProblem(realFile: string, uids: readonly number[], gids: readonly number[]): string | undefined {
  for (let dir = dirname(realFile); ; dir = dirname(dir)) {
    const problem = directoryProblem(dir, statSync(dir), uids, gids);
    if (problem) return `in ${dir}: ${problem}`;
    if (dir === '/') return undefined;
  }
}

/** Who can read a secret kept in a file with `mode`: every user, its group, or nobody else. */
export function secretExposure(mode: number): 'everyone' | 'group' | undefined {
  if (mode & 0o004) return 'everyone';
  if (mode & 0o040) return 'group';
  return undefined;
}

/** The verdict on a secret readable by others: a problem (every user) or a warning (the group). */
export function secretExposureNote(path: string, mode: number, what = 'a secret'): { problem?: string; warning?: string } {
  const exposure = secretExposure(mode);
  if (exposure === 'everyone') return { problem: `holds ${what} and is readable by every user (mode ${octal(mode)}): chmod 600 ${path}` };
  if (exposure === 'group') return { warning: `${path}: holds ${what} and is readable by its group (mode ${octal(mode)}): chmod 600 ${path} unless the group is meant to read it` };
  return {};
}

// O_NONBLOCK: opening a FIFO must not hang (fstat then refuses it); O_NOCTTY: never a terminal.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK;

/** Reads `path` when it may be trusted (see the top of this file); throws UntrustedFileError. */
export function readTrustedFile(path: string, options: TrustOptions): TrustedFile {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UntrustedFileError(path, `cannot read (${code})`, code);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UntrustedFileError(path, `is ${describeType(stat)}, not a regular file`);
    if (stat.size > options.maxBytes) throw new UntrustedFileError(path, `larger than ${options.maxBytes} bytes: not read`);
    const writer = fileWriterProblem(path, stat, options.euid);
    if (writer) throw new UntrustedFileError(path, writer);
    const uids = [...new Set([options.euid, 0])];
    const gids = [options.egid ?? process.getegid?.() ?? options.euid];
    let real: string;
    try {
      real = realpathSync.native(path);
      const there = statSync(real);
      if (there.ino !== stat.ino || there.dev !== stat.dev) throw new Error('replaced');
    } catch {
      throw new UntrustedFileError(path, 'was replaced while being read: try again');
    }
    const chain = chainProblem(real, uids, gids);
    if (chain) throw new UntrustedFileError(path, chain);
    const warnings: string[] = [];
    if (options.secret) {
      const { problem, warning } = secretExposureNote(path, stat.mode);
      if (problem) throw new UntrustedFileError(path, problem);
      if (warning) warnings.push(warning);
    }
    const text = options.read === false ? '' : readBounded(fd, path, stat.size).toString('utf8');
    return { text, stat, warnings };
  } finally {
    closeSync(fd);
  }
}

/** Reads the `size` bytes fstat promised (already checked against the bound); a file that
 * grows meanwhile is refused rather than read on without end. */
function readBounded(fd: number, path: string, size: number): Buffer {
  const buffer = Buffer.alloc(size + 1);
  let length = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, length, buffer.length - length, null);
    } catch (error) {
      throw new UntrustedFileError(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? 'EIO'})`);
    }
    if (n === 0) break;
    length += n;
    if (length > size) {
      buffer.fill(0);
      throw new UntrustedFileError(path, 'grew while being read: try again');
    }
  }
  const content = Buffer.from(buffer.subarray(0, length));
  buffer.fill(0);
  return content;
}

/** readTrustedFile for a secret: bounded to MAX_SECRET_BYTES, refused when readable by all. */
export function readSecretFile(path: string, euid: number, options: Pick<TrustOptions, 'read'> = {}): TrustedFile {
  return readTrustedFile(path, { euid, maxBytes: MAX_SECRET_BYTES, secret: true, ...options });
}

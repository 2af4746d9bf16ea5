// Reading a token file safely: bounded, never blocking on a planted FIFO, refusing implicit
// locations that another user could have planted. One sync and one async reader share every
// decision; only the system calls differ.
import { closeSync, constants, fstatSync, lstatSync, openSync, promises as fsp, readSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { TokenFileError, TokenTooLargeError, UnsafeFileError, type TokenenvError } from '../core/errors.js';
import { MAX_TOKEN_BYTES } from '../token/syntax.js';

export interface TokenFileRequest {
  path: string;
  /**
   * Implicit discovery locations (steps 3–4) must be regular files owned by `euid` and not
   * writable by others. An explicit BEARER_TOKEN_FILE is trusted as given and may be a pipe.
   */
  implicit: boolean;
  euid: number;
  /** Implicit only: refuse a symbolic link instead of following one we own (refresh targets). */
  noSymlinks?: boolean;
  /** Explicit only: accept nothing but a regular file, and never block opening a FIFO (a `file`
   * source: a pipe or device there would hang or stream without end). */
  regularOnly?: boolean;
}

export type TokenFileOutcome =
  | { kind: 'content'; bytes: Buffer; warnings: string[]; modifiedAt: number }
  | { kind: 'missing'; reason: string }
  | { kind: 'error'; error: TokenenvError };

const READ_LIMIT = MAX_TOKEN_BYTES + 1;
// O_NONBLOCK: opening a FIFO planted at an implicit location must not hang; fstat then refuses it.
const IMPLICIT_FLAGS = constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const EXPLICIT_FLAGS = constants.O_RDONLY | constants.O_NOCTTY;
const REGULAR_ONLY_FLAGS = EXPLICIT_FLAGS | constants.O_NONBLOCK;

function openFlags(request: TokenFileRequest): number {
  if (request.implicit) return IMPLICIT_FLAGS;
  return request.regularOnly ? REGULAR_ONLY_FLAGS : EXPLICIT_FLAGS;
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EIO';
}

const OPEN_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent of this path is not a directory',
  ENAMETOOLONG: 'path too long',
  EISDIR: 'is a directory, not a token file',
};

function openFailure(request: TokenFileRequest, error: unknown, viaSymlink: boolean): TokenFileOutcome {
  const code = errnoOf(error);
  if (code === 'ENOENT') {
    return { kind: 'missing', reason: viaSymlink ? 'dangling symbolic link' : 'does not exist' };
  }
  const reason = `cannot open: ${OPEN_ERRORS[code] ?? 'I/O error'} (${code})`;
  return { kind: 'error', error: new TokenFileError(request.path, reason, code) };
}

function describeType(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** A symbolic link at an implicit location is followed only when the user owns it. */
function symlinkProblem(request: TokenFileRequest, link: Stats): UnsafeFileError | undefined {
  if (request.noSymlinks) return new UnsafeFileError(request.path, 'is a symbolic link: tokenenv never writes through links; remove it or point the config at the real file');
  if (link.uid === request.euid) return undefined;
  return new UnsafeFileError(request.path,
    `symbolic link owned by uid ${link.uid}, not by uid ${request.euid}: refusing a link another user could have planted`);
}

/** Why the opened file must not be read (an error), and what to warn about. */
function checkOpened(request: TokenFileRequest, stat: Stats): { error?: TokenenvError; warnings: string[] } {
  const { path } = request;
  if (stat.isDirectory()) return { error: new TokenFileError(path, 'is a directory, not a token file', 'EISDIR'), warnings: [] };
  if (!stat.isFile() && request.regularOnly) {
    return { error: new TokenFileError(path, `is ${describeType(stat)}, not a regular file: a token source must be a file`), warnings: [] };
  }
  if (!request.implicit) return { warnings: [] };
  if (!stat.isFile()) {
    return { error: new TokenFileError(path, `is ${describeType(stat)}: only BEARER_TOKEN_FILE may name a pipe or device`), warnings: [] };
  }
  if (stat.uid !== request.euid) {
    return { error: new UnsafeFileError(path,
      `owned by uid ${stat.uid}, not by uid ${request.euid}: refusing a token another user could have planted`), warnings: [] };
  }
  if (stat.mode & 0o002) {
    return { error: new UnsafeFileError(path,
      `writable by every user (mode ${octal(stat.mode)}): another user could have replaced the token; chmod 600 it`), warnings: [] };
  }
  if (stat.mode & 0o077) {
    return { warnings: [`${path} is accessible by group or others (mode ${octal(stat.mode)}): chmod 600 it`] };
  }
  return { warnings: [] };
}


interface PreparedRead {
  buffer: Buffer;
  /** A regular file's size: reading stops there (one read). */
  expected: number | undefined;
  warnings: string[];
}

/** What the sync and async readers share once the file is open: the checks and the buffer. */
function prepareRead(request: TokenFileRequest, stat: Stats): PreparedRead | { outcome: TokenFileOutcome } {
  const { error, warnings } = checkOpened(request, stat);
  if (error) return { outcome: { kind: 'error', error } };
  // Regular files are read up to their size (one read); pipes until EOF; never past the limit.
  if (!stat.isFile()) return { buffer: Buffer.allocUnsafe(READ_LIMIT), expected: undefined, warnings };
  if (stat.size > MAX_TOKEN_BYTES) return { outcome: { kind: 'error', error: new TokenTooLargeError(request.path, MAX_TOKEN_BYTES) } };
  return { buffer: Buffer.allocUnsafe(Math.max(stat.size, 1)), expected: stat.size, warnings };
}

/** End of file, the regular file's size reached, or the bound reached. */
function readDone(read: PreparedRead, bytesRead: number, length: number): boolean {
  return bytesRead === 0 || length === read.expected || length === read.buffer.length;
}

function finish(request: TokenFileRequest, buffer: Buffer, length: number, warnings: string[], stat: Stats): TokenFileOutcome {
  if (length > MAX_TOKEN_BYTES) return { kind: 'error', error: new TokenTooLargeError(request.path, MAX_TOKEN_BYTES) };
  // A regular file fills its buffer exactly; a view is made only for what a pipe left short.
  const bytes = length === buffer.length ? buffer : buffer.subarray(0, length);
  return { kind: 'content', bytes, warnings, modifiedAt: stat.mtimeMs / 1000 };
}

function readFailure(request: TokenFileRequest, error: unknown): TokenFileOutcome {
  const code = errnoOf(error);
  return { kind: 'error', error: new TokenFileError(request.path, `cannot read: ${OPEN_ERRORS[code] ?? 'I/O error'} (${code})`, code) };
}

/**
 * openSync without the stack trace its error would carry: discovery expects files to be missing
 * (a token in /tmp leaves $XDG_RUNTIME_DIR/bt_u<euid> absent), and capturing the stack was half
 * the cost of such a step (8 of 19 µs). The error never leaves this module with that stack.
 */
function openWithoutStack(path: string, flags: number): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return openSync(path, flags);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function readTokenFileSync(request: TokenFileRequest): TokenFileOutcome {
  let fd: number;
  let viaSymlink = false;
  try {
    fd = openWithoutStack(request.path, openFlags(request));
  } catch (error) {
    if (!(request.implicit && errnoOf(error) === 'ELOOP')) return openFailure(request, error, isSymlinkSync(request.path));
    viaSymlink = true;
    try {
      const problem = symlinkProblem(request, lstatSync(request.path));
      if (problem) return { kind: 'error', error: problem };
      fd = openSync(request.path, IMPLICIT_FLAGS & ~constants.O_NOFOLLOW);
    } catch (retryError) {
      return openFailure(request, retryError, viaSymlink);
    }
  }
  try {
    return readOpenedSync(fd, request);
  } finally {
    closeSync(fd);
  }
}

/** Reads a token from an already open descriptor (e.g. 0 for standard input), bounded and checked. */
export function readOpenedSync(fd: number, request: TokenFileRequest): TokenFileOutcome {
  try {
    const stat = fstatSync(fd);
    const read = prepareRead(request, stat);
    if ('outcome' in read) return read.outcome;
    let length = 0;
    for (;;) {
      const n = readSync(fd, read.buffer, length, read.buffer.length - length, null);
      length += n;
      if (readDone(read, n, length)) break;
    }
    return finish(request, read.buffer, length, read.warnings, stat);
  } catch (error) {
    return readFailure(request, error);
  }
}

export async function readTokenFile(request: TokenFileRequest): Promise<TokenFileOutcome> {
  let handle: FileHandle;
  let viaSymlink = false;
  try {
    handle = await fsp.open(request.path, openFlags(request));
  } catch (error) {
    if (!(request.implicit && errnoOf(error) === 'ELOOP')) return openFailure(request, error, await isSymlink(request.path));
    viaSymlink = true;
    try {
      const problem = symlinkProblem(request, await fsp.lstat(request.path));
      if (problem) return { kind: 'error', error: problem };
      handle = await fsp.open(request.path, IMPLICIT_FLAGS & ~constants.O_NOFOLLOW);
    } catch (retryError) {
      return openFailure(request, retryError, viaSymlink);
    }
  }
  try {
    const stat = await handle.stat();
    const read = prepareRead(request, stat);
    if ('outcome' in read) return read.outcome;
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(read.buffer, length, read.buffer.length - length, null);
      length += bytesRead;
      if (readDone(read, bytesRead, length)) break;
    }
    return finish(request, read.buffer, length, read.warnings, stat);
  } catch (error) {
    return readFailure(request, error);
  } finally {
    await handle.close();
  }
}

function isSymlinkSync(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false;
  }
}

async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await fsp.lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}

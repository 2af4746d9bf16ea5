// Opening the directory of a token file that root writes for itself or for another `owner`,
// without following a link someone else controls. A root service that resolves
// /home/alice/tokens/t.token by path follows whatever alice put at /home/alice/tokens (a link to
// /root/.ssh, /etc/cron.d...) and creates a file there. So, component by component from /:
//
// - each directory is opened with O_DIRECTORY|O_NOFOLLOW relative to the one before (through
//   /proc/self/fd/N/NAME: Node has no openat, and the kernel resolves that magic link to the
//   very directory already opened, wherever it has been moved since);
// - each directory must be owned by root or by the owner of the token;
// - a symbolic link is followed only when nobody but root controls it: the link is root's and
//   the directory holding it is root's and writable only by root (or sticky). /var/run -> /run
//   is fine; a link in alice's home is refused, whoever owns the link;
// - the token file is then created and renamed through /proc/self/fd/DIRFD/NAME, so it lands in
//   the directory that was checked even if a path component is swapped meanwhile.
//
// Without /proc (not Linux) the same checks run on path strings, with a residual race between
// the check and the write (documented in the README).
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { TokenFileError, UnsafeFileError } from '../core/errors.js';
import { directoryProblem, octal } from './trust.js';

export interface TrustedDirectory {
  /** A path that names the opened directory itself (/proc/self/fd/N), for the files in it. */
  path: string;
  close(): void;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const MAX_LINKS = 40; // as the kernel's ELOOP limit

let procFd: boolean | undefined;
function haveProcFd(): boolean {
  procFd ??= existsSync('/proc/self/fd');
  return procFd;
}

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'EIO';
}

/** Nobody but root can change a link in a directory with this stat. */
function onlyRootControls(dir: Stats): boolean {
  return directoryProblem('', dir, [0], [0]) === undefined;
}

/**
 * Opens `dir` (absolute) as described at the top, refusing any directory not owned by one of
 * `uids` and any link not controlled by root alone. Throws UnsafeFileError or TokenFileError.
 */
export function openTrustedDirectory(dir: string, uids: readonly number[]): TrustedDirectory {
  if (!dir.startsWith('/')) throw new TokenFileError(dir, 'token directory must be an absolute path');
  const viaProc = haveProcFd();
  let fd: number | undefined;
  let shown = '/'; // the path walked so far, for messages
  const here = () => (viaProc ? `/proc/self/fd/${fd}` : shown);
  const enter = (at: string, name: string) => {
    let next: number;
    try {
      next = openSync(at, DIR_FLAGS);
    } catch (error) {
      const code = errno(error);
      const where = join(shown, name);
      if (code === 'ELOOP') throw new UnsafeFileError(where, 'was replaced by a symbolic link while being checked: refusing it');
      throw new TokenFileError(where, `token directory unusable (${code})`, code);
    }
    if (fd !== undefined) closeSync(fd);
    fd = next;
    shown = join(shown, name);
    const owner = fstatSync(fd).uid;
    if (!uids.includes(owner)) {
      throw new UnsafeFileError(shown, `directory owned by uid ${owner}: root writes token files only under directories owned by root or by the token's owner (${uids.map((u) => `uid ${u}`).join(', ')})`);
    }
  };
  try {
    enter('/', '/');
    const pending = dir.split('/').filter((c) => c !== '' && c !== '.');
    let links = 0;
    while (pending.length) {
      const name = pending.shift()!;
      const at = `${here()}/${name}`;
      if (name === '..') {
        enter(at, '..');
        continue;
      }
      let stat: Stats;
      try {
        stat = lstatSync(at);
      } catch (error) {
        const code = errno(error);
        throw new TokenFileError(join(shown, name), `token directory unusable (${code})`, code);
      }
      if (!stat.isSymbolicLink()) {
        enter(at, name);
        continue;
      }
      const link = join(shown, name);
      const holder = fstatSync(fd!);
      if (stat.uid !== 0 || !onlyRootControls(holder)) {
        const who = stat.uid !== 0 ? `owned by uid ${stat.uid}` : `in a directory that not only root can change (owner uid ${holder.uid}, mode ${octal(holder.mode)})`;
        throw new UnsafeFileError(link, `symbolic link ${who}: root follows only links that root alone controls; put the real path in token_path`);
      }
      if (++links > MAX_LINKS) throw new TokenFileError(link, 'too many levels of symbolic links', 'ELOOP');
      const target = readlinkSync(at);
      if (target.startsWith('/')) {
        shown = '/';
        enter('/', '/');
      }
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
    }
    const opened = fd!;
    const path = here();
    return { path, close: () => closeSync(opened) };
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw error;
  }
}

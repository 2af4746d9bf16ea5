// A directory only we can write: created 0700, and refused when someone else owns it or it is
// open to others (a planted lock directory would let another user stall or fake our refreshes).
import { lstatSync, mkdirSync } from 'node:fs';
import { UnsafeFileError } from '../core/errors.js';

export function ensurePrivateDirectory(path: string, euid: number): string {
  // Usually there already: one lstat, and mkdir only when it is missing.
  let stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    stat = lstatSync(path);
  }
  if (!stat.isDirectory()) throw new UnsafeFileError(path, 'private directory expected, found something else (a symbolic link?)');
  if (stat.uid !== euid) {
    throw new UnsafeFileError(path, `private directory owned by uid ${stat.uid}, not by uid ${euid}: refusing a directory another user could have planted`);
  }
  if (stat.mode & 0o077) {
    throw new UnsafeFileError(path, `private directory has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}: chmod 700 it`);
  }
  return path;
}

// Unpredictable names for temporary and lock files, which may sit in a directory that others can
// write (/tmp). Read from the kernel's generator: loading node:crypto for a few bytes costs a
// one-shot command 3 ms, more than the rest of a lock.
import { closeSync, openSync, readSync } from 'node:fs';

/** `bytes` random bytes from /dev/urandom, as hex. */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let filled = 0;
    while (filled < bytes) filled += readSync(fd, buffer, filled, bytes - filled, null);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('hex');
}

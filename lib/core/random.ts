// Unpredictable names for temporary and lock files, which may sit in a directory that others can
// write (/tmp). Read from the kernel's generator: loading node:crypto for a few bytes costs a
// one-shot command 3 ms, more than the rest of a lock. Read a block at a time: a watcher names
// four files per refresh, and one read serves dozens of them.
import { closeSync, openSync, readSync } from 'node:fs';

const BLOCK_BYTES = 256;
let pool: Buffer = Buffer.alloc(0);
let used = 0;

function readUrandom(bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let filled = 0;
    while (filled < bytes) filled += readSync(fd, buffer, filled, bytes - filled, null);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** `bytes` random bytes from /dev/urandom, as hex; never the same bytes twice. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = readUrandom(Math.max(BLOCK_BYTES, bytes));
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

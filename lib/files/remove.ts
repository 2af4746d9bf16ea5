// Removing what may already be gone (a temporary file, a lock, a remembered endpoint): any error,
// ENOENT above all, leaves nothing for us to remove.
import { rmdirSync, unlinkSync } from 'node:fs';

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to remove
  }
}

export function rmdirQuietly(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // already gone, or not empty: someone else's
  }
}

// Freshness stamps for the shell wrappers: `<state dir>/fresh/<token path, '/' as '%'>` holds
// "<fresh-until> <exp>" (epoch seconds). A wrapper reads it with shell builtins alone (no
// process), and trusts it only while the token file is not newer than the stamp.
import { join } from 'node:path';
import { ensurePrivateDirectory } from './private-dir.js';
import { writeAtomically } from './write.js';

export function stampPath(stateDir: string, tokenPath: string): string {
  return join(stateDir, 'fresh', tokenPath.replace(/\//g, '%'));
}

/** Writes the stamp; call it after the token file is written (the stamp must not be older). */
export async function writeStamp(stateDir: string, euid: number, tokenPath: string, freshUntil: number, expiresAt: number | undefined): Promise<void> {
  ensurePrivateDirectory(stateDir, euid);
  ensurePrivateDirectory(join(stateDir, 'fresh'), euid);
  // Not synced to disk: a stamp lost in a crash only costs the wrappers one slow path.
  await writeAtomically(stampPath(stateDir, tokenPath), `${Math.floor(freshUntil)} ${expiresAt === undefined ? '-' : Math.floor(expiresAt)}\n`, { durable: false });
}

/** writeStamp, best effort: a stamp that cannot be written only costs the wrappers a slow path. */
export async function stampQuietly(stateDir: string, euid: number, tokenPath: string, freshUntil: number, expiresAt: number | undefined): Promise<void> {
  await writeStamp(stateDir, euid, tokenPath, freshUntil, expiresAt).catch(() => undefined);
}

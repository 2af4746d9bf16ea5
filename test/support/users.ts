// A real other local user for attack tests (CI runs as root): created with useradd in a
// before() hook, removed with userdel afterwards. `as(...)` runs a command as that user.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hasCommand } from './peers.js';
import { isRoot } from './sandbox.js';

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** Runs argv as this user (no supplementary groups); throws on failure. */
  as(argv: string[]): void;
  remove(): void;
}

/** Why no throwaway user can be made here, or undefined when one can. */
export function otherUserUnavailable(): string | undefined {
  if (!isRoot) return 'needs root to create a throwaway user';
  const missing = ['useradd', 'userdel', 'setpriv'].filter((c) => !hasCommand(c));
  return missing.length ? `not installed: ${missing.join(', ')}` : undefined;
}

export function createOtherUser(prefix = 'tkattk'): OtherUser {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  // Another process may hold the passwd lock for a moment: try a few times.
  for (let attempt = 0; ; attempt++) {
    const run = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name], { encoding: 'utf8' });
    if (run.status === 0) break;
    if (attempt === 20) throw new Error(`useradd ${name}: ${run.stderr.trim()}`);
    execFileSync('sleep', ['0.2']);
  }
  const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  const user = { name, uid: Number(uid), gid: Number(gid) };
  return {
    ...user,
    as(argv: string[]) {
      execFileSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
    remove() {
      for (let attempt = 0; attempt < 20; attempt++) {
        if (spawnSync('userdel', [name]).status === 0) return;
        execFileSync('sleep', ['0.2']);
      }
    },
  };
}

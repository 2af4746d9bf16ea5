// One watcher per config file: a pid file in tokenenv's private directory. A pid file whose
// process is gone is stale and taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fnv1a64 } from '../core/fnv.js';
import { TokenenvError, type ErrorCode } from '../core/errors.js';
import { ensurePrivateDirectory } from '../files/private-dir.js';

export class AlreadyRunningError extends TokenenvError {
  override name = 'AlreadyRunningError';
  override readonly code: ErrorCode = 'ERR_WATCHER_RUNNING';
}

/** Files of the watcher for `configKey` (the config's path): pid file and status file. */
export function watcherFiles(stateDir: string, configKey: string): { pidFile: string; statusFile: string } {
  const id = fnv1a64(configKey);
  return { pidFile: join(stateDir, `watch-${id}.pid`), statusFile: join(stateDir, `watch-${id}.json`) };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the watcher holding `pidFile`, or undefined when none runs. */
export function runningWatcher(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Claims the pid file or throws AlreadyRunningError; returns a release function. */
export function claimInstance(stateDir: string, pidFile: string, euid: number, what: string): () => void {
  ensurePrivateDirectory(stateDir, euid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = runningWatcher(pidFile);
      if (pid !== undefined) throw new AlreadyRunningError(`a watcher for ${what} is already running (pid ${pid})`);
      try {
        unlinkSync(pidFile); // stale: its process is gone
      } catch {
        // Someone else took it over; try again.
      }
    }
  }
  throw new AlreadyRunningError(`a watcher for ${what} is starting at the same time`);
}

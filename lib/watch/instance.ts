// One watcher per config file: a pid file in tokenenv's private directory, named after the
// config's real path (a symbolic link or another spelling of the path is the same config). The
// pid file holds the watcher's pid and its start time (/proc/PID/stat, field 22): a pid file
// whose process is gone, or whose pid now belongs to a process that started at another time
// (the pid was reused after a crash or reboot), is stale and taken over.
import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { fnv1a64 } from '../core/fnv.js';
import { isAlive, processStartTime, startTimeOfThisProcess } from '../core/processes.js';
import { TokenenvError, type ErrorCode } from '../core/errors.js';
import { ensurePrivateDirectory } from '../files/private-dir.js';

export class AlreadyRunningError extends TokenenvError {
  override name = 'AlreadyRunningError';
  override readonly code: ErrorCode = 'ERR_WATCHER_RUNNING';
}

/** The identity of a config file: its real path (or the absolute path while it does not exist). */
export function configIdentity(configFile: string): string {
  try {
    return realpathSync.native(configFile);
  } catch {
    return resolve(configFile);
  }
}

/** Files of the watcher for `configFile`: pid file and status file. */
export function watcherFiles(stateDir: string, configFile: string): { pidFile: string; statusFile: string } {
  const id = fnv1a64(configIdentity(configFile));
  return { pidFile: join(stateDir, `watch-${id}.pid`), statusFile: join(stateDir, `watch-${id}.json`) };
}

/** The pid of the watcher holding `pidFile`, or undefined when none runs. */
export function runningWatcher(pidFile: string): number | undefined {
  let content: string;
  try {
    content = readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, started] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // Alive, but is it the process that wrote the file? (Files without a start time come from
  // older versions: the pid alone decides.)
  if (started !== undefined) {
    const now = processStartTime(pid);
    if (now !== undefined && now !== started) return undefined;
  }
  return pid;
}

/** Claims the pid file or throws AlreadyRunningError; returns a release function. */
export function claimInstance(stateDir: string, pidFile: string, euid: number, what: string): () => void {
  ensurePrivateDirectory(stateDir, euid);
  const mine = `${process.pid} ${startTimeOfThisProcess() ?? ''}`.trim();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      writeSync(fd, `${mine}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(pidFile, 'utf8').trim() === mine) unlinkSync(pidFile);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = runningWatcher(pidFile);
      if (pid !== undefined) throw new AlreadyRunningError(`a watcher for ${what} is already running (pid ${pid})`);
      try {
        unlinkSync(pidFile); // stale: its process is gone, or the pid belongs to another process now
      } catch {
        // Someone else took it over; try again.
      }
    }
  }
  throw new AlreadyRunningError(`a watcher for ${what} is starting at the same time`);
}

// Is a process still there, and is it the one we knew? A pid alone can be reused after a crash
// or a reboot; its start time (/proc/PID/stat, field 22, clock ticks after boot) tells the two
// apart. Used by the lock, the watcher's pid file and the clean-up of temporary files.
import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists (one of another user's counts: EPERM). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When process `pid` started (clock ticks after boot), or undefined without /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) is in parentheses and may hold spaces or ')': count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let ownStartTime: string | undefined;

/** This process's start time (see processStartTime), read once: it cannot change. */
export function startTimeOfThisProcess(): string | undefined {
  return (ownStartTime ??= processStartTime(process.pid));
}

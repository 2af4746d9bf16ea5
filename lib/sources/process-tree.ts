// Ending everything a source command started. A process group is not enough: a child that calls
// setsid(1) or daemonizes leaves the group, and once its parent has exited it is re-parented to
// init, so neither the group nor the parent links lead to it. Every command therefore runs with a
// marker in its environment (TOKENENV_SOURCE_RUN=<this process>-<random>), which its descendants
// inherit; ending the tree kills, on Linux, every process whose environment carries the marker or
// whose parent chain leads back to the command or who is in a session one of those started, plus
// the command's process group — repeated until none is left, so that a child forked in between is
// caught by the next pass. A descendant that
// clears its environment *and* leaves the group *and* loses its parent escapes: the caller then
// abandons the output pipe, so the deadline still holds. Without /proc (not Linux), only the
// process group is killed.
import { readdirSync, readFileSync } from 'node:fs';
import { randomHex } from '../core/random.js';

export const MARKER_VARIABLE = 'TOKENENV_SOURCE_RUN';

export interface ProcessTree {
  /** The command's pid (also its process group id: it is spawned detached); unset until it is
   * spawned, when only the marker can find it. */
  pid?: number;
  /** The value of MARKER_VARIABLE in its environment. */
  marker: string;
  /** The command itself has exited and been reaped: its pid (and group id) may be reused, so
   * only the marker and what descends from marked processes count. */
  exited?: boolean;
}

/** A fresh marker for one command run. */
export function newMarker(): string {
  return `${process.pid}-${randomHex(8)}`;
}

interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  zombie: boolean;
}

function readStat(pid: number): ProcEntry | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]), zombie: fields[0] === 'Z' || fields[0] === 'X' };
}

/** Whether the process's environment holds `variable` (as `NAME=value\0`) as a whole entry. */
function carriesMarker(pid: number, variable: Buffer): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`);
    for (let at = environ.indexOf(variable); at >= 0; at = environ.indexOf(variable, at + 1)) {
      if (at === 0 || environ[at - 1] === 0) return true;
    }
    return false;
  } catch {
    return false;
  }
}

function processIds(): number[] | undefined {
  try {
    return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return undefined;
  }
}

/** Live processes of the tree: the marker, the parent chain or the process group leads to `tree`. */
export function treeMembers(tree: ProcessTree): number[] | undefined {
  const pids = processIds();
  if (!pids) return undefined;
  const needle = Buffer.from(`${MARKER_VARIABLE}=${tree.marker}\0`);
  const entries = pids.map(readStat).filter((e): e is ProcEntry => e !== undefined);
  const members = new Set<number>();
  for (const entry of entries) {
    if (entry.pid === process.pid) continue;
    const ours = !tree.exited && tree.pid !== undefined && (entry.pid === tree.pid || entry.pgid === tree.pid);
    if (ours || carriesMarker(entry.pid, needle)) members.add(entry.pid);
  }
  // The sessions that members started (setsid): whoever is in them came from the tree, even with
  // a cleared environment.
  const sessions = new Set(entries.filter((e) => members.has(e.pid) && e.sid === e.pid).map((e) => e.sid));
  for (const entry of entries) if (sessions.has(entry.sid) && entry.pid !== process.pid) members.add(entry.pid);
  // Descendants through parent links (a child that cleared its environment but kept its parent).
  const children = new Map<number, number[]>();
  for (const entry of entries) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry.pid]);
  const queue = [...members];
  while (queue.length) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (!members.has(child) && child !== process.pid) {
        members.add(child);
        queue.push(child);
      }
    }
  }
  const zombies = new Set(entries.filter((e) => e.zombie).map((e) => e.pid));
  return [...members].filter((pid) => !zombies.has(pid));
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills every process of the tree with SIGKILL; returns how many were found. Synchronous, so
 * that it can run in a signal handler right before the process exits. */
export function killTree(tree: ProcessTree): number {
  if (!tree.exited && tree.pid !== undefined) kill(-tree.pid);
  // A process with SIGKILL pending can no longer fork (Linux restarts the fork and the signal
  // wins), so each pass only has to find processes not yet killed. Until a scan finds none twice,
  // 10 ms apart: a process in the middle of exec may be missed by one scan.
  const killed = new Set<number>();
  for (let pass = 0, quiet = 0; pass < 50 && quiet < 2; pass++) {
    const found = treeMembers(tree)?.filter((pid) => !killed.has(pid));
    if (!found) break;
    if (found.length === 0) {
      quiet++;
      if (quiet < 2) Atomics.wait(PAUSE, 0, 0, 10);
      continue;
    }
    quiet = 0;
    for (const pid of found) {
      kill(pid);
      killed.add(pid);
    }
  }
  return killed.size;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

// Trees of commands running now, ended when tokenenv itself is interrupted.
const running = new Set<ProcessTree>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const handlers = new Map<NodeJS.Signals, () => void>();

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (the watcher: SIGHUP reloads, SIGTERM stops and cancels its
  // sources itself): leave it to them.
  if (process.listenerCount(signal) > 1) return;
  for (const tree of running) killTree(tree);
  running.clear();
  uninstall();
  // Die of the same signal, as if no handler had been installed.
  process.kill(process.pid, signal);
}

function uninstall(): void {
  for (const [signal, handler] of handlers) process.off(signal, handler);
  handlers.clear();
}

/**
 * Registers a command, before it is spawned: while any is registered, SIGINT, SIGTERM and SIGHUP
 * that nobody else handles kill every registered tree, then end tokenenv with the same signal.
 * Registered after the spawn, a signal in between would end tokenenv by its default action and
 * leave the command's tree running (seen under load). Returns the function that unregisters it.
 */
export function track(tree: ProcessTree): () => void {
  running.add(tree);
  if (handlers.size === 0) {
    for (const signal of SIGNALS) {
      const handler = () => onSignal(signal);
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }
  return () => {
    running.delete(tree);
    if (running.size === 0) uninstall();
  };
}

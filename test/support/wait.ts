// Waiting on conditions instead of sleeping, and long-running tokenenv processes for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { tokenenvBin } from './cli.js';

/** Resolves with the time it took once `condition` holds; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface RunningCommand {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
}

/** `tokenenv ARGS` in a Node started with `nodeArgs` (V8 flags such as --trace-gc, which
 * NODE_OPTIONS does not take). */
export function startTokenenv(args: string[], env: Record<string, string | undefined>, nodeArgs: string[] = []): RunningCommand {
  const child = spawn(process.execPath, [...nodeArgs, tokenenvBin, ...args], {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Stops a process if it is still running (afterEach). */
export async function reap(running: RunningCommand | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGKILL');
  await running.exited;
}

// Running a source's command: no shell, stdin closed, output bounded, and a deadline that holds.
// At the deadline, on cancellation, on an oversized output or when tokenenv is interrupted, the
// whole tree the command started is killed (lib/sources/process-tree.ts) and its output pipes
// are closed and abandoned: a descendant that escaped and still holds them cannot keep tokenenv
// waiting. Errors carry only a redacted excerpt of stderr.
import { constants } from 'node:os';
import { killTree, MARKER_VARIABLE, newMarker, track, type ProcessTree } from './process-tree.js';
import { SourceError, stderrExcerpt, type SourceContext } from './source.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The signal that ended the command, when one did. */
  signal?: NodeJS.Signals;
}

/** Most a command may print on stdout: a token is at most 64 KiB; this leaves room for noise. */
export const MAX_STDOUT_BYTES = 1024 * 1024;
/** The end of stderr kept for error messages. */
const STDERR_KEPT_BYTES = 64 * 1024;

type Ending = 'timeout' | 'cancelled' | 'overflow';

export async function runSourceCommand(description: string, argv: string[], context: SourceContext,
  _secrets: readonly string[] = [], extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  // Loaded here: a client-credentials refresh runs no command and need not pay for it (3 ms).
  const { spawn } = await import('node:child_process');
  const tree: ProcessTree = { marker: newMarker() };
  const untrack = track(tree);
  let child;
  try {
    child = spawn(file!, args, {
      env: { ...context.env, ...extraEnv, [MARKER_VARIABLE]: tree.marker },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: not hit by the terminal's ^C, killed as a whole by us.
      detached: true,
    });
  } catch (error) {
    untrack();
    throw error;
  }
  tree.pid = child.pid;
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderr = Buffer.alloc(0);

  return new Promise<CommandResult>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', onAbort);
      untrack();
      outcome();
    };
    const end = (why: Ending) => {
      if (settled) return;
      killTree(tree);
      // Abandon the pipes: whatever still holds them is no longer our business.
      child.stdout.destroy();
      child.stderr.destroy();
      finish(() => reject(new SourceError(endingMessage(description, file!, why, context.timeoutMs))));
    };
    const timer = setTimeout(() => end('timeout'), context.timeoutMs);
    const onAbort = () => end('cancelled');
    context.signal?.addEventListener('abort', onAbort, { once: true });
    if (context.signal?.aborted) onAbort();

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) end('overflow');
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEPT_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEPT_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? 'not installed or not on PATH' : `could not run (${error.code ?? error.message})`;
      finish(() => reject(new SourceError(`${description}: ${file}: ${reason}`)));
    });
    child.on('exit', () => {
      tree.exited = true;
    });
    child.on('close', (code, signal) => {
      finish(() => resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderr.toString('utf8'),
        exitCode: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1),
        ...(signal ? { signal } : {}),
      }));
    });
  });
}

function endingMessage(description: string, file: string, why: Ending, timeoutMs: number): string {
  switch (why) {
    case 'timeout': return `${description}: ${file} did not finish within ${timeoutMs / 1000} s and was killed`;
    case 'cancelled': return `${description}: ${file} cancelled`;
    case 'overflow': return `${description}: ${file} printed more than ${MAX_STDOUT_BYTES / 1024} KiB and was killed: not a token`;
  }
}

/** Throws a SourceError for a non-zero exit, with a redacted excerpt of stderr. */
export function assertSuccess(description: string, file: string, result: CommandResult, secrets: readonly string[] = []): void {
  if (result.exitCode === 0) return;
  const excerpt = stderrExcerpt(result.stderr, secrets);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
  throw new SourceError(`${description}: ${file} ${how}${excerpt ? `: ${excerpt}` : ''}`);
}

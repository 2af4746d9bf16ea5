// Running a source's command: execa with stdin closed, no shell, a deadline, and errors that
// carry only a redacted excerpt of stderr. The command gets a process group of its own, and the
// whole group is killed at the deadline or on cancellation: killing only the direct child
// leaves its children (a shell script's `sleep`, say) holding the output pipe open.
import { SourceError, stderrExcerpt, type SourceContext } from './source.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function runSourceCommand(description: string, argv: string[], context: SourceContext,
  secrets: readonly string[] = [], extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  const { execa } = await import('execa');
  const [file, ...args] = argv;
  const subprocess = execa(file!, args, {
    env: { ...context.env, ...extraEnv },
    extendEnv: false,
    stdin: 'ignore',
    detached: true,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 1024 * 1024,
  });
  let ended: 'timeout' | 'cancelled' | undefined;
  const killGroup = (why: 'timeout' | 'cancelled') => {
    ended ??= why;
    try {
      if (subprocess.pid) process.kill(-subprocess.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => killGroup('timeout'), context.timeoutMs);
  const onAbort = () => killGroup('cancelled');
  if (context.signal?.aborted) onAbort();
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const result = await subprocess;
  clearTimeout(timer);
  context.signal?.removeEventListener('abort', onAbort);
  const stderr = String(result.stderr ?? '');
  if (ended === 'timeout') throw new SourceError(`${description}: ${file} did not finish within ${context.timeoutMs / 1000} s and was killed`);
  if (ended === 'cancelled') throw new SourceError(`${description}: ${file} cancelled`);
  if (result.failed && result.exitCode === undefined) {
    const reason = (result as { code?: string }).code === 'ENOENT' ? 'not installed or not on PATH' : 'could not run';
    throw new SourceError(`${description}: ${file}: ${reason}`);
  }
  return { stdout: String(result.stdout ?? ''), stderr, exitCode: result.exitCode ?? -1 };
}

/** Throws a SourceError for a non-zero exit, with a redacted excerpt of stderr. */
export function assertSuccess(description: string, file: string, result: CommandResult, secrets: readonly string[] = []): void {
  if (result.exitCode === 0) return;
  const excerpt = stderrExcerpt(result.stderr, secrets);
  throw new SourceError(`${description}: ${file} exited with status ${result.exitCode}${excerpt ? `: ${excerpt}` : ''}`);
}

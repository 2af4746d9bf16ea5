// Running a source's command: execa with stdin closed, a timeout, no shell, and errors that
// carry only a redacted excerpt of stderr.
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
  const result = await execa(file!, args, {
    env: { ...context.env, ...extraEnv },
    extendEnv: false,
    stdin: 'ignore',
    timeout: context.timeoutMs,
    killSignal: 'SIGKILL',
    reject: false,
    stripFinalNewline: false,
    ...(context.signal ? { cancelSignal: context.signal } : {}),
    maxBuffer: 1024 * 1024,
  });
  const stderr = String(result.stderr ?? '');
  if (result.timedOut) throw new SourceError(`${description}: ${file} did not finish within ${context.timeoutMs / 1000} s and was killed`);
  if (result.failed && result.exitCode === undefined) {
    const reason = (result as { code?: string }).code === 'ENOENT' ? 'not installed or not on PATH' : (result.isCanceled ? 'cancelled' : 'could not run');
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

// Running a real client in a test: exactly the given environment, stdin closed, a timeout.
import { execa } from 'execa';

export type Env = Record<string, string>;

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Turns an argv into one that runs it somewhere else (e.g. `inPrivateTmp`). */
export type Wrapper = (argv: string[]) => string[];

/** Runs argv with exactly `env`, stdin closed (or fed `input`) and a timeout; output kept byte for byte; never throws. */
export async function run(argv: string[], env: Env, wrap: Wrapper = (a) => a, timeoutMs = 30_000, input?: string): Promise<RunResult> {
  const [file, ...args] = wrap(argv);
  const stdin = input === undefined ? { stdin: 'ignore' as const } : { input };
  const result = await execa(file!, args, { env, extendEnv: false, ...stdin, timeout: timeoutMs, reject: false, stripFinalNewline: false });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), timedOut: result.timedOut };
}

// Running `tokenenv demo` as a user does: start it, read the lines it prints for another
// terminal, and paste them into bash one by one.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RunningDemo {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
}

/** Starts a demo (`command` is argv), stdout and stderr collected; `env` is the whole environment. */
export function startDemo(command: string[], env: NodeJS.ProcessEnv): RunningDemo {
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

/** The lines the demo prints to paste in another terminal. */
export function pasteLines(output: string): string[] {
  const block = /In another terminal \(bash or zsh\), paste:\n\n([\s\S]*?)\n\n/.exec(output);
  assert.ok(block, `no lines to paste in:\n${output}`);
  return block[1]!.split('\n').map((line) => line.replace(/^ {2}/, ''));
}

/** Runs the pasted lines in one bash, as a terminal would, line by line; the status of each. */
export async function paste(lines: string[], env: NodeJS.ProcessEnv): Promise<{ line: string; status: number; output: string }[]> {
  const script = lines.map((line, i) => `${line}\nprintf '\\n@@%s %s\\n' ${i} "$?"`).join('\n');
  const { stdout } = await run('bash', ['-c', script], { env, maxBuffer: 1 << 22 });
  const results: { line: string; status: number; output: string }[] = [];
  let rest = stdout;
  for (let i = 0; i < lines.length; i++) {
    const match = new RegExp(`\\n@@${i} (\\d+)\\n`).exec(rest);
    assert.ok(match, `line ${i} (${lines[i]}) left no status: ${stdout}`);
    results.push({ line: lines[i]!, status: Number(match[1]), output: rest.slice(0, match.index) });
    rest = rest.slice(match.index + match[0].length);
  }
  return results;
}


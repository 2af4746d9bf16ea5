// The `tokenenv` command: dispatches to its commands. `discover` (used in `$(tokenenv discover)`
// and shell hooks) is part of this module; the others are loaded only when run.
import { isTokenenvError, UsageError } from '../core/errors.js';
import { command as discover } from './commands/discover.js';
import { COMMAND_LOADERS } from './commands/index.js';
import { exitCodeOf, ExitCode } from './exit-codes.js';
import { flushOutput, isHelpRequest, processIo, shown, type CliIo, type Command } from './io.js';
import { COMMANDS, isCommand } from './registry.js';

async function loadCommand(name: string): Promise<Command> {
  return name === 'discover' ? discover : COMMAND_LOADERS[name]!();
}

// Set by the bundler from package.json; the plain build reads package.json itself.
declare const TOKENENV_VERSION: string | undefined;

async function version(): Promise<string> {
  if (typeof TOKENENV_VERSION === 'string') return TOKENENV_VERSION;
  const { readFileSync } = await import('node:fs');
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function overview(): string {
  const lines = ['Usage: tokenenv COMMAND [OPTIONS]', '', 'WLCG bearer tokens: find them, check them, keep them fresh.', '', 'Commands:'];
  for (const { name, summary } of COMMANDS) lines.push(`  ${name.padEnd(12)} ${summary}`);
  lines.push(`  ${'help'.padEnd(12)} show a command's options: tokenenv help COMMAND`, '',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 no token found, 4 invalid token or unsafe file,',
    '            5 token expired or below --min-lifetime, 6 cannot verify (issuer out of reach)', '',
    'Options: -h, --help; -V, --version');
  return lines.join('\n') + '\n';
}

const HELP_USAGE = `tokenenv help [COMMAND]

Shows the options of COMMAND (the same as tokenenv COMMAND --help); without one, the list of
commands.`;

async function helpFor(args: string[], io: CliIo): Promise<number> {
  // `tokenenv help inspect --help` asks for the same thing twice.
  const [name, extra] = args.filter((a, i) => i === 0 || (a !== '--help' && a !== '-h'));
  if (extra !== undefined) throw new UsageError(`help: unexpected argument ${shown(extra)}: it takes one COMMAND`);
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(overview());
    return ExitCode.ok;
  }
  if (name === 'help') {
    io.stdout(`Usage: ${HELP_USAGE}\n`);
    return ExitCode.ok;
  }
  if (!isCommand(name)) throw new UsageError(`help: unknown command ${shown(name)}; see tokenenv --help`);
  io.stdout(`Usage: ${(await loadCommand(name)).usage}\n`);
  return ExitCode.ok;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h') return await helpFor([], io);
    if (first === 'help') return await helpFor(rest, io);
    if (first === '--version' || first === '-V') {
      io.stdout(`tokenenv ${await version()}\n`);
      return ExitCode.ok;
    }
    if (!isCommand(first)) {
      throw new UsageError(`unknown ${first.startsWith('-') ? 'option' : 'command'} ${shown(first)}; see tokenenv --help`);
    }
    const command = await loadCommand(first);
    try {
      return await command.run(rest, io);
    } catch (error) {
      if (!isHelpRequest(error)) throw error;
      io.stdout(`Usage: ${command.usage}\n`);
      return ExitCode.ok;
    }
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIo): number {
  if (isTokenenvError(error)) {
    io.stderr(`tokenenv: ${error.message}\n`);
    return exitCodeOf(error);
  }
  io.stderr(`tokenenv: internal error: ${(error as Error)?.message ?? String(error)}\n`);
  return ExitCode.failure;
}

/** The bin entry point: runs with the process's arguments and exits with the command's code.
 * Exiting explicitly matters for the long-running commands: a library's leftover timer (say, a
 * file watcher's throttle) must not hold a stopped watcher alive for another second. */
export async function runFromProcess(): Promise<void> {
  const code = await main(process.argv.slice(2));
  await flushOutput();
  process.exit(code);
}

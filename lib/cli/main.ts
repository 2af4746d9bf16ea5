// The `tokenenv` command: dispatches to lazily loaded command modules, so that a fast command
// (discover, used in `$(tokenenv discover)` and shell hooks) loads only what it needs.
import { ExitCode, TokenenvError } from '../errors.js';
import { flushOutput, processIo, type CliIo, type Command } from './io.js';

// In the CLI bundle, commands other than the fast ones are separate CommonJS files loaded with
// require (scripts/bundle-cli.mjs defines this loader); in the plain ES module build, import().
declare const TOKENENV_LOAD_COMMAND: ((file: string) => Record<string, unknown>) | undefined;
type Loaded = Promise<{ command: Command }>;
const separate = (file: string, load: () => Promise<Record<string, unknown>>, exported = 'command') => async (): Loaded => {
  const module = typeof TOKENENV_LOAD_COMMAND === 'function' ? TOKENENV_LOAD_COMMAND(file) : await load();
  return { command: module[exported] as Command };
};

const COMMANDS: Record<string, () => Loaded> = {
  discover: () => import('./discover.js'),
  inspect: separate('inspect', () => import('./inspect.js')),
  refresh: separate('refresh', () => import('./refresh.js')),
  config: separate('config', () => import('./config.js')),
  watch: separate('watch', () => import('./watch.js')),
  status: separate('status', () => import('./status.js')),
  exec: separate('exec', () => import('./exec.js')),
  systemd: separate('systemd', () => import('./systemd.js')),
  demo: separate('demo', () => import('./demo.js')),
  doctor: separate('doctor', () => import('./doctor.js')),
  setup: separate('setup', () => import('./setup.js')),
  'shell-token': separate('shell', () => import('./shell.js'), 'shellToken'),
  'shell-path': separate('shell', () => import('./shell.js'), 'shellPath'),
  init: separate('shell', () => import('./shell.js'), 'init'),
};

// Set by the bundler (scripts/bundle-cli.mjs) from package.json.
declare const TOKENENV_VERSION: string;

async function overview(): Promise<string> {
  const lines = ['Usage: tokenenv COMMAND [OPTIONS]', '', 'WLCG bearer tokens: find them, check them, keep them fresh.', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(12)} ${(await load()).command.summary}`);
  }
  lines.push(`  ${'help'.padEnd(12)} show a command's options: tokenenv help COMMAND`, '',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 no token found, 4 invalid token or unsafe file,',
    '            5 token expired or below --min-lifetime', '',
    'Options: -h, --help; -V, --version');
  return lines.join('\n') + '\n';
}

async function helpFor(name: string | undefined, io: CliIo): Promise<number> {
  if (name === undefined) {
    io.stdout(await overview());
    return ExitCode.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`tokenenv: unknown command '${name}'; see tokenenv --help\n`);
    return ExitCode.usage;
  }
  const { command } = await load();
  io.stdout(`Usage: ${command.usage}\n`);
  return ExitCode.ok;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h') return await helpFor(undefined, io);
    if (first === 'help') return await helpFor(rest[0], io);
    if (first === '--version' || first === '-V') {
      io.stdout(`tokenenv ${TOKENENV_VERSION}\n`);
      return ExitCode.ok;
    }
    const load = COMMANDS[first];
    if (!load) {
      io.stderr(`tokenenv: unknown ${first.startsWith('-') ? 'option' : 'command'} '${first}'; see tokenenv --help\n`);
      return ExitCode.usage;
    }
    const { command } = await load();
    try {
      return await command.run(rest, io);
    } catch (error) {
      if (!(error as { helpRequested?: boolean } | undefined)?.helpRequested) throw error;
      io.stdout(`Usage: ${command.usage}\n`);
      return ExitCode.ok;
    }
  } catch (error) {
    return reportError(error, io);
  }
}

// Commands are bundled separately (scripts/bundle-cli.mjs), each with its own copy of the error
// classes: recognise tokenenv errors by shape, not by class identity.
function isTokenenvError(error: unknown): error is TokenenvError {
  return error instanceof TokenenvError || (error instanceof Error && typeof (error as { exitCode?: unknown }).exitCode === 'number');
}

export function reportError(error: unknown, io: CliIo): number {
  if (isTokenenvError(error)) {
    io.stderr(`tokenenv: ${error.message}\n`);
    return error.exitCode;
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

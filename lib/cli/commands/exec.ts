import { spawn } from 'node:child_process';
import type { Config, TokenConfig } from '../../config/config.js';
import { resolveEnvironment } from '../../core/environment.js';
import { audienceToken, defaultToken } from '../../refresh/targets.js';
import { formatDuration } from '../../core/duration.js';
import { NoTokenFileError, TokenenvError, UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import type { RefreshResult } from '../../refresh/refresh.js';
import { createLogger, type Logger } from '../../watch/log.js';
import { TokenWatcher } from '../../watch/watcher.js';
import { commandConfig, CONFIG_OPTIONS, CONFIG_USAGE } from '../config-source.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';
import { readTokenFileSync } from '../../files/read.js';
import { extractToken } from '../../token/syntax.js';

const OPTIONS = {
  ...CONFIG_OPTIONS,
  token: { type: 'string', short: 't' },
  account: { type: 'string' },
  'env-token': { type: 'boolean' },
} as const;

// Signals passed on to the command. SIGINT is passed on only without a terminal: at a terminal,
// Ctrl-C already reaches the command (same process group), and twice would be once too many.
const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGINT'] as const;

/** Splits `[OPTIONS] [--] COMMAND ARGS...`: the command starts at `--` or at the first word
 * that is neither an option nor an option's value. */
function splitCommand(args: string[]): { own: string[]; command: string[] } {
  const valued = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string')
    .flatMap(([name, o]) => ['--' + name, ...('short' in o ? ['-' + o.short] : [])]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { own: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith('-')) return { own: args.slice(0, i), command: args.slice(i) };
    if (valued.has(arg)) i++;
  }
  return { own: args, command: [] };
}

/** The token the command gets: --token NAME, a per-audience token, the ad-hoc one, or the default. */
function chooseToken(values: Record<string, string | boolean | undefined>, io: CliIo): { config: Config; token: TokenConfig } {
  if (values.token && (values.aud || values.scope)) throw new UsageError(`exec: --token ${values.token} and --${values.aud ? 'aud' : 'scope'} exclude each other: a configured token has its own audience and scope`);
  const { config, adHoc } = commandConfig(adHocOnly(values), io);
  if (adHoc) {
    const token = config.tokens[0]!;
    // An ad-hoc source asked for an audience or scope: a per-audience file too, never the
    // default token's (unless --out names a file).
    if (values.out || !(values.aud || values.scope)) return { config, token };
    const path = audienceToken(config, { audience: token.audience, scope: token.scope }, resolveEnvironment({ env: io.env })).path;
    const own = { ...token, path };
    return { config: { ...config, tokens: [own] }, token: own };
  }
  const byName = (name: string) => config.tokens.find((t) => t.name === name);
  if (values.token) {
    const token = byName(values.token as string);
    if (!token) throw new UsageError(`no token named '${values.token}' in ${config.file}`);
    return { config, token };
  }
  const fallback = defaultToken(config);
  if (values.aud || values.scope) {
    const wanted = { audience: values.aud as string | undefined, scope: values.scope as string | undefined, account: values.account as string | undefined };
    const token = audienceToken(config, wanted, resolveEnvironment({ env: io.env }));
    return { config: { ...config, tokens: [token] }, token };
  }
  if (!fallback) throw new UsageError(`${config.file}: several tokens and none named default: choose one with --token NAME`);
  return { config, token: fallback };
}

// With a config file, --aud and --scope describe a per-audience token, not an ad-hoc source.
function adHocOnly(values: Record<string, string | boolean | undefined>) {
  const source = values['oidc-agent'] || values.command || values['from-file'] || values['client-id'];
  const { token: _t, account: _a, ...rest } = values;
  if (source) return rest;
  const { aud: _aud, scope: _scope, ...configOnly } = rest;
  return configOnly;
}

/** The watcher's lines during exec: failures and warnings only, the command's output is the user's. */
function quietLogger(io: CliIo): Logger {
  const logger = createLogger(io.stderr, io.env);
  return { log: (level, message) => { if (level === 'error' || level === 'warn') logger.log(level, `tokenenv: ${message}`); } };
}

export const command: Command = {
  usage: `tokenenv exec [--token NAME | --aud A [--scope S] [--account NAME]] [--env-token] [--config FILE | SOURCE FLAGS] [--] COMMAND [ARGS...]

Runs COMMAND with BEARER_TOKEN_FILE pointing at a fresh token (BEARER_TOKEN is removed from its
environment, since it would take precedence; see --env-token), keeps that file fresh while COMMAND runs, passes
signals on, and exits with COMMAND's status (or dies of the same signal).

  --token NAME     a token from the config (default: the one named default, or the only one)
  --aud A          a per-audience token in a file of its own (bt_u<euid>-tokenenv-aud-…): the
  --scope S        default token is never touched; issued by --account NAME (default: the
                   account of the default token), or by the source flag given
  --env-token      also put the token itself in BEARER_TOKEN (trimmed; never empty), for clients
                   that read only that variable, such as gfal2's gfal-*. Such a value is copied
                   once, when COMMAND starts: it does NOT follow refreshes, so a COMMAND running
                   longer than the token lives ends up with an expired one

${CONFIG_USAGE}

Exit codes: COMMAND's; 2 usage or config error; 3 no valid token could be obtained.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { own, command: argv } = splitCommand(args);
    const { values } = parseCommandArgs('exec', own, OPTIONS);
    if (argv.length === 0) throw new UsageError('exec: no command given (tokenenv exec [OPTIONS] -- COMMAND ...)');
    const { config, token } = chooseToken(values, io);
    const watcher = new TokenWatcher({ env: io.env, log: quietLogger(io), config: { ...config, tokens: [token] } });
    const firstResult = new Promise<RefreshResult>((resolve) => {
      for (const event of ['refreshed', 'kept', 'failed'] as const) watcher.once(event, resolve);
    });
    await watcher.start();
    const result = await firstResult;
    if (result.action === 'failed' && !(result.secondsLeft !== null && result.secondsLeft > 0)) {
      await watcher.close();
      throw new NoTokenFileError(`exec: no valid token for ${token.name}: ${result.detail}`);
    }
    if (result.action === 'failed') io.stderr(`tokenenv: warning: refresh failed, running with the current token (${formatDuration(result.secondsLeft!)} left)\n`);
    let bearerToken: string | undefined;
    if (values['env-token']) {
      try {
        bearerToken = tokenValue(token.path);
      } catch (error) {
        await watcher.close();
        throw error;
      }
    }
    return runChild(argv, token.path, io, watcher, bearerToken);
  },
};

/** The token in `path`, trimmed; an error naming the file when there is none. */
function tokenValue(path: string): string {
  const outcome = readTokenFileSync({ path, implicit: false, euid: process.geteuid?.() ?? -1 });
  if (outcome.kind === 'missing') throw new NoTokenFileError(`exec --env-token: ${path}: ${outcome.reason}`);
  if (outcome.kind === 'error') throw outcome.error;
  const token = extractToken(outcome.bytes, path);
  if (!token) throw new NoTokenFileError(`exec --env-token: ${path}: empty, no token for BEARER_TOKEN`);
  return token;
}

function runChild(argv: string[], tokenFile: string, io: CliIo, watcher: TokenWatcher, bearerToken?: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...io.env, BEARER_TOKEN_FILE: tokenFile };
  delete env.BEARER_TOKEN;
  if (bearerToken) env.BEARER_TOKEN = bearerToken;
  return new Promise((resolve) => {
    const interactive = process.stdin.isTTY === true;
    // Handlers first: a signal that arrives while the command starts must not kill tokenenv
    // (the default action) and leave the command running without a parent.
    let child: ReturnType<typeof spawn> | undefined;
    const pending: NodeJS.Signals[] = [];
    const handlers = FORWARDED.map((signal) => {
      const handler = () => {
        if (signal === 'SIGINT' && interactive) return;
        if (child) child.kill(signal);
        else pending.push(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'inherit' });
    for (const signal of pending) child.kill(signal);
    const cleanup = async () => {
      await watcher.close();
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.on('error', async (error: NodeJS.ErrnoException) => {
      await cleanup();
      io.stderr(`tokenenv: exec: ${argv[0]}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', async (code, signal) => {
      await cleanup();
      if (signal) {
        // Die of the same signal, so that the caller sees what happened to the command. Any
        // listener left (execa's exit hooks) would otherwise swallow it.
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

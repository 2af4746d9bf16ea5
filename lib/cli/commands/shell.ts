// The commands behind shell/tokenenv.sh: `shell-token` (the wrappers' slow path), `init` (the
// start-up lines that source the script by its path) and `shell-path` (that path, for scripts).
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findConfigFile, loadValidConfig } from '../../config/config.js';
import { decodeClaims, secondsLeft } from '../../token/claims.js';
import { discoverTokenSync, tokenLocation } from '../../discovery/discovery.js';
import { resolveEnvironment, type TokenEnvironment } from '../../core/environment.js';
import { RefreshFailedError, TokenenvError, TokenExpiredError, UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { stateDirectory } from '../../files/paths.js';
import { refreshTokenFile } from '../../refresh/refresh.js';
import { callToken, endpointAdvice, type EndpointUse } from '../../refresh/targets.js';
import { operationNeed } from '../../token/operations.js';
import { stampQuietly } from '../../files/stamp.js';
import { parseCommandArgs, parseCommandArgsWithTokens, type CliIo, type Command } from '../io.js';

function hasConfig(explicit: string | undefined, environment: TokenEnvironment): boolean {
  try {
    findConfigFile(explicit, environment.env);
    return true;
  } catch {
    return false;
  }
}

const SHELL_TOKEN_OPTIONS = {
  config: { type: 'string', short: 'c' },
  endpoint: { type: 'string', multiple: true },
  op: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  kind: { type: 'string' },
  next: { type: 'boolean', multiple: true },
} as const;

/** The calls' uses, one list per token: `--endpoint E --op OP` pairs, `--next` between tokens. */
function tokenRequests(args: string[]): { config?: string; requests: EndpointUse[][] } {
  const { tokens } = parseCommandArgsWithTokens('shell-token', args, SHELL_TOKEN_OPTIONS);
  const requests: EndpointUse[][] = [[]];
  let config: string | undefined;
  let current: EndpointUse | undefined;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const group = requests[requests.length - 1]!;
    switch (t.name) {
      case 'config': config = t.value; break;
      case 'next': requests.push([]); current = undefined; break;
      case 'endpoint': current = { endpoint: t.value ?? '' }; group.push(current); break;
      case 'op':
      case 'scope':
        if (!current || current.operation || current.scope) throw new UsageError(`shell-token: --${t.name} must follow its --endpoint`);
        if (t.name === 'op') current.operation = t.value ?? '';
        else current.scope = t.value ?? '';
        break;
      default: break;
    }
  }
  for (const use of requests.flat()) {
    if (!use.endpoint) throw new UsageError('shell-token: --endpoint needs a value');
    if (use.operation !== undefined && !operationNeed(use.operation)) throw new UsageError(`shell-token: --op ${use.operation}: not an operation of lib/token/operations.ts`);
  }
  return { ...(config ? { config } : {}), requests };
}

export const shellToken: Command = {
  usage: `tokenenv shell-token [--endpoint ENDPOINT [--op OPERATION | --scope SCOPE]]... [--next ...] [--config FILE]

Prints the path of a fresh token file for the wrappers in shell/tokenenv.sh, refreshing it first
when needed: the default token, or with --endpoint the one for that call — its audience the
endpoints, its scope what the operations need (a client such as condor_submit, or a data
operation: read, create, write, delete…; see tokenenv help inspect), unless an [endpoint] section
of the config says otherwise. --next starts another token; one path per line, in order.
Without a config, the discovered token is used as it is ("-" when it is in BEARER_TOKEN).
Exit codes: 0 ok, 2 usage or config error, 3 no token, 4 invalid, 5 expired; 1 refresh failed.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { config: configFile, requests } = tokenRequests(args);
    const environment = resolveEnvironment({ env: io.env });
    const stateDir = stateDirectory(environment.env);
    const paths: string[] = [];
    const configured = hasConfig(configFile, environment)
      ? loadValidConfig({ env: io.env, ...(configFile ? { file: configFile } : {}) }) : undefined;
    for (const uses of requests) {
      const token = configured ? callToken(configured, uses, environment) : undefined;
      if (configured && token) {
        const result = await refreshTokenFile(token, configured.accounts.get(token.account)!, { env: io.env });
        const advice = uses.length ? ` (${endpointAdvice(configured, token, uses)})` : '';
        if (result.action === 'failed' && !(result.secondsLeft !== null && result.secondsLeft > 0)) {
          throw new RefreshFailedError(`${token.name}: ${result.detail}${advice}`);
        }
        if (result.action === 'failed') io.stderr(`tokenenv: warning: ${token.name}: ${result.detail}${advice}\n`);
        if (result.action === 'kept' && result.freshUntil !== null) {
          const expiresAt = result.secondsLeft === null ? undefined : environment.now() + result.secondsLeft;
          await stampQuietly(stateDir, environment.euid, token.path, result.freshUntil, expiresAt);
        }
        paths.push(token.path);
        continue;
      }
      paths.push(await discoveredPath(io, environment, stateDir, uses));
    }
    io.stdout(paths.map((p) => `${p}\n`).join(''));
    return ExitCode.ok;
  },
};

/** No config (or no default token in it): the discovered token, used as it is. */
async function discoveredPath(io: CliIo, environment: TokenEnvironment, stateDir: string, uses: EndpointUse[]): Promise<string> {
  const found = discoverTokenSync({ env: io.env });
  const claims = decodeClaims(found.token);
  const left = secondsLeft(claims, environment.now());
  if (left !== undefined && left <= 0) throw new TokenExpiredError(`${found.path ?? found.source}: expired, and no config to refresh it from (see tokenenv setup)`);
  if (uses.length) io.stderr(`tokenenv: warning: no config to get a token for ${uses.map((u) => u.endpoint).join(' ')}: using the discovered token\n`);
  if (!found.path) return '-';
  if (left !== undefined && claims.format === 'jwt') {
    await stampQuietly(stateDir, environment.euid, found.path, claims.expiresAt! - Math.min(60, left / 2), claims.expiresAt);
  }
  return found.path;
}

/** shell/tokenenv.sh beside the installed package (bin/ and shell/ are siblings). */
function scriptPath(): string {
  const bin = realpathSync(process.argv[1] ?? '.');
  const script = join(dirname(bin), '..', 'shell', 'tokenenv.sh');
  if (!existsSync(script)) throw new TokenenvError(`shell integration not found at ${script}`);
  return realpathSync(script);
}

export const shellPath: Command = {
  usage: `tokenenv shell-path

Prints the absolute path of shell/tokenenv.sh. For start-up files, prefer the lines that
tokenenv init prints (they start no process); in a script: source "$(tokenenv shell-path)".`,
  async run(args: string[], io: CliIo): Promise<number> {
    parseCommandArgs('shell-path', args, {});
    io.stdout(`${scriptPath()}\n`);
    return ExitCode.ok;
  },
};

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const init: Command = {
  usage: `tokenenv init bash|zsh

Prints the lines that load the shell integration, for ~/.bashrc or ~/.zshrc, once, at set-up time:

  tokenenv init bash >> ~/.bashrc        (zsh: tokenenv init zsh >> ~/.zshrc)

They point TOKENENV_BIN at this tokenenv and source shell/tokenenv.sh by its path, so they start
no process: a new shell starts as fast as without them. In a script, eval "$(tokenenv init bash)"
works too (it runs tokenenv once).`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { positionals } = parseCommandArgs('init', args, {}, 1);
    const shell = positionals[0];
    if (shell !== 'bash' && shell !== 'zsh') throw new UsageError('init: expected bash or zsh');
    const bin = realpathSync(process.argv[1] ?? '.');
    io.stdout(`# tokenenv shell integration (tokenenv init ${shell}); these lines start no process\nTOKENENV_BIN=${shellQuote(bin)}\nsource ${shellQuote(scriptPath())}\n`);
    return ExitCode.ok;
  },
};

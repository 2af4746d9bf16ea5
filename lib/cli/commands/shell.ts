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
import { wrapperToken } from '../../refresh/targets.js';
import { stampQuietly } from '../../files/stamp.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';

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
  endpoint: { type: 'string' },
  kind: { type: 'string' },
} as const;

export const shellToken: Command = {
  usage: `tokenenv shell-token [--endpoint ENDPOINT] [--kind condor|arc|arcdata|fts] [--config FILE]

Prints the path of a fresh token file for the wrappers in shell/tokenenv.sh: the default token,
or with --endpoint the one for that endpoint (audience = the endpoint unless an [endpoint] section
of the config says otherwise), refreshing it first when needed. Without a config, the discovered
token is used as it is ("-" when it is in BEARER_TOKEN).
Exit codes: 0 ok, 2 usage or config error, 3 no token, 4 invalid, 5 expired; 1 refresh failed.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('shell-token', args, SHELL_TOKEN_OPTIONS);
    const environment = resolveEnvironment({ env: io.env });
    const endpoint = values.endpoint || undefined;
    const stateDir = stateDirectory(environment.env);
    if (hasConfig(values.config, environment)) {
      const config = loadValidConfig({ env: io.env, ...(values.config ? { file: values.config } : {}) });
      const token = wrapperToken(config, endpoint, environment);
      if (token) {
        const result = await refreshTokenFile(token, config.accounts.get(token.account)!, { env: io.env });
        if (result.action === 'failed' && !(result.secondsLeft !== null && result.secondsLeft > 0)) {
          throw new RefreshFailedError(`${token.name}: ${result.detail}`);
        }
        if (result.action === 'failed') io.stderr(`tokenenv: warning: ${token.name}: ${result.detail}\n`);
        if (result.action === 'kept' && result.freshUntil !== null) {
          const expiresAt = result.secondsLeft === null ? undefined : environment.now() + result.secondsLeft;
          await stampQuietly(stateDir, environment.euid, token.path, result.freshUntil, expiresAt);
        }
        io.stdout(`${token.path}\n`);
        return ExitCode.ok;
      }
    }
    // No config (or no default token in it): the discovered token, used as it is.
    const found = discoverTokenSync({ env: io.env });
    const claims = decodeClaims(found.token);
    const left = secondsLeft(claims, environment.now());
    if (left !== undefined && left <= 0) throw new TokenExpiredError(`${found.path ?? found.source}: expired, and no config to refresh it from (see tokenenv setup)`);
    if (endpoint) io.stderr(`tokenenv: warning: no config to get a token for ${endpoint}: using the discovered token\n`);
    if (!found.path) {
      io.stdout('-\n');
      return ExitCode.ok;
    }
    if (left !== undefined && claims.format === 'jwt') {
      await stampQuietly(stateDir, environment.euid, found.path, claims.expiresAt! - Math.min(60, left / 2), claims.expiresAt);
    }
    io.stdout(`${found.path}\n`);
    return ExitCode.ok;
  },
};

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

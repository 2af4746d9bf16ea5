// `tokenenv doctor`: checks the whole chain, one line per check, with a fix for each problem.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { wouldAccept } from '../../token/acceptance.js';
import { decodeClaims, type JwtClaims } from '../../token/claims.js';
import { findConfigFile, loadConfig, type Config, type LoadedConfig } from '../../config/config.js';
import { hasCode } from '../../core/errors.js';
import { discoverTokenSync, explainDiscovery } from '../../discovery/discovery.js';
import { formatDuration } from '../../core/duration.js';
import { envValue, resolveEnvironment, type TokenEnvironment } from '../../core/environment.js';
import { ExitCode } from '../exit-codes.js';
import { stateDirectory } from '../../files/paths.js';
import { runningWatcher, watcherFiles } from '../../watch/instance.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';

type Level = 'ok' | 'warn' | 'fail' | 'info';

interface Check {
  check: string;
  level: Level;
  detail: string;
  fix?: string;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
} as const;

/** Runs a client to read its version; undefined when it is not on PATH. */
function version(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(command, args, { env, timeout: 5000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return done(undefined);
      done(`${stdout}${stderr}`);
    });
  });
}

function atLeast(found: string, wanted: [number, number]): boolean {
  const [major = 0, minor = 0] = found.split('.').map(Number);
  return major > wanted[0] || (major === wanted[0] && minor >= wanted[1]);
}

function discoveryChecks(environment: TokenEnvironment): { checks: Check[]; claims?: JwtClaims; path?: string } {
  const checks: Check[] = [];
  const explanation = explainDiscovery(environment);
  if (!explanation.found) {
    checks.push({
      check: 'discovery', level: 'fail', detail: explanation.error ?? 'no token',
      fix: explanation.errorCode === 'ERR_UNSAFE_TOKEN_FILE'
        ? 'remove that file (someone else may have planted it), then: tokenenv refresh'
        : 'get one: tokenenv refresh (or tokenenv setup NAME for a first account); see tokenenv discover --explain',
    });
    return { checks };
  }
  const found = discoverTokenSync(environment);
  const where = found.path ?? found.source;
  checks.push({ check: 'discovery', level: 'ok', detail: `token found at step ${found.step}: ${where}` });
  for (const warning of found.warnings) checks.push({ check: 'token file mode', level: 'warn', detail: warning, fix: `chmod 600 ${found.path}` });
  if (found.path) {
    const stat = statSync(found.path);
    if (stat.uid !== environment.euid) {
      checks.push({ check: 'token file owner', level: 'warn', detail: `${found.path} is owned by uid ${stat.uid}, not by you (uid ${environment.euid})`, fix: 'fine for a shared service-account token; otherwise write your own with tokenenv refresh' });
    } else if (!found.warnings.length) {
      checks.push({ check: 'token file', level: 'ok', detail: `owned by you, mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}` });
    }
  }
  const claims = decodeClaims(found.token);
  if (claims.format === 'opaque') {
    checks.push({ check: 'expiry', level: 'info', detail: 'opaque token: its expiry is unknown' });
    return { checks, ...(found.path ? { path: found.path } : {}) };
  }
  const now = environment.now();
  if (claims.expiresAt !== undefined) {
    const left = claims.expiresAt - now;
    checks.push(left <= 0
      ? { check: 'expiry', level: 'fail', detail: `expired ${formatDuration(-left)} ago`, fix: 'tokenenv refresh; keep it fresh with tokenenv watch (or tokenenv systemd --install)' }
      : { check: 'expiry', level: left < 300 ? 'warn' : 'ok', detail: `${formatDuration(left)} left`, ...(left < 300 ? { fix: 'tokenenv refresh --force' } : {}) });
  }
  if (claims.issuedAt !== undefined && claims.issuedAt - now > 60) {
    checks.push({ check: 'clock', level: 'fail', detail: `the token was issued ${formatDuration(claims.issuedAt - now)} in the future: this clock is behind the issuer's`, fix: 'synchronise the clock (chrony or systemd-timesyncd)' });
  } else if (claims.issuedAt !== undefined) {
    checks.push({ check: 'clock', level: 'ok', detail: 'no skew against the token\'s iat' });
  }
  return { checks, claims, ...(found.path ? { path: found.path } : {}) };
}

async function agentChecks(config: Config, environment: TokenEnvironment): Promise<Check[]> {
  const accounts = [...config.accounts.values()].filter((a) => a.type === 'oidc-agent');
  if (!accounts.length) return [];
  const checks: Check[] = [];
  const socket = accounts.find((a) => a.oidcSock)?.oidcSock ?? envValue(environment.env, 'OIDC_SOCK');
  if (!socket) {
    return [{ check: 'oidc-agent', level: 'fail', detail: 'no agent: OIDC_SOCK is not set', fix: 'eval $(oidc-agent-service use), or set oidc_sock in the [account]' }];
  }
  const env = { ...environment.env, OIDC_SOCK: socket } as NodeJS.ProcessEnv;
  const loaded = await new Promise<{ ok: boolean; out: string }>((done) => execFile('oidc-add', ['--loaded'], { env, timeout: 5000 }, (error, stdout, stderr) =>
    done({ ok: !error, out: `${stdout}${stderr}` })));
  if (!loaded.ok) {
    return [{ check: 'oidc-agent', level: 'fail', detail: `cannot reach the agent at ${socket}: ${loaded.out.trim().split('\n').pop() ?? ''}`, fix: 'start it: eval $(oidc-agent-service use)' }];
  }
  checks.push({ check: 'oidc-agent', level: 'ok', detail: `agent reachable at ${socket}` });
  for (const account of accounts) {
    const name = account.oidcAccount ?? account.name;
    const isLoaded = loaded.out.split(/\s+/).includes(name);
    checks.push(isLoaded
      ? { check: `account ${name}`, level: 'ok', detail: 'loaded in the agent' }
      : { check: `account ${name}`, level: account.passwordFile ? 'info' : 'warn', detail: 'not loaded',
          fix: account.passwordFile ? 'tokenenv loads it with its password_file at the next refresh' : `oidc-add ${name} (or set password_file)` });
  }
  return checks;
}

async function clientChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  const condor = await version('condor_version', [], env);
  if (condor !== undefined) {
    const v = /CondorVersion:\s*(\d+\.\d+)/.exec(condor)?.[1];
    checks.push(v && atLeast(v, [9, 0])
      ? { check: 'HTCondor', level: 'ok', detail: `${v}: discovers tokens (9.0+)` }
      : { check: 'HTCondor', level: 'warn', detail: `${v ?? 'unknown version'}: before 9.0, no token discovery`, fix: 'upgrade to HTCondor 9.0 or later; the wrappers set _condor_SCITOKENS_FILE meanwhile' });
  }
  const arc = await version('arcinfo', ['-v'], env);
  if (arc !== undefined) {
    const v = /version\s+(\d+\.\d+)/.exec(arc)?.[1];
    checks.push(v && atLeast(v, [6, 8])
      ? { check: 'ARC client', level: 'ok', detail: `${v}: discovers tokens (6.8+)` }
      : { check: 'ARC client', level: 'warn', detail: `${v ?? 'unknown version'}: before 6.8, tokens only through ARC_OTOKEN`, fix: 'upgrade the ARC client to 6.8 or later' });
  }
  const fts = await version('fts-rest-whoami', ['--version'], env);
  if (fts !== undefined) checks.push({ check: 'FTS client', level: 'info', detail: 'found: it does no discovery; the wrappers pass --access-token (visible in ps)' });
  if (!checks.length) checks.push({ check: 'clients', level: 'info', detail: 'no HTCondor, ARC or FTS client on PATH' });
  return checks;
}

function endpointChecks(config: Config, claims: JwtClaims | undefined): Check[] {
  const checks: Check[] = [];
  for (const endpoint of config.endpoints?.values() ?? []) {
    if (!claims) break;
    const wanted = endpoint.audience ?? endpoint.endpoint;
    const fit = wouldAccept(claims, wanted);
    checks.push(fit.accepted
      ? { check: `endpoint ${endpoint.endpoint}`, level: 'ok', detail: `the default token fits: ${fit.audience.detail}` }
      : { check: `endpoint ${endpoint.endpoint}`, level: 'warn', detail: `the default token would be refused: ${fit.audience.detail}`,
          fix: `use the shell wrappers (they fetch a token for ${wanted}), or: tokenenv exec --aud ${wanted} -- COMMAND` });
  }
  return checks;
}

/** The config: usable or not, then each problem and warning on a line of its own (a file others
 * could have written, a secret others can read, an inline comment...). */
function configChecks(file: string, loaded: LoadedConfig): Check[] {
  const { config, problems, warnings } = loaded;
  const checks: Check[] = [problems.length
    ? { check: 'config', level: 'fail', detail: `${file}: ${problems.length} problem(s)`, fix: 'tokenenv config check' }
    : { check: 'config', level: 'ok', detail: `${file}: ${config.accounts.size} account(s), ${config.tokens.length} token(s)` }];
  for (const problem of problems) checks.push({ check: 'config', level: 'fail', detail: problem.message });
  for (const warning of warnings) checks.push({ check: 'config', level: 'warn', detail: warning.message.replace(': warning: ', ': ') });
  return checks;
}

function report(checks: Check[]): string {
  const mark: Record<Level, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', info: 'info' };
  const width = Math.max(...checks.map((c) => c.check.length));
  return checks.map((c) => `${mark[c.level]}  ${c.check.padEnd(width)}  ${c.detail}${c.fix ? `\n      ${''.padEnd(width)}  fix: ${c.fix}` : ''}`).join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv doctor [--config FILE] [--json]

One line per check, with a fix for each problem: discovery and its warnings, the token file's
owner and mode, expiry and clock skew against iat, the config, oidc-agent reachable and its
accounts loaded, the watcher running, the shell wrappers (run tokenenv_doctor in a shell that
sourced them), the clients on PATH and whether their versions discover tokens (HTCondor >= 9.0,
ARC >= 6.8), and whether the token's audience fits the configured endpoints.
Exit 0 when nothing failed (warnings allowed), 1 otherwise.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('doctor', args, OPTIONS);
    const environment = resolveEnvironment({ env: io.env });
    const { checks, claims } = discoveryChecks(environment);
    let config: Config | undefined;
    try {
      const file = findConfigFile(values.config, environment.env);
      const loaded = loadConfig({ env: io.env, file });
      config = loaded.config;
      checks.push(...configChecks(file, loaded));
    } catch (error) {
      if (!hasCode(error, 'ERR_CONFIG_NOT_FOUND', 'ERR_CONFIG')) throw error;
      const notFound = error.code === 'ERR_CONFIG_NOT_FOUND';
      checks.push(notFound
        ? { check: 'config', level: 'info', detail: error.message.split(';')[0]!, fix: 'tokenenv setup NAME creates one' }
        : { check: 'config', level: 'fail', detail: error.message, fix: 'tokenenv config check' });
    }
    if (config) {
      checks.push(...await agentChecks(config, environment));
      const { pidFile } = watcherFiles(stateDirectory(environment.env), resolve(config.file!));
      const pid = runningWatcher(pidFile);
      checks.push(pid
        ? { check: 'watcher', level: 'ok', detail: `running (pid ${pid})` }
        : { check: 'watcher', level: 'warn', detail: 'not running: tokens are refreshed only when something asks', fix: 'tokenenv watch, or tokenenv systemd --install' });
      checks.push(...endpointChecks(config, claims));
    }
    const shell = envValue(io.env, 'TOKENENV_SHELL');
    checks.push(shell
      ? { check: 'shell wrappers', level: 'ok', detail: `loaded (${shell})` }
      : { check: 'shell wrappers', level: 'info', detail: 'unknown from here', fix: 'in your shell: source "$(tokenenv shell-path)", then run tokenenv_doctor' });
    checks.push(...await clientChecks(environment.env as NodeJS.ProcessEnv));
    if (values.json) io.stdout(JSON.stringify({ ok: !checks.some((c) => c.level === 'fail'), checks }, null, 2) + '\n');
    else io.stdout(report(checks));
    return checks.some((c) => c.level === 'fail') ? ExitCode.failure : ExitCode.ok;
  },
};

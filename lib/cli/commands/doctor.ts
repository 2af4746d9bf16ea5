// `tokenenv doctor`: checks the whole chain, one line per check, with a fix for each problem.
import { lstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { wouldAccept } from '../../token/acceptance.js';
import { decodeClaims, type JwtClaims } from '../../token/claims.js';
import { findConfigFile, loadConfig, type AccountConfig, type Config, type LoadedConfig, type TokenConfig } from '../../config/config.js';
import { hasCode } from '../../core/errors.js';
import { discoverTokenSync, explainDiscovery, tokenLocation, type DiscoveryStep } from '../../discovery/discovery.js';
import { defaultToken } from '../../refresh/targets.js';
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
  /** A command line to paste, that resolves this check in the state it was printed for (a test
   * applies each one). Advice that is not a command belongs in the detail. */
  fix?: string;
}

/** What the fixes depend on: the config (when refresh can read it) and how doctor was run. */
interface FixContext {
  environment: TokenEnvironment;
  config: Config | undefined;
  /** ` --config FILE` when doctor was given one, so that the fix reads the same config. */
  configOption: string;
  /** The command that must come before a refresh from this account (by section name): start the
   * agent, load the account; null when no command can (the config's oidc_sock unreachable). */
  accountFirst: Map<string, string | null>;
}

/** The commands joined with `&&`, leaving out those that are not needed (undefined). */
function andThen(...steps: (string | undefined)[]): string {
  return steps.filter(Boolean).join(' && ');
}

/** The refresh of one configured token, after what its account needs first; undefined when
 * refresh cannot work in this state. */
function refreshFix(context: FixContext, token: TokenConfig, force = false): string | undefined {
  const first = context.accountFirst.get(token.account);
  if (first === null) return undefined;
  return andThen(first, `tokenenv refresh${context.configOption}${force ? ' --force' : ''} ${token.name}`);
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The command that puts a fresh token at `path` (default: where discovery looks): refresh the
 * configured token written there; else the default token, exported; with no config, setup.
 * Undefined when refresh cannot work in this state (its account cannot be made usable). */
function getTokenFix(context: FixContext, path: string | undefined, force = false): string | undefined {
  const { config, configOption } = context;
  if (!config) return `tokenenv setup${configOption} NAME`;
  const target = path ?? tokenLocation(context.environment).path;
  const there = config.tokens.find((t) => t.path === target);
  if (there) return refreshFix(context, there, force);
  const other = defaultToken(config) ?? config.tokens[0];
  if (!other) return `tokenenv setup${configOption} NAME`;
  const refresh = refreshFix(context, other, force);
  return refresh && `${refresh} && export BEARER_TOKEN_FILE=${shellWord(other.path)}`;
}

/** A token that discovery found at `step` needs replacing (expired, invalid). */
function replaceTokenFix(context: FixContext, step: number, path: string | undefined, force = false): string | undefined {
  return step === 1 ? 'unset BEARER_TOKEN' : getTokenFix(context, path, force);
}

/** Whether this user can remove `path` (its directory writable, and not sticky unless ours). */
function canRemove(path: string, euid: number): boolean {
  if (euid === 0) return true;
  const dir = statSync(dirname(path), { throwIfNoEntry: false });
  const file = lstatSync(path, { throwIfNoEntry: false });
  if (!dir || !file) return false;
  const writable = dir.uid === euid ? (dir.mode & 0o200) !== 0 : (dir.mode & 0o002) !== 0;
  return writable && (!(dir.mode & 0o1000) || dir.uid === euid || file.uid === euid);
}

/** The fix when discovery stopped with an error at `step` (a file someone else may have put there,
 * an unreadable or invalid one). */
function discoveryErrorFix(context: FixContext, code: string | undefined, step: DiscoveryStep | undefined): { fix?: string; note?: string } {
  const { euid } = context.environment;
  if (!step) return {};
  if (step.step === 1) return { fix: 'unset BEARER_TOKEN' };
  const path = step.path!;
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (code === 'ERR_UNSAFE_TOKEN_FILE' || code === 'ERR_TOKEN_FILE') {
    if (stat && stat.uid === euid && stat.isFile()) return { fix: `chmod 600 ${shellWord(path)}` };
    if (step.step === 2) return { fix: 'unset BEARER_TOKEN_FILE' };
    if (!stat || !canRemove(path, euid)) return { note: `; only its owner or root can remove ${path}` };
    return { fix: andThen(`rm -rf ${shellWord(path)}`, getTokenFix(context, path)) };
  }
  // An invalid or oversized token: refresh the file the config writes; drop the variable; else
  // remove what another tool left, and get a token.
  if (context.config?.tokens.some((t) => t.path === path)) return optionalFix(getTokenFix(context, path, true));
  return { fix: step.step === 2 ? 'unset BEARER_TOKEN_FILE' : andThen(`rm -f ${shellWord(path)}`, getTokenFix(context, path)) };
}

function optionalFix(fix: string | undefined): { fix?: string } {
  return fix ? { fix } : {};
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
} as const;

/** Runs a client briefly (stdin closed, 5 s at most): its output, and whether it succeeded;
 * undefined when it is not on PATH. */
async function probe(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string } | undefined> {
  const { execa } = await import('execa');
  const result = await execa(command, args, { env, extendEnv: false, stdin: 'ignore', timeout: 5000, reject: false, all: true });
  if ((result as { code?: string }).code === 'ENOENT') return undefined;
  return { ok: !result.failed, out: String(result.all ?? '') };
}

/** A client's version output; undefined when it is not on PATH. */
async function version(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return (await probe(command, args, env))?.out;
}

function atLeast(found: string, wanted: [number, number]): boolean {
  const [major = 0, minor = 0] = found.split('.').map(Number);
  return major > wanted[0] || (major === wanted[0] && minor >= wanted[1]);
}

/** Whether every directory above `path` lets others pass through (o+x): then others can reach it. */
function reachableByOthers(path: string): string | undefined {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const mode = statSync(dir, { throwIfNoEntry: false })?.mode;
    if (mode === undefined || (mode & 0o001) === 0) return undefined;
    if (dir === dirname(dir)) return dirname(resolve(path));
  }
}

interface Discovered {
  checks: Check[];
  claims?: JwtClaims;
  path?: string;
  step?: number;
  /** Permission bits of the token file. */
  mode?: number;
}

function discoveryChecks(context: FixContext): Discovered {
  const { environment } = context;
  const checks: Check[] = [];
  const explanation = explainDiscovery(environment);
  if (!explanation.found) {
    const failed = explanation.steps.find((s) => s.outcome === 'failed');
    const { fix, note }: { fix?: string; note?: string } = failed ? discoveryErrorFix(context, explanation.errorCode, failed) : optionalFix(getTokenFix(context, undefined));
    checks.push({ check: 'discovery', level: 'fail', detail: `${explanation.error ?? 'no token'}${note ?? ''}`, ...(fix ? { fix } : {}) });
    return { checks };
  }
  const found = discoverTokenSync(environment);
  const where = found.path ?? found.source;
  checks.push({ check: 'discovery', level: 'ok', detail: `token found at step ${found.step}: ${where}` });
  const stat = found.path ? statSync(found.path) : undefined;
  const exposedIn = found.path && stat && (stat.mode & 0o004) ? reachableByOthers(found.path) : undefined;
  if (exposedIn) {
    checks.push({ check: 'token file mode', level: 'fail', detail: `${found.path} is readable by everyone (mode ${(stat!.mode & 0o777).toString(8).padStart(4, '0')}) in ${exposedIn}, which others can enter: any local user can take the token; after chmod, get a new one: this one may have been copied`,
      fix: andThen(`chmod 600 ${shellWord(found.path!)}`, getTokenFix(context, found.path, true)) });
  }
  const located = { step: found.step, ...(found.path ? { path: found.path, mode: stat!.mode & 0o777 } : {}) };
  for (const step of found.steps) {
    for (const warning of step.warnings) {
      if (step.outcome === 'used') {
        if (!exposedIn) checks.push({ check: 'token file mode', level: 'warn', detail: warning, fix: `chmod 600 ${shellWord(found.path!)}` });
      } else {
        // A BEARER_TOKEN_FILE naming a missing file: fetch it when the config writes it, else drop the variable.
        const managed = context.config?.tokens.find((t) => t.path === step.path);
        checks.push({ check: 'BEARER_TOKEN_FILE', level: 'warn', detail: warning,
          fix: (managed && refreshFix(context, managed)) ?? 'unset BEARER_TOKEN_FILE' });
      }
    }
  }
  if (found.path && stat) {
    if (stat.uid !== environment.euid) {
      checks.push({ check: 'token file owner', level: 'info', detail: `${found.path} is owned by uid ${stat.uid}, not by you (uid ${environment.euid}): fine for a service-account token shared with you on purpose` });
    } else if (!found.warnings.length) {
      checks.push({ check: 'token file', level: 'ok', detail: `owned by you, mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}` });
    }
  }
  const claims = decodeClaims(found.token);
  if (claims.format === 'opaque') {
    checks.push({ check: 'expiry', level: 'info', detail: 'opaque token: its expiry is unknown' });
    return { checks, ...located };
  }
  const now = environment.now();
  if (claims.malformed.exp) {
    checks.push({ check: 'expiry', level: 'fail', detail: `its exp claim is ${claims.malformed.exp}: every service refuses it`, ...optionalFix(replaceTokenFix(context, found.step, found.path, true)) });
  } else if (claims.expiresAt !== undefined) {
    const left = claims.expiresAt - now;
    // Short-lived issuers: "soon" is at most half the token's whole lifetime, so that a new token passes.
    const lifetime = claims.issuedAt === undefined ? undefined : claims.expiresAt - claims.issuedAt;
    const soon = Math.min(300, lifetime === undefined ? 300 : lifetime / 2);
    checks.push(left <= 0
      ? { check: 'expiry', level: 'fail', detail: `expired ${formatDuration(-left)} ago; the watcher keeps tokens fresh`, ...optionalFix(replaceTokenFix(context, found.step, found.path)) }
      : left < soon
        ? { check: 'expiry', level: 'warn', detail: `${formatDuration(left)} left`, ...optionalFix(replaceTokenFix(context, found.step, found.path, true)) }
        : { check: 'expiry', level: 'ok', detail: `${formatDuration(left)} left` });
  }
  if (claims.issuedAt !== undefined && claims.issuedAt - now > 60) {
    checks.push({ check: 'clock', level: 'fail', detail: `the token was issued ${formatDuration(claims.issuedAt - now)} in the future: this clock is behind the issuer's; synchronise it (chrony, systemd-timesyncd)` });
  } else if (claims.issuedAt !== undefined) {
    checks.push({ check: 'clock', level: 'ok', detail: 'no skew against the token\'s iat' });
  }
  return { checks, claims, ...located };
}

interface AgentState {
  checks: Check[];
  /** FixContext.accountFirst: what each oidc-agent account needs before a refresh can use it. */
  accountFirst: Map<string, string | null>;
}

const START_AGENT = 'eval "$(oidc-agent-service use)"';

/** The agent reachable, each account loaded (or loadable with its password_file); checked
 * before discovery, since a refresh fix needs what these fixes do first. */
async function agentChecks(config: Config, environment: TokenEnvironment): Promise<AgentState> {
  const accounts = [...config.accounts.values()].filter((a) => a.type === 'oidc-agent');
  const accountFirst = new Map<string, string | null>();
  if (!accounts.length) return { checks: [], accountFirst };
  const load = (account: AccountConfig) => `oidc-add ${shellWord(account.oidcAccount ?? account.name)}`;
  /** A fresh agent has nothing loaded: tokenenv loads an account with a password_file, the user the others. */
  const noAgent = (check: Check, fixable: boolean): AgentState => {
    for (const a of accounts) accountFirst.set(a.name, fixable ? andThen(START_AGENT, a.passwordFile ? undefined : load(a)) : null);
    return { checks: [check], accountFirst };
  };
  const socket = accounts.find((a) => a.oidcSock)?.oidcSock ?? envValue(environment.env, 'OIDC_SOCK');
  if (!socket) {
    return noAgent({ check: 'oidc-agent', level: 'fail', detail: 'no agent: OIDC_SOCK is not set (or set oidc_sock in the [account])', fix: START_AGENT }, true);
  }
  const env = { ...environment.env, OIDC_SOCK: socket } as NodeJS.ProcessEnv;
  const loaded = await probe('oidc-add', ['--loaded'], env) ?? { ok: false, out: 'oidc-add: not installed or not on PATH' };
  if (!loaded.ok) {
    // A socket from the environment: start (or find) the user's agent; one named in the config is the config's to fix.
    const fromEnv = !accounts.some((a) => a.oidcSock);
    return noAgent({ check: 'oidc-agent', level: 'fail', detail: `cannot reach the agent at ${socket}: ${loaded.out.trim().split('\n').pop() ?? ''}${fromEnv ? '' : ' (oidc_sock in the config)'}`,
      ...(fromEnv ? { fix: START_AGENT } : {}) }, fromEnv);
  }
  const checks: Check[] = [{ check: 'oidc-agent', level: 'ok', detail: `agent reachable at ${socket}` }];
  for (const account of accounts) {
    const name = account.oidcAccount ?? account.name;
    const isLoaded = loaded.out.split(/\s+/).includes(name);
    if (!isLoaded && !account.passwordFile) accountFirst.set(account.name, load(account));
    checks.push(isLoaded
      ? { check: `account ${name}`, level: 'ok', detail: 'loaded in the agent' }
      : account.passwordFile
        ? { check: `account ${name}`, level: 'info', detail: 'not loaded: tokenenv loads it with its password_file at the next refresh' }
        : { check: `account ${name}`, level: 'warn', detail: 'not loaded (or set password_file, and tokenenv loads it)', fix: load(account) });
  }
  return { checks, accountFirst };
}

async function clientChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  const condor = await version('condor_version', [], env);
  if (condor !== undefined) {
    const v = /CondorVersion:\s*(\d+\.\d+)/.exec(condor)?.[1];
    checks.push(v && atLeast(v, [9, 0])
      ? { check: 'HTCondor', level: 'ok', detail: `${v}: discovers tokens (9.0+)` }
      : { check: 'HTCondor', level: 'warn', detail: `${v ?? 'unknown version'}: before 9.0, no token discovery; upgrade to 9.0 or later (the wrappers set _condor_SCITOKENS_FILE meanwhile)` });
  }
  const arc = await version('arcinfo', ['-v'], env);
  if (arc !== undefined) {
    const v = /version\s+(\d+\.\d+)/.exec(arc)?.[1];
    checks.push(v && atLeast(v, [6, 8])
      ? { check: 'ARC client', level: 'ok', detail: `${v}: discovers tokens (6.8+)` }
      : { check: 'ARC client', level: 'warn', detail: `${v ?? 'unknown version'}: before 6.8, tokens only through ARC_OTOKEN; upgrade the ARC client to 6.8 or later` });
  }
  const fts = await version('fts-rest-whoami', ['--version'], env);
  if (fts !== undefined) checks.push({ check: 'FTS client', level: 'info', detail: 'found: it does no discovery; the wrappers pass --access-token (visible in ps)' });
  if (!checks.length) checks.push({ check: 'clients', level: 'info', detail: 'no HTCondor, ARC or FTS client on PATH' });
  return checks;
}

/** "5.5.3" from `xrdcp --version` ("v5.5.3"), as numbers. */
function versionTriple(text: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function before(found: [number, number, number], wanted: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (found[i] !== wanted[i]) return found[i]! < wanted[i]!;
  return false;
}

/** XRootD and gfal2 read tokens their own way (see the README's client table). */
async function dataClientChecks(found: Discovered, env: NodeJS.ProcessEnv, context: FixContext): Promise<Check[]> {
  const checks: Check[] = [];
  const xrootd = await version('xrdcp', ['--version'], env);
  if (xrootd !== undefined) {
    const v = versionTriple(xrootd);
    checks.push({ check: 'XRootD client', level: 'info', detail: `${v ? v.join('.') : 'unknown version'}: discovers tokens, refuses token files open to others` });
    if (found.path && found.mode !== undefined && (found.mode & 0o077)) {
      checks.push({ check: 'XRootD token file', level: 'warn', detail: `${found.path} has group or other permission bits (mode ${found.mode.toString(8).padStart(4, '0')}): xrdcp and xrdfs refuse it and send no token (the wrappers hand XRootD a 0600 file of its own)`,
        fix: `chmod 600 ${shellWord(found.path)}` });
    }
    if (found.step === 4 && v && before(v, [5, 6, 2])) {
      checks.push({ check: 'XRootD /tmp', level: 'warn', detail: `XRootD ${v.join('.')} looks for /tmp/bt_u11 instead of ${found.path} (fixed in 5.6.2): xrdcp and xrdfs will not find this token (the shell wrappers pass it in BEARER_TOKEN_FILE)`,
        fix: `export BEARER_TOKEN_FILE=${shellWord(found.path!)}` });
    }
  }
  // With the shell wrappers loaded (tokenenv_doctor says so), gfal-* get BEARER_TOKEN for each call.
  if (await version('gfal-ls', ['--version'], env) !== undefined && found.path && !envValue(env, 'BEARER_TOKEN') && !envValue(env, 'TOKENENV_SHELL')) {
    checks.push({ check: 'gfal2', level: 'warn', detail: `gfal-* read only BEARER_TOKEN, never a token file: they will send no token (this one is in ${found.path}); the shell wrappers set it for each call, as does tokenenv exec --env-token -- gfal-…`,
      fix: `source "$(tokenenv shell-path)" && tokenenv_doctor${context.configOption}` });
  }
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
      // Not a problem to fix: that is what per-endpoint tokens are for.
      : { check: `endpoint ${endpoint.endpoint}`, level: 'info', detail: `the default token would be refused (${fit.audience.detail}); the shell wrappers and tokenenv exec --aud ${wanted} get a token for it` });
  }
  return checks;
}

/** The config: usable or not, then each problem and warning on a line of its own (a file others
 * could have written, a secret others can read, an inline comment...). No fix line: an edit of
 * the file is no command to paste; each problem's line says what to change. */
function configChecks(file: string, loaded: LoadedConfig): Check[] {
  const { config, problems, warnings } = loaded;
  const checks: Check[] = [problems.length
    ? { check: 'config', level: 'fail', detail: `${file}: ${problems.length} problem(s), each below with what to change` }
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
ARC >= 6.8), whether XRootD and gfal2 clients can use the token as it is kept (XRootD refuses
files open to others and, before 5.6.2, looks for /tmp/bt_u11; gfal2 reads only BEARER_TOKEN),
and whether the token's audience fits the configured endpoints. A token file readable by everyone
in a directory others can enter (such as /tmp) is a failure. Each fix is a command to paste.
Exit 0 when nothing failed (warnings allowed), 1 otherwise.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('doctor', args, OPTIONS);
    const environment = resolveEnvironment({ env: io.env });
    const configOption = values.config ? ` --config ${shellWord(values.config)}` : '';
    let config: Config | undefined;
    let configCheck: Check[];
    let usable = false;
    try {
      const file = findConfigFile(values.config, environment.env);
      const loaded = loadConfig({ env: io.env, file });
      config = loaded.config;
      usable = loaded.problems.length === 0;
      configCheck = configChecks(file, loaded);
    } catch (error) {
      if (!hasCode(error, 'ERR_CONFIG_NOT_FOUND', 'ERR_CONFIG')) throw error;
      configCheck = error.code === 'ERR_CONFIG_NOT_FOUND'
        ? [{ check: 'config', level: 'info', detail: `${error.message.split(';')[0]!}; setup creates one`, fix: `tokenenv setup${configOption} NAME` }]
        // A syntax error, at the line it names: an edit, no command.
        : [{ check: 'config', level: 'fail', detail: error.message }];
    }
    const agent = config ? await agentChecks(config, environment) : { checks: [], accountFirst: new Map() };
    // Fixes offer a refresh only when refresh can read the config.
    const context: FixContext = { environment, config: usable ? config : undefined, configOption, accountFirst: agent.accountFirst };
    const found = discoveryChecks(context);
    const { checks, claims } = found;
    checks.push(...configCheck);
    if (config) {
      checks.push(...agent.checks);
      const { pidFile } = watcherFiles(stateDirectory(environment.env), resolve(config.file!));
      const pid = runningWatcher(pidFile);
      checks.push(pid
        ? { check: 'watcher', level: 'ok', detail: `running (pid ${pid})` }
        : { check: 'watcher', level: 'warn', detail: 'not running: tokens are refreshed only when something asks (as a service: tokenenv systemd --install)', fix: `tokenenv watch${configOption}` });
      checks.push(...endpointChecks(config, claims));
    }
    const shell = envValue(io.env, 'TOKENENV_SHELL');
    checks.push(shell
      ? { check: 'shell wrappers', level: 'ok', detail: `loaded (${shell})` }
      : { check: 'shell wrappers', level: 'info', detail: 'unknown from here: run this in your shell (bash or zsh)', fix: `source "$(tokenenv shell-path)" && tokenenv_doctor${configOption}` });
    checks.push(...await clientChecks(environment.env as NodeJS.ProcessEnv));
    checks.push(...await dataClientChecks(found, environment.env as NodeJS.ProcessEnv, context));
    if (values.json) io.stdout(JSON.stringify({ ok: !checks.some((c) => c.level === 'fail'), checks: checks.map((c) => ({ ...c, fix: c.fix ?? null })) }, null, 2) + '\n');
    else io.stdout(report(checks));
    return checks.some((c) => c.level === 'fail') ? ExitCode.failure : ExitCode.ok;
  },
};

// The real oidc-agent (Debian oidc-agent-cli 4.2.6) for tests: a private agent with its own HOME
// and TMPDIR, so it never sees or touches a user's agent, and accounts created
// non-interactively against a demo issuer. Secrets never go into argv: oidc-gen reads the
// client and refresh token from a 0600 JSON file, and every password comes from a 0600 file.
//
// Run oidc-* commands only asynchronously when the issuer lives in the same process: a
// synchronous exec blocks the event loop, the issuer cannot answer, and curl waits 300 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

export interface OidcAgent {
  /** A full environment for oidc-* commands and tokenenv: no inherited OIDC_* variables. */
  readonly env: NodeJS.ProcessEnv;
  readonly dir: string;
  readonly home: string;
  /** Where oidc-gen saves account configurations (`$HOME/.oidc-agent`). */
  readonly configDir: string;
  readonly socket: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface StartOidcAgentOptions {
  /**
   * Let a token request for an unloaded account make the agent prompt for its password. Off by
   * default: the prompt is a GUI (oidc-prompt), which would pop up on a developer's desktop.
   */
  autoload?: boolean;
}

export interface AccountOptions {
  name: string;
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** CA bundle (path) for an https issuer; oidc-agent keeps using this path, so keep the file. */
  caPem?: string;
  /** Encryption password of the account configuration. */
  password: string;
  /** The account's scopes, sent on every refresh without `--scope`. Default `openid offline_access`. */
  scopes?: string[] | string;
}

export interface OidcAccount {
  name: string;
  /** 0600 file holding the password, for `oidc-add --pw-file`. */
  passwordFile: string;
}

export interface OidcTokenOptions {
  aud?: string;
  scope?: string;
  /** `--time`: minimum validity in seconds of a token the agent may serve from its cache. */
  time?: number;
  /** `--force-new` */
  force?: boolean;
}

export class OidcCommandError extends Error {
  override name = 'OidcCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(`${command} failed (${exitCode === undefined ? 'timed out' : `exit ${exitCode}`}): ${stderr.trim() || '(no message)'}`);
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a private oidc-agent in `dir` (created if needed) and waits for its socket. */
export async function startOidcAgent(dir: string, options: StartOidcAgentOptions = {}): Promise<OidcAgent> {
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const socket = join(tmp, 'oidc-agent.sock');
  if (Buffer.byteLength(socket) > 100) throw new Error(`startOidcAgent: socket path too long for a UNIX socket: ${socket}`);

  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OIDC_') && k !== 'OIDCD_PID'));
  const env: NodeJS.ProcessEnv = { ...base, HOME: home, TMPDIR: tmp };
  // --console: the agent is our child (no daemon to find and kill later). No --debug: its log
  // contains the refresh request bodies, refresh tokens included.
  const args = ['--console', `--socket-path=${socket}`, '--no-autoreauthenticate'];
  if (!options.autoload) args.push('--no-autoload');
  const child = spawn('oidc-agent', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {}); // reported below as "exited before its socket appeared"
  track(child);
  // A forgotten stop() must not keep mocha alive; the exit hook kills the agent.
  child.unref();
  (child.stderr as unknown as { unref?(): void } | null)?.unref?.();

  for (const deadline = Date.now() + 5000; !existsSync(socket); await sleep(20)) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      running.delete(child);
      throw new Error(`oidc-agent exited before its socket appeared: ${stderr.trim() || `exit ${child.exitCode ?? child.signalCode}`}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      running.delete(child);
      throw new Error(`oidc-agent did not create ${socket} within 5 s: ${stderr.trim()}`);
    }
  }

  return {
    env: { ...env, OIDC_SOCK: socket, OIDCD_PID: String(child.pid) },
    dir,
    home,
    configDir: join(home, '.oidc-agent'),
    socket,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
        if (!killed) child.kill('SIGKILL');
        await exited;
      }
      running.delete(child);
    },
  };
}

/** Creates (and loads) an account with oidc-gen's refresh flow: no browser, no prompt. */
export async function createAccount(agent: OidcAgent, options: AccountOptions): Promise<OidcAccount> {
  const scopes = typeof options.scopes === 'string' ? options.scopes : (options.scopes ?? ['openid', 'offline_access']).join(' ');
  const secrets = join(agent.dir, 'accounts');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const passwordFile = join(secrets, `${options.name}.pw`);
  writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
  // The client configuration file of `oidc-gen -f`: what would otherwise be --client-secret and
  // --rt on the command line.
  const clientFile = join(secrets, `${options.name}.client.json`);
  const client = {
    issuer_url: options.issuerUrl,
    client_id: options.clientId,
    client_secret: options.clientSecret,
    refresh_token: options.refreshToken,
    scope: scopes,
    ...(options.caPem ? { cert_path: options.caPem } : {}),
  };
  writeFileSync(clientFile, JSON.stringify(client), { mode: 0o600 });
  try {
    await oidc(agent, 'oidc-gen', ['-f', clientFile, '--flow=refresh', `--pw-file=${passwordFile}`,
      '--confirm-default', '--no-url-call', '--prompt=none', options.name]);
  } finally {
    rmSync(clientFile, { force: true });
  }
  return { name: options.name, passwordFile };
}

/** `oidc-add -r NAME`: the configuration stays on disk, the agent forgets it. */
export async function unloadAccount(agent: OidcAgent, name: string): Promise<void> {
  await oidc(agent, 'oidc-add', ['-r', name]);
}

/** `oidc-add --pw-file=FILE NAME`, as osg-token-renewer loads its accounts. */
export async function loadAccount(agent: OidcAgent, name: string, passwordFile: string): Promise<void> {
  await oidc(agent, 'oidc-add', [`--pw-file=${passwordFile}`, name]);
}

/** Names of the accounts the agent has loaded (`oidc-add -a`). */
export async function loadedAccounts(agent: OidcAgent): Promise<string[]> {
  const out = await oidc(agent, 'oidc-add', ['-a']);
  // "The following account configurations are currently loaded: \nA\nB" or "No account ...".
  return out.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
}

/** `oidc-token [--aud] [--scope] [--time] [--force-new] NAME`; the access token. */
export async function oidcToken(agent: OidcAgent, name: string, options: OidcTokenOptions = {}): Promise<string> {
  const args: string[] = [];
  if (options.aud !== undefined) args.push(`--aud=${options.aud}`);
  if (options.scope !== undefined) args.push(`--scope=${options.scope}`);
  if (options.time !== undefined) args.push(`--time=${options.time}`);
  if (options.force) args.push('--force-new');
  return (await oidc(agent, 'oidc-token', [...args, name])).trim();
}

async function oidc(agent: OidcAgent, command: string, args: string[]): Promise<string> {
  const result = await execa(command, args, { env: agent.env, extendEnv: false, stdin: 'ignore', timeout: 30_000, reject: false });
  if (result.exitCode !== 0 || result.timedOut) {
    // oidc-token's stdout would be a token: never put it into an error.
    const message = String(result.stderr) || (command === 'oidc-token' ? '' : String(result.stdout));
    throw new OidcCommandError(command, result.timedOut ? undefined : result.exitCode, message);
  }
  return String(result.stdout);
}

// A failed test must not leave agents behind.
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

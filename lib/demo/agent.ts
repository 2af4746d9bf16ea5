// The demo's oidc-agent: a private agent (its own HOME and socket inside the demo's directory, so
// it never sees or touches the user's agent) holding one account created against the demo
// issuer with oidc-gen's refresh flow: a pre-registered client and a refresh token the issuer
// mints, as if the user had logged in. Secrets never go into argv: oidc-gen reads them from a
// 0600 file, removed at once; the account's password is a 0600 file.
//
// Every oidc-* command runs asynchronously: the issuer answers from this very process.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redact } from '../sources/source.js';
import type { DemoIssuer } from './issuer.js';

export const AGENT_COMMANDS = ['oidc-agent', 'oidc-gen', 'oidc-add', 'oidc-token'];

export interface DemoAgent {
  socket: string;
  /** The account's name in the agent. */
  account: string;
  passwordFile: string;
  /** Stops the agent (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
  /** For a last-moment cleanup at process exit: synchronous. */
  kill(): void;
}

export interface DemoAgentOptions {
  dir: string;
  issuer: DemoIssuer;
  client: { clientId: string; clientSecret: string };
  /** The account's scopes (oidc-token asks for these without --scope). */
  scopes: string[];
  env: Readonly<Record<string, string | undefined>>;
  account?: string;
}

/** The oidc-agent commands missing from PATH (none: the demo can create an account). */
export function missingAgentCommands(env: Readonly<Record<string, string | undefined>>): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return AGENT_COMMANDS.filter((command) => !dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (error) => done({ status: null, output: error.message }));
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, output });
    });
  });
}

/** Starts the private agent and creates the account; rejects with a one-line reason. */
export async function startDemoAgent(options: DemoAgentOptions): Promise<DemoAgent> {
  const account = options.account ?? 'tokenenv-demo';
  const home = join(options.dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const socket = join(options.dir, 'oidc-agent.sock');
  if (Buffer.byteLength(socket) > 100) throw new Error(`the socket path is too long for a UNIX socket: ${socket}`);
  const base = Object.fromEntries(Object.entries(options.env).filter(([k]) => !k.startsWith('OIDC_') && k !== 'OIDCD_PID'));
  const env: NodeJS.ProcessEnv = { ...base, HOME: home, TMPDIR: options.dir };

  // --console: the agent stays our child, stopped with the demo. No --debug: its log would hold
  // refresh tokens.
  const child: ChildProcess = spawn('oidc-agent', ['--console', `--socket-path=${socket}`, '--no-autoload', '--no-autoreauthenticate'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-2000); });
  child.once('error', () => undefined); // reported below: no socket
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const agent: DemoAgent = {
    socket, account, passwordFile: join(options.dir, `${account}.pw`),
    async stop() {
      if (alive()) {
        child.kill('SIGTERM');
        if (!await Promise.race([exited.then(() => true), sleep(2000).then(() => false)])) child.kill('SIGKILL');
        await exited;
      }
    },
    kill() {
      if (alive()) child.kill('SIGKILL');
    },
  };
  try {
    for (const deadline = Date.now() + 5000; !existsSync(socket); await sleep(20)) {
      if (!alive() || child.pid === undefined) throw new Error(`oidc-agent exited: ${stderr.trim().split('\n').pop() || 'no message'}`);
      if (Date.now() > deadline) throw new Error('oidc-agent did not create its socket within 5 s');
    }
    writeFileSync(agent.passwordFile, `${randomPassword()}\n`, { mode: 0o600 });
    const clientFile = join(options.dir, 'client.json');
    writeFileSync(clientFile, JSON.stringify({
      issuer_url: options.issuer.url,
      client_id: options.client.clientId,
      client_secret: options.client.clientSecret,
      refresh_token: await options.issuer.mintRefreshToken(options.client.clientId, { scope: ['openid', 'offline_access', ...options.scopes].join(' ') }),
      scope: ['openid', 'offline_access', ...options.scopes].join(' '),
    }), { mode: 0o600 });
    try {
      const gen = await run('oidc-gen', ['-f', clientFile, '--flow=refresh', `--pw-file=${agent.passwordFile}`, '--confirm-default',
        '--no-url-call', '--prompt=none', account], { ...env, OIDC_SOCK: socket });
      if (gen.status !== 0) throw new Error(`oidc-gen failed: ${redact(gen.output, [options.client.clientSecret]).trim().split('\n').pop() || `exit ${gen.status}`}`);
    } finally {
      rmSync(clientFile, { force: true });
    }
    return agent;
  } catch (error) {
    await agent.stop();
    throw error;
  }
}

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

// Driving oidc-agent for `tokenenv setup`: which accounts the agent has, creating one with
// oidc-gen's device flow (the code shown to the user, the secrets kept out of argv and output),
// loading one with oidc-add. Passwords go through a file or stdin, never the command line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { envValue } from '../core/environment.js';
import { TokenenvError, UsageError } from '../core/errors.js';
import { redact } from '../sources/source.js';

/** What oidc-gen needs to know about the account to create. */
export interface AgentAccountRequest {
  name: string;
  issuer: string;
  /** What the account asks for (offline_access for a refresh token). */
  accountScope: string;
  clientId?: string;
  clientSecretFile?: string;
}

/** The encryption password of the oidc-agent account: a file, or typed (kept in memory only). */
export type Password = { file: string } | { value: string };

function passwordArgs(password: Password, env: NodeJS.ProcessEnv): string[] {
  if ('file' in password) return [`--pw-file=${password.file}`];
  env.OIDC_ENCRYPTION_PW = password.value;
  return ['--pw-env'];
}

interface Run {
  status: number | null;
  output: string;
}

/** Runs an oidc-agent command (stdin closed), passing each output line to `onLine`. */
function runOidc(command: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string, stream: number) => void = () => undefined): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    [child.stdout, child.stderr].forEach((stream, index) => {
      let partial = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) onLine(line, index);
      });
      stream.on('end', () => partial && onLine(partial, index));
    });
    child.on('error', (error) => done({ status: null, output: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command}: not installed or not on PATH` : error.message }));
    child.on('close', (status) => done({ status, output }));
  });
}

const lastLine = (output: string) => redact(output).split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('\x1b')).at(-1) ?? '';

/** Accounts the agent has loaded and the account configurations on disk; a clear error when
 * there is no agent. */
export async function agentAccounts(env: NodeJS.ProcessEnv): Promise<{ loaded: string[]; configured: string[] }> {
  const socket = envValue(env, 'OIDC_SOCK');
  if (!socket) {
    throw new TokenenvError('setup: no oidc-agent: OIDC_SOCK is not set. Start one (eval $(oidc-agent-service use)) and run setup again; '
      + 'for a service client without an agent, use --client-credentials --client-id ID --client-secret-file FILE');
  }
  const names = (run: Run) => (run.status === 0 ? run.output.split('\n').slice(1).map((l) => l.trim()).filter(Boolean) : []);
  const loaded = await runOidc('oidc-add', ['--loaded'], env);
  if (loaded.status !== 0) throw new TokenenvError(`setup: cannot reach oidc-agent at OIDC_SOCK ${socket}: ${lastLine(loaded.output)}`);
  // `oidc-add --list` fails ("Error: success") when there is no account configuration at all.
  return { loaded: names(loaded), configured: names(await runOidc('oidc-add', ['--list'], env)) };
}

/** oidc-gen with the device flow, without a single prompt: the client (and its secret) from a
 * 0600 file in a private directory, or dynamic registration; the user opens the URL and types
 * the code that we print. */
export async function createAgentAccount(plan: AgentAccountRequest, password: Password, env: NodeJS.ProcessEnv, io: { stdout(text: string): void }): Promise<void> {
  const childEnv = { ...env };
  const args = ['--flow=device', '--no-url-call', '--prompt=none', '--confirm-default', ...passwordArgs(password, childEnv)];
  const privateDir = mkdtempSync(join(tmpdir(), 'tokenenv-setup-'));
  const forget = () => rmSync(privateDir, { recursive: true, force: true });
  const secrets: string[] = [];
  try {
    if (plan.clientId) {
      const client: Record<string, string> = { issuer_url: plan.issuer, client_id: plan.clientId, scope: plan.accountScope };
      if (plan.clientSecretFile) secrets.push(client.client_secret = readSecret(plan.clientSecretFile));
      const file = join(privateDir, 'client.json');
      writeFileSync(file, JSON.stringify(client), { mode: 0o600 });
      args.push(`--file=${file}`);
    } else {
      args.push(`--issuer=${plan.issuer}`, `--scope=${plan.accountScope}`);
    }
    args.push(plan.name);
    io.stdout(`Creating the oidc-agent account ${plan.name} at ${plan.issuer} (${plan.clientId ? `client ${plan.clientId}` : 'dynamic client registration'}),\n`
      + `asking for: ${plan.accountScope}\n`);
    // Per stream (stdout, stderr): lines of the two may interleave.
    const urlNext = [false, false];
    const inJson = [false, false];
    let url = '';
    let shown = '';
    const show = (line: string) => {
      shown = redact(line, secrets);
      io.stdout(`  oidc-gen: ${shown}\n`);
    };
    const run = await runOidc('oidc-gen', args, childEnv, (raw, stream) => {
      const line = raw.trim();
      if (!line || raw.includes('\x1b[') || /QR code/.test(line)) return; // the QR code and its caption
      if (line === '{') {
        // When it cannot save a registered client's configuration, oidc-gen prints it, client
        // secret and registration token included: never shown.
        inJson[stream] = true;
        show('(a client configuration, not shown: it holds the client secret)');
      } else if (inJson[stream]) {
        inJson[stream] = line !== '}';
      } else if (/visit:$/.test(line)) {
        urlNext[stream] = true;
      } else if (urlNext[stream]) {
        url = line;
        urlNext[stream] = false;
      } else if (/enter the code:/.test(line)) {
        forget(); // oidc-gen has read the client file by now: the secret leaves the disk at once
        const code = line.replace(/.*enter the code:\s*/, '');
        io.stdout(`\n  Open this URL in a browser, on any device:  ${url}\n  and enter the code:                         ${code}\n\n  Waiting for you to log in and approve ...\n`);
      } else {
        show(line);
      }
    });
    if (run.status !== 0) {
      const why = run.status === null ? run.output : `exit ${run.status}${shown ? `: ${shown}` : ''}`;
      throw new TokenenvError(`setup: oidc-gen could not create the account ${plan.name} (${why})`);
    }
  } finally {
    forget();
  }
}

export function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch (error) {
    throw new UsageError(`setup: --client-secret-file ${file}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
}

export async function loadAccount(name: string, password: Password, env: NodeJS.ProcessEnv): Promise<void> {
  const childEnv = { ...env };
  const run = await runOidc('oidc-add', [...passwordArgs(password, childEnv), name], childEnv);
  if (run.status !== 0) throw new TokenenvError(`setup: oidc-add could not load the account ${name}: ${lastLine(run.output)}`);
}


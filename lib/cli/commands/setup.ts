// `tokenenv setup NAME`: the first token in two minutes, instead of the pages of oidc-gen prompts
// and config.ini editing users follow today. Asks (or takes as flags) the issuer, what the token
// should allow in the users' own terms, and its audience; creates the oidc-agent account through
// oidc-gen's device flow (or a client-credentials account: no agent); writes [account NAME] and
// [token NAME] into the config, leaving the rest of the file as it was; fetches the first token.
import { spawn } from 'node:child_process';
import {
  chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync,
  renameSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { decodeClaims, WLCG_ANY_AUDIENCE } from '../../token/claims.js';
import { interpretConfig, type Config } from '../../config/config.js';
import { iniValue, upsertSections, type NewSection } from '../../config/edit.js';
import { parseIni } from '../../config/ini.js';
import { formatDuration } from '../../core/duration.js';
import { envValue, resolveEnvironment } from '../../core/environment.js';
import { TokenenvError, UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { configCandidates } from '../../files/paths.js';
import { tokenLocation } from '../../discovery/discovery.js';
import { refreshTokenFile } from '../../refresh/refresh.js';
import { redact } from '../../sources/source.js';
import { extractToken } from '../../token/syntax.js';
import { describeToken } from './inspect.js';
import { parseCommandArgs, type CliIo, type Command, type ParsedCommandArgs } from '../io.js';

const OPTIONS = {
  issuer: { type: 'string' },
  can: { type: 'string' },
  scitokens: { type: 'boolean' },
  groups: { type: 'boolean' },
  scope: { type: 'string' },
  ce: { type: 'string' },
  aud: { type: 'string' },
  'token-path': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-credentials': { type: 'boolean' },
  'password-file': { type: 'string' },
  config: { type: 'string', short: 'c' },
  force: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
} as const;

type Values = ParsedCommandArgs<typeof OPTIONS>['values'];

/** What users ask for (the capability table of OSG's "Requesting tokens"), as WLCG scopes. */
const CAPABILITIES: Record<string, { what: string; wlcg: string[]; scitokens?: string[] }> = {
  'htcondor-read': { what: 'query jobs (condor_q)', wlcg: ['compute.read'] },
  'htcondor-write': { what: 'submit, edit, remove jobs', wlcg: ['compute.create', 'compute.modify', 'compute.cancel'] },
  'storage-read': { what: 'read files (xrdcp, gfal)', wlcg: ['storage.read:/'], scitokens: ['read:/'] },
  'storage-write': { what: 'write files', wlcg: ['storage.modify:/'], scitokens: ['write:/'] },
};
const DEFAULT_ISSUER = 'https://wlcg.cloud.cnaf.infn.it/'; // the WLCG INDIGO IAM instance
const DEFAULT_CAPABILITIES = 'htcondor-read,htcondor-write';
const CE_PORT = 9619;

interface Plan {
  name: string;
  /** The [token] section: `default` (where discovery looks) when the config has no token there
   * yet, else NAME; a re-run keeps the section it wrote the first time. */
  tokenName: string;
  /** A client-credentials account (a service client) instead of an oidc-agent one. */
  service: boolean;
  issuer: string;
  /** The token's scope, and what the oidc-agent account asks for (offline_access for a refresh token). */
  scope: string;
  accountScope: string;
  audience: string;
  configFile: string;
  tokenPath?: string;
  clientId?: string;
  clientSecretFile?: string;
  passwordFile?: string;
}

// --- asking -------------------------------------------------------------------------------

interface Prompter {
  ask(question: string, fallback?: string): Promise<string>;
  secret(question: string): Promise<string>;
  say(text: string): void;
}

/** Asks on the terminal (on stderr, so that stdout can be captured); a secret is not echoed.
 * Each question has a readline of its own: between questions the terminal is back to normal,
 * so Ctrl-C while oidc-gen waits stops both. */
async function question(text: string, secret: boolean): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  // Without a listener, readline swallows Ctrl-C and the prompt would hang.
  rl.on('SIGINT', () => {
    rl.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    if (!secret) return await rl.question(text);
    output.write(text);
    muted = true;
    return await rl.question('');
  } finally {
    rl.close();
    if (secret) process.stderr.write('\n');
  }
}

const terminalPrompter: Prompter = {
  ask: async (text, fallback) => (await question(`${text}${fallback ? ` [${fallback}]` : ''}: `, false)).trim() || fallback || '',
  secret: (text) => question(`${text}: `, true),
  say: (text) => process.stderr.write(text),
};

/** A flag's value, else the answer to a question (asked again while it is not valid), else a
 * usage error naming the flag: scripts get no prompt. */
async function input<T>(given: string | undefined, flag: string, question: string, fallback: string | undefined,
  parse: (text: string) => T, prompt: Prompter | undefined): Promise<T> {
  if (given !== undefined) return parse(given);
  if (!prompt) throw new UsageError(`setup: ${flag} is needed (no terminal to ask on; see tokenenv help setup)`);
  for (;;) {
    try {
      return parse(await prompt.ask(question, fallback));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      prompt.say(`  ${error.message}\n`);
    }
  }
}

function issuerUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`setup: --issuer: not an http(s) URL: ${text || '(empty)'}`);
  return text;
}

function unique(words: string[]): string {
  return [...new Set(words)].join(' ');
}

function capabilityScopes(text: string, scitokens: boolean): string[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  if (!names.length) throw new UsageError(`setup: --can: name at least one of ${Object.keys(CAPABILITIES).join(', ')}`);
  return names.flatMap((name) => {
    const capability = CAPABILITIES[name];
    if (!capability) throw new UsageError(`setup: --can: unknown capability '${name}'; use ${Object.keys(CAPABILITIES).join(', ')}`);
    return scitokens && capability.scitokens ? capability.scitokens : capability.wlcg;
  });
}

/** HTCondor-CE audience rule: `<CE FQDN>:<CE PORT>`, port 9619 by default. */
function ceAudience(ce: string): string {
  const match = /^([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(ce);
  if (!match) throw new UsageError(`setup: --ce: expected HOST or HOST:PORT, not ${ce}`);
  return `${match[1]}:${match[2] ?? CE_PORT}`;
}

/** An answer to the audience question: a URL as it is, a host[:port] as a CE, nothing for any. */
function audienceAnswer(text: string): string {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.length || words.join(' ') === 'any') return WLCG_ANY_AUDIENCE;
  return unique(words.map((w) => (w.includes('://') ? w : ceAudience(w))));
}

async function makePlan(name: string, values: Values, io: CliIo, prompt: Prompter | undefined): Promise<Plan> {
  const service = values['client-credentials'] ?? false;
  if (service && (!values['client-id'] || !values['client-secret-file'])) {
    throw new UsageError('setup: --client-credentials needs --client-id ID and --client-secret-file FILE');
  }
  if (values['client-secret-file'] && !values['client-id']) throw new UsageError('setup: --client-secret-file goes with --client-id');
  if (service && values['password-file']) throw new UsageError('setup: --password-file is for oidc-agent accounts, not --client-credentials');
  if (values.scope !== undefined && (values.can !== undefined || values.scitokens || values.groups)) {
    throw new UsageError('setup: --scope replaces --can, --scitokens and --groups: give one or the other');
  }
  const issuer = await input(values.issuer, '--issuer URL', 'Token issuer (your IAM instance)', DEFAULT_ISSUER, issuerUrl, prompt);

  let scopes: string[];
  if (values.scope !== undefined) {
    scopes = values.scope.split(/\s+/).filter(Boolean);
    if (!scopes.length) throw new UsageError('setup: --scope: empty');
  } else {
    if (values.can === undefined && prompt) {
      prompt.say('What should the token allow? Comma-separated, from:\n');
      for (const [key, c] of Object.entries(CAPABILITIES)) prompt.say(`  ${key.padEnd(15)} ${c.what.padEnd(26)} ${(values.scitokens && c.scitokens ? c.scitokens : c.wlcg).join(' ')}\n`);
    }
    const capabilities = await input(values.can, '--can CAPABILITIES (or --scope S)', 'Capabilities', DEFAULT_CAPABILITIES,
      (text) => capabilityScopes(text, values.scitokens ?? false), prompt);
    scopes = [...capabilities, ...(values.groups ? ['wlcg.groups'] : [])];
  }

  let audience: string;
  if (values.ce !== undefined || values.aud !== undefined) {
    const ces = (values.ce ?? '').split(/[\s,]+/).filter(Boolean).map(ceAudience);
    audience = unique([...ces, ...(values.aud ?? '').split(/[\s,]+/).filter(Boolean)]);
    if (!audience) throw new UsageError('setup: --ce/--aud: empty');
  } else if (prompt) {
    audience = await input(undefined, '--aud', `Audience: a CE as HOST[:PORT] (port ${CE_PORT}), a service URL, or "any"`, 'any', audienceAnswer, prompt);
  } else {
    audience = WLCG_ANY_AUDIENCE;
  }

  const configFile = resolve(values.config ?? configCandidates(io.env)[0]!.path);
  const plan: Plan = {
    name, tokenName: name, service, issuer, audience, configFile,
    scope: unique(scopes),
    // An oidc-agent account lives on its refresh token: offline_access; `wlcg` asks IAM for the
    // WLCG profile, which the groups claim belongs to.
    accountScope: unique(['openid', 'offline_access', ...(values.groups ? ['wlcg'] : []), ...scopes]),
  };
  if (values['token-path']) plan.tokenPath = resolve(values['token-path']);
  if (values['client-id']) plan.clientId = values['client-id'];
  if (values['client-secret-file']) plan.clientSecretFile = resolve(values['client-secret-file']);
  if (values['password-file']) plan.passwordFile = resolve(values['password-file']);
  return plan;
}

// --- the config ---------------------------------------------------------------------------

/** Which [token] section setup writes: see Plan.tokenName. */
function tokenSection(plan: Plan, before: Config, io: CliIo): string {
  const tokens = before.tokens;
  if (tokens.some((t) => t.name === 'default' && t.account === plan.name)) return 'default';
  if (tokens.some((t) => t.name === plan.name) || plan.tokenPath) return plan.name;
  const location = tokenLocation({ env: io.env }).path;
  return tokens.some((t) => t.name === 'default' || t.path === location) ? plan.name : 'default';
}

function sectionsOf(plan: Plan): NewSection[] {
  const line = (key: string, value: string) => `${key} = ${iniValue(value)}`;
  // No comments: a section ends at its last key, so a comment would be left behind by a re-run.
  const account = plan.service
    ? [line('issuer', plan.issuer), line('client_id', plan.clientId!), line('client_secret_file', plan.clientSecretFile!)]
    : plan.passwordFile ? [line('password_file', plan.passwordFile)] : []; // an oidc-agent account, osg-token-renewer's kind
  const token = [line('account', plan.name), ...(plan.tokenPath ? [line('token_path', plan.tokenPath)] : []),
    line('audience', plan.audience), line('scope', plan.scope)];
  return [{ name: `account ${plan.name}`, lines: account }, { name: `token ${plan.tokenName}`, lines: token }];
}

/** The config file's new text, checked as `tokenenv refresh` will read it. */
function composeConfig(plan: Plan, io: CliIo): { text: string; config: Config } {
  let before = '';
  try {
    before = readFileSync(plan.configFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenenvError(`${plan.configFile}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  const check = (text: string, what: string): Config => {
    const { config, problems } = interpretConfig(parseIni(text, plan.configFile), resolveEnvironment({ env: io.env }));
    for (const problem of problems) io.stderr(`tokenenv: ${problem.message}\n`);
    if (problems.length) throw new UsageError(`${plan.configFile}: ${what} ${problems.length} problem(s); nothing was changed`);
    return config;
  };
  // Problems already in the file first, with their own line numbers.
  plan.tokenName = tokenSection(plan, check(before, 'fix first: the config has'), io);
  let text: string;
  try {
    text = upsertSections(before, plan.configFile, sectionsOf(plan));
  } catch (error) {
    throw new UsageError(`setup: ${(error as Error).message}`);
  }
  return { text, config: check(text, 'the new sections would have') };
}

/** Writes our sections into the config as it is now, under a lock (proper-lockfile), so that two
 * set-ups at once (or one while another tokenenv edits the file) lose nothing: read, replace our
 * sections, write. Atomically, keeping the mode of an existing file (new: 0600, in a 0700
 * directory) and a symbolic link (a dotfiles checkout) as a link. */
async function writeConfig(file: string, sections: NewSection[]): Promise<void> {
  const target = existsSync(file) ? realpathSync(file) : file;
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(target, {
    realpath: false, lockfilePath: `${target}.tokenenv-lock`, stale: 10_000,
    retries: { retries: 40, minTimeout: 50, maxTimeout: 250 },
  }).catch((error: Error) => {
    throw new TokenenvError(`${file}: another process is editing it (${error.message}); try again`);
  });
  try {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenenvError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code})`);
    }
    replaceFile(target, upsertSections(current, file, sections));
  } finally {
    await release();
  }
}

function replaceFile(target: string, text: string): void {
  const mode = (statSync(target, { throwIfNoEntry: false })?.mode ?? 0o600) & 0o7777;
  const temp = `${target}.tokenenv-setup-${process.pid}`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(temp, mode);
  renameSync(temp, target);
}

// --- oidc-agent ---------------------------------------------------------------------------

/** The encryption password of the oidc-agent account: a file, or typed (kept in memory only). */
type Password = { file: string } | { value: string };

async function askPassword(plan: Plan, prompt: Prompter | undefined, confirm: boolean): Promise<Password> {
  if (plan.passwordFile) return { file: plan.passwordFile };
  if (!prompt) throw new UsageError('setup: --password-file FILE is needed to encrypt the oidc-agent account (no terminal to ask on; a password never goes on the command line)');
  for (let tries = 0; tries < 3; tries++) {
    const first = await prompt.secret(confirm ? `Password to encrypt the oidc-agent account ${plan.name} (oidc-add asks for it after a restart)`
      : `Password of the oidc-agent account ${plan.name} (to load it into the agent)`);
    if (!first) {
      prompt.say('  the password cannot be empty\n');
      continue;
    }
    if (!confirm || first === await prompt.secret('The same password again')) return { value: first };
    prompt.say('  the two passwords differ\n');
  }
  throw new UsageError('setup: no password given');
}

/** The password as oidc-gen and oidc-add take it: never in argv (--pw-env reads it from the
 * child's environment, which only this user can read). */
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
async function agentAccounts(env: NodeJS.ProcessEnv): Promise<{ loaded: string[]; configured: string[] }> {
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
async function createAgentAccount(plan: Plan, password: Password, env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
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

function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch (error) {
    throw new UsageError(`setup: --client-secret-file ${file}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
}

async function loadAccount(name: string, password: Password, env: NodeJS.ProcessEnv): Promise<void> {
  const childEnv = { ...env };
  const run = await runOidc('oidc-add', [...passwordArgs(password, childEnv), name], childEnv);
  if (run.status !== 0) throw new TokenenvError(`setup: oidc-add could not load the account ${name}: ${lastLine(run.output)}`);
}

// --- the command --------------------------------------------------------------------------

function nextSteps(plan: Plan, tokenPath: string, explicitConfig: boolean, io: CliIo): string {
  const config = explicitConfig ? ` --config ${plan.configFile}` : '';
  const found = tokenLocation({ env: io.env }).path === tokenPath;
  const lines = [
    '', 'Next steps:',
    `  keep it fresh:     tokenenv watch${config}   (or as a service: tokenenv systemd --install${config})`,
    '  in your shell:     tokenenv init bash >> ~/.bashrc   (once; zsh: tokenenv init zsh >> ~/.zshrc): condor_submit, arcsub, ... get fresh tokens',
    `  for one command:   tokenenv exec${config}${found ? '' : ` --token ${plan.tokenName}`} -- COMMAND`,
    `  check everything:  tokenenv doctor${config}`,
  ];
  if (!plan.service && !plan.passwordFile) lines.push('  after a reboot:    oidc-add ' + plan.name + '   (loads the account into oidc-agent again)');
  // The last word: whether discovery (grid clients, tokenenv discover) finds this token.
  lines.push('', found
    ? `Discovery finds this token (${tokenPath}): grid clients and tokenenv discover use it as it is.`
    : `Discovery looks elsewhere (your default token); for a program to use this one:\n  export BEARER_TOKEN_FILE=${tokenPath}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv setup NAME [--issuer URL] [--can CAPABILITIES | --scope S] [--ce HOST[:PORT]] [--aud A]
                    [--client-id ID [--client-secret-file FILE]] [--password-file FILE] [--yes]
tokenenv setup NAME --client-credentials --client-id ID --client-secret-file FILE --issuer URL ...

Creates the oidc-agent account NAME with oidc-gen's device flow (open a URL, type a code), writes
[account NAME] and its token into the config (the rest of the file is left as it was; running
setup again replaces just those two sections) and fetches the first token. The token is
[token default], the one discovery finds, when the config has no token there yet; otherwise
[token NAME], and setup ends with the line that makes a program use it. On a terminal it asks
for what is not given; with --yes or without a terminal it never asks.

  --issuer URL             the token issuer (asked; default ${DEFAULT_ISSUER})
  --can LIST               what the token allows, comma-separated: htcondor-read (compute.read),
                           htcondor-write (compute.create compute.modify compute.cancel),
                           storage-read (storage.read:/), storage-write (storage.modify:/)
  --scitokens              storage scopes in the older SciTokens form: read:/ and write:/
  --groups                 ask for group membership too (wlcg, wlcg.groups)
  --scope S                exactly these scopes instead (space-separated)
  --ce HOST[:PORT]         audience for an HTCondor-CE: HOST:PORT, port ${CE_PORT} by default
  --aud A                  audience(s) as given; default ${WLCG_ANY_AUDIENCE} (any)
  --token-path PATH        where the token goes, in [token NAME] (default: the discovery
                           location for [token default], else bt_u$ID-tokenenv-NAME beside it)
  --client-id ID           a preregistered client (else dynamic client registration), with
  --client-secret-file F   its secret in a file (never on the command line)
  --password-file FILE     the account's encryption password (else asked, without echo); also
                           written as password_file, so tokenenv can load the account itself
  --client-credentials     a service client (client-credentials grant): no oidc-agent, no password
  --force                  create the oidc-agent account anew even if NAME exists (else reused)
  --config FILE            default: $TOKENENV_CONFIG, else ~/.config/tokenenv/config.ini
  -y, --yes                never ask: what is missing is a usage error naming its flag

Needs a running oidc-agent (OIDC_SOCK), except with --client-credentials.
Exit codes: 0 ok; 1 the account or the first token failed (the config is then not changed);
2 usage or config error.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('setup', args, OPTIONS, 1);
    const name = positionals[0];
    if (!name) throw new UsageError('setup: needs a NAME for the account and its token, e.g. tokenenv setup wlcg');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`setup: NAME may hold letters, digits, '.', '_' and '-' only: ${name}`);
    const prompt = !values.yes && process.stdin.isTTY ? terminalPrompter : undefined;
    const env = { ...io.env } as NodeJS.ProcessEnv;
    // On a terminal, no questions before we know there is an agent to create the account in;
    // scripts get their usage errors first.
    let agent = prompt && !values['client-credentials'] ? await agentAccounts(env) : undefined;
    const plan = await makePlan(name, values, io, prompt);
    // Checked before anything happens: a config that refresh would refuse is not worth a login.
    const { config } = composeConfig(plan, io);
    if (!plan.service) {
      agent ??= await agentAccounts(env);
      if (agent.configured.includes(name) && !values.force) {
        io.stdout(`Using the existing oidc-agent account ${name} (--force creates it anew).\n`);
        if (!agent.loaded.includes(name)) await loadAccount(name, await askPassword(plan, prompt, false), env);
      } else {
        await createAgentAccount(plan, await askPassword(plan, prompt, true), env, io);
      }
    }
    // The first token before the config: a config is only written once it works.
    const token = config.tokens.find((t) => t.name === plan.tokenName)!;
    const result = await refreshTokenFile(token, config.accounts.get(name)!, { env: io.env });
    if (result.action === 'failed') {
      const again = plan.service ? '' : ' (--force creates the oidc-agent account anew, e.g. for other scopes)';
      throw new TokenenvError(`setup: the first token failed: ${result.detail}. ${plan.configFile} was not changed; run setup again once that is fixed${again}`);
    }
    await writeConfig(plan.configFile, sectionsOf(plan));
    io.stdout(`Wrote [account ${name}] and [token ${plan.tokenName}] to ${plan.configFile}\n`);
    const left = result.secondsLeft === null ? '' : `, ${formatDuration(result.secondsLeft)} left`;
    io.stdout(`\nThe first token (${result.action}${left}):\n`);
    const written = extractToken(readFileSync(token.path), token.path);
    if (written !== undefined) io.stdout(describeToken(decodeClaims(written), token.path, io.now()));
    io.stdout(nextSteps(plan, token.path, values.config !== undefined, io));
    return ExitCode.ok;
  },
};

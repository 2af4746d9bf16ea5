// Harness for testing shell/tokenenv.sh in the real bash and zsh: a hermetic environment
// (a stub directory first on PATH, a private HOME and 0700 XDG_RUNTIME_DIR, a config whose
// account is the Mint command source), recording stubs for the clients, and async runs (a server
// in the test process, such as the demo issuer, must be able to answer while a shell runs).
import { requireCommands } from './peers.js';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, tokenenvBin, wrapCommand } from './cli.js';
import { stateDirectory } from '../../lib/files/paths.js';
import { stampPath } from '../../lib/files/stamp.js';
import { endpointPurpose } from '../../lib/refresh/targets.js';
import { Mint, mintConfig } from './mint.js';
import { Sandbox } from './sandbox.js';
import { CLIENTS as WRAPPED, requestFor, type ClientKind } from '../../lib/token/operations.js';

export type ShellName = 'bash' | 'zsh';
export const SHELLS: readonly ShellName[] = ['bash', 'zsh'];

/** The script under test, by its absolute path (as `source "$(tokenenv shell-path)"` gives it). */
export const SCRIPT = join(repoRoot, 'shell', 'tokenenv.sh');
export const EUID = process.geteuid!();

const clientsOf = (kind: ClientKind): string[] => Object.entries(WRAPPED).filter(([, spec]) => spec.kind === kind).map(([name]) => name);
/** The wrapper functions of shell/tokenenv.sh, by kind (lib/token/operations.ts: CLIENTS). */
export const CLIENTS = {
  condor: clientsOf('condor'), arc: clientsOf('arc'), arcdata: clientsOf('arcdata'), fts: clientsOf('fts'), gfal: clientsOf('gfal'), xrd: clientsOf('xrd'),
} as const;
export const ALL_CLIENTS: readonly string[] = Object.values(CLIENTS).flat();

/** Quotes a string for bash and zsh alike (newlines included). */
export function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `set -euo pipefail`, then the script sourced twice: the setting every wrapper test runs in. */
export const STRICT_PRELUDE = `set -euo pipefail\nsource ${q(SCRIPT)}\nsource ${q(SCRIPT)}\n`;

/** argv that runs `script` in `shell` without any rc file. */
export function shellArgv(shell: ShellName | 'sh' | 'bash --posix', script: string): string[] {
  switch (shell) {
    case 'bash': return ['bash', '--norc', '--noprofile', '-c', script];
    case 'bash --posix': return ['bash', '--posix', '--norc', '--noprofile', '-c', script];
    case 'zsh': return ['zsh', '-f', '-c', script];
    case 'sh': return ['sh', '-c', script];
  }
}

export interface ProcessRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs argv with exactly `env` (nothing inherited), feeding `input` on stdin; never throws on failure. */
export function runProcess(argv: string[], env: Record<string, string>, options: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd: options.cwd ?? '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a shell that exits early closes its stdin
    child.stdin.end(options.input ?? '');
  });
}

/** What a recording stub saw: its argv (without argv[0]), its whole environment, its stdin. */
export interface StubRecord {
  client: string;
  argv: string[];
  env: Record<string, string>;
  /** undefined when the stub was told not to read stdin. */
  stdin: string | undefined;
}

export interface StubOptions {
  /** Exit status. Default 0. */
  status?: number;
  /** Written to stdout. Default nothing. */
  stdout?: string;
  /** Read stdin to its end and record it. Default true. */
  readStdin?: boolean;
}

export interface ShellRunOptions {
  /** Replaces variables of the base environment; undefined removes one. */
  env?: Record<string, string | undefined>;
  input?: string;
  /** Put before the body; default STRICT_PRELUDE. */
  prelude?: string;
  /** Record every successful execve into this file (strace -f). */
  trace?: string;
  /** Run with this directory mounted over /tmp, in a private mount namespace (root or user namespaces). */
  privateTmp?: string;
  /** An interactive shell (bash -i, zsh -i), still without rc files. */
  interactive?: boolean;
  /** Runs the shell through this (e.g. a private /tmp for XRootD clients). */
  wrap?: (argv: string[]) => string[];
  cwd?: string;
  timeoutMs?: number;
}

/**
 * One test's world: Sandbox dirs, recording stubs, a Mint source and its config. The
 * environment is built from scratch (env -i): PATH is the stubs, then node's directory, then
 * /usr/bin:/bin.
 */
export class ShellLab {
  readonly box = new Sandbox('tokenenv-shell-');
  readonly stubs = this.box.path('stubs');
  readonly recordsDir = this.box.path('records');
  readonly home = this.box.path('home');
  readonly work = this.box.path('work');
  readonly mint: Mint;
  readonly configFile = this.box.path('config.ini');

  constructor() {
    chmodSync(this.box.xdg, 0o700);
    for (const dir of [this.stubs, this.recordsDir, this.home, this.work, this.box.path('mint')]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.mint = new Mint(this.box.path('mint'));
    this.configure();
    for (const client of ALL_CLIENTS) this.stub(client);
  }

  get xdg(): string {
    return this.box.xdg;
  }

  /** The base environment of every run. */
  get env(): Record<string, string> {
    return {
      PATH: `${this.stubs}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: this.home,
      XDG_RUNTIME_DIR: this.box.xdg,
      TOKENENV_CONFIG: this.configFile,
      TOKENENV_BIN: tokenenvBin,
    };
  }

  /** Writes the config: the Mint account, `tokens` (default: `[token default]`), and `extra` lines. */
  configure(tokens: Record<string, Record<string, string | number>> = { default: {} }, account: Record<string, string | number> = {}, extra = ''): void {
    writeFileSync(this.configFile, `${mintConfig(this.mint, tokens, account)}\n${extra}\n`, { mode: 0o600 });
  }

  /** (Re)writes the recording stub `name` on PATH. It uses bash builtins only: it starts no process. */
  stub(name: string, options: StubOptions = {}): string {
    const r = q(this.recordsDir);
    const script = `#!/bin/bash
# Recording stub for tests: bash builtins only, so that it starts no process of its own.
n=0
while [[ -e ${r}/$n.done ]]; do n=$((n + 1)); done
printf '%s' ${q(name)} > ${r}/$n.client
printf '%s\\0' "$#" "$@" > ${r}/$n.argv
while IFS= read -r -d '' e; do printf '%s\\0' "$e"; done < /proc/$$/environ > ${r}/$n.env
${options.readStdin === false ? '' : `data=''
IFS= read -r -d '' data || true
printf '%s' "$data" > ${r}/$n.stdin`}
printf '%s' ${q(options.stdout ?? '')}
: > ${r}/$n.done
exit ${options.status ?? 0}
`;
    const path = join(this.stubs, name);
    writeFileSync(path, script, { mode: 0o755 });
    chmodSync(path, 0o755);
    return path;
  }

  /**
   * A TOKENENV_BIN that counts its calls (one byte each in `tokenenv.calls`) and runs the real
   * tokenenv: how a test tells the fast path (no call) from the slow path without strace.
   */
  countingTokenenv(): { bin: string; calls: () => number } {
    const bin = this.box.path('counting-tokenenv');
    const count = this.box.path('tokenenv.calls');
    writeFileSync(count, '');
    writeFileSync(bin, `#!/bin/bash\nprintf x >> ${q(count)}\nexec ${q(tokenenvBin)} "$@"\n`, { mode: 0o755 });
    return { bin, calls: () => readFileSync(count, 'utf8').length };
  }

  /** Removes the stub `name`, so that the real client on PATH runs. */
  unstub(name: string): void {
    rmSync(join(this.stubs, name), { force: true });
  }

  /** Every stub call so far, in order. */
  records(): StubRecord[] {
    const records: StubRecord[] = [];
    for (let n = 0; existsSync(join(this.recordsDir, `${n}.done`)); n++) {
      const read = (ext: string) => readFileSync(join(this.recordsDir, `${n}.${ext}`), 'utf8');
      const [count, ...args] = read('argv').split('\0');
      const env = Object.fromEntries(read('env').split('\0').filter(Boolean).map((e) => {
        const at = e.indexOf('=');
        return [e.slice(0, at), e.slice(at + 1)];
      }));
      const stdinFile = join(this.recordsDir, `${n}.stdin`);
      records.push({ client: read('client'), argv: args.slice(0, Number(count)), env, stdin: existsSync(stdinFile) ? readFileSync(stdinFile, 'utf8') : undefined });
    }
    return records;
  }

  clearRecords(): void {
    rmSync(this.recordsDir, { recursive: true, force: true });
    mkdirSync(this.recordsDir, { mode: 0o700 });
  }

  /** The token file the wrappers use for `endpoint` (several: space-separated) and `operations`
   * (lib/refresh/targets.ts: endpointPurpose); no endpoint: the default token. */
  tokenFile(endpoint?: string, ...operations: string[]): string {
    if (endpoint === undefined) return join(this.box.xdg, `bt_u${EUID}`);
    return join(this.box.xdg, `bt_u${EUID}-${endpointPurpose(endpoint, requestFor(operations))}`);
  }

  token(path: string): string {
    return readFileSync(path, 'utf8').trim();
  }

  /** The freshness stamp of a token file (lib/files/stamp.ts), with XDG_RUNTIME_DIR as in `env`. */
  stampFile(tokenPath: string): string {
    return stampPath(stateDirectory(this.env), tokenPath)!;
  }

  /** Runs `body` in `shell` after `prelude` (default: strict mode, the script sourced twice). */
  run(shell: ShellName | 'sh' | 'bash --posix', body: string, options: ShellRunOptions = {}): Promise<ProcessRun> {
    const env = { ...this.env, ...options.env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    let argv = shellArgv(shell, `${options.prelude ?? STRICT_PRELUDE}${body}\n`);
    if (options.interactive) argv.splice(argv.length - 2, 0, '-i');
    if (options.privateTmp) argv = wrapCommand(argv, { privateTmp: options.privateTmp });
    if (options.trace) argv = ['strace', '-f', '-z', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-s', '4096', '-o', options.trace, ...argv];
    if (options.wrap) argv = options.wrap(argv);
    return runProcess(argv, env as Record<string, string>, {
      cwd: options.cwd ?? this.work,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  remove(): void {
    this.box.remove();
  }
}

/** The claims of a JWT (no signature check). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** The programs an `strace -f -z -e trace=execve` log shows being executed, in order. */
export function execvedPrograms(traceFile: string): string[] {
  const programs: string[] = [];
  const pending = new Map<string, string>();
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const call = /^(\d+)\s+execve\("((?:[^"\\]|\\.)*)"/.exec(line);
    if (call) {
      if (/<unfinished \.\.\.>$/.test(line)) pending.set(call[1]!, call[2]!);
      else if (/= 0$/.test(line)) programs.push(call[2]!);
      continue;
    }
    const resumed = /^(\d+)\s+<\.\.\. execve resumed>.*= 0$/.exec(line);
    if (resumed && pending.has(resumed[1]!)) {
      programs.push(pending.get(resumed[1]!)!);
      pending.delete(resumed[1]!);
    }
  }
  return programs;
}

/** Replaces every occurrence of `secret` in argv, so that an assertion's diff never shows a token. */
export function redact(argv: string[], secret: string, label = '<token>'): string[] {
  return argv.map((a) => (secret && a.includes(secret) ? a.split(secret).join(label) : a));
}

/**
 * The usual hooks of a per-shell describe: skip (in CI, fail) without the shell or `peers`, and a
 * fresh ShellLab for every test, removed afterwards. Use `ctx.lab` in the tests.
 */
export function useShellLab(shell: ShellName, ...peers: string[]): { readonly lab: ShellLab } {
  const ctx = { lab: undefined as unknown as ShellLab };
  beforeEach(function () {
    requireCommands(this, shell, ...peers);
    ctx.lab = new ShellLab();
  });
  afterEach(() => ctx.lab?.remove());
  return ctx;
}

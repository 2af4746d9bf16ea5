// What bench/perf-goals.ts needs: the demo issuer in a child, configs, /proc figures, and
// interleaved timing of commands (each round runs every command once, so that machine noise hits
// all of them alike).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Issuer {
  url: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  grants(): Promise<number>;
  close(): Promise<void>;
}

/** The demo issuer (this checkout's) in a child process; tokens live `lifetime` seconds. */
export async function startIssuer(lifetime: number): Promise<Issuer> {
  const clientId = 'perf';
  const clientSecret = randomBytes(18).toString('base64url');
  const script = fileURLToPath(new URL('./issuer-child.js', import.meta.url));
  const child = fork(script, [clientId, clientSecret, String(lifetime)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const started = await new Promise<{ url: string; tokenEndpoint: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; tokenEndpoint: string }));
    child.once('exit', (code) => reject(new Error(`perf: the demo issuer exited ${code}`)));
  });
  const waiting = new Map<number, (n: number) => void>();
  let next = 0;
  child.on('message', (m) => {
    const { id, grants } = m as { id?: number; grants?: number };
    if (id !== undefined && grants !== undefined) waiting.get(id)?.(grants);
  });
  return {
    ...started, clientId, clientSecret,
    grants: () => new Promise((resolve) => {
      const id = next++;
      waiting.set(id, (n) => { waiting.delete(id); resolve(n); });
      child.send({ id });
    }),
    close: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
    }),
  };
}

/** A JWT-shaped token (unsigned) issued `age` seconds ago, living `lifetime` seconds. */
export function fakeJwt(lifetime: number, age = 0): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part({ iss: 'https://issuer.example', aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'storage.read:/', iat: now - age, exp: now - age + lifetime })}.${'s'.repeat(86)}`;
}

/** `[account cc]` at `issuer` (OpenID discovery, or token_request_url when `direct`). */
export function ccAccount(issuer: Issuer, dir: string, direct = false): string[] {
  const secret = join(dir, `client-${randomBytes(4).toString('hex')}.secret`);
  writeFileSync(secret, `${issuer.clientSecret}\n`, { mode: 0o600 });
  return ['[account cc]', direct ? `token_request_url = ${issuer.tokenEndpoint}` : `issuer = ${issuer.url}`,
    `client_id = ${issuer.clientId}`, `client_secret_file = ${secret}`, ''];
}

export interface Lab {
  dir: string;
  tokens: string;
  config: string;
  count: number;
}

/** A private directory with a config of `count` tokens of `account` in one token directory. */
export function lab(dir: string, count: number, account: string[], tokenKeys: string[] = []): Lab {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const name = /^\[account (\S+)\]$/.exec(account[0]!)![1]!;
  const lines = [...account];
  for (let i = 0; i < count; i++) lines.push(`[token t${i}]`, `account = ${name}`, `token_path = ${join(tokens, `t${i}.token`)}`, ...tokenKeys, '');
  const config = join(dir, 'config.ini');
  writeFileSync(config, lines.join('\n'), { mode: 0o600 });
  return { dir, tokens, config, count };
}

export function written(l: Lab): number {
  return readdirSync(l.tokens).filter((n) => n.endsWith('.token')).length;
}

/** Resident memory (MB) and CPU time used so far (ms, user + system) of a process. */
export function procStats(pid: number): { rssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssMb: rssKb / 1024, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

export function startWatcher(bin: string, l: Lab): ChildProcess {
  return spawn(process.execPath, [bin, 'watch', '--config', l.config], {
    env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: l.dir, HOME: l.dir }, stdio: ['ignore', 'ignore', 'ignore'],
  });
}

export async function stop(children: ChildProcess[]): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Waits until the process has used no CPU for `quietMs`; resolves with the time it went quiet. */
export async function quiescent(pid: number, quietMs = 1000, timeoutMs = 600_000): Promise<number> {
  const started = Date.now();
  let last = procStats(pid).cpuMs;
  let since = Date.now();
  while (Date.now() - started < timeoutMs) {
    await sleep(100);
    const now = procStats(pid).cpuMs;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return since;
    }
  }
  return Date.now();
}

export interface Timed {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Run before each timed run (not timed), e.g. to make a token stale again. */
  before?: () => void;
  /** Exit statuses accepted (default 0). */
  ok?: number[];
}

let runtimeBinary: string | undefined;

/** bench/perf/runtime.c, built once into `dir`: it reports a child's wall and CPU time. */
export function buildRuntime(dir: string): void {
  const source = fileURLToPath(new URL('../../../bench/perf/runtime.c', import.meta.url));
  const out = join(dir, 'runtime');
  const cc = spawnSync('cc', ['-O2', '-o', out, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (cc.status !== 0) throw new Error(`perf: cannot build ${source} with cc: ${cc.stderr}`);
  runtimeBinary = out;
}

/** Median wall and CPU times (ms) of each command over `runs` interleaved rounds, after one
 * warm-up round. */
export function timeInterleaved(commands: Timed[], runs: number): Map<string, { wall: number; cpu: number }> {
  if (!runtimeBinary) throw new Error('perf: buildRuntime() first');
  const samples = new Map<string, { wall: number[]; cpu: number[] }>(commands.map((c) => [c.name, { wall: [], cpu: [] }]));
  for (let round = -1; round < runs; round++) {
    for (const command of commands) {
      command.before?.();
      const run = spawnSync(runtimeBinary, command.argv, { env: command.env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      const [wall, cpu, status] = run.stdout.trim().split(' ').map(Number);
      if (run.status !== 0 || !(command.ok ?? [0]).includes(status!)) throw new Error(`perf: ${command.name} exited ${status}: ${run.stderr}`);
      if (round >= 0) {
        samples.get(command.name)!.wall.push(wall! / 1000);
        samples.get(command.name)!.cpu.push(cpu! / 1000);
      }
    }
  }
  return new Map([...samples].map(([name, s]) => [name, { wall: median(s.wall), cpu: median(s.cpu) }]));
}

// A real client-credentials issuer for the bench (lib/demo/issuer.ts, oidc-provider on loopback,
// in a child process), and configs that use it: every grant in the figures is a real HTTP grant.
// It is warmed up before use, like an issuer that has been answering for days: a fresh Node
// process answers its first thousand grants up to four times slower, and a watcher or a refresh
// timed against it would be timed waiting for the issuer's JIT.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./issuer-process.js', import.meta.url));
const CLIENT_ID = 'tokenenv-bench';
const WARM_UP_GRANTS = 2000;

export interface BenchIssuer {
  url: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  pid: number;
  /** Client-credentials grants the issuer has answered so far, after its warm-up. */
  grants(): Promise<number>;
  close(): Promise<void>;
}

/** `lifetime`: seconds of every access token (the demo issuer's default is 1200, like WLCG issuers). */
export async function startBenchIssuer(lifetime = 1200): Promise<BenchIssuer> {
  const clientSecret = randomBytes(18).toString('base64url');
  const child: ChildProcess = fork(script, [CLIENT_ID, clientSecret, String(lifetime)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map<number, (grants: number) => void>();
  let nextId = 0;
  const started = await new Promise<{ url: string; tokenEndpoint: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; tokenEndpoint: string }));
    child.once('exit', (code) => reject(new Error(`bench: the demo issuer (bench/issuer-process) exited ${code} before listening`)));
  });
  child.on('message', (m) => {
    const { id, grants } = m as { id?: number; grants?: number };
    if (id !== undefined && grants !== undefined) pending.get(id)?.(grants);
    if (id !== undefined) pending.delete(id);
  });
  const answered = () => new Promise<number>((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    child.send({ id, op: 'grants' });
  });
  await warmUp(started.tokenEndpoint, clientSecret);
  const warmUpGrants = await answered();
  return {
    ...started,
    clientId: CLIENT_ID,
    clientSecret,
    pid: child.pid!,
    grants: async () => (await answered()) - warmUpGrants,
    close: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
    }),
  };
}

/** WARM_UP_GRANTS grants, eight at a time on kept-alive connections. */
async function warmUp(tokenEndpoint: string, clientSecret: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const authorization = `Basic ${Buffer.from(`${CLIENT_ID}:${clientSecret}`).toString('base64')}`;
  const grant = () => new Promise<void>((resolve, reject) => {
    const req = request(tokenEndpoint, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`bench: warm-up grant answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end('grant_type=client_credentials&scope=storage.read%3A%2F');
  });
  try {
    for (let done = 0; done < WARM_UP_GRANTS; done += 8) await Promise.all(Array.from({ length: 8 }, grant));
  } finally {
    agent.destroy();
  }
}

/** `[account demo]` with the issuer (its token endpoint from OpenID discovery, as `tokenenv demo`
 * does; or `token_request_url` when `endpoint` is 'direct') and the secret in a 0600 file in `dir`. */
export function issuerAccount(issuer: BenchIssuer, dir: string, endpoint: 'discovery' | 'direct' = 'discovery'): string[] {
  const secretFile = join(dir, 'client.secret');
  writeFileSync(secretFile, `${issuer.clientSecret}\n`, { mode: 0o600 });
  const where = endpoint === 'direct' ? `token_request_url = ${issuer.tokenEndpoint}` : `issuer = ${issuer.url}`;
  return ['[account demo]', where, `client_id = ${issuer.clientId}`, `client_secret_file = ${secretFile}`, ''];
}

/** A config file `name` in `dir` with `tokens` (name → keys) of the client-credentials account above. */
export function issuerConfig(issuer: BenchIssuer, dir: string, tokens: Record<string, Record<string, string | number>>, endpoint: 'discovery' | 'direct' = 'discovery', name = 'config.ini'): string {
  const lines = issuerAccount(issuer, dir, endpoint);
  for (const [name, keys] of Object.entries(tokens)) {
    lines.push(`[token ${name}]`, 'account = demo', 'scope = storage.read:/', ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`), '');
  }
  const config = join(dir, name);
  writeFileSync(config, lines.join('\n'), { mode: 0o600 });
  return config;
}

/** A JWT-shaped token (unsigned) that expired a minute ago: what a refresh must replace. */
export function expiredJwt(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part({ aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'storage.read:/', iat: now - 1260, exp: now - 60 })}.${'s'.repeat(86)}`;
}

// What the watcher benchmarks share: configs of many tokens (a real client-credentials account
// at the demo issuer, or a local `file` source), starting `tokenenv watch`, and waiting.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WATCHER_PROCESS } from '../lib/cli/commands/systemd.js';
import { issuerAccount, type BenchIssuer } from './issuer.js';
import { QUICK, sleep } from './measure.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));

/** Seconds from a watcher's first pass to a memory figure: after the burst of first refreshes V8
 * keeps collecting and shrinking its heaps for up to half a minute. */
export const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? (QUICK ? 10 : 30));

export function fakeJwt(lifetime: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256' })}.${part({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now, exp: now + lifetime })}.${'s'.repeat(86)}`;
}

export interface WatchLab {
  dir: string;
  tokens: string;
  config: string;
  count: number;
}

function lab(dir: string, count: number, account: string[], keys: string[]): WatchLab {
  const name = /^\[account (\S+)\]$/.exec(account[0]!)![1]!;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const lines = [...account];
  for (let i = 0; i < count; i++) lines.push(`[token t${i}]`, `account = ${name}`, `token_path = ${join(tokens, `t${i}.token`)}`, ...keys, '');
  const config = join(dir, 'config.ini');
  writeFileSync(config, lines.join('\n'), { mode: 0o600 });
  return { dir, tokens, config, count };
}

/** `count` tokens copied from one long-lived token file (a local source, in a directory of its
 * own so that nothing the watcher follows changes when it is rewritten). */
export function fileLab(dir: string, count: number): WatchLab {
  const sourceDir = join(dir, 'source');
  mkdirSync(sourceDir, { recursive: true });
  const source = join(sourceDir, 'source.token');
  writeFileSync(source, `${fakeJwt(86_400)}\n`, { mode: 0o600 });
  return lab(dir, count, ['[account local]', 'type = file', `path = ${source}`, ''], []);
}

/** `count` tokens from client-credentials grants at `issuer`. */
export function issuerLab(dir: string, count: number, issuer: BenchIssuer, minLifetime?: number): WatchLab {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return lab(dir, count, issuerAccount(issuer, dir), ['scope = storage.read:/', ...(minLifetime === undefined ? [] : [`min_lifetime = ${minLifetime}`])]);
}

/** `tokenenv watch` as its systemd unit starts it (`tokenenv systemd`), or as typed in a shell. */
export function startWatcher(l: WatchLab, asUnit = true): ChildProcess {
  return spawn(process.execPath, [...(asUnit ? WATCHER_PROCESS.nodeFlags : []), bin, 'watch', '--config', l.config], {
    env: { ...(asUnit ? WATCHER_PROCESS.environment : {}), PATH: process.env.PATH, XDG_RUNTIME_DIR: l.dir, HOME: l.dir }, stdio: 'ignore',
  });
}

/** Token files written so far. */
export function written(l: WatchLab): number {
  return readdirSync(l.tokens).filter((name) => name.endsWith('.token')).length;
}

export async function until(condition: () => boolean, timeoutMs: number, pollMs = 1): Promise<boolean> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) return false;
    await sleep(pollMs);
  }
  return true;
}

// Making scitokens-cpp (Debian 0.7.3: libSciTokens, scitokens-verify, XRootD's SciTokens plugin)
// trust a test issuer's CA without touching the machine's /etc.
// scitokens-cpp fetches `ISSUER/.well-known/openid-configuration` and the JWKS with libcurl and sets
// no CA of its own; Debian's libcurl (OpenSSL) then uses only its built-in
// /etc/ssl/certs/ca-certificates.crt and /etc/ssl/certs, and ignores CURL_CA_BUNDLE, SSL_CERT_FILE
// and SSL_CERT_DIR (tried). So the command runs in a private mount namespace in which a directory
// holding only the given CAs is bind-mounted over /etc/ssl/certs. That needs root (unshare --mount).
// Keys are cached in $XDG_CACHE_HOME/scitokens (else ~/.cache/scitokens): give each test its own.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Env, type RunResult } from './arc.js';

/** Why the trust set-up cannot work here, or undefined when it can. */
export function issuerTrustUnavailable(): string | undefined {
  if (process.geteuid?.() !== 0) return 'a private mount namespace for the issuer CA needs root';
  return undefined;
}

/**
 * Creates `dir` as a stand-in for /etc/ssl/certs: `ca-certificates.crt` with the PEM CAs of
 * `caFiles` and their OpenSSL hash links, world-readable (CA certificates are public).
 */
export function makeTrustDir(dir: string, caFiles: string[]): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'ca-certificates.crt'), caFiles.map((f) => readFileSync(f, 'utf8').trim()).join('\n') + '\n', { mode: 0o644 });
  const seen = new Map<string, number>();
  for (const file of caFiles) {
    const hash = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', file]).toString().trim();
    const n = seen.get(hash) ?? 0;
    seen.set(hash, n + 1);
    copyFileSync(file, join(dir, `${hash}.${n}`));
    chmodSync(join(dir, `${hash}.${n}`), 0o644);
  }
  return dir;
}

// $1: the trust dir; $2, $3: uid and gid to run as (empty: stay root); then the command.
const TRUST_SCRIPT = `set -e
trust=$1 uid=$2 gid=$3
shift 3
mount --bind "$trust" /etc/ssl/certs
if [ -n "$uid" ]; then exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; fi
exec "$@"`;

/** argv that runs `argv` with `trustDir` as /etc/ssl/certs, optionally as another user. */
export function withIssuerTrust(argv: string[], trustDir: string, user?: { uid: number; gid: number }): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', TRUST_SCRIPT, 'sh', trustDir,
    user ? String(user.uid) : '', user ? String(user.gid) : '', ...argv];
}

export interface ScitokensVerdict {
  valid: boolean;
  /** scitokens-verify's output: "Token deserialization successful." or the reason it failed. */
  output: string;
}

/**
 * Runs scitokens-cpp's `scitokens-verify TOKEN` (it checks signature, issuer key, expiry and the
 * profile, not audience or scope). Its only input is argv, so the token is visible in `ps` while it
 * runs: acceptable in a test, not on a shared machine. `cacheDir` becomes XDG_CACHE_HOME.
 */
export async function scitokensVerify(token: string, options: { trustDir: string; cacheDir: string }): Promise<ScitokensVerdict> {
  mkdirSync(options.cacheDir, { recursive: true, mode: 0o700 });
  const env: Env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', XDG_CACHE_HOME: options.cacheDir };
  const result: RunResult = await run(['scitokens-verify', token], env, (argv) => withIssuerTrust(argv, options.trustDir));
  return { valid: result.exitCode === 0, output: (result.stdout + result.stderr).trim() };
}

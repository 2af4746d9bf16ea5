// A throwaway directory per test with an XDG runtime dir and a stand-in for /tmp, so tests
// never touch a real user's token files.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, lchownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export class Sandbox {
  readonly dir: string;
  /** Plays $XDG_RUNTIME_DIR. */
  readonly xdg: string;
  /** Plays /tmp (injected as tmpDir, or bind-mounted over /tmp for CLI runs). */
  readonly tmp: string;

  constructor(prefix = 'tokenenv-test-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(this.dir, 0o755); // readable for commands run under another uid
    this.xdg = join(this.dir, 'xdg');
    this.tmp = join(this.dir, 'tmp');
    mkdirSync(this.xdg, { mode: 0o755 });
    mkdirSync(this.tmp, { mode: 0o1777 });
    chmodSync(this.tmp, 0o1777);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Writes `content` at `path` (absolute or sandbox-relative) with `mode` and optional owner. */
  write(path: string, content: string | Buffer, mode = 0o600, uid?: number): string {
    const full = path.startsWith('/') ? path : this.path(path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content, { mode });
    chmodSync(full, mode);
    if (uid !== undefined) chownSync(full, uid, uid);
    return full;
  }

  symlink(target: string, path: string, uid?: number): string {
    const full = path.startsWith('/') ? path : this.path(path);
    symlinkSync(target, full);
    if (uid !== undefined) lchownSync(full, uid, uid);
    return full;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A random, recognisable token, so tests can assert that no part of it leaks. */
export function fakeToken(label = 'tok'): string {
  return `${label}_${randomBytes(24).toString('base64url')}`;
}

/** A JWT-shaped token (unsigned) with the given claims; decoding it needs no key. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
}

/** Fails when `text` contains any 8-character window of `secret`. */
export function assertNoSecret(text: string, secret: string, what = 'output'): void {
  for (let i = 0; i + 8 <= secret.length; i++) {
    const window = secret.slice(i, i + 8);
    if (/^[A-Za-z0-9]*$/.test(window) && text.includes(window)) {
      throw new Error(`${what} contains part of the token (characters ${i}..${i + 8})`);
    }
  }
}

export const isRoot = process.geteuid?.() === 0;

// A token source for tests: an executable that prints a fresh JWT-shaped token (unsigned) and
// appends a line to `calls` each time it runs. Its behaviour is set through files in its
// directory, so a test can change it between refreshes (a space-separated TOKENENV_AUDIENCE
// becomes a list in `aud`): `mode` (ok, fail-after-print, hang,
// garbage, expired, wrong-aud, empty) and `lifetime` (seconds, default 1200).
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const dir = __dirname;
const read = (name, fallback) => { try { return fs.readFileSync(path.join(dir, name), 'utf8').trim(); } catch { return fallback; } };
fs.appendFileSync(path.join(dir, 'calls'), process.pid + '\\n');
const mode = read('mode', 'ok');
const lifetime = Number(read('lifetime', '1200'));
const now = Math.floor(Date.now() / 1000);
const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const asked = (process.env.TOKENENV_AUDIENCE || 'https://wlcg.cern.ch/jwt/v1/any').split(' ');
const aud = mode === 'wrong-aud' ? 'https://elsewhere.example' : asked.length > 1 ? asked : asked[0];
const claims = { iss: 'https://mint.test', sub: 'tester', aud, scope: process.env.TOKENENV_SCOPE || 'storage.read:/',
  'wlcg.ver': '1.0', iat: now, nbf: now, exp: mode === 'expired' ? now - 10 : now + lifetime, jti: String(process.pid) + '-' + Date.now() };
const token = part({ alg: 'ES256', typ: 'JWT' }) + '.' + part(claims) + '.' + require('crypto').randomBytes(32).toString('base64url');
if (mode === 'hang') setInterval(() => {}, 1000);
else if (mode === 'garbage') process.stdout.write('{"error": "nope"}\\n');
else if (mode === 'empty') process.stdout.write('\\n');
else if (mode === 'fail-after-print') { process.stdout.write(token + '\\n'); process.stderr.write('minting failed after printing ' + token + '\\n'); process.exit(3); }
else process.stdout.write(token + '\\n');
`;

export class Mint {
  readonly script: string;

  constructor(readonly dir: string) {
    this.script = join(dir, 'mint.cjs');
    writeFileSync(this.script, SCRIPT);
    chmodSync(this.script, 0o755);
  }

  set mode(mode: 'ok' | 'fail-after-print' | 'hang' | 'garbage' | 'expired' | 'wrong-aud' | 'empty') {
    writeFileSync(join(this.dir, 'mode'), mode);
  }

  set lifetime(seconds: number) {
    writeFileSync(join(this.dir, 'lifetime'), String(seconds));
  }

  get calls(): number {
    const file = join(this.dir, 'calls');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  }
}

/** A config with one command account running `mint` and the given token sections. */
export function mintConfig(mint: Mint, tokens: Record<string, Record<string, string | number>>, account: Record<string, string | number> = {}): string {
  const lines = ['[account mint]', `command = ${mint.script}`, ...Object.entries(account).map(([k, v]) => `${k} = ${v}`), ''];
  for (const [name, keys] of Object.entries(tokens)) {
    lines.push(`[token ${name}]`, 'account = mint', ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`), '');
  }
  return lines.join('\n');
}

/** A sandbox with a private XDG runtime dir and a Mint source: the usual set-up of CLI tests. */
export interface MintLab {
  box: import('./sandbox.js').Sandbox;
  mint: Mint;
  env: Record<string, string>;
}

export async function mintLab(): Promise<MintLab> {
  const { Sandbox } = await import('./sandbox.js');
  const { chmodSync } = await import('node:fs');
  const box = new Sandbox();
  chmodSync(box.xdg, 0o700);
  return { box, mint: new Mint(box.dir), env: { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') } };
}

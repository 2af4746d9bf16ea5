// Issue 2's figures: discoverTokenSync against a plain readFileSync of the same file, and the
// whole `tokenenv discover` process against `node -e 0`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverTokenSync } from '../lib/index.js';
import { compareCalls, compareProcesses, report } from './measure.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));

export function benchDiscovery(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  try {
    const euid = process.geteuid!();
    const token = `eyJ${'a'.repeat(900)}.${'b'.repeat(300)}.${'c'.repeat(86)}`;
    const file = join(dir, `bt_u${euid}`);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    let ok = true;
    const baseline = () => readFileSync(file);
    ok = report('discoverTokenSync, BEARER_TOKEN_FILE (step 2) vs readFileSync', 'ns',
      compareCalls(() => discoverTokenSync({ env: { BEARER_TOKEN_FILE: file } }), baseline), 1.5) && ok;
    ok = report('discoverTokenSync, /tmp/bt_u<euid> (step 4) vs readFileSync', 'ns',
      compareCalls(() => discoverTokenSync({ env: {}, tmpDir: dir }), baseline), 1.5) && ok;
    // Discovery remembers the last valid content; alternating two files shows the cost of
    // validating new content on every call (no target: for information).
    const other = join(dir, 'other');
    writeFileSync(other, `${token.replace('aaaa', 'bbbb')}\n`, { mode: 0o600 });
    let flip = false;
    const alternate = () => ((flip = !flip) ? file : other);
    const cold = compareCalls(() => discoverTokenSync({ env: { BEARER_TOKEN_FILE: alternate() } }), () => readFileSync(alternate()));
    report('discoverTokenSync, new content every call vs readFileSync', 'ns', cold, Infinity);
    const env = { PATH: process.env.PATH, BEARER_TOKEN_FILE: file };
    ok = report('tokenenv discover (whole process) vs node -e 0', 'ms',
      compareProcesses([process.execPath, bin, 'discover'], [process.execPath, '-e', '0'], env), 1.25) && ok;
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

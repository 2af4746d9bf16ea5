// Issue 2's figures: discoverTokenSync against a plain readFileSync of the same file, and the
// native floor (issue 13): a C reader doing open, bounded read, trim and the b64token check,
// looped in one process likewise.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverTokenSync } from '../lib/index.js';
import { compareCalls, median, QUICK, record, report, timePerCall } from './measure.js';

const readerSource = fileURLToPath(new URL('../../bench/native/reader.c', import.meta.url));
const ROUNDS = QUICK ? 7 : 15;
const CALLS = 20000;

/** bench/native/reader.c compiled with `cc -O2` into `dir`, or why not. */
function compileReader(dir: string): { path: string } | { skipped: string } {
  const path = join(dir, 'reader');
  const cc = spawnSync('cc', ['-O2', '-o', path, readerSource], { encoding: 'utf8' });
  if (cc.error) return { skipped: `no C compiler (cc: ${(cc.error as NodeJS.ErrnoException).code})` };
  if (cc.status !== 0) return { skipped: `cc -O2 ${readerSource} failed: ${cc.stderr.trim().split('\n').pop()}` };
  return { path };
}

/** Nanoseconds per call of `subject` and of the C reader on `file`, in alternating rounds. */
function compareNative(subject: () => unknown, reader: string, file: string): { subject: number; baseline: number; ratio: number } {
  const native = (calls: number) => {
    const run = spawnSync(reader, [file, String(calls)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bench: ${reader} ${file}: ${run.stderr.trim() || `exit ${run.status}`}`);
    return Number(run.stdout.split(' ')[0]);
  };
  timePerCall(subject, CALLS);
  native(CALLS);
  const s: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(native(CALLS));
    s.push(timePerCall(subject, CALLS));
  }
  const result = { subject: median(s), baseline: median(b), ratio: 0 };
  result.ratio = result.subject / result.baseline;
  return result;
}

export function benchDiscovery(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  try {
    const euid = process.geteuid!();
    const token = `eyJ${'a'.repeat(900)}.${'b'.repeat(300)}.${'c'.repeat(86)}`;
    const file = join(dir, `bt_u${euid}`);
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    let ok = true;
    const baseline = () => readFileSync(file);
    const reader = compileReader(dir);
    if ('path' in reader) {
      report('discoverTokenSync, BEARER_TOKEN_FILE (step 2) vs the native floor (C: open, read, trim, b64token check)', 'ns',
        compareNative(() => discoverTokenSync({ env: { BEARER_TOKEN_FILE: file } }), reader.path, file), Infinity);
    } else {
      console.log(`native floor for discovery: not measured (${reader.skipped})`);
      record('discoverTokenSync vs the native floor (C reader)', `not measured: ${reader.skipped}`, '');
    }
    ok = report('discoverTokenSync, BEARER_TOKEN_FILE (step 2) vs readFileSync', 'ns',
      compareCalls(() => discoverTokenSync({ env: { BEARER_TOKEN_FILE: file } }), baseline, ROUNDS), 1.5) && ok;
    ok = report('discoverTokenSync, /tmp/bt_u$ID (step 4) vs readFileSync', 'ns',
      compareCalls(() => discoverTokenSync({ env: {}, tmpDir: dir }), baseline, ROUNDS), 1.5) && ok;
    // A token in /tmp (htgettoken's default) while the session has XDG_RUNTIME_DIR: step 3 finds
    // no file first, a failed open (for information).
    const runtimeDir = join(dir, 'runtime');
    mkdirSync(runtimeDir, { mode: 0o700 });
    report('discoverTokenSync, /tmp/bt_u$ID (step 4) after no file at step 3 vs readFileSync', 'ns',
      compareCalls(() => discoverTokenSync({ env: { XDG_RUNTIME_DIR: runtimeDir }, tmpDir: dir }), baseline, ROUNDS), Infinity);
    // Discovery remembers the last valid content; alternating two files shows the cost of
    // validating new content on every call (no target: for information).
    const other = join(dir, 'other');
    writeFileSync(other, `${token.replace('aaaa', 'bbbb')}\n`, { mode: 0o600 });
    let flip = false;
    const alternate = () => ((flip = !flip) ? file : other);
    const cold = compareCalls(() => discoverTokenSync({ env: { BEARER_TOKEN_FILE: alternate() } }), () => readFileSync(alternate()), ROUNDS);
    report('discoverTokenSync, new content every call vs readFileSync', 'ns', cold, Infinity);
    // The whole `tokenenv discover` process against `node -e 0`: in startup.ts, with the other commands.
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Issue 5's figures: a wrapped client call with a fresh token against calling the same stub
// directly, in bash and in zsh, measured inside one shell so that its start-up does not count;
// the slow path: a wrapped call with a stale token (one `tokenenv shell-token`, one real grant
// at the demo issuer) against `tokenenv discover`, timed in the same bash loop; and how much
// slower an interactive shell starts with the lines `tokenenv init` prints for ~/.bashrc / ~/.zshrc.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expiredJwt, issuerConfig, startBenchIssuer, type BenchIssuer } from './issuer.js';
import { compareProcesses, median, QUICK, record, report, sessionRuntimeDir, verdict } from './measure.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const CALLS = 200;

// Prints, per round, the microseconds per wrapped call and per direct call.
const SCRIPT = `
source "$TOKENENV_SCRIPT"
condor_submit warmup
# Microseconds: bash's EPOCHREALTIME is a string with 6 decimals; zsh's a float.
if [ -n "\${ZSH_VERSION:-}" ]; then
  zmodload zsh/datetime
  now() { t=\$(( EPOCHREALTIME * 1000000 )); }
else
  now() { t=\${EPOCHREALTIME/./}; }
fi
for round in 1 2 3 4 5 6 7; do
  now; a=$t
  for ((i = 0; i < ${CALLS}; i++)); do condor_submit x; done
  now; b=$t
  for ((i = 0; i < ${CALLS}; i++)); do command condor_submit x; done
  now; c=$t
  echo "$(( (b - a) / ${CALLS} )) $(( (c - b) / ${CALLS} ))"
done
`;

// Per round, microseconds of: a wrapped call with a stale token (the wrapper refreshes it: one
// grant), `tokenenv discover`, and a wrapped call with a fresh token but no stamp (no grant).
const SLOW_ROUNDS = QUICK ? 7 : 15;
const SLOW = `
source "$TOKENENV_SCRIPT"
stamps="$XDG_RUNTIME_DIR/tokenenv/fresh"
token="$XDG_RUNTIME_DIR/bt_u$EUID"
condor_submit warmup
for ((round = 0; round < ${SLOW_ROUNDS}; round++)); do
  cp "$STALE_TOKEN" "$token.new" && mv "$token.new" "$token" && rm -rf "$stamps"
  t0=\${EPOCHREALTIME/./}
  condor_submit x || exit 1
  t1=\${EPOCHREALTIME/./}
  "$TOKENENV_BIN" discover >/dev/null || exit 1
  t2=\${EPOCHREALTIME/./}
  rm -rf "$stamps"
  t3=\${EPOCHREALTIME/./}
  condor_submit x || exit 1
  t4=\${EPOCHREALTIME/./}
  echo $(( t1 - t0 )) $(( t2 - t1 )) $(( t4 - t3 ))
done
`;

export async function benchShell(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const runtime = sessionRuntimeDir();
  const issuer = await startBenchIssuer();
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'condor_submit'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'condor_submit'), 0o755);
    const stale = join(dir, 'stale.token');
    writeFileSync(stale, `${expiredJwt()}\n`, { mode: 0o600 });
    const env = {
      PATH: `${bin}:${process.env.PATH}`, HOME: dir, XDG_RUNTIME_DIR: runtime, TOKENENV_CONFIG: issuerConfig(issuer, dir, { default: {} }),
      TOKENENV_BIN: join(repo, 'bin', 'tokenenv.cjs'), TOKENENV_SCRIPT: join(repo, 'shell', 'tokenenv.sh'), STALE_TOKEN: stale,
    };
    let ok = true;
    for (const shell of ['bash', 'zsh']) {
      const run = spawnSync(shell, ['-c', SCRIPT], { env, encoding: 'utf8' });
      if (run.status !== 0) {
        console.log(`${shell}: not measured (${run.error?.message ?? run.stderr.trim().split('\n').pop()})`);
        continue;
      }
      const rounds = run.stdout.trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
      const wrapped = median(rounds.map((r) => r[0]));
      const direct = median(rounds.map((r) => r[1]));
      const added = (wrapped - direct) / 1000;
      const fine = added <= 2;
      ok = ok && fine;
      console.log(`${shell}: wrapped call with a fresh token ${(wrapped / 1000).toFixed(2)} ms vs the stub called directly ${(direct / 1000).toFixed(2)} ms = ${(wrapped / direct).toFixed(2)}x, ` +
        `${added.toFixed(2)} ms added (median of 7 rounds x ${CALLS} calls; target <= 2 ms) ${verdict(fine)}`);
      record(`wrapped client call, fresh token, ${shell}`, `+${added.toFixed(2)} ms (${(wrapped / 1000).toFixed(2)} vs ${(direct / 1000).toFixed(2)} ms, ${(wrapped / direct).toFixed(2)}x)`, '≤ 2 ms added', fine);
    }
    const slowOk = await benchSlowPath(env, issuer);
    return benchStartup(dir, env) && slowOk && ok;
  } finally {
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}

/** Wall time of an interactive shell start with and without the init lines (alternating runs). */
function benchStartup(dir: string, env: NodeJS.ProcessEnv): boolean {
  let ok = true;
  for (const shell of ['bash', 'zsh'] as const) {
    const rc = shell === 'bash' ? '.bashrc' : '.zshrc';
    const withDir = join(dir, `${shell}-with`);
    const withoutDir = join(dir, `${shell}-without`);
    mkdirSync(withDir);
    mkdirSync(withoutDir);
    const init = spawnSync(process.execPath, [join(repo, 'bin', 'tokenenv.cjs'), 'init', shell], { env, encoding: 'utf8' });
    writeFileSync(join(withDir, rc), init.stdout);
    writeFileSync(join(withoutDir, rc), '');
    const argv = (d: string) => (shell === 'bash' ? ['bash', '--rcfile', join(d, rc), '-i', '-c', 'exit'] : ['env', `ZDOTDIR=${d}`, 'zsh', '-d', '-i', '-c', 'exit']);
    try {
      const r = compareProcesses(argv(withDir), argv(withoutDir), env, 150);
      const added = r.subject - r.baseline;
      const fine = added <= 3;
      ok = ok && fine;
      console.log(`${shell}: interactive start with the \`tokenenv init ${shell}\` lines ${r.subject.toFixed(2)} ms vs without ${r.baseline.toFixed(2)} ms: ` +
        `${added.toFixed(2)} ms added (median of 150 alternating runs; target <= 3 ms) ${verdict(fine)}`);
      record(`interactive ${shell} start with the \`tokenenv init ${shell}\` lines`, `+${added.toFixed(2)} ms (${r.subject.toFixed(2)} vs ${r.baseline.toFixed(2)} ms)`, '≤ 3 ms added', fine);
    } catch (error) {
      console.log(`${shell}: start-up not measured (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return ok;
}

async function benchSlowPath(env: NodeJS.ProcessEnv, issuer: BenchIssuer): Promise<boolean> {
  const before = await issuer.grants();
  const run = spawnSync('bash', ['-c', SLOW], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bench: the wrapper's slow path failed: ${run.stderr.trim().split('\n').pop()}`);
  const rounds = run.stdout.trim().split('\n').map((l) => l.split(' ').map((us) => Number(us) / 1000) as [number, number, number]);
  const made = (await issuer.grants()) - before;
  const oneEach = made === SLOW_ROUNDS; // the warm-up call finds the token the fast path left fresh
  const stale = { subject: median(rounds.map((r) => r[0])), baseline: median(rounds.map((r) => r[1])), ratio: 0 };
  stale.ratio = stale.subject / stale.baseline;
  const ok = report('bash: wrapped call with a stale token (tokenenv shell-token, one real grant) vs tokenenv discover', 'ms', stale, 2.5);
  if (!oneEach) console.log(`  ${verdict(false)}: ${SLOW_ROUNDS} stale-token calls made ${made} grants at the issuer`);
  const noStamp = { subject: median(rounds.map((r) => r[2])), baseline: stale.baseline, ratio: 0 };
  noStamp.ratio = noStamp.subject / noStamp.baseline;
  report('bash: wrapped call with a fresh token but no stamp (tokenenv shell-token, no grant) vs tokenenv discover', 'ms', noStamp, Infinity);
  return ok && oneEach;
}

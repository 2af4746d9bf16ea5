// Issue 5's figures: a wrapped client call with a fresh token against calling the same stub
// directly, in bash and in zsh, measured inside one shell so that its start-up does not count;
// the slow path (one `tokenenv shell-token`) beside it; and issue 13's: how much slower an
// interactive shell starts with the lines `tokenenv init` prints for ~/.bashrc / ~/.zshrc.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mint, mintConfig } from '../test/support/mint.js';
import { compareProcesses, median } from './measure.js';

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

const SLOW = `
source "$TOKENENV_SCRIPT"
stamps="$XDG_RUNTIME_DIR/tokenenv/fresh"
for round in 1 2 3 4 5; do
  rm -rf "$stamps"
  t0=\${EPOCHREALTIME/./}
  condor_submit x
  t1=\${EPOCHREALTIME/./}
  echo $(( t1 - t0 ))
done
`;

export function benchShell(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'condor_submit'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'condor_submit'), 0o755);
    const runtime = join(dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const mint = new Mint(dir);
    writeFileSync(join(dir, 'config.ini'), mintConfig(mint, { default: {} }));
    const env = {
      PATH: `${bin}:${process.env.PATH}`, HOME: dir, XDG_RUNTIME_DIR: runtime, TOKENENV_CONFIG: join(dir, 'config.ini'),
      TOKENENV_BIN: join(repo, 'bin', 'tokenenv.cjs'), TOKENENV_SCRIPT: join(repo, 'shell', 'tokenenv.sh'),
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
      const slow = spawnSync('bash', ['-c', SLOW], { env, encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
      console.log(`${shell}: wrapped call with a fresh token ${(wrapped / 1000).toFixed(2)} ms vs the stub called directly ${(direct / 1000).toFixed(2)} ms = ${(wrapped / direct).toFixed(2)}x, ` +
        `${added.toFixed(2)} ms added (median of 7 rounds x ${CALLS} calls; target <= 2 ms) ${fine ? 'OK' : 'OVER TARGET'}` +
        (shell === 'bash' ? `; slow path (tokenenv shell-token once): ${(median(slow) / 1000).toFixed(1)} ms per call` : ''));
    }
    return benchStartup(dir, env) && ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
        `${added.toFixed(2)} ms added (median of 150 alternating runs; target <= 3 ms) ${fine ? 'OK' : 'OVER TARGET'}`);
    } catch (error) {
      console.log(`${shell}: start-up not measured (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return ok;
}

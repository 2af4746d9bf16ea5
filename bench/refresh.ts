// Issue 3's figures: the 50-process refresh storm (wall time, source calls), and a refresh with
// nothing to do against `tokenenv discover`.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mint, mintConfig } from '../test/support/mint.js';
import { compareProcesses, report } from './measure.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => spawn(process.execPath, [bin, ...args], { env, stdio: 'ignore' }).on('close', resolve));
}

export async function benchRefresh(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  try {
    const mint = new Mint(dir);
    const runtime = join(dir, 'run');
    const env = { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, HOME: dir };
    writeFileSync(join(dir, 'placeholder'), '');
    const config = join(dir, 'config.ini');
    const tokenPath = join(dir, 't.token');
    writeFileSync(config, mintConfig(mint, { t: { token_path: tokenPath, min_lifetime: 60 } }));
    await run(['refresh', '--config', config], { ...env, XDG_RUNTIME_DIR: (chmodSync(dir, 0o700), dir) });

    const stormCalls: number[] = [];
    const stormMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      rmSync(tokenPath, { force: true });
      const before = mint.calls;
      const start = process.hrtime.bigint();
      const codes = await Promise.all(Array.from({ length: 50 }, () => run(['refresh', '--config', config], { ...env, XDG_RUNTIME_DIR: dir })));
      stormMs.push(Number(process.hrtime.bigint() - start) / 1e6);
      stormCalls.push(mint.calls - before);
      if (codes.some((c) => c !== 0)) throw new Error('a refresh in the storm failed');
    }
    const calls = Math.max(...stormCalls);
    console.log(`refresh storm, 50 processes on one stale token: ${stormMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}; source calls ${stormCalls.join(', ')} (target: 1) ${calls === 1 ? 'OK' : 'OVER TARGET'}`);

    const freshEnv = { ...env, XDG_RUNTIME_DIR: dir, BEARER_TOKEN_FILE: tokenPath };
    const ok = report('tokenenv refresh with nothing to do vs tokenenv discover', 'ms',
      compareProcesses([process.execPath, bin, 'refresh', '--config', config], [process.execPath, bin, 'discover'], freshEnv), 1.3);
    return ok && calls === 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Issue 3's and 13's figures for one refresh, with a real client-credentials grant against the
// demo issuer on loopback: `tokenenv refresh --force` (one grant) and a refresh with nothing to
// do, each against `tokenenv discover`. The storms are in storm.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issuerConfig, startBenchIssuer } from './issuer.js';
import { compareProcesses, QUICK, report, verdict } from './measure.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));
const RUNS = QUICK ? 15 : 40;

export async function benchRefresh(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const issuer = await startBenchIssuer();
  try {
    const runtime = join(dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const tokenPath = join(dir, 't.token');
    const config = issuerConfig(issuer, dir, { t: { token_path: tokenPath, min_lifetime: 60 } });
    const env = { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, HOME: dir, BEARER_TOKEN_FILE: tokenPath };
    const first = spawnSync(process.execPath, [bin, 'refresh', '--config', config], { env, encoding: 'utf8' });
    if (first.status !== 0) throw new Error(`bench: tokenenv refresh against the demo issuer exited ${first.status}: ${first.stderr.trim()}`);

    const before = await issuer.grants();
    const forced = compareProcesses([process.execPath, bin, 'refresh', '--force', '--config', config], [process.execPath, bin, 'discover'], env, RUNS);
    const grants = (await issuer.grants()) - before;
    const oneEach = grants === RUNS + 1; // and one warm-up run
    let ok = report('tokenenv refresh --force (one real client-credentials grant, loopback) vs tokenenv discover', 'ms', forced, 2);
    if (!oneEach) console.log(`  ${verdict(false)}: ${RUNS + 1} forced refreshes made ${grants} grants at the issuer`);
    // The same with token_request_url: the share of the OpenID discovery request.
    const direct = issuerConfig(issuer, dir, { t: { token_path: tokenPath, min_lifetime: 60 } }, 'direct', 'direct.ini');
    report('tokenenv refresh --force with token_request_url (one grant, no OpenID discovery) vs tokenenv discover', 'ms',
      compareProcesses([process.execPath, bin, 'refresh', '--force', '--config', direct], [process.execPath, bin, 'discover'], env, QUICK ? 10 : 20), Infinity);
    ok = report('tokenenv refresh with nothing to do vs tokenenv discover', 'ms',
      compareProcesses([process.execPath, bin, 'refresh', '--config', config], [process.execPath, bin, 'discover'], env, RUNS), 1.3) && ok;
    return ok && oneEach;
  } finally {
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

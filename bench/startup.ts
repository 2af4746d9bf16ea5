// Issue 13's goals 1 and 3: the start-up of short commands, each as a ratio against `node -e 0` or
// `tokenenv discover` measured in the same interleaved rounds (every round runs each command
// once, so that machine noise hits all of them alike), timed by bench/native/runtime.c (wall and
// CPU from wait4). Every grant is a real client-credentials grant at the demo issuer on loopback.
// $XDG_RUNTIME_DIR is a tmpfs, as in a login session (sessionRuntimeDir); one row, for
// information, refreshes without one (a cron job: tokenenv's state then lives under ~/.cache).
// A bare Node script that makes the same grant and writes the token (bench/native/bare-grant.cjs)
// shows how much of a refresh is Node's own HTTP and start-up.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expiredJwt, issuerConfig, startBenchIssuer } from './issuer.js';
import { median, QUICK, report, sessionRuntimeDir, verdict } from './measure.js';
import { fakeJwt, fileLab } from './watchers.js';

const bin = fileURLToPath(new URL('../../bin/tokenenv.cjs', import.meta.url));
const runtimeSource = fileURLToPath(new URL('../../bench/native/runtime.c', import.meta.url));
const bareGrant = fileURLToPath(new URL('../../bench/native/bare-grant.cjs', import.meta.url));
const ROUNDS = QUICK ? 12 : 40;

interface Timed {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Run before each timed run, untimed: e.g. to make a token stale again. */
  before?: () => void;
}

type Times = { wall: number; cpu: number };

/** Median wall and CPU ms of each command over ROUNDS interleaved rounds, after a warm-up round. */
function timeInterleaved(runtime: string, commands: Timed[]): Map<string, Times> {
  const samples = new Map(commands.map((c) => [c.name, { wall: [] as number[], cpu: [] as number[] }]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const command of commands) {
      command.before?.();
      const run = spawnSync(runtime, command.argv, { env: command.env, encoding: 'utf8' });
      const [wall, cpu, status] = run.stdout.trim().split(' ').map(Number);
      if (run.status !== 0 || status !== 0) throw new Error(`bench: ${command.name} exited ${status}: ${run.stderr.trim()}`);
      if (round < 0) continue;
      samples.get(command.name)!.wall.push(wall! / 1000);
      samples.get(command.name)!.cpu.push(cpu! / 1000);
    }
  }
  return new Map([...samples].map(([name, s]) => [name, { wall: median(s.wall), cpu: median(s.cpu) }]));
}

/** `subject` against `baseline`: wall time (the target), with the CPU ratio (steadier under load). */
function compare(what: string, subject: Times, baseline: Times, target: number): boolean {
  return report(what, 'ms', { subject: subject.wall, baseline: baseline.wall, ratio: subject.wall / baseline.wall }, target,
    `CPU ${(subject.cpu / baseline.cpu).toFixed(2)}x`);
}

export async function benchStartup(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const xdgRuntimeDir = sessionRuntimeDir();
  const issuer = await startBenchIssuer();
  try {
    const runtime = join(dir, 'runtime');
    const cc = spawnSync('cc', ['-O2', '-o', runtime, runtimeSource], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`bench: cc -O2 ${runtimeSource} failed: ${cc.error?.message ?? cc.stderr.trim()}`);
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const noSession = { PATH: process.env.PATH, HOME: home };
    const env = { ...noSession, XDG_RUNTIME_DIR: xdgRuntimeDir };
    const fresh = join(dir, 'fresh.token');
    writeFileSync(fresh, `${fakeJwt(3600)}\n`, { mode: 0o600 });
    const files = fileLab(join(dir, 'file'), 1);
    writeFileSync(join(files.tokens, 't0.token'), `${fakeJwt(3600)}\n`, { mode: 0o600 });
    const token = (name: string) => join(dir, `${name}.token`);
    const viaDiscovery = issuerConfig(issuer, dir, { t: { token_path: token('cc') } }, 'discovery', 'discovery.ini');
    const direct = issuerConfig(issuer, dir, { t: { token_path: token('direct') } }, 'direct', 'direct.ini');
    const stale = issuerConfig(issuer, dir, { t: { token_path: token('stale') } }, 'discovery', 'stale.ini');
    const bare = { TOKEN_ENDPOINT: issuer.tokenEndpoint, CLIENT_ID: issuer.clientId, CLIENT_SECRET_FILE: join(dir, 'client.secret'), TOKEN_FILE: token('bare') };
    const node = process.execPath;
    const commands: Timed[] = [
      { name: 'node', argv: [node, '-e', '0'], env },
      { name: 'discover', argv: [node, bin, 'discover'], env: { ...env, BEARER_TOKEN_FILE: fresh } },
      { name: 'help', argv: [node, bin, '--help'], env },
      { name: 'inspect', argv: [node, bin, 'inspect'], env: { ...env, BEARER_TOKEN_FILE: fresh } },
      { name: 'status', argv: [node, bin, 'status', '--config', files.config], env },
      { name: 'grant', argv: [node, bin, 'refresh', '--force', '--config', direct], env },
      { name: 'grant without session', argv: [node, bin, 'refresh', '--force', '--config', direct], env: noSession },
      // After the forced one, so that the token is always there and fresh.
      { name: 'nothing to do', argv: [node, bin, 'refresh', '--config', direct], env },
      // With issuer =, the token endpoint is remembered for an hour (lib/sources/issuer-endpoints.ts):
      // the first refresh of the hour reads the OpenID configuration, the others go straight to it.
      { name: 'remembered endpoint + grant', argv: [node, bin, 'refresh', '--force', '--config', viaDiscovery], env },
      { name: 'discovery + grant', argv: [node, bin, 'refresh', '--force', '--config', viaDiscovery], env, before: () => rmSync(join(xdgRuntimeDir, 'tokenenv', 'issuers'), { recursive: true, force: true }) },
      { name: 'bare grant', argv: [node, bareGrant], env: { ...env, ...bare } },
      { name: 'shell-token', argv: [node, bin, 'shell-token', '--config', stale], env, before: () => writeFileSync(token('stale'), `${expiredJwt()}\n`, { mode: 0o600 }) },
    ];
    const grants0 = await issuer.grants();
    const t = timeInterleaved(runtime, commands);
    const grants = (await issuer.grants()) - grants0;
    const at = (name: string) => t.get(name)!;
    let ok = compare('tokenenv discover (whole process) vs node -e 0', at('discover'), at('node'), 1.25);
    ok = compare('tokenenv refresh --force, one grant (token_request_url) vs tokenenv discover', at('grant'), at('discover'), 2) && ok;
    ok = compare('tokenenv refresh --force, issuer = (token endpoint remembered) + grant vs tokenenv discover', at('remembered endpoint + grant'), at('discover'), 2) && ok;
    compare('the same without a login session ($XDG_RUNTIME_DIR unset: state under ~/.cache, here on ext4) vs tokenenv discover', at('grant without session'), at('discover'), Infinity);
    compare('tokenenv refresh --force, issuer = at its first refresh of the hour: OpenID discovery + grant vs tokenenv discover', at('discovery + grant'), at('discover'), Infinity);
    compare('a bare Node script making the same grant and writing the file (http.request, fsync, rename) vs tokenenv discover', at('bare grant'), at('discover'), Infinity);
    ok = compare('wrapper slow path: tokenenv shell-token with a stale token (one grant) vs tokenenv discover', at('shell-token'), at('discover'), 2.5) && ok;
    ok = compare('tokenenv refresh with nothing to do vs tokenenv discover', at('nothing to do'), at('discover'), 1.3) && ok;
    ok = compare('tokenenv --help vs node -e 0', at('help'), at('node'), 1.3) && ok;
    ok = compare('tokenenv inspect (file token) vs node -e 0', at('inspect'), at('node'), 1.3) && ok;
    ok = compare('tokenenv status (one token, file source) vs node -e 0', at('status'), at('node'), 1.3) && ok;
    // One grant per forced refresh, per stale shell-token and per bare grant, warm-up round included.
    const expected = 6 * (ROUNDS + 1);
    console.log(`grants made by the timed runs: ${grants} (expected ${expected}) ${verdict(grants === expected)}`);
    return ok && grants === expected;
  } finally {
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(xdgRuntimeDir, { recursive: true, force: true });
  }
}

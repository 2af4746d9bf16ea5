// Issue 3's and 13's refresh storm: N processes started at once on one stale token, each grant a
// real client-credentials grant at the demo issuer: grants counted at the issuer, wall time, and
// what a reader looping on the token file saw meanwhile. tokenenv against osg-token-renewer (the
// tool it is measured against), both given the same osg-token-renewer config.ini.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expiredJwt, startBenchIssuer, type BenchIssuer } from './issuer.js';
import { QUICK, record, sessionRuntimeDir, verdict } from './measure.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'bin', 'tokenenv.cjs');
const readerLoop = fileURLToPath(new URL('./reader-loop.js', import.meta.url));
const SIZES = QUICK ? [10, 50] : [10, 50, 200];
/** Debian's python, not one found first on PATH (see ../shared/peers/README.md). */
const PYTHON = '/usr/bin/python3';

interface ReaderCounts {
  reads: number;
  missing: number;
  empty: number;
  torn: number;
}

interface Storm {
  grants: number;
  wallMs: number;
  failed: number;
  reads: ReaderCounts;
  /** The file holds a token valid for more than its min_lifetime afterwards. */
  fresh: boolean;
}

function exitOf(argv: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' }).on('close', resolve));
}

async function startReader(file: string): Promise<{ stop(): Promise<ReaderCounts> }> {
  const child: ChildProcess = spawn(process.execPath, [readerLoop, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== 'ready') throw new Error('bench: the reader loop did not start');
  return {
    async stop() {
      child.kill('SIGTERM');
      return JSON.parse((await lines.next()).value as string) as ReaderCounts;
    },
  };
}

function secondsLeft(file: string): number {
  try {
    const payload = readFileSync(file, 'utf8').trim().split('.')[1]!;
    return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number }).exp - Date.now() / 1000;
  } catch {
    return -Infinity;
  }
}

async function storm(argv: string[], env: NodeJS.ProcessEnv, count: number, tokenPath: string, issuer: BenchIssuer): Promise<Storm> {
  // Stale, and put in place atomically: the reader must not see the set-up as torn.
  writeFileSync(`${tokenPath}.new`, `${expiredJwt()}\n`, { mode: 0o600 });
  renameSync(`${tokenPath}.new`, tokenPath);
  const reader = await startReader(tokenPath);
  const before = await issuer.grants();
  const start = process.hrtime.bigint();
  const codes = await Promise.all(Array.from({ length: count }, () => exitOf(argv, env)));
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const reads = await reader.stop();
  return { grants: (await issuer.grants()) - before, wallMs, failed: codes.filter((c) => c !== 0).length, reads, fresh: secondsLeft(tokenPath) > 60 };
}

/** osg-token-renewer.py unpacked into `dir` from OSG_TOKEN_RENEWER_SRC (a .py, a directory or
 * the source tarball) or ../shared/peers/osg-token-renewer-*-src.tar.gz, or why not. */
function findOsgRenewer(dir: string): { script: string } | { skipped: string } {
  const python = spawnSync(PYTHON, ['-c', 'import requests, jwt'], { encoding: 'utf8' });
  if (python.error) return { skipped: `no ${PYTHON}` };
  if (python.status !== 0) return { skipped: `${PYTHON} lacks requests or jwt (Debian: python3-requests python3-jwt)` };
  const given = process.env.OSG_TOKEN_RENEWER_SRC;
  const peers = [join(repo, '..', 'shared', 'peers'), join(repo, '..', '..', 'shared', 'peers')];
  const tarball = given ?? peers.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => /^osg-token-renewer-.*-src\.tar\.gz$/.test(f)).map((f) => join(d, f)) : []))[0];
  if (!tarball) return { skipped: `no osg-token-renewer source (set OSG_TOKEN_RENEWER_SRC, or put it in ${peers[0]})` };
  if (tarball.endsWith('.py')) return { script: tarball };
  let source = tarball;
  if (/\.(tar\.gz|tgz)$/.test(tarball)) {
    source = join(dir, 'osg-token-renewer');
    mkdirSync(source);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', source], { encoding: 'utf8' });
    if (tar.status !== 0) return { skipped: `tar -xzf ${tarball} failed: ${tar.stderr.trim()}` };
  }
  const found = spawnSync('find', [source, '-maxdepth', '2', '-name', 'osg-token-renewer.py'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  return found ? { script: found } : { skipped: `no osg-token-renewer.py in ${tarball}` };
}

/** The osg-token-renewer config.ini both tools are given: client credentials, one token. */
function osgConfig(issuer: BenchIssuer, dir: string, tokenPath: string): string {
  const config = join(dir, 'config.ini');
  writeFileSync(config, [
    '[account demo]', `token_request_url = ${issuer.tokenEndpoint}`, `client_id = ${issuer.clientId}`, `client_secret = ${issuer.clientSecret}`, '',
    '[token t]', 'account = demo', `token_path = ${tokenPath}`, 'scope = storage.read:/', 'min_lifetime = 60', '',
  ].join('\n'), { mode: 0o600 });
  return config;
}

function summary(s: Storm): string {
  return `${s.grants} grant(s), ${s.wallMs.toFixed(0)} ms, reader saw ${s.reads.empty} empty / ${s.reads.torn} torn / ${s.reads.missing} missing of ${s.reads.reads} reads` +
    `${s.failed ? `, ${s.failed} exited non-zero` : ''}${s.fresh ? '' : ', token NOT fresh afterwards'}`;
}

export async function benchStorm(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-bench-'));
  const runtime = sessionRuntimeDir();
  const issuer = await startBenchIssuer();
  try {
    const tokenPath = join(dir, 't.token');
    const config = osgConfig(issuer, dir, tokenPath);
    const osg = findOsgRenewer(dir);
    if ('skipped' in osg) console.log(`osg-token-renewer: not measured (${osg.skipped})`);
    const tokenenv = { argv: [process.execPath, bin, 'refresh', '--config', config], env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, HOME: dir } };
    const renewer = 'script' in osg ? { argv: [PYTHON, osg.script], env: { PATH: process.env.PATH, HOME: dir, OSG_TOKEN_RENEWER_CONFIG_PATH: config } } : undefined;
    let ok = true;
    for (const count of SIZES) {
      const ours = await storm(tokenenv.argv, tokenenv.env, count, tokenPath, issuer);
      const good = ours.grants === 1 && ours.reads.empty + ours.reads.torn + ours.reads.missing === 0 && ours.failed === 0 && ours.fresh;
      ok = ok && good;
      const theirs = renewer ? await storm(renewer.argv, renewer.env, count, tokenPath, issuer) : undefined;
      console.log(`refresh storm, ${count} processes on one stale token (real grants, a reader looping on the file): tokenenv ${summary(ours)} ` +
        `(target: 1 grant, no empty/torn read) ${verdict(good)}` +
        (theirs ? `; osg-token-renewer ${summary(theirs)}; wall time ${(ours.wallMs / theirs.wallMs).toFixed(2)}x osg-token-renewer's` : ''));
      record(`refresh storm, ${count} \`tokenenv refresh\` on one stale token`,
        `${ours.grants} grant(s), ${ours.wallMs.toFixed(0)} ms, ${ours.reads.empty + ours.reads.torn} empty/torn of ${ours.reads.reads} reads` +
        (theirs ? ` (${(ours.wallMs / theirs.wallMs).toFixed(2)}x osg-token-renewer's wall time)` : ''), '1 grant, 0 empty/torn reads', good);
      if (theirs) {
        record(`refresh storm, ${count} \`osg-token-renewer.py\` on one stale token`,
          `${theirs.grants} grant(s), ${theirs.wallMs.toFixed(0)} ms, ${theirs.reads.empty} empty + ${theirs.reads.torn} torn of ${theirs.reads.reads} reads${theirs.failed ? `, ${theirs.failed} failed` : ''}`, '');
      }
    }
    if (!renewer) record('refresh storm, osg-token-renewer', `not measured: ${'skipped' in osg ? osg.skipped : ''}`, '');
    return ok;
  } finally {
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}

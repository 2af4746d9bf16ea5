// A real XRootD server (Debian xrootd-server 5.5.3) on loopback: `roots://` (TLS), `sec.protocol
// ztn` and the SciTokens authorization plugin, trusting test issuers over HTTPS. `decide()` asks
// it, through the real xrdcp/xrdfs, whether a token may do an operation on a path.
// Findings behind the choices (XRootD 5.5.3, scitokens-cpp 0.7.3):
// - xrootd refuses to run as root ("Security reasons prohibit running as superuser"): it runs as
//   the `xrootd` system user, which the Debian package xrootd-server creates, and its directory
//   is chowned to it. The issuer CA is trusted through a private mount namespace (scitokens.ts).
// - Audience: the plugin hands the `audience` list of scitokens.cfg to scitokens-cpp, which
//   compares each `aud` exactly (no trailing-slash, scheme or host normalisation) and, for
//   WLCG-profile tokens (`wlcg.ver`), accepts https://wlcg.cern.ch/jwt/v1/any even when not
//   listed. Nothing comes from the server's own host name or port.
// - Scopes, relative to base_path: storage.read → read, dir, stat; storage.create → exclusive
//   create, mkdir, rename; storage.modify → create, mkdir, rename, update, chmod, delete. Neither
//   create nor modify grants stat before 5.6.9, and xrdcp stats an upload's destination first and
//   stops on "not authorized": with this server an xrdcp upload needs storage.read too.
// - The ztn login validates the token (signature, issuer, expiry): such a failure ends the session
//   ("Auth failed"); audience and scope are checked per request (error 3010, permission denied).
// - XrdCl 5.5.3 takes the token from BEARER_TOKEN, BEARER_TOKEN_FILE, $XDG_RUNTIME_DIR/bt_u<euid>,
//   then /tmp/bt_u11 (a bug, not bt_u<euid>), and refuses a file with any group/other bit.
//   Clients therefore run here with a private, empty /tmp, so the machine's files never count.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { WLCG_ANY_AUDIENCE } from '../../lib/token/claims.js';
import { run, type Env, type RunResult } from './arc.js';
import { wrapCommand } from './cli.js';
import { hasCommand } from './peers.js';
import { createTestPki, type TestPki } from './pki.js';
import { issuerTrustUnavailable, makeTrustDir, withIssuerTrust } from './scitokens.js';
import { waitFor } from './wait.js';

export interface XrootdIssuer {
  /** `iss` of its tokens, e.g. https://127.0.0.1:PORT. */
  url: string;
  /** PEM CA certificate that signed the issuer's HTTPS certificate. */
  caFile: string;
}

export interface XrootdOptions {
  issuers: XrootdIssuer[];
  /** Accepted audiences. Default: `roots://127.0.0.1:PORT`, `127.0.0.1:PORT` and the WLCG "any" audience. */
  audiences?: (port: number) => string[];
  /** The exported namespace; scope paths are relative to it (storage.read:/x grants BASE/x). Default /data. */
  basePath?: string;
  /** Server certificate and CA. Default: a new test PKI in the server's temp dir. */
  pki?: TestPki;
  /** Unix user the server runs as (it refuses root). Default: xrootd. */
  user?: string;
}

export type XrootdOperation = 'read' | 'write' | 'list' | 'mkdir' | 'delete';

export interface XrootdDecision {
  accepted: boolean;
  /**
   * Where a refusal happened: `client` (the client kept the token back, or had none), `login`
   * (ztn authentication: signature, issuer, expiry, not a JWT) or `request` (authorization of
   * this path and operation: audience, scope).
   */
  refusedAt?: 'client' | 'login' | 'request';
  /** Why, from the client's and the server's messages (they never contain the token). */
  reason: string;
}

export interface DecideOptions {
  /** Mode of the BEARER_TOKEN_FILE; default 0600. */
  fileMode?: number;
  /** Hand the token in BEARER_TOKEN instead of a file. */
  viaEnv?: boolean;
}

export interface XrootdServer {
  /** roots://127.0.0.1:PORT */
  url: string;
  port: number;
  basePath: string;
  audiences: string[];
  /** Local directory behind `basePath`. */
  dataDir: string;
  /** Complete environment for clients (no token): HOME, X509_CERT_DIR, GFAL_PYTHONBIN, XRD_*. */
  env: Env;
  /** Runs argv with the clients' private /tmp (needed for anything that may discover tokens). */
  wrap: (argv: string[]) => string[];
  /** The directory that `wrap` mounts over /tmp (empty, mode 1777). */
  clientTmp: string;
  /** /etc/ssl/certs stand-in with the issuers' CAs, for scitokensVerify(). */
  trustDir: string;
  /** A fresh directory for a test's files, readable only by root. */
  scratch(name: string): string;
  /** roots://127.0.0.1:PORT//path */
  urlOf(path: string): string;
  /** Local file behind a namespace path (under `basePath`). */
  localPath(path: string): string;
  /** Puts a file into the namespace, owned by the server. */
  putFile(path: string, content: string): void;
  /** The server's log so far (tokens never appear in it). */
  log(): string;
  /**
   * The server's decision, asked with the real client (the token in a fresh 0600
   * BEARER_TOKEN_FILE; undefined: none): `read` downloads a file it puts at `path` (xrdcp),
   * `write` uploads a new file to `path` (xrdcp, no --force: exclusive create after a stat),
   * `list` lists the directory `path` (xrdfs ls), `mkdir` and `delete` use xrdfs mkdir / rm.
   * Accepted means the client succeeded and the effect is on disk. Throws when the outcome is
   * neither (server gone, timeout). Call one at a time: the reason comes from the log lines
   * written during the call.
   */
  decide(token: string | undefined, operation: XrootdOperation, path: string, options?: DecideOptions): Promise<XrootdDecision>;
  stop(): Promise<void>;
}

/** Why a server cannot be started here (missing package, not root), or undefined. */
export function xrootdUnavailable(user = 'xrootd'): string | undefined {
  const missing = ['xrootd', 'xrdcp', 'xrdfs', 'openssl', 'unshare', 'setpriv'].filter((c) => !hasCommand(c));
  if (missing.length > 0) return `not installed: ${missing.join(', ')}`;
  const libs = ['libXrdAccSciTokens-5.so', 'libXrdSecztn-5.so'].filter((lib) => !sharedLibraryInstalled(lib));
  if (libs.length > 0) return `${libs.join(', ')} not found (Debian: xrootd-scitokens-plugins, xrootd-plugins)`;
  if (!lookupUser(user)) return `no user ${user} (the Debian package xrootd-server creates it)`;
  return issuerTrustUnavailable();
}

function sharedLibraryInstalled(name: string): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().includes(name);
  } catch {
    return false;
  }
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const [, , uid, gid] = execFileSync('getent', ['passwd', name]).toString().trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// xrootd 5.5.3 cannot bind one address: it listens on all and accepts connections from 127.0.0.1 only.
function serverConfig(dir: string, port: number, basePath: string): string {
  return `xrd.port ${port}
xrd.network nodnr
xrd.allow host 127.0.0.1
all.export ${basePath}
oss.localroot ${dir}/export
all.adminpath ${dir}/admin
all.pidpath ${dir}/run
xrd.tls ${dir}/hostcert.pem ${dir}/hostkey.pem
xrd.tlsca certdir ${dir}/certificates
xrootd.tls all
xrootd.seclib libXrdSec.so
sec.protocol ztn
ofs.authorize 1
ofs.authlib libXrdAccSciTokens.so config=${dir}/scitokens.cfg
scitokens.trace all
`;
}

function scitokensConfig(issuers: XrootdIssuer[], audiences: string[], basePath: string): string {
  const sections = issuers.map((issuer, i) => `[Issuer test${i + 1}]\nissuer = ${issuer.url}\nbase_path = ${basePath}\n`);
  return `[Global]\naudience_json = ${JSON.stringify(audiences)}\nonmissing = deny\n\n${sections.join('\n')}`;
}

export async function startXrootd(options: XrootdOptions): Promise<XrootdServer> {
  const userName = options.user ?? 'xrootd';
  const unavailable = xrootdUnavailable(userName);
  if (unavailable) throw new Error(`startXrootd: ${unavailable}`);
  if (options.issuers.length === 0) throw new Error('startXrootd: options.issuers is empty');
  const owner = lookupUser(userName)!;
  const basePath = posix.normalize(options.basePath ?? '/data').replace(/(.)\/+$/, '$1');
  if (!basePath.startsWith('/')) throw new Error('startXrootd: options.basePath must be an absolute path');

  const top = mkdtempSync(join(tmpdir(), 'tokenenv-xrootd-'));
  chmodSync(top, 0o711); // the server user may pass through to its own directory only
  const serverDir = join(top, 'server');
  const clientDir = join(top, 'client');
  mkdirSync(clientDir, { mode: 0o700 });
  mkdirSync(join(clientDir, 'home'), { mode: 0o700 });
  const clientTmp = join(clientDir, 'tmp');
  mkdirSync(clientTmp);
  chmodSync(clientTmp, 0o1777);
  const pki = options.pki ?? createTestPki(join(top, 'pki'));
  // Clients see only `top` of the real /tmp (private /tmp), so they get their own copy of the CA.
  cpSync(pki.caDir, join(clientDir, 'certificates'), { recursive: true });

  mkdirSync(serverDir, { mode: 0o700 });
  for (const sub of ['admin', 'run', 'cache', 'export']) mkdirSync(join(serverDir, sub));
  cpSync(pki.serverCert, join(serverDir, 'hostcert.pem'));
  cpSync(pki.serverKey, join(serverDir, 'hostkey.pem'));
  chmodSync(join(serverDir, 'hostkey.pem'), 0o400);
  cpSync(pki.caDir, join(serverDir, 'certificates'), { recursive: true });
  const trustDir = makeTrustDir(join(serverDir, 'issuer-cas'), options.issuers.map((i) => i.caFile));
  const dataDir = join(serverDir, 'export', basePath);
  mkdirSync(dataDir, { recursive: true });
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, serverDir]);
  const logFile = join(serverDir, 'xrootd.log');

  let child: ChildProcess | undefined;
  let port = 0;
  let audiences: string[] = [];
  // The port is free when we look, but another process may take it before xrootd binds it.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    audiences = options.audiences?.(port) ?? [`roots://127.0.0.1:${port}`, `127.0.0.1:${port}`, WLCG_ANY_AUDIENCE];
    writeFileSync(join(serverDir, 'xrootd.cfg'), serverConfig(serverDir, port, basePath));
    writeFileSync(join(serverDir, 'scitokens.cfg'), scitokensConfig(options.issuers, audiences, basePath));
    const started = await launch(serverDir, port, logFile, trustDir, owner);
    if (started.child) {
      child = started.child;
      break;
    }
    if (!/address already in use/i.test(started.log) || attempt === 3) {
      rmSync(top, { recursive: true, force: true });
      throw new Error(`startXrootd: the server did not start (${started.why}); its log:\n${started.log}`);
    }
  }
  const server = child;

  const url = `roots://127.0.0.1:${port}`;
  const env: Env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C',
    HOME: join(clientDir, 'home'),
    X509_CERT_DIR: join(clientDir, 'certificates'),
    // gfal-* run the first python on PATH that imports gfal2; Debian's is /usr/bin/python3.
    ...(existsSync('/usr/bin/python3') ? { GFAL_PYTHONBIN: '/usr/bin/python3' } : {}),
    // Fail fast instead of XrdCl's default 5 retries within 120 s if the server is gone.
    XRD_CONNECTIONRETRY: '1',
    XRD_REQUESTTIMEOUT: '30',
  };
  const wrap = (argv: string[]): string[] => wrapCommand(argv, { privateTmp: clientTmp, keep: [top] });
  let scratchCount = 0;
  const scratch = (name: string): string => {
    const dir = join(clientDir, `${++scratchCount}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };
  const localPath = (path: string): string => {
    const normal = posix.normalize(path);
    if (basePath !== '/' && normal !== basePath && !normal.startsWith(`${basePath}/`)) throw new Error(`xrootd: ${path} is not under the exported ${basePath}`);
    return join(serverDir, 'export', normal);
  };
  const ownedDirs = (dir: string): void => {
    mkdirSync(dir, { recursive: true });
    for (let d = dir; d.startsWith(dataDir); d = dirname(d)) chownSync(d, owner.uid, owner.gid);
  };
  const putFile = (path: string, content: string): void => {
    const file = localPath(path);
    ownedDirs(dirname(file));
    writeFileSync(file, content);
    chownSync(file, owner.uid, owner.gid);
  };
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const urlOf = (path: string): string => `${url}/${posix.normalize(path)}`;

  const handle: XrootdServer = {
    url, port, basePath, audiences, dataDir, env, wrap, clientTmp, trustDir, scratch, urlOf, localPath, putFile, log,
    decide: (token, operation, path, decideOptions = {}) => decide({ handle, token, operation, path, options: decideOptions, ownedDirs }),
    stop: async () => {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(top, { recursive: true, force: true });
    },
  };
  return handle;
}

interface Launched {
  child?: ChildProcess;
  why: string;
  log: string;
}

// "------ xrootd anon@HOST:PORT initialization completed." once the port is bound ("failed" if not).
const INITIALISED = /^------ xrootd \S+:\d+ initialization (completed|failed)\./m;

async function launch(serverDir: string, port: number, logFile: string, trustDir: string, owner: { uid: number; gid: number }): Promise<Launched> {
  writeFileSync(logFile, '');
  const fd = openSync(logFile, 'a');
  const [file, ...args] = withIssuerTrust(['xrootd', '-c', join(serverDir, 'xrootd.cfg')], trustDir, owner);
  const child = spawn(file!, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', HOME: join(serverDir, 'cache'), XDG_CACHE_HOME: join(serverDir, 'cache') },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = `exited with ${code ?? signal}`;
    resolve();
  }));
  const failed = async (why: string): Promise<Launched> => {
    if (exit === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    return { why, log: readFileSync(logFile, 'utf8') };
  };
  try {
    await waitFor(() => exit !== undefined || INITIALISED.test(readFileSync(logFile, 'utf8')), 20_000, 'xrootd to initialise');
  } catch (err) {
    return failed(String(err));
  }
  if (exit !== undefined) return failed(exit);
  if (INITIALISED.exec(readFileSync(logFile, 'utf8'))![1] !== 'completed') return failed('initialization failed');
  if (!(await accepting(port))) return failed(`port ${port} does not accept connections`);
  return { child, why: '', log: '' };
}

interface DecideRequest {
  handle: XrootdServer;
  token: string | undefined;
  operation: XrootdOperation;
  path: string;
  options: DecideOptions;
  ownedDirs: (dir: string) => void;
}

const CONTENT = 'tokenenv xrootd test\n';

/** How each operation is asked with the real clients, and how its success is confirmed on disk. */
function plan(handle: XrootdServer, operation: XrootdOperation, path: string, work: string, ownedDirs: (dir: string) => void): { argv: string[]; done: (r: RunResult) => boolean } {
  const local = handle.localPath(path);
  rmSync(local, { recursive: true, force: true });
  switch (operation) {
    case 'read': {
      handle.putFile(path, CONTENT);
      const copy = join(work, 'download');
      return { argv: ['xrdcp', '--nopbar', '--force', handle.urlOf(path), copy], done: () => existsSync(copy) && readFileSync(copy, 'utf8') === CONTENT };
    }
    case 'write': {
      ownedDirs(dirname(local));
      const source = join(work, 'upload');
      writeFileSync(source, CONTENT);
      return { argv: ['xrdcp', '--nopbar', source, handle.urlOf(path)], done: () => existsSync(local) && readFileSync(local, 'utf8') === CONTENT };
    }
    case 'list': {
      handle.putFile(posix.join(path, 'listed.txt'), CONTENT);
      return { argv: ['xrdfs', handle.url, 'ls', path], done: (r) => r.stdout.includes(posix.join(path, 'listed.txt')) };
    }
    case 'mkdir': {
      ownedDirs(dirname(local));
      return { argv: ['xrdfs', handle.url, 'mkdir', path], done: () => existsSync(local) };
    }
    case 'delete': {
      handle.putFile(path, CONTENT);
      return { argv: ['xrdfs', handle.url, 'rm', path], done: () => !existsSync(local) };
    }
  }
}

async function decide({ handle, token, operation, path, options, ownedDirs }: DecideRequest): Promise<XrootdDecision> {
  const work = handle.scratch(`decide-${operation}`);
  const { argv, done } = plan(handle, operation, path, work, ownedDirs);
  const env: Env = { ...handle.env, XRD_LOGLEVEL: 'Debug' }; // Debug names why a token was not sent; it never prints it
  if (token !== undefined && options.viaEnv) env.BEARER_TOKEN = token;
  else if (token !== undefined) {
    env.BEARER_TOKEN_FILE = join(work, 'token');
    writeFileSync(env.BEARER_TOKEN_FILE, `${token}\n`, { mode: 0o600 });
    chmodSync(env.BEARER_TOKEN_FILE, options.fileMode ?? 0o600);
  }
  const logBefore = handle.log().length;
  const result = await run(argv, env, handle.wrap, 60_000);
  const succeeded = result.exitCode === 0 && done(result);
  rmSync(work, { recursive: true, force: true });
  if (succeeded) return { accepted: true, reason: 'done' };
  const serverLines = handle.log().slice(logBefore).split('\n');
  // XrdCl ends messages with a NUL byte and prefixes some with "Run: ".
  const clientLines = result.stderr.replace(/\0/g, '').split('\n').map((l) => l.replace(/^Run: /, ''));
  const kept = clientLines.map((l) => /Cannot get credentials for protocol ztn: (.*)$/.exec(l)?.[1]).find(Boolean);
  if (kept) return { accepted: false, refusedAt: 'client', reason: kept };
  const login = serverLines.map((l) => /User authentication failed; (.*)$/.exec(l)?.[1]).find(Boolean);
  if (login) return { accepted: false, refusedAt: 'login', reason: login };
  const refusal = clientLines.find((l) => /\[3010\]|permission denied/i.test(l) && !l.startsWith('[20'));
  if (refusal) {
    const why = serverLines.map((l) => /scitokens_GenerateAcls: (.*)$/.exec(l)?.[1]).find(Boolean) ?? 'no scope of the token covers this operation on this path';
    return { accepted: false, refusedAt: 'request', reason: `${refusal.trim()} (${why})` };
  }
  throw new Error(`xrootd decide(${operation} ${path}): unexpected outcome (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''})\n` +
    `client:\n${clientLines.filter((l) => !l.startsWith('[20')).join('\n')}\nserver log (new lines):\n${serverLines.join('\n')}`);
}

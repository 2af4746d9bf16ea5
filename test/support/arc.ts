// Harness for running the real NorduGrid ARC client (Debian nordugrid-arc-client 6.17) against a
// loopback server that records what it sends. Findings behind the choices below:
// - arcls refuses to start ("Failed configuration initialization") without an X.509 user
//   certificate and key, even for a plain-http URL and a bearer token. For http it only checks
//   that both files exist and that the key is not readable by group/others; no proxy is needed.
// - For http:// URLs arcls sends `PROPFIND <absolute URL>` (Depth 0, then 0, then 1) with
//   `authorization: Bearer <token>`, and exits 0 on a 207 multistatus listing.
// - It reads ~/.arc/client.conf (copying an example there when missing), tries
//   $X509_USER_PROXY or /tmp/x509up_u<uid>, and honours ARC_HTTP_PROXY: hence a private HOME, a
//   proxy path that does not exist, and an environment built from scratch rather than inherited.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { wrapCommand } from './cli.js';
import { createTestPki } from './pki.js';

export type Env = Record<string, string>;

export interface RecordedRequest {
  method: string;
  /** The request target as sent; ARC sends an absolute URL. */
  target: string;
  /** Every Authorization header value, in order (normally exactly one). */
  authorization: string[];
}

export interface RecordingServer {
  /** http://127.0.0.1:PORT, without a trailing slash. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const multistatus = (href: string): string => `<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>${href}</d:href><d:propstat><d:prop>
<d:resourcetype><d:collection/></d:resourcetype><d:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</d:getlastmodified>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>
`;

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  // Every path is an empty WebDAV collection (arcls), and GET returns a small file (arccp).
  const [status, body] = req.method === 'PROPFIND' ? [207, multistatus(path)]
    : req.method === 'GET' ? [200, 'tokenenv test file\n']
    : [405, ''];
  res.writeHead(status, { 'content-type': status === 207 ? 'application/xml; charset=utf-8' : 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A loopback HTTP server on a random port that records each request's Authorization header. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', target: req.url ?? '', authorization: req.headersDistinct.authorization ?? [] });
    req.resume().on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections(); // ARC keeps connections alive
      server.close(() => resolve());
    }),
  };
}

/**
 * A complete environment (not to be merged into process.env) in which ARC runs
 * non-interactively and hermetically: own HOME and client.conf, a test user certificate, no proxy.
 * Creates `dir/pki` and `dir/home`. Add the token variables to it.
 */
export function arcEnvironment(dir: string): Env {
  const pki = createTestPki(join(dir, 'pki'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.arc'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, '.arc', 'client.conf'), '[common]\n'); // no services, nothing to look up
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C',
    HOME: home,
    X509_USER_CERT: pki.userCert,
    X509_USER_KEY: pki.userKey,
    X509_CERT_DIR: pki.caDir,
    X509_USER_PROXY: join(dir, 'no-proxy'), // else ARC would use a real /tmp/x509up_u<uid>
  };
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Turns an argv into one that runs it somewhere else (e.g. `inPrivateTmp`). */
export type Wrapper = (argv: string[]) => string[];

/** Runs argv with exactly `env`, stdin closed and a timeout; output kept byte for byte; never throws. */
export async function run(argv: string[], env: Env, wrap: Wrapper = (a) => a, timeoutMs = 30_000): Promise<RunResult> {
  const [file, ...args] = wrap(argv);
  const result = await execa(file!, args, { env, extendEnv: false, stdin: 'ignore', timeout: timeoutMs, reject: false, stripFinalNewline: false });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), timedOut: result.timedOut };
}

/** `arcls URL`, with ARC's own connection timeout (-t) well below ours. */
export function runArcls(url: string, env: Env, wrap?: Wrapper): Promise<RunResult> {
  return run(['arcls', '-t', '10', url], env, wrap);
}

export interface PrivateTmp {
  /** The uid commands run as inside (0: root, or mapped to root in a user namespace). */
  uid: number;
  wrap: Wrapper;
}

/** A private-/tmp wrapper, or a reason why this machine cannot provide one. */
export async function privateTmp(fakeTmp: string, keep: string): Promise<PrivateTmp | { reason: string }> {
  const wrap: Wrapper = (argv) => wrapCommand(argv, { privateTmp: fakeTmp, keep: [keep] });
  const probe = await run(['id', '-u'], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, wrap, 10_000);
  if (probe.exitCode !== 0) return { reason: `cannot make a private /tmp: ${probe.stderr.trim()}` };
  return { uid: Number(probe.stdout.trim()), wrap };
}

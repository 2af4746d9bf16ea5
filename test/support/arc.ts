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
import { join } from 'node:path';
import { wrapCommand } from './cli.js';
import { createTestPki } from './pki.js';
import { startRecordingServer as startServer, type Handler, type RecordingServer } from './recording-https.js';
import { run, type Env, type RunResult, type Wrapper } from './run.js';
import { multistatusReply } from './webdav.js';

export type { RecordedRequest, RecordingServer } from './recording-https.js';
export { run, type Env, type RunResult, type Wrapper } from './run.js';

// Every path is an empty WebDAV collection (arcls), and GET returns a small file (arccp).
const answer: Handler = (request) => request.method === 'PROPFIND' ? multistatusReply([{ href: request.path, collection: true }])
  : request.method === 'GET' ? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'tokenenv test file\n' }
  : { status: 405 };

/** A loopback HTTP server on a random port that records each request's Authorization header. */
export function startRecordingServer(): Promise<RecordingServer> {
  return startServer({ fallback: answer });
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

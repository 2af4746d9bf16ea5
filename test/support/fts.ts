// A stand-in for an FTS3 REST server (fts-rest-flask 3.13), with just enough of each endpoint
// for every real `fts-rest-*` command to exit 0. Findings from the client's source and runs:
// - Every command first GETs `//` (endpoint + "/" + "/": the client joins with a slash) and reads
//   `api.{major,minor,patch}` (and `core` on submit). Every path it sends starts with `//`.
// - The token goes in `Authorization: Bearer T` on every request; the client sends no token
//   without an option and reads no variable. CA: `--capath DIR` or $X509_CERT_DIR (hashed dir),
//   default /etc/grid-security/certificates; $REQUESTS_CA_BUNDLE is ignored (verify is a path).
// - whoami, delegate and delete-submit GET `//whoami` (for `delegation_id`); delegate and
//   delete-submit then GET `//delegation/<id>`. With a token, a `termination_time` in the future
//   makes them stop there ("Not bothering doing the delegation"); a `null` would make them try
//   to sign a proxy, which needs a certificate.
// - With neither --capath nor $X509_CERT_DIR nor /etc/grid-security/certificates it fails
//   ("Could not find a suitable TLS CA certificate bundle"), even for a publicly trusted server.
// - transfer-submit: --access-token T alone puts T in every file's source_tokens and
//   destination_tokens; --fts-access-token needs both --src- and --dst-access-token; every other
//   mix (--access-token with --fts/--src/--dst, --src/--dst without an FTS token, --cert with
//   any token) exits 2 before any request. A -f bulk file must carry its own per-file tokens.
// - It reads ~/.fts3client.cfg (endpoint, ucert, ukey...): hence a private HOME.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { jsonReply, startRecordingServer, type RecordedRequest, type RecordingServer, type Reply, type Route } from './recording-https.js';
import type { TestPki } from './pki.js';

export const FTS_BIN = '/opt/peers/fts3-client/bin';

/** Every command the client installs. */
export const FTS_COMMANDS = [
  'fts-rest-ban', 'fts-rest-delegate', 'fts-rest-delete-submit', 'fts-rest-server-status',
  'fts-rest-transfer-cancel', 'fts-rest-transfer-list', 'fts-rest-transfer-status',
  'fts-rest-transfer-submit', 'fts-rest-whoami',
] as const;

export const JOB_ID = '0a1b2c3d-0000-4000-8000-746f6b656e76';
const DELEGATION_ID = '746f6b656e76';
const USER_DN = '/DC=test/DC=tokenenv/CN=tokenenv test user';

const job = {
  job_id: JOB_ID, job_state: 'SUBMITTED', user_dn: USER_DN, reason: '', submit_time: '2024-01-01T00:00:00',
  priority: 3, vo_name: 'tokenenv', files: [],
};

/** A time the client parses with `%Y-%m-%dT%H:%M:%S`, a day from now. */
const tomorrow = (): string => new Date(Date.now() + 86_400_000).toISOString().slice(0, 19);

export interface FtsStandInOptions {
  /** Awaited before each reply, e.g. to hold the client while a test looks at it. */
  beforeReply?: (request: RecordedRequest) => Promise<void>;
}

export interface FtsStandIn {
  server: RecordingServer;
  /** https://127.0.0.1:PORT, for `-s`. */
  url: string;
  /** The JSON bodies POSTed to `/jobs`, in order. */
  submissions(): FtsSubmission[];
  close(): Promise<void>;
}

export interface FtsSubmission {
  files: Array<{ sources: string[]; destinations: string[]; source_tokens?: string[]; destination_tokens?: string[] }>;
  delete?: string[];
  params: Record<string, unknown>;
}

function routes(options: FtsStandInOptions): Route[] {
  const json = (body: object): () => Reply => () => jsonReply(body);
  const table: Array<[string, string | RegExp, () => Reply]> = [
    ['GET', '/', json({ api: { major: 3, minor: 13, patch: 4 }, core: { major: 3, minor: 13, patch: 4 }, schema: { major: 8, minor: 0, patch: 0 } })],
    ['GET', '/whoami', json({
      dn: [USER_DN], vos: ['tokenenv'], vos_id: ['6b656e76-0000-4000-8000-000000000000'], delegation_id: DELEGATION_ID,
      base_id: '01234567-0000-4000-8000-000000000000', user_dn: USER_DN, method: 'oauth2', roles: [], level: {},
    })],
    ['GET', /^\/delegation\/[^/]+$/, () => jsonReply({ termination_time: tomorrow() })],
    ['POST', '/jobs', json({ job_id: JOB_ID })],
    ['GET', '/jobs', json([job])],
    ['GET', /^\/jobs\/[^/]+\/files$/, json([])],
    ['GET', /^\/jobs\/[^/]+\/dm$/, json([])],
    ['GET', /^\/jobs\/[^/]+$/, json(job)],
    ['DELETE', /^\/jobs\/[^/]+\/files\/[^/]+$/, json(['CANCELED'])],
    ['DELETE', /^\/jobs\/[^/]+$/, json({ ...job, job_state: 'CANCELED' })],
    ['GET', '/status/hosts', json({ 'fts.tokenenv.test': { active: 1, staging: 0 } })],
    ['POST', /^\/ban\/(se|dn)$/, json([JOB_ID])],
    ['DELETE', /^\/ban\/(se|dn)$/, () => ({ status: 204 })],
  ];
  return table.map(([method, path, reply]) => ({
    method, path,
    handle: async (request) => {
      await options.beforeReply?.(request);
      return reply();
    },
  }));
}

export async function startFtsStandIn(pki: TestPki, options: FtsStandInOptions = {}): Promise<FtsStandIn> {
  const server = await startRecordingServer({ pki, routes: routes(options) });
  return {
    server,
    url: server.url,
    submissions: () => server.requestsTo('/jobs', 'POST').map((r) => r.json as FtsSubmission),
    close: () => server.close(),
  };
}

/**
 * A complete environment (not to be merged into process.env) for the FTS client: a private HOME
 * without ~/.fts3client.cfg, the test CA in X509_CERT_DIR, no proxy, no certificate. Creates `dir/home`.
 */
export function ftsEnvironment(dir: string, pki: TestPki): Record<string, string> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return {
    PATH: `${FTS_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    LANG: 'C.UTF-8',
    HOME: home,
    X509_CERT_DIR: pki.caDir,
    X509_USER_PROXY: join(dir, 'no-proxy'),
  };
}

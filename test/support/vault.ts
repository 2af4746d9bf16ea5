// A stand-in for the Vault endpoints that htgettoken 2.2 calls once it holds a vault token
// (no Vault server is installable here). Findings from its source and runs:
// - With a vault token in a file (`--vaulttokeninfile`, default /tmp/vt_u<euid>) and a credkey
//   (`--credkey`, or ~/.config/htgettoken/credkey-<issuer>-<role>), it GETs
//   /v1/secret/oauth/creds/<issuer>/<credkey>:<role>?minimum_seconds=N (N from --minsecs,
//   default 60), or .../sts/... with `scopes=` and/or `audiences=` when --scopes/--audience are
//   given, sending `X-Vault-Token`. It needs `{"data": {"access_token": ...}}` back.
// - `--vaulttokenminttl` first GETs /v1/auth/token/lookup-self (needs `data.ttl`); a vault token
//   read from /dev/stdin or /dev/fd/N is first exchanged by POST /v1/auth/token/create (needs
//   `auth.client_token`) and the new one written to --vaulttokenfile.
// - When that fails it falls back to Kerberos, then ssh-agent, then (unless --nooidc) a browser.
import { randomBytes } from 'node:crypto';
import { fakeJwt } from './sandbox.js';
import { jsonReply, startRecordingServer, type RecordedRequest, type RecordingServer, type Route } from './recording-https.js';
import type { TestPki } from './pki.js';

export const HTGETTOKEN = '/opt/peers/htgettoken/bin/htgettoken';

export interface VaultTokenRequest {
  kind: 'creds' | 'sts';
  issuer: string;
  credkey: string;
  role: string;
  minimumSeconds?: string;
  scopes?: string;
  audiences?: string;
}

/** Returns the access token for a request; a thrown error becomes a Vault-style 400. */
export type VaultMint = (request: VaultTokenRequest) => string | Promise<string>;

export interface VaultStandInOptions {
  /** Default: an unsigned JWT whose `aud`/`scope` echo `audiences`/`scopes`. */
  mint?: VaultMint;
  /** `data.ttl` answered by lookup-self. Default 3600. */
  vaultTokenTtl?: number;
}

export interface VaultStandIn {
  server: RecordingServer;
  /** https://127.0.0.1:PORT, for `-a`. */
  url: string;
  /** The vault token the stand-in accepts (tokens it hands out by token/create are accepted too). */
  vaultToken: string;
  /** The token requests, in order, with what they asked for. */
  tokenRequests(): Array<VaultTokenRequest & { vaultToken: string | undefined }>;
  close(): Promise<void>;
}

const SECRET_PATH = /^\/v1\/secret\/oauth\/(creds|sts)\/([^/]+)\/([^/:]+):([^/]+)$/;

function parseTokenRequest(request: RecordedRequest): VaultTokenRequest | undefined {
  const m = SECRET_PATH.exec(decodeURIComponent(request.path));
  if (!m) return undefined;
  const optional = (name: string): string | undefined => request.query.get(name) ?? undefined;
  return {
    kind: m[1] as 'creds' | 'sts', issuer: m[2]!, credkey: m[3]!, role: m[4]!,
    minimumSeconds: optional('minimum_seconds'), scopes: optional('scopes'), audiences: optional('audiences'),
  };
}

const echoMint: VaultMint = (r) => {
  const now = Math.floor(Date.now() / 1000);
  return fakeJwt({
    iss: `https://${r.issuer}.issuer.test`, sub: 'vault-user', aud: r.audiences ?? 'https://wlcg.cern.ch/jwt/v1/any',
    scope: r.scopes ?? 'storage.read:/', 'wlcg.ver': '1.0', iat: now, nbf: now, exp: now + 1200,
  });
};

export async function startVaultStandIn(pki: TestPki, options: VaultStandInOptions = {}): Promise<VaultStandIn> {
  const mint = options.mint ?? echoMint;
  const accepted = new Set([`hvs.${randomBytes(18).toString('base64url')}`]);
  const denied = () => jsonReply({ errors: ['permission denied'] }, 403);
  const vaultTokenOf = (r: RecordedRequest): string | undefined => {
    const value = r.headers['x-vault-token'];
    return typeof value === 'string' ? value : undefined;
  };
  const allowed = (r: RecordedRequest): boolean => accepted.has(vaultTokenOf(r) ?? '');

  const routes: Route[] = [
    {
      method: 'GET', path: SECRET_PATH,
      handle: async (r) => {
        if (!allowed(r)) return denied();
        try {
          return jsonReply({ data: { access_token: await mint(parseTokenRequest(r)!) } });
        } catch (error) {
          return jsonReply({ errors: [`token exchange failed: ${(error as Error).message}`] }, 400);
        }
      },
    },
    {
      method: 'GET', path: '/v1/auth/token/lookup-self',
      handle: (r) => (allowed(r) ? jsonReply({ data: { ttl: options.vaultTokenTtl ?? 3600 } }) : denied()),
    },
    {
      method: 'POST', path: '/v1/auth/token/create',
      handle: (r) => {
        if (!allowed(r)) return denied();
        const token = `hvs.${randomBytes(18).toString('base64url')}`;
        accepted.add(token);
        return jsonReply({ auth: { client_token: token, lease_duration: 3600 } });
      },
    },
  ];
  const server = await startRecordingServer({ pki, routes, fallback: () => jsonReply({ errors: ['unsupported path'] }, 404) });
  const [vaultToken] = accepted;
  return {
    server,
    url: server.url,
    vaultToken: vaultToken!,
    tokenRequests: () => server.requests.flatMap((r) => {
      const parsed = r.method === 'GET' ? parseTokenRequest(r) : undefined;
      return parsed ? [{ ...parsed, vaultToken: vaultTokenOf(r) }] : [];
    }),
    close: () => server.close(),
  };
}

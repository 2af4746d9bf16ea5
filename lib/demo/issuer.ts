// A real OpenID provider (panva's certified `oidc-provider`) on loopback, configured the way a
// WLCG token issuer behaves (INDIGO IAM style): JWT access tokens with the WLCG profile claims,
// the audience taken verbatim from an `audience=` form parameter, client-credentials and
// refresh-token grants. Used by the tests and by `tokenenv demo`; never for production.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { Adapter, AdapterFactory, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import { WLCG_ANY_AUDIENCE } from '../token/claims.js';

/** The one resource indicator every token is bound to; the real `aud` comes from `audience=`. */
const RESOURCE = 'urn:tokenenv:demo:wlcg';
const OIDC_SCOPES = ['openid', 'offline_access'];
const DEFAULT_SUBJECT = 'demo-user';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DemoClient {
  clientId: string;
  clientSecret: string;
  /** Default: `['client_credentials', 'refresh_token']`. */
  grantTypes?: string[];
  /** Scopes the client may request, matched exactly (e.g. `storage.read:/`, `compute.create`). */
  scopes: string[];
}

export interface DemoIssuerOptions {
  clients: DemoClient[];
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** PEM certificate and key; the issuer is `https://` with them, `http://` without. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Access token lifetime in seconds. Default 1200 (20 minutes, like WLCG issuers). */
  accessTokenLifetime?: number;
  /** `aud` when a request names none. Default: the WLCG "any" audience `https://wlcg.cern.ch/jwt/v1/any`. */
  defaultAudience?: string;
  /** Open dynamic client registration (RFC 7591), as IAM offers it: a registered client may
   * have the scopes it registers with, among these. Default: off. */
  registration?: { scopes: string[] };
}

export interface MintRefreshTokenOptions {
  /** Space-separated; default all the client's scopes plus `openid offline_access`. */
  scope?: string;
  /** `sub` of the access tokens refreshed from it. Default `demo-user`. */
  subject?: string;
}

export interface TokenRequestRecord {
  grantType?: string;
  clientId?: string;
  /** How the client authenticated: HTTP Basic or client_secret in the form. */
  clientAuth?: 'basic' | 'post';
  audience?: string;
  resource?: string;
  scope?: string;
  /** HTTP status of the answer. */
  status: number;
}

export interface DemoIssuer {
  /** The issuer URL (`iss`), without a trailing slash. */
  readonly url: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  /** Token endpoint requests received, for one grant type or in total; failures and outages count. */
  tokenRequests(grantType?: string): number;
  /** What each token request asked for (never tokens or secrets), oldest first. */
  tokenRequestLog(): TokenRequestRecord[];
  resetCounters(): void;
  /** While on, the token endpoint answers 503 `temporarily_unavailable`. */
  setOutage(on: boolean): void;
  /** A refresh token for `clientId`, as if the user had logged in through the code flow. */
  mintRefreshToken(clientId: string, options?: MintRefreshTokenOptions): Promise<string>;
  /** Plays the user's part of the device flow (there is no login page): approves `userCode`. */
  approveDeviceCode(userCode: string, options?: { subject?: string }): Promise<void>;
  close(): Promise<void>;
}

export class DemoIssuerError extends Error {
  override name = 'DemoIssuerError';
}

export async function startDemoIssuer(options: DemoIssuerOptions): Promise<DemoIssuer> {
  const clients = checkOptions(options);
  // The issuer URL contains the port, so listen first and build the provider afterwards; it
  // becomes the 'request' listener before anyone can know the URL.
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new DemoIssuerError(`cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${err.message}`)));
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  try {
    return await createIssuer(server, url, clients, options);
  } catch (err) {
    server.close();
    throw err;
  }
}

async function createIssuer(server: Server, url: string, clients: DemoClient[], options: DemoIssuerOptions): Promise<DemoIssuer> {
  const lifetime = options.accessTokenLifetime ?? 1200;
  const defaultAudience = options.defaultAudience ?? WLCG_ANY_AUDIENCE;
  const { default: Provider, errors } = await loadOidcProvider();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);

  const allowed = new Map(clients.map((c) => [c.clientId, new Set([...OIDC_SCOPES, ...c.scopes])]));
  const allowedFor = (clientId: string | undefined): Set<string> => allowed.get(clientId ?? '') ?? new Set();
  // The `audience=` form parameter (IAM style), verbatim: WLCG audiences are often not URIs.
  const requestedAudience = (ctx: KoaContextWithOIDC): string | undefined => {
    const value: unknown = ctx.oidc.body?.audience;
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new errors.InvalidRequest('audience must be given once');
    return value;
  };

  const provider = new Provider(url, {
    adapter: memoryAdapter(),
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: c.grantTypes,
      scope: [...new Set([...OIDC_SCOPES, ...c.scopes])].join(' '),
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
    })),
    scopes: [...new Set([...OIDC_SCOPES, ...clients.flatMap((c) => c.scopes), ...(options.registration?.scopes ?? [])])],
    jwks: { keys: [{ ...jwk, alg: 'ES256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: options.registration !== undefined },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator, client) => {
          // Refuse what the client may not have, rather than silently dropping it.
          const permitted = allowedFor(client?.clientId);
          const denied = ctx.oidc.params?.scope ? String(ctx.oidc.params.scope).split(' ').filter((s) => !permitted.has(s)) : [];
          if (denied.length > 0) throw new errors.InvalidScope('requested scope is not allowed', denied.join(' '));
          return {
            scope: [...permitted].join(' '),
            audience: requestedAudience(ctx) ?? (indicator === RESOURCE ? defaultAudience : indicator),
            accessTokenFormat: 'jwt',
            accessTokenTTL: lifetime,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    formats: {
      customizers: {
        jwt: (_ctx, _token, jwt) => {
          // WLCG Common JWT Profile: a version claim and nbf; the rest (iss, sub, aud, iat, exp,
          // jti, scope) come from oidc-provider.
          jwt.payload['wlcg.ver'] = '1.0';
          jwt.payload.nbf = jwt.payload.iat;
          // `--aud="a b"` (oidc-agent, IAM): a space-separated list means several audiences.
          const { aud } = jwt.payload;
          if (typeof aud === 'string' && aud.includes(' ')) jwt.payload.aud = aud.split(' ').filter(Boolean);
        },
      },
    },
    ttl: {
      AccessToken: lifetime,
      ClientCredentials: lifetime,
      IdToken: lifetime,
      DeviceCode: 600,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Session: 24 * 3600,
      Interaction: 3600,
    },
    rotateRefreshToken: false, // an oidc-agent account keeps its one refresh token
  });

  // A registered client may have what it registered with, among the scopes on offer.
  provider.on('registration_create.success', (_ctx, client) => {
    const offered = new Set(options.registration?.scopes ?? []);
    allowed.set(client.clientId, new Set([...OIDC_SCOPES, ...String(client.scope ?? '').split(' ').filter((s) => offered.has(s))]));
  });

  // Static clients are only validated on first use: do it now, for one clear error at startup.
  for (const c of clients) {
    try {
      await provider.Client.find(c.clientId);
    } catch (err) {
      throw new DemoIssuerError(`startDemoIssuer: client "${c.clientId}": ${(err as { error_description?: string }).error_description ?? String(err)}`);
    }
  }

  // Everything goes into the grant under the one resource, so a refresh may ask for any subset.
  const saveGrant = async (accountId: string, clientId: string, scopes: string[]): Promise<string> => {
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(scopes.filter((s) => OIDC_SCOPES.includes(s)).join(' '));
    grant.addResourceScope(RESOURCE, scopes.join(' '));
    return grant.save();
  };

  const tokenPath = new URL(provider.urlFor('token')).pathname;
  const log: TokenRequestRecord[] = [];
  let outage = false;

  // oidc-gen registers as a web client with custom-scheme and http://localhost redirect URIs,
  // which IAM accepts and oidc-provider refuses for web clients: it is registered as native.
  // oidc-provider reads the rewritten body; its warning that a body was parsed upstream is left out.
  const registrationPath = options.registration ? new URL(provider.urlFor('registration')).pathname : undefined;
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== registrationPath || !ctx.is('application/json')) return next();
    (ctx.req as IncomingMessage & { body?: string }).body = JSON.stringify({ ...JSON.parse(await readSmallBody(ctx.req)), application_type: 'native' });
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).includes('already parsed request body')) warn(...args);
    };
    try {
      return await next();
    } finally {
      console.warn = warn;
    }
  });
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    if (outage) {
      const body = Object.fromEntries(new URLSearchParams(await readSmallBody(ctx.req)));
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'simulated outage' };
      log.push(recordOf(ctx, body));
      return;
    }
    try {
      await next();
    } finally {
      const { oidc } = ctx as Partial<KoaContextWithOIDC>;
      log.push(recordOf(ctx, oidc?.body ?? {}, oidc?.client?.clientId));
    }
  });
  server.on('request', provider.callback());

  return {
    url,
    tokenEndpoint: provider.urlFor('token'),
    jwksUri: provider.urlFor('jwks'),
    tokenRequests: (grantType) => log.filter((r) => grantType === undefined || r.grantType === grantType).length,
    tokenRequestLog: () => log.map((r) => ({ ...r })),
    resetCounters: () => {
      log.length = 0;
    },
    setOutage: (on) => {
      outage = on;
    },
    mintRefreshToken: async (clientId, mint = {}) => {
      const client = await provider.Client.find(clientId);
      if (!client) throw new DemoIssuerError(`mintRefreshToken: unknown client "${clientId}"`);
      if (!client.grantTypeAllowed('refresh_token')) {
        throw new DemoIssuerError(`mintRefreshToken: client "${clientId}" may not use the refresh_token grant`);
      }
      const scopes = mint.scope?.split(' ').filter(Boolean) ?? [...allowedFor(clientId)];
      const accountId = mint.subject ?? DEFAULT_SUBJECT;
      const refreshToken = new provider.RefreshToken({
        client,
        accountId,
        grantId: await saveGrant(accountId, clientId, scopes),
        gty: 'authorization_code',
        scope: scopes.join(' '),
        resource: RESOURCE,
        expiresWithSession: false,
      } as ConstructorParameters<typeof provider.RefreshToken>[0]);
      return refreshToken.save();
    },
    approveDeviceCode: async (userCode, approve = {}) => {
      const code = await provider.DeviceCode.findByUserCode(userCode.toUpperCase().replace(/[^A-Z0-9]/g, ''));
      if (!code) throw new DemoIssuerError('approveDeviceCode: unknown or expired user code');
      const clientId = String(code.clientId);
      const permitted = allowedFor(clientId);
      const scopes = String(code.params?.scope ?? '').split(' ').filter((s) => permitted.has(s));
      const accountId = approve.subject ?? DEFAULT_SUBJECT;
      Object.assign(code, {
        accountId,
        authTime: Math.floor(Date.now() / 1000),
        grantId: await saveGrant(accountId, clientId, scopes),
        scope: scopes.join(' '),
        resource: RESOURCE,
        expiresWithSession: false,
      });
      await code.save();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function checkOptions(options: DemoIssuerOptions): DemoClient[] {
  const { clients, accessTokenLifetime } = options;
  if (!Array.isArray(clients) || clients.length === 0) throw new DemoIssuerError('startDemoIssuer: at least one client is required');
  if (accessTokenLifetime !== undefined && !(Number.isSafeInteger(accessTokenLifetime) && accessTokenLifetime > 0)) {
    throw new DemoIssuerError('startDemoIssuer: accessTokenLifetime must be a positive integer (seconds)');
  }
  return clients.map((c) => {
    if (!c.clientId || !c.clientSecret) throw new DemoIssuerError('startDemoIssuer: every client needs a clientId and a clientSecret');
    const bad = c.scopes.find((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
    if (bad !== undefined) throw new DemoIssuerError(`startDemoIssuer: client "${c.clientId}" has an invalid scope (${JSON.stringify(bad)})`);
    const grantTypes = c.grantTypes ?? ['client_credentials', 'refresh_token'];
    return { ...c, grantTypes: grantTypes.map((g) => (g === 'device_code' ? DEVICE_GRANT : g)) };
  });
}

// Loaded on first use, so that only the demo and the tests need the package. oidc-provider 9
// warns on every Node release before 22 ("Unsupported runtime"); it works on Node 20, which this
// project supports, so that one warning is left out of the demo's and the tests' output.
async function loadOidcProvider(): Promise<typeof import('oidc-provider')> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime'))) warn(...args);
  };
  try {
    return await import('oidc-provider');
  } catch (cause) {
    throw new DemoIssuerError('the demo issuer needs the npm package oidc-provider (npm install oidc-provider)', { cause });
  } finally {
    console.warn = warn;
  }
}

// Per-issuer storage (oidc-provider's own memory adapter is one LRU shared by the whole
// process, and warns). Only grants, refresh and device codes land here: JWT access tokens are
// not stored.
function memoryAdapter(): AdapterFactory {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const live = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) store.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
  };
  return (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    const findBy = async (field: 'userCode' | 'uid', value: string): Promise<AdapterPayload | undefined> => {
      for (const [k, { payload }] of store) if (k.startsWith(`${model}:`) && payload[field] === value) return live(k);
      return undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        store.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      },
      find: async (id) => live(key(id)),
      findByUserCode: (userCode) => findBy('userCode', userCode),
      findByUid: (uid) => findBy('uid', uid),
      consume: async (id) => {
        const payload = live(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        store.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [k, { payload }] of store) if (payload.grantId === grantId) store.delete(k);
      },
    };
  };
}

function recordOf(ctx: { status: number; get(field: string): string }, body: Record<string, unknown>, clientId?: string): TokenRequestRecord {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : undefined);
  const basic = /^basic /i.test(ctx.get('authorization'));
  return {
    grantType: text(body.grant_type),
    clientId: clientId ?? text(body.client_id),
    clientAuth: basic ? 'basic' : body.client_secret !== undefined ? 'post' : undefined,
    audience: text(body.audience),
    resource: text(body.resource),
    scope: text(body.scope),
    status: ctx.status,
  };
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 65536) break;
  }
  return body;
}

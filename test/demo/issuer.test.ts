import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import {
  OidcCommandError,
  createAccount,
  loadAccount,
  loadedAccounts,
  oidcToken,
  startOidcAgent,
  unloadAccount,
  type OidcAgent,
} from '../support/oidc-agent.js';
import { requireCommands } from '../support/peers.js';
import { createTestPki } from '../support/pki.js';

const ANY = 'https://wlcg.cern.ch/jwt/v1/any';
const CE = 'ce.example.org:9619';
const WLCG_SCOPES = ['storage.read:/', 'storage.modify:/', 'compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'wlcg', 'wlcg.groups'];

function form(params: Record<string, string>, basic?: [string, string]): RequestInit {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
  return { method: 'POST', headers, body: new URLSearchParams(params) };
}

async function post(issuer: DemoIssuer, params: Record<string, string>, basic?: [string, string]): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(issuer.tokenEndpoint, form(params, basic));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('demo issuer (oidc-provider)', function () {
  const lifetime = 20;
  let issuer: DemoIssuer;
  const cc: [string, string] = ['cc-client', 'cc-secret'];

  before(async function () {
    issuer = await startDemoIssuer({
      accessTokenLifetime: lifetime,
      clients: [{ clientId: cc[0], clientSecret: cc[1], scopes: [...WLCG_SCOPES, 'read:/', 'write:/'] }],
    });
  });
  after(() => issuer?.close());
  beforeEach(() => issuer.resetCounters());

  async function verify(token: unknown, audience: string): Promise<JWTPayload> {
    assert.equal(typeof token, 'string');
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri));
    const { payload, protectedHeader } = await jwtVerify(token as string, jwks, { issuer: issuer.url, audience });
    assert.equal(protectedHeader.alg, 'ES256');
    return payload;
  }

  it('publishes its endpoints at /.well-known/openid-configuration', async function () {
    const doc = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(doc.issuer, issuer.url);
    assert.equal(doc.token_endpoint, issuer.tokenEndpoint);
    assert.equal(doc.jwks_uri, issuer.jwksUri);
    assert.match(String(doc.device_authorization_endpoint), /^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('client credentials: aud and scope exactly as requested, WLCG claims, verifiable at the JWKS', async function () {
    const { status, body } = await post(issuer, { grant_type: 'client_credentials', audience: CE, scope: 'compute.read compute.create' }, cc);
    assert.equal(status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, lifetime);
    const claims = await verify(body.access_token, CE);
    assert.equal(claims.aud, CE); // a string, verbatim: not a URI, not an array
    assert.equal(claims.scope, 'compute.read compute.create');
    assert.equal(claims['wlcg.ver'], '1.0');
    assert.equal(claims.sub, cc[0]);
    assert.equal(claims.nbf, claims.iat);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), lifetime);
    assert.match(String(claims.jti), /^[\w-]{16,}$/);
  });

  it('client credentials: client_secret_post, the default "any" audience, resource=, path scopes', async function () {
    let res = await post(issuer, { grant_type: 'client_credentials', client_id: cc[0], client_secret: cc[1], scope: 'storage.read:/ storage.modify:/' });
    assert.equal(res.status, 200);
    let claims = await verify(res.body.access_token, ANY);
    assert.equal(claims.aud, ANY);
    assert.equal(claims.scope, 'storage.read:/ storage.modify:/');

    res = await post(issuer, { grant_type: 'client_credentials', resource: 'https://se.example.org:1094', scope: 'read:/' }, cc);
    claims = await verify(res.body.access_token, 'https://se.example.org:1094');
    assert.equal(claims.aud, 'https://se.example.org:1094');
    assert.equal(claims.scope, 'read:/');
    assert.deepEqual(issuer.tokenRequestLog().map((r) => r.clientAuth), ['post', 'basic']);
  });

  it('refuses scopes the client may not have, and bad secrets', async function () {
    const scope = await post(issuer, { grant_type: 'client_credentials', scope: 'compute.read storage.stage:/' }, cc);
    assert.equal(scope.status, 400);
    assert.equal(scope.body.error, 'invalid_scope');
    const secret = await post(issuer, { grant_type: 'client_credentials' }, [cc[0], 'wrong']);
    assert.equal(secret.status, 401);
    assert.equal(secret.body.error, 'invalid_client');
  });

  it('refresh_token grant: a minted refresh token gives JWTs with the requested audience and scope', async function () {
    const refreshToken = await issuer.mintRefreshToken(cc[0], { subject: 'alice' });
    const { status, body } = await post(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken, audience: CE, scope: 'compute.read' }, cc);
    assert.equal(status, 200);
    assert.equal(body.refresh_token, refreshToken, 'not rotated: an oidc-agent account keeps its refresh token');
    const claims = await verify(body.access_token, CE);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.scope, 'compute.read');
    assert.equal(issuer.tokenRequests('refresh_token'), 1);
  });

  it('counts token requests per grant type, and simulates an outage', async function () {
    assert.equal(issuer.tokenRequests(), 0);
    issuer.setOutage(true);
    const down = await post(issuer, { grant_type: 'client_credentials', audience: CE }, cc);
    assert.equal(down.status, 503);
    assert.equal(down.body.error, 'temporarily_unavailable');
    issuer.setOutage(false);
    const up = await post(issuer, { grant_type: 'client_credentials', audience: CE }, cc);
    assert.equal(up.status, 200);
    assert.equal(issuer.tokenRequests('client_credentials'), 2);
    assert.equal(issuer.tokenRequests('refresh_token'), 0);
    assert.deepEqual(issuer.tokenRequestLog().map((r) => [r.status, r.audience]), [[503, CE], [200, CE]]);
    assert.ok(!JSON.stringify(issuer.tokenRequestLog()).includes(cc[1]), 'no secrets in the log');
  });

  it('device flow: approveDeviceCode plays the user', async function () {
    const devIssuer = await startDemoIssuer({ clients: [{ clientId: 'dev', clientSecret: 'dev-secret', grantTypes: ['device_code', 'refresh_token'], scopes: ['wlcg'] }] });
    try {
      const doc = (await (await fetch(`${devIssuer.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
      const auth = await fetch(doc.device_authorization_endpoint as string, form({ scope: 'openid offline_access wlcg' }, ['dev', 'dev-secret']));
      const device = (await auth.json()) as { device_code: string; user_code: string };
      const poll = (): Promise<{ status: number; body: Record<string, unknown> }> =>
        post(devIssuer, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }, ['dev', 'dev-secret']);
      assert.equal((await poll()).body.error, 'authorization_pending');
      await devIssuer.approveDeviceCode(device.user_code);
      const done = await poll();
      assert.equal(done.status, 200);
      assert.equal(typeof done.body.refresh_token, 'string');
      assert.equal(done.body.scope, 'openid offline_access wlcg');
    } finally {
      await devIssuer.close();
    }
  });

  it('refuses bad options with one clear error', async function () {
    await assert.rejects(startDemoIssuer({ clients: [] }), /at least one client/);
    await assert.rejects(
      startDemoIssuer({ clients: [{ clientId: 'x', clientSecret: 'y', grantTypes: ['password'], scopes: [] }] }),
      /client "x": grant_types/,
    );
  });
});

describe('demo issuer with the real oidc-agent', function () {
  const lifetime = 20;
  const client = { clientId: 'agent-client', clientSecret: 'agent-secret' };
  let dir: string;
  let ca: string;
  let issuer: DemoIssuer;
  let agent: OidcAgent;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  let passwordFile: string;

  before(async function () {
    requireCommands(this, 'oidc-agent', 'oidc-gen', 'oidc-add', 'oidc-token', 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'tokenenv-oidc-agent-'));
    const pki = createTestPki(join(dir, 'pki'));
    ca = readFileSync(pki.caCert, 'utf8');
    issuer = await startDemoIssuer({
      tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
      accessTokenLifetime: lifetime,
      clients: [{ ...client, scopes: WLCG_SCOPES }],
    });
    jwks = createLocalJWKSet(await getJson(issuer.jwksUri, ca));
    agent = await startOidcAgent(join(dir, 'agent'));
    ({ passwordFile } = await createAccount(agent, {
      name: 'demo',
      issuerUrl: issuer.url,
      ...client,
      refreshToken: await issuer.mintRefreshToken(client.clientId),
      caPem: pki.caCert,
      password: 'demo-password',
      scopes: 'openid offline_access storage.read:/ compute.read',
    }));
  });
  after(async function () {
    await agent?.stop();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => issuer.resetCounters());

  async function claimsOf(token: string, audience: string | string[]): Promise<JWTPayload> {
    return (await jwtVerify(token, jwks, { issuer: issuer.url, audience })).payload;
  }

  it('oidc-token --aud --scope: one refresh request carrying audience= and scope=, a JWT with exactly those', async function () {
    const token = await oidcToken(agent, 'demo', { aud: CE, scope: 'compute.read compute.create' });
    const claims = await claimsOf(token, CE);
    assert.equal(claims.aud, CE);
    assert.equal(claims.scope, 'compute.read compute.create');
    assert.deepEqual(issuer.tokenRequestLog(), [
      { grantType: 'refresh_token', clientId: client.clientId, clientAuth: 'basic', audience: CE, resource: undefined, scope: 'compute.read compute.create', status: 200 },
    ]);
  });

  it('oidc-token --aud="a b" asks for two audiences', async function () {
    const claims = await claimsOf(await oidcToken(agent, 'demo', { aud: 'a.example b.example:9619' }), 'a.example');
    assert.deepEqual(claims.aud, ['a.example', 'b.example:9619']);
  });

  it('without --scope the account scopes are sent; --time only decides whether the cached token will do', async function () {
    const first = await oidcToken(agent, 'demo', { force: true });
    assert.equal(issuer.tokenRequests('refresh_token'), 1);
    assert.equal(issuer.tokenRequestLog()[0]?.scope, 'openid offline_access storage.read:/ compute.read');
    assert.equal(issuer.tokenRequestLog()[0]?.audience, undefined);
    assert.equal((await claimsOf(first, ANY)).aud, ANY);

    assert.equal(await oidcToken(agent, 'demo', { time: 5 }), first, 'valid for 5 s more: served from the agent cache');
    assert.equal(issuer.tokenRequests('refresh_token'), 1);
    assert.notEqual(await oidcToken(agent, 'demo', { time: lifetime + 10 }), first, 'cannot be valid that long: refreshed');
    assert.equal(issuer.tokenRequests('refresh_token'), 2);
  });

  it('never caches tokens requested with --aud or --scope: each call is a request', async function () {
    await oidcToken(agent, 'demo', { aud: CE, time: 1 });
    await oidcToken(agent, 'demo', { aud: CE, time: 1 });
    assert.equal(issuer.tokenRequests('refresh_token'), 2);
  });

  it('reports an issuer outage, then recovers', async function () {
    issuer.setOutage(true);
    await assert.rejects(oidcToken(agent, 'demo', { aud: CE }), (err: OidcCommandError) => {
      assert.match(err.message, /temporarily_unavailable/);
      return true;
    });
    issuer.setOutage(false);
    assert.equal((await claimsOf(await oidcToken(agent, 'demo', { aud: CE }), CE)).aud, CE);
    assert.deepEqual(issuer.tokenRequestLog().map((r) => r.status), [503, 200]);
  });

  it('an unloaded account fails with "account not loaded" until oidc-add --pw-file loads it', async function () {
    await unloadAccount(agent, 'demo');
    assert.deepEqual(await loadedAccounts(agent), []);
    await assert.rejects(oidcToken(agent, 'demo', { aud: CE }), /account not loaded/);
    await loadAccount(agent, 'demo', passwordFile);
    assert.deepEqual(await loadedAccounts(agent), ['demo']);
    assert.equal((await claimsOf(await oidcToken(agent, 'demo', { aud: CE }), CE)).aud, CE);
  });
});

function getJson(url: string, ca: string): Promise<JSONWebKeySet> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => {
        try {
          resolve(JSON.parse(body) as JSONWebKeySet);
        } catch (err) {
          reject(err);
        }
      });
    }).on('error', reject);
  });
}

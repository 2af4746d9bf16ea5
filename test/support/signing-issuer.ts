// A minimal token issuer for verifiers that fetch keys (scitokens-cpp, XRootD): it serves
// `/.well-known/openid-configuration` and its JWKS over HTTPS on loopback and signs any claims
// the test asks for, so expired, wrong-audience or unsigned-by-it tokens need no waiting and no
// OAuth flow. (test/support/mint.ts prints unsigned tokens; lib/demo/issuer.ts is the real OIDC
// provider and only hands out what its grants allow.)
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { WLCG_ANY_AUDIENCE } from '../../lib/token/claims.js';

export interface SigningIssuer {
  /** https://127.0.0.1:PORT, the `iss` of its tokens. */
  url: string;
  jwksUri: string;
  /**
   * A WLCG-profile token (ES256, `wlcg.ver` 1.0) valid for `lifetime` seconds (default 600).
   * `claims` override the defaults (iss, sub, aud = the WLCG "any" audience, scope =
   * storage.read:/, iat, nbf, exp, jti); a claim set to `undefined` is left out.
   * `unpublishedKey`: sign with a key the JWKS does not contain (same key id).
   */
  sign(claims?: Record<string, unknown>, options?: { lifetime?: number; unpublishedKey?: boolean }): Promise<string>;
  /** Requests served, by path, for checking that a verifier fetched the keys. */
  requests: string[];
  close(): Promise<void>;
}

export async function startSigningIssuer(tls: { cert: string | Buffer; key: string | Buffer }): Promise<SigningIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { privateKey: strangerKey } = await generateKeyPair('ES256');
  const publicJwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const requests: string[] = [];
  let documents: Record<string, unknown> = {};

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    requests.push(path);
    const body = documents[path];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ? JSON.stringify(body) : '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${url}/jwks`;
  documents = {
    '/.well-known/openid-configuration': { issuer: url, jwks_uri: jwksUri },
    '/jwks': { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
  };

  return {
    url,
    jwksUri,
    requests,
    sign: async (claims = {}, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: url, sub: 'xrootd-tester', aud: WLCG_ANY_AUDIENCE, scope: 'storage.read:/', 'wlcg.ver': '1.0',
        iat: now, nbf: now, exp: now + (options.lifetime ?? 600), jti: randomBytes(12).toString('hex'),
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
        .sign(options.unpublishedKey ? strangerKey : privateKey);
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

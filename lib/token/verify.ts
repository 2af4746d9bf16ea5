// Checking a JWT's signature against its issuer's published keys (OpenID discovery, then
// JWKS, through lib/net; jose does the cryptography), and its iss, exp and nbf. Replaces
// pasting tokens into a web page.
import type { JSONWebKeySet } from 'jose';
import { hasCode, type ErrorCode } from '../core/errors.js';
import { getJson, type HttpError } from '../net/http.js';
import { siteTrust, type SiteTrust } from '../net/trust.js';

export interface Verification {
  ok: boolean;
  issuer?: string;
  jwksUri?: string;
  algorithm?: string;
  keyId?: string;
  /** Why verification failed (never contains the token). */
  problem?: string;
  /** 'signature', 'expired', 'not-yet-valid', 'issuer', 'unreachable', 'format' */
  kind?: string;
  /** When not ok: ERR_VERIFY_UNAVAILABLE when the issuer's configuration or keys could not be
   * fetched (nothing is known about the signature), ERR_TOKEN_EXPIRED, else ERR_VERIFY_FAILED. */
  code?: ErrorCode;
}

function failed(verification: Verification): Verification {
  const code: ErrorCode = verification.kind === 'unreachable' ? 'ERR_VERIFY_UNAVAILABLE' : verification.kind === 'expired' ? 'ERR_TOKEN_EXPIRED' : 'ERR_VERIFY_FAILED';
  return { ...verification, ok: false, code };
}

export interface VerifyOptions {
  /** Epoch seconds (default: now). */
  now?: number;
  /** Milliseconds for each request to the issuer (default 10 s). */
  timeoutMs?: number;
  /** For X509_CERT_DIR (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

interface FetchOptions {
  timeoutMs: number;
  trust: SiteTrust;
}

function openIdConfigurationUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

async function openIdConfiguration(issuer: string, options: FetchOptions): Promise<Record<string, unknown>> {
  return getJson(openIdConfigurationUrl(issuer), options);
}

/** Why a request failed, for a message that names its URL already. */
function describeNetworkError(error: unknown): string {
  if (hasCode(error, 'ERR_HTTP')) return (error as HttpError).reason;
  throw error;
}

/** Verifies `token` against the keys of the issuer named in it. `now` in epoch seconds. */
export async function verifyToken(token: string, options: VerifyOptions = {}): Promise<Verification> {
  const jose = await import('jose');
  const fetchOptions: FetchOptions = { timeoutMs: options.timeoutMs ?? 10_000, trust: siteTrust(options.env ?? process.env) };
  let header: { alg?: string; kid?: string };
  let payload: { iss?: unknown };
  try {
    header = jose.decodeProtectedHeader(token);
    payload = jose.decodeJwt(token);
  } catch {
    return failed({ ok: false, kind: 'format', problem: 'not a JWT: an opaque token cannot be verified here; ask its issuer (token introspection)' });
  }
  const base: Verification = { ok: false, ...(header.alg ? { algorithm: header.alg } : {}), ...(header.kid ? { keyId: header.kid } : {}) };
  if (typeof payload.iss !== 'string' || !/^https?:\/\//.test(payload.iss)) {
    return failed({ ...base, kind: 'issuer', problem: 'no iss claim with an http(s) URL: the issuer\'s keys cannot be found' });
  }
  const issuer = payload.iss;
  let jwksUri: string;
  try {
    const config = await openIdConfiguration(issuer, fetchOptions);
    if (typeof config.jwks_uri !== 'string') return failed({ ...base, issuer, kind: 'issuer', problem: `${issuer}: its OpenID configuration names no jwks_uri` });
    jwksUri = config.jwks_uri;
  } catch (error) {
    return failed({ ...base, issuer, kind: 'unreachable', problem: `cannot read the OpenID configuration of ${issuer} (${openIdConfigurationUrl(issuer)}): ${describeNetworkError(error)}` });
  }
  let keys: ReturnType<typeof jose.createLocalJWKSet>;
  try {
    keys = jose.createLocalJWKSet(await getJson(jwksUri, fetchOptions) as unknown as JSONWebKeySet);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_JWKS_INVALID') return failed({ ...base, issuer, jwksUri, kind: 'issuer', problem: `${jwksUri}: not a JWK set` });
    return failed({ ...base, issuer, jwksUri, kind: 'unreachable', problem: `cannot read the issuer's keys at ${jwksUri}: ${describeNetworkError(error)}` });
  }
  try {
    await jose.jwtVerify(token, keys, {
      issuer,
      ...(options.now !== undefined ? { currentDate: new Date(options.now * 1000) } : {}),
    });
    return { ...base, ok: true, issuer, jwksUri };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const known: Record<string, [string, string]> = {
      ERR_JWS_SIGNATURE_VERIFICATION_FAILED: ['signature', 'the signature does not match: the token was altered, or signed by someone else'],
      ERR_JWKS_NO_MATCHING_KEY: ['signature', `no key of ${issuer} matches the token's key id${header.kid ? ` (${header.kid})` : ''}: signed by someone else, or with a retired key`],
      ERR_JWT_EXPIRED: ['expired', 'the token has expired (exp)'],
      ERR_JWT_CLAIM_VALIDATION_FAILED: ['not-yet-valid', `claim check failed: ${(error as Error).message}`],
      ERR_JOSE_ALG_NOT_ALLOWED: ['signature', `algorithm ${header.alg} not allowed by the issuer's key`],
    };
    const [kind, problem] = known[code] ?? ['signature', `verification failed: ${(error as Error).message}`];
    return failed({ ...base, issuer, jwksUri, kind, problem });
  }
}

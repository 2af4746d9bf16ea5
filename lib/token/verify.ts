// Checking a JWT's signature against its issuer's published keys (OpenID discovery, then
// JWKS; jose does the cryptography), and its iss, exp and nbf. Replaces pasting tokens into a
// web page.
import { TokenenvError, type ErrorCode } from '../core/errors.js';

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

export class VerificationError extends TokenenvError {
  override name = 'VerificationError';
  override readonly code: ErrorCode = 'ERR_VERIFY_FAILED';
}

async function openIdConfiguration(issuer: string, timeoutMs: number): Promise<{ jwks_uri?: unknown; issuer?: unknown }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new VerificationError(`${url} answered HTTP ${response.status}`);
  return (await response.json()) as { jwks_uri?: unknown };
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message;
}

/** Verifies `token` against the keys of the issuer named in it. `now` in epoch seconds. */
export async function verifyToken(token: string, options: { now?: number; timeoutMs?: number } = {}): Promise<Verification> {
  const jose = await import('jose');
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
    const config = await openIdConfiguration(issuer, options.timeoutMs ?? 10_000);
    if (typeof config.jwks_uri !== 'string') return failed({ ...base, issuer, kind: 'issuer', problem: `${issuer}: its OpenID configuration names no jwks_uri` });
    jwksUri = config.jwks_uri;
  } catch (error) {
    const reason = error instanceof VerificationError ? error.message : describeNetworkError(error);
    return failed({ ...base, issuer, kind: 'unreachable', problem: `cannot read the OpenID configuration of ${issuer}: ${reason}` });
  }
  const keys = jose.createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: options.timeoutMs ?? 10_000 });
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
      ERR_JWKS_TIMEOUT: ['unreachable', `the issuer's keys at ${jwksUri} did not arrive in time`],
      // A JWKS answer that is not 200 OK or not JSON.
      ERR_JOSE_GENERIC: ['unreachable', `cannot read the issuer's keys at ${jwksUri}: ${(error as Error).message}`],
    };
    // No jose code at all: fetch itself failed (connection refused, DNS, TLS).
    const [kind, problem] = known[code] ?? (code.startsWith('ERR_J')
      ? ['signature', `verification failed: ${(error as Error).message}`]
      : ['unreachable', `cannot read the issuer's keys at ${jwksUri}: ${describeNetworkError(error)}`]);
    return failed({ ...base, issuer, jwksUri, kind, problem });
  }
}

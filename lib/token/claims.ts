// What a token says about itself. JWTs are decoded (not verified) as jose's decodeJwt decodes
// them; anything else is an opaque token, which is valid but has no known claims or expiry.
import { isUtf8 } from 'node:buffer';
import { InvalidTokenError, TokenExpiredError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';

export interface JwtClaims {
  format: 'jwt';
  issuer?: string;
  subject?: string;
  audience: string[];
  scopes: string[];
  /** `wlcg.ver` (WLCG profile) or `ver` (SciTokens, e.g. "scitoken:2.0"). */
  profile?: string;
  groups: string[];
  clientId?: string;
  tokenId?: string;
  /** Seconds since the epoch. */
  issuedAt?: number;
  notBefore?: number;
  expiresAt?: number;
  /** Claims present but unusable (`exp` as a string, a date out of range), claim → problem. */
  malformed: Record<string, string>;
  /** The decoded payload, for `--json`. The signature is never kept. */
  payload: Record<string, unknown>;
}

export interface OpaqueClaims {
  format: 'opaque';
  /** Why the token is treated as opaque. */
  reason: string;
}

export type TokenClaims = JwtClaims | OpaqueClaims;

const WLCG_ANY_AUDIENCE = 'https://wlcg.cern.ch/jwt/v1/any';
export { WLCG_ANY_AUDIENCE };

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// Seconds a JavaScript Date can hold (±8.64e15 ms): beyond, a date cannot even be shown.
const MAX_DATE_SECONDS = 8.64e12;

/** A NumericDate claim (RFC 7519: a number of seconds), or undefined with the problem noted. */
function numericDate(payload: Record<string, unknown>, name: string, malformed: Record<string, string>): number | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_DATE_SECONDS) return value;
  const shown = JSON.stringify(value) ?? String(value);
  malformed[name] = typeof value === 'number'
    ? `${shown} is out of range for a date`
    : `${typeof value === 'string' ? 'a string' : value === null ? 'null' : `a${Array.isArray(value) ? 'n array' : `n ${typeof value}`}`} (${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}), not a number of seconds`;
  return undefined;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

// atob's forgiving base64 in the base64url alphabet: ASCII whitespace ignored, up to two '='
// at the end when they complete a group of four, never a group of one character.
const ASCII_WHITESPACE = /[\t\n\f\r ]/g;
const BASE64URL = /^([A-Za-z0-9_-]*)(={0,2})$/;

/**
 * The claims set of a compact JWS as jose's decodeJwt decodes it (test/token/claims.test.ts
 * compares the two), or undefined where decodeJwt throws. Not jose's own: loading it creates
 * three TextEncoder/TextDecoders, 0.2 ms of every command's start.
 */
function jwtPayload(encodedPayload: string): Record<string, unknown> | undefined {
  const compact = encodedPayload.replace(ASCII_WHITESPACE, '');
  const [, data, padding] = BASE64URL.exec(compact) ?? [];
  if (!encodedPayload || data === undefined || (padding && compact.length % 4 !== 0) || data.length % 4 === 1) return undefined;
  const bytes = Buffer.from(data, 'base64url');
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // a BOM goes, as TextDecoder drops it
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function decodeClaims(token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) return { format: 'opaque', reason: 'not a JWT (no three dot-separated parts)' };
  const payload = jwtPayload(parts[1]!);
  if (!payload) return { format: 'opaque', reason: 'JWT-shaped but its payload does not decode as JSON' };
  const claims: JwtClaims = {
    format: 'jwt',
    audience: asStrings(payload.aud),
    scopes: (asString(payload.scope) ?? asString(payload.scp) ?? '').split(' ').filter(Boolean),
    groups: asStrings(payload['wlcg.groups']),
    malformed: {},
    payload,
  };
  const optional: Partial<JwtClaims> = {
    issuer: asString(payload.iss),
    subject: asString(payload.sub),
    profile: asString(payload['wlcg.ver']) !== undefined ? `wlcg:${asString(payload['wlcg.ver'])}` : asString(payload.ver),
    clientId: asString(payload.client_id) ?? asString(payload.azp),
    tokenId: asString(payload.jti),
    issuedAt: numericDate(payload, 'iat', claims.malformed),
    notBefore: numericDate(payload, 'nbf', claims.malformed),
    expiresAt: numericDate(payload, 'exp', claims.malformed),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (claims as unknown as Record<string, unknown>)[key] = value;
  }
  return claims;
}

/** Seconds left before expiry, or undefined when the token has no known expiry. */
export function secondsLeft(claims: TokenClaims, now: number): number | undefined {
  return claims.format === 'jwt' && claims.expiresAt !== undefined ? claims.expiresAt - now : undefined;
}

/**
 * Throws TokenExpiredError when the token has expired or has less than `minLifetime` seconds
 * left, InvalidTokenError when its `exp` is malformed (every service refuses such a token).
 * Tokens without an expiry pass: their freshness cannot be known.
 */
export function assertLifetime(claims: TokenClaims, now: number, minLifetime = 0, where = 'token'): void {
  if (claims.format === 'jwt' && claims.malformed.exp) throw new InvalidTokenError(where, `its exp claim is ${claims.malformed.exp}`);
  const left = secondsLeft(claims, now);
  if (left === undefined) return;
  if (left <= 0) throw new TokenExpiredError(`${where}: expired ${formatDuration(-left)} ago`);
  if (left < minLifetime) {
    throw new TokenExpiredError(`${where}: ${formatDuration(left)} left, less than the required ${minLifetime} s`);
  }
}

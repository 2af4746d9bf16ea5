// Is a token file fresh? A JWT is fresh until exp − min_lifetime (see freshUntilOf) while it
// still has the audience and scopes asked for; a token without a known expiry (opaque, or a JWT
// without exp), while it is younger than the refresh interval.
import type { TokenConfig } from '../config/config.js';
import type { TokenenvError } from '../core/errors.js';
import { decodeClaims, WLCG_ANY_AUDIENCE, type JwtClaims, type TokenClaims } from '../token/claims.js';
import { readTokenFileSync, type TokenFileOutcome, type TokenFileRequest } from '../files/read.js';
import { extractToken } from '../token/syntax.js';
import { formatDuration } from '../core/duration.js';

export interface Wanted {
  audience?: string;
  scope?: string;
  minLifetime: number;
  refreshInterval: number;
}

/** What a configured token asks for. */
export function wantedOf(token: TokenConfig): Wanted {
  return {
    minLifetime: token.minLifetime,
    refreshInterval: token.refreshInterval,
    ...(token.audience ? { audience: token.audience } : {}),
    ...(token.scope ? { scope: token.scope } : {}),
  };
}

export type TokenState =
  | { state: 'missing'; reason: string }
  | { state: 'unusable'; reason: string; error: TokenenvError }
  | {
    state: 'fresh' | 'stale';
    reason: string;
    token: string;
    claims: TokenClaims;
    secondsLeft?: number;
    expiresAt?: number;
    /** When the token stops being fresh (epoch seconds): the moment to refresh it. */
    freshUntil: number;
  };

/** Every token with a known lifetime counts as fresh for at least this long after it was issued
 * (or for the first half of its lifetime, when that is shorter). */
export const MIN_FRESH_SECONDS = 30;
/** Clock skew allowed between the issuer and this host for `nbf`. */
export const NOT_BEFORE_LEEWAY_SECONDS = 60;

/**
 * The one freshness rule for tokens with an expiry: fresh until `exp − min_lifetime`, but never
 * before MIN_FRESH_SECONDS after it was issued (half its lifetime, when that is shorter than a
 * minute). So min_lifetime holds exactly whenever the token's whole lifetime leaves 30 s of
 * freshness, and a token whose lifetime is close to or below min_lifetime is not refetched in a
 * loop. `issuedAt` is `iat`, else `nbf`, else the moment tokenenv wrote (or fetched) it.
 */
export function freshUntilOf(expiresAt: number, issuedAt: number, minLifetime: number): number {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  return Math.max(expiresAt - minLifetime, issuedAt + Math.min(MIN_FRESH_SECONDS, lifetime / 2));
}

// Scopes that ask for identity claims or refresh tokens, not for capabilities: issuers need not
// echo them in the access token's scope claim, so they are not held against a token.
const IDENTITY_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'wlcg', 'wlcg.groups']);

/** The token's scopes: `scope`, else `scp` (a space-separated string or an array). */
function grantedScopes(claims: JwtClaims): string[] {
  if (claims.scopes.length) return claims.scopes;
  const scp = claims.payload.scp;
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : [];
}

/**
 * Why a JWT is not the token that was asked for, or undefined when it is (an opaque token cannot
 * be judged): each audience asked for must be in `aud` (or `aud` is the WLCG "any" audience), each
 * scope asked for (but identity scopes) in `scope`/`scp`, and `nbf` must not be in the future.
 * A token without `aud`, with `aud: []` or without any scope claim does not have what was asked.
 */
export function mismatch(claims: TokenClaims, wanted: Pick<Wanted, 'audience' | 'scope'>, now?: number): string | undefined {
  if (claims.format !== 'jwt') return undefined;
  if (wanted.audience && !claims.audience.includes(WLCG_ANY_AUDIENCE)) {
    const missing = wanted.audience.split(/\s+/).filter((a) => a && !claims.audience.includes(a));
    if (missing.length && claims.audience.length === 0) return `audience ${missing.join(' ')} asked for, the token names no audience`;
    if (missing.length) return `audience ${missing.join(' ')} not in the token's audience`;
  }
  if (wanted.scope) {
    const granted = grantedScopes(claims);
    const missing = wanted.scope.split(/\s+/).filter((s) => s && !IDENTITY_SCOPES.has(s) && !granted.includes(s));
    if (missing.length) return `scope ${missing.join(' ')} not granted`;
  }
  if (now !== undefined && claims.notBefore !== undefined && claims.notBefore > now + NOT_BEFORE_LEEWAY_SECONDS) {
    return `not valid before ${formatDuration(claims.notBefore - now)} from now (nbf)`;
  }
  return undefined;
}

export function judge(token: string, claims: TokenClaims, modifiedAt: number, wanted: Wanted, now: number): TokenState {
  const different = mismatch(claims, wanted, now);
  if (claims.format === 'opaque' || claims.expiresAt === undefined) {
    // Expiry unknown: fresh for refresh_interval after it was written.
    const age = now - modifiedAt;
    const base = { token, claims, freshUntil: modifiedAt + wanted.refreshInterval };
    if (different) return { ...base, freshUntil: now, state: 'stale', reason: different };
    const what = claims.format === 'opaque' ? 'opaque token' : 'JWT without exp';
    return { ...base, state: age < wanted.refreshInterval ? 'fresh' : 'stale',
      reason: `${what} (expiry unknown), written ${formatDuration(age)} ago, refresh interval ${wanted.refreshInterval} s` };
  }
  const issuedAt = claims.issuedAt ?? claims.notBefore ?? modifiedAt;
  const left = claims.expiresAt - now;
  const base = { token, claims, secondsLeft: left, expiresAt: claims.expiresAt, freshUntil: freshUntilOf(claims.expiresAt, issuedAt, wanted.minLifetime) };
  if (left <= 0) return { ...base, state: 'stale', reason: `expired ${formatDuration(-left)} ago` };
  if (different) return { ...base, freshUntil: now, state: 'stale', reason: different };
  if (now >= base.freshUntil) return { ...base, state: 'stale', reason: `${formatDuration(left)} left, less than min_lifetime ${wanted.minLifetime} s` };
  return { ...base, state: 'fresh', reason: `${formatDuration(left)} left` };
}

/** Whole seconds the token on disk is valid for, or null when unknown or there is none. */
export function secondsLeftOf(state: TokenState): number | null {
  return 'secondsLeft' in state && state.secondsLeft !== undefined ? Math.floor(state.secondsLeft) : null;
}

/** Reads and judges the token file at `path` (held to the rules of implicit locations), at once:
 * a token file is a regular file (a FIFO is refused, never waited on), read like every other
 * access to the token files (lib/files/write.ts). */
export function assessTokenFile(path: string, expectedUid: number, wanted: Wanted, now: number): TokenState {
  return stateOf(readTokenFileSync(assessRequest(path, expectedUid)), path, wanted, now);
}

function assessRequest(path: string, expectedUid: number): TokenFileRequest {
  return { path, implicit: true, euid: expectedUid, noSymlinks: true };
}

function stateOf(outcome: TokenFileOutcome, path: string, wanted: Wanted, now: number): TokenState {
  if (outcome.kind === 'missing') return { state: 'missing', reason: outcome.reason };
  if (outcome.kind === 'error') return { state: 'unusable', reason: outcome.error.message, error: outcome.error };
  let token: string | undefined;
  try {
    token = extractToken(outcome.bytes, path);
  } catch (error) {
    return { state: 'unusable', reason: (error as Error).message, error: error as TokenenvError };
  }
  if (token === undefined) return { state: 'missing', reason: 'empty' };
  return judge(token, decodeClaims(token), outcome.modifiedAt, wanted, now);
}

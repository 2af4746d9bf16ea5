// Is a token file fresh? A JWT is fresh while exp − now ≥ min_lifetime and it still has the
// audience and scopes asked for; an opaque token, while it is younger than the refresh interval.
import type { TokenConfig } from '../config/config.js';
import type { TokenenvError } from '../core/errors.js';
import { decodeClaims, type TokenClaims } from '../token/claims.js';
import { readTokenFile, readTokenFileSync, type TokenFileOutcome, type TokenFileRequest } from '../files/read.js';
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

/**
 * The min_lifetime actually applied: a token whose whole lifetime is shorter than min_lifetime
 * would be stale the moment it arrives, so such tokens count as fresh for half their lifetime.
 */
export function effectiveMinLifetime(claims: TokenClaims, minLifetime: number): number {
  if (claims.format !== 'jwt' || claims.expiresAt === undefined || claims.issuedAt === undefined) return minLifetime;
  return Math.min(minLifetime, (claims.expiresAt - claims.issuedAt) / 2);
}

// Scopes that ask for identity claims or refresh tokens, not for capabilities: issuers need not
// echo them in the access token's scope claim, so they are not held against a token.
const IDENTITY_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'wlcg', 'wlcg.groups']);

/** Why `claims` do not match what was asked for, or undefined when they do (or cannot tell). */
export function mismatch(claims: TokenClaims, wanted: Pick<Wanted, 'audience' | 'scope'>): string | undefined {
  if (claims.format !== 'jwt') return undefined;
  if (wanted.audience) {
    const missing = wanted.audience.split(/\s+/).filter((a) => a && !claims.audience.includes(a));
    if (claims.audience.length && missing.length) return `audience ${missing.join(' ')} not in the token's audience`;
  }
  if (wanted.scope && claims.payload.scope !== undefined) {
    const missing = wanted.scope.split(/\s+/).filter((s) => s && !IDENTITY_SCOPES.has(s) && !claims.scopes.includes(s));
    if (missing.length) return `scope ${missing.join(' ')} not granted`;
  }
  return undefined;
}

export function judge(token: string, claims: TokenClaims, modifiedAt: number, wanted: Wanted, now: number): TokenState {
  if (claims.format === 'opaque') {
    const age = now - modifiedAt;
    const fresh = age < wanted.refreshInterval;
    return { state: fresh ? 'fresh' : 'stale', token, claims, freshUntil: modifiedAt + wanted.refreshInterval,
      reason: `opaque token (expiry unknown), written ${formatDuration(age)} ago, refresh interval ${wanted.refreshInterval} s` };
  }
  if (claims.expiresAt === undefined) return { token, claims, freshUntil: now, state: 'stale', reason: 'JWT without exp' };
  const minimum = effectiveMinLifetime(claims, wanted.minLifetime);
  const base = { token, claims, secondsLeft: claims.expiresAt - now, expiresAt: claims.expiresAt, freshUntil: claims.expiresAt - minimum };
  const left = claims.expiresAt - now;
  if (left <= 0) return { ...base, state: 'stale', reason: `expired ${formatDuration(-left)} ago` };
  const different = mismatch(claims, wanted);
  if (different) return { ...base, state: 'stale', reason: different };
  if (left < minimum) return { ...base, state: 'stale', reason: `${formatDuration(left)} left, less than min_lifetime ${Math.round(minimum)} s` };
  return { ...base, state: 'fresh', reason: `${formatDuration(left)} left` };
}

/** Whole seconds the token on disk is valid for, or null when unknown or there is none. */
export function secondsLeftOf(state: TokenState): number | null {
  return 'secondsLeft' in state && state.secondsLeft !== undefined ? Math.floor(state.secondsLeft) : null;
}

/** Reads and judges the token file at `path` (held to the rules of implicit locations). */
export async function assessTokenFile(path: string, expectedUid: number, wanted: Wanted, now: number): Promise<TokenState> {
  return stateOf(await readTokenFile(assessRequest(path, expectedUid)), path, wanted, now);
}

/** assessTokenFile without the event loop (a token file is a regular file, read at once): for
 * one-shot commands such as `status`, which then need neither fs.promises nor libuv's threads. */
export function assessTokenFileSync(path: string, expectedUid: number, wanted: Wanted, now: number): TokenState {
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

// The JSON that `discover --json` and `inspect --json` share (documented in the README, "JSON
// output"): where the token came from, and what it says. Every key is always present (null
// when unknown), so scripts need no existence checks. No token, no signature.
import type { DiscoveredToken, DiscoverySource } from '../discovery/discovery.js';
import { secondsLeft, type TokenClaims } from '../token/claims.js';

export interface TokenOrigin {
  /** The discovery step that found it; null for a FILE, standard input or a config token. */
  step: 1 | 2 | 3 | 4 | null;
  source: DiscoverySource | 'file' | 'stdin' | 'config';
  path: string | null;
  warnings: string[];
}

export interface ClaimsSummary {
  format: 'jwt' | 'opaque';
  /** Why the token is opaque; null for a JWT. */
  reason: string | null;
  issuer: string | null;
  subject: string | null;
  /** null: unknown (an opaque token); [] a JWT that names none. */
  audience: string[] | null;
  scopes: string[] | null;
  groups: string[] | null;
  profile: string | null;
  clientId: string | null;
  tokenId: string | null;
  /** Epoch seconds. */
  issuedAt: number | null;
  notBefore: number | null;
  expiresAt: number | null;
  secondsLeft: number | null;
  /** Claims present but unusable, claim → problem (e.g. exp given as a string). */
  malformed: Record<string, string>;
}

export function originOf(found: DiscoveredToken): TokenOrigin {
  return { step: found.step, source: found.source, path: found.path ?? null, warnings: found.warnings };
}

export function claimsSummary(claims: TokenClaims, now: number): ClaimsSummary {
  if (claims.format === 'opaque') {
    return {
      format: 'opaque', reason: claims.reason, issuer: null, subject: null, audience: null, scopes: null, groups: null,
      profile: null, clientId: null, tokenId: null, issuedAt: null, notBefore: null, expiresAt: null, secondsLeft: null, malformed: {},
    };
  }
  const left = secondsLeft(claims, now);
  return {
    format: 'jwt', reason: null,
    issuer: claims.issuer ?? null, subject: claims.subject ?? null,
    audience: claims.audience, scopes: claims.scopes, groups: claims.groups,
    profile: claims.profile ?? null, clientId: claims.clientId ?? null, tokenId: claims.tokenId ?? null,
    issuedAt: claims.issuedAt ?? null, notBefore: claims.notBefore ?? null, expiresAt: claims.expiresAt ?? null,
    secondsLeft: left === undefined ? null : Math.floor(left),
    malformed: claims.malformed,
  };
}

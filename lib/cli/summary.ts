// The claims summary shared by `discover --json` and `inspect --json`: no token, no signature.
import { secondsLeft, type TokenClaims } from '../token/claims.js';

export function claimsSummary(claims: TokenClaims, now: number): Record<string, unknown> {
  if (claims.format === 'opaque') return { format: 'opaque', reason: claims.reason, expiresAt: null, secondsLeft: null };
  const { payload: _payload, ...rest } = claims;
  const left = secondsLeft(claims, now);
  return { ...rest, secondsLeft: left === undefined ? null : Math.floor(left) };
}

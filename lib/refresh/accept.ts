// May a token a source returned replace the current one? One rule, applied before anything is
// written (DESIGN §4b): it must be a token discovery would accept, the kind of token the account
// issues, what was asked for, and at least as good as the current one.
import type { AccountConfig } from '../config/config.js';
import { decodeClaims, type TokenClaims } from '../token/claims.js';
import { MAX_TOKEN_BYTES, extractToken } from '../token/syntax.js';
import { SourceError } from '../sources/source.js';
import { mismatch, type TokenState, type Wanted } from './freshness.js';

/** Shortest opaque token accepted; shorter ones must also… */
export const MIN_OPAQUE_LENGTH = 20;
/** …and an opaque token without a digit must be at least this long: not a word. */
export const MIN_OPAQUE_LENGTH_WITHOUT_DIGIT = 40;

/**
 * Whether `token` can be an opaque token rather than a word a failing source printed (`null`
 * from `jq -r .access_token`, `None`, `Unauthorized`, `temporarily_unavailable`): at least 20
 * characters and a digit among them, or at least 40 characters.
 */
export function isPlausibleOpaqueToken(token: string): boolean {
  if (token.length < MIN_OPAQUE_LENGTH) return false;
  return /[0-9]/.test(token) || token.length >= MIN_OPAQUE_LENGTH_WITHOUT_DIGIT;
}

export interface Accepted {
  token: string;
  claims: TokenClaims;
}

function holdsJwt(state: TokenState): state is Extract<TokenState, { token: string }> {
  return (state.state === 'fresh' || state.state === 'stale') && state.claims.format === 'jwt';
}

/** When the current token expires, if it is a JWT that is still valid and what was asked for:
 * the one a replacement must not be worse than. */
function validExpiry(current: TokenState, wanted: Wanted, now: number): number | undefined {
  if (!holdsJwt(current) || current.claims.format !== 'jwt') return undefined;
  const exp = current.claims.expiresAt;
  return exp !== undefined && exp > now && !mismatch(current.claims, wanted, now) ? exp : undefined;
}

/**
 * Returns the token in `raw` when it may replace `current`; throws a SourceError saying why not
 * (never quoting the token). `what` names the source.
 */
export function acceptFetched(raw: string, what: string, current: TokenState, wanted: Wanted,
  account: Pick<AccountConfig, 'tokenFormat'>, now: number): Accepted {
  const token = extractToken(Buffer.from(raw, 'latin1'), what);
  if (token === undefined) throw new SourceError(`${what}: returned no token`);
  // The file holds the token and a newline; discovery refuses a file over 64 KiB.
  if (token.length + 1 > MAX_TOKEN_BYTES) {
    throw new SourceError(`${what}: returned ${token.length} bytes, more than a token file may hold (64 KiB): not written`);
  }
  const claims = decodeClaims(token);
  if (claims.format === 'opaque') {
    if (account.tokenFormat === 'jwt') throw new SourceError(`${what}: returned an opaque token, but the account has token_format = jwt`);
    if (holdsJwt(current) && account.tokenFormat !== 'opaque') {
      throw new SourceError(`${what}: returned an opaque token where the current token is a JWT (set token_format = opaque in the account if it issues opaque tokens)`);
    }
    if (!isPlausibleOpaqueToken(token)) {
      throw new SourceError(`${what}: returned ${token.length} characters${/[0-9]/.test(token) ? '' : ' without a digit'}: a word or a message, not an opaque token`);
    }
    return { token, claims };
  }
  const currentExpiry = validExpiry(current, wanted, now);
  if (claims.expiresAt === undefined) {
    if (currentExpiry !== undefined) throw new SourceError(`${what}: returned a JWT without exp, while the current token has one; kept the current one`);
  } else if (claims.expiresAt <= now) {
    throw new SourceError(`${what}: returned an expired token`);
  }
  const different = mismatch(claims, wanted, now);
  if (different) throw new SourceError(`${what}: returned a token not as requested: ${different}`);
  if (currentExpiry !== undefined && claims.expiresAt !== undefined && claims.expiresAt < currentExpiry) {
    throw new SourceError(`${what}: returned a token expiring before the current one; kept the current one`);
  }
  return { token, claims };
}

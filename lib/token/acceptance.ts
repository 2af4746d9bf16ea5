// Would a service accept this token for an endpoint and an operation? The WLCG JWT profile's
// rules as real servers apply them (checked against XRootD 5.5.3 with scitokens-cpp, see
// test/e2e/xrootd-acceptance.test.ts), erring on the side of REFUSED where servers differ:
// - the audience must be exactly the endpoint's (no trailing slash, no host without scheme and
//   port), or the WLCG "any" audience in a WLCG-profile token; a token without `aud` is refused;
// - the token must be valid now (exp, nbf);
// - the scopes must grant the operation (lib/token/operations.ts): compute.* exactly, storage.* and
//   SciTokens read:/write: by path prefix. Operations need `/`, since servers read scope paths
//   relative to a base path the client cannot know.
import { formatDuration } from '../core/duration.js';
import { decodeClaims, WLCG_ANY_AUDIENCE, type JwtClaims } from './claims.js';
import { endpointAudience } from './endpoint.js';
import { operationNeed } from './operations.js';

export { OPERATION_SCOPES } from './operations.js';

/**
 * Whether `operation` is something --op can judge: an operation of the table (a client, a data
 * operation), or scopes as they are (WLCG and SciTokens scopes hold a '.' or a ':': compute.read,
 * storage.read:/data, read:/). A mistyped client name is neither.
 */
export function isKnownOperation(operation: string): boolean {
  if (operationNeed(operation)) return true;
  const words = operation.split(/\s+/).filter(Boolean);
  return words.length > 0 && words.every((word) => /^[a-z][a-z0-9_.-]*[.:]\S*$/i.test(word));
}

export interface Acceptance {
  accepted: boolean;
  audience: { ok: boolean; detail: string };
  /** Expiry and not-before; absent when the token states neither. */
  time?: { ok: boolean; detail: string };
  scope?: { ok: boolean; needed: string; detail: string };
}

function audienceCheck(claims: JwtClaims, endpoint: string): Acceptance['audience'] {
  if (claims.audience.length === 0) return { ok: false, detail: 'the token names no audience: WLCG-profile services refuse it' };
  const wanted = endpointAudience(endpoint);
  if (claims.audience.includes(wanted)) return { ok: true, detail: `audience ${wanted} names ${endpoint}` };
  if (claims.audience.includes(WLCG_ANY_AUDIENCE)) {
    return claims.profile?.startsWith('wlcg:')
      ? { ok: true, detail: `the token is for any service (${WLCG_ANY_AUDIENCE})` }
      : { ok: false, detail: `${WLCG_ANY_AUDIENCE} counts only in WLCG-profile tokens (wlcg.ver), and this one has none` };
  }
  const exactly = wanted === endpoint ? '' : ` (services compare audiences exactly; its audience is ${wanted})`;
  return { ok: false, detail: `audience ${claims.audience.join(' ')} does not name ${endpoint}${exactly}` };
}

function timeCheck(claims: JwtClaims, now: number): Acceptance['time'] {
  if (claims.expiresAt !== undefined && claims.expiresAt <= now) return { ok: false, detail: `expired ${formatDuration(now - claims.expiresAt)} ago` };
  if (claims.notBefore !== undefined && claims.notBefore > now + 60) return { ok: false, detail: `not valid before ${formatDuration(claims.notBefore - now)} from now` };
  if (claims.expiresAt !== undefined) return { ok: true, detail: `valid for ${formatDuration(claims.expiresAt - now)}` };
  return undefined;
}

// SciTokens scopes: read:/p is storage.read:/p; write:/p grants what storage.modify:/p does.
const ALIASES: Record<string, string> = { read: 'storage.read', write: 'storage.modify' };

function splitScope(scope: string): [string, string | undefined] {
  const colon = scope.indexOf(':');
  if (colon < 0) return [scope, undefined];
  const name = scope.slice(0, colon);
  return [ALIASES[name] ?? name, scope.slice(colon + 1) || '/'];
}

/** Whether `granted` (one scope of the token) allows `needed`: `storage.read:/a` allows `storage.read:/a/b`. */
function grants(granted: string, needed: string): boolean {
  if (granted === needed) return true;
  const [gName, gPath] = splitScope(granted);
  const [nName, nPath] = splitScope(needed);
  if (gPath === undefined || nPath === undefined) return false;
  const sameKind = gName === nName || (nName === 'storage.create' && gName === 'storage.modify');
  if (!sameKind) return false;
  const prefix = gPath.endsWith('/') ? gPath : `${gPath}/`;
  return nPath === gPath || nPath.startsWith(prefix);
}

function scopeCheck(claims: JwtClaims, operation: string): NonNullable<Acceptance['scope']> {
  const need = operationNeed(operation);
  const alternatives = need?.accepts ?? [operation.split(/\s+/).filter(Boolean)];
  const needed = alternatives.map((set) => set.join(' + ')).join(' or ');
  const has = `the token has: ${claims.scopes.join(' ') || 'none'}`;
  for (const set of alternatives) {
    const by = set.map((scope) => claims.scopes.find((s) => grants(s, scope)));
    if (by.every(Boolean)) {
      const indirect = by.some((granted, i) => granted !== set[i]);
      return { ok: true, needed, detail: `scope ${set.join(' + ')} granted${indirect ? ` by ${[...new Set(by)].join(' ')}` : ''}` };
    }
  }
  const narrower = claims.scopes.some((s) => splitScope(s)[1] && splitScope(s)[1] !== '/' && alternatives.some((set) => set.some((n) => splitScope(n)[0] === splitScope(s)[0])));
  const why = narrower && need ? '; a scope path other than / is relative to the server\'s base path, which tokenenv cannot know' : '';
  return { ok: false, needed, detail: `scope ${needed} is missing (${has})${why}` };
}

export interface AcceptanceOptions {
  /** Epoch seconds; default now. */
  now?: number;
}

/**
 * Whether `endpoint` would accept the token (or its decoded claims) for `operation`: a client
 * name (condor_submit, arcsub…), a data operation (read, write, delete… see operations.ts) or a
 * scope (storage.read:/data, read:/). An opaque token cannot be judged, and is refused.
 */
export function wouldAccept(token: string | JwtClaims, endpoint: string, operation?: string, options: AcceptanceOptions = {}): Acceptance {
  const claims = typeof token === 'string' ? decodeClaims(token) : token;
  if (claims.format !== 'jwt') {
    const unknown = { ok: false, detail: 'an opaque token: its audience and scopes cannot be read' };
    return { accepted: false, audience: unknown };
  }
  const audience = audienceCheck(claims, endpoint);
  const time = timeCheck(claims, options.now ?? Date.now() / 1000);
  const scope = operation ? scopeCheck(claims, operation) : undefined;
  return {
    accepted: audience.ok && (time?.ok ?? true) && (scope?.ok ?? true),
    audience, ...(time ? { time } : {}), ...(scope ? { scope } : {}),
  };
}

// Would a service accept this token for an endpoint and an operation? The WLCG JWT profile's
// rules: the audience must name the service (or be the "any" audience), and the scopes must
// grant the operation — compute.* exactly, storage.* and SciTokens read:/write: by path prefix.
import { decodeClaims, WLCG_ANY_AUDIENCE, type JwtClaims } from './claims.js';

/** The scope each client operation needs. */
export const OPERATION_SCOPES: Record<string, string> = {
  condor_submit: 'compute.create', condor_q: 'compute.read', condor_status: 'compute.read', condor_history: 'compute.read',
  condor_ping: 'compute.read', condor_rm: 'compute.cancel',
  arcsub: 'compute.create', arcstat: 'compute.read', arcinfo: 'compute.read', arcget: 'compute.read', arcsync: 'compute.read',
  arckill: 'compute.cancel', arcclean: 'compute.cancel', arcrenew: 'compute.modify', arcresume: 'compute.modify',
};

/**
 * The scope `operation` needs: a client's from OPERATION_SCOPES, or the operation itself when it
 * is written as a scope (WLCG and SciTokens scopes hold a '.' or a ':': compute.read,
 * storage.read:/data, read:/). Undefined for anything else, such as a mistyped client name.
 */
export function neededScope(operation: string): string | undefined {
  if (Object.hasOwn(OPERATION_SCOPES, operation)) return OPERATION_SCOPES[operation];
  return /^[a-z][a-z0-9_.-]*[.:]\S*$/i.test(operation) ? operation : undefined;
}

export interface Acceptance {
  accepted: boolean;
  audience: { ok: boolean; detail: string };
  scope?: { ok: boolean; needed: string; detail: string };
}

function normaliseEndpoint(endpoint: string): string[] {
  // HTCondor-CE audiences are host:port (9619 by default); services are also named by URL.
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? new URL(endpoint) : undefined;
  if (url) return [endpoint, `${url.protocol}//${url.host}`, url.host, url.hostname];
  return endpoint.includes(':') ? [endpoint] : [endpoint, `${endpoint}:9619`];
}

function audienceCheck(claims: JwtClaims, endpoint: string): Acceptance['audience'] {
  if (claims.audience.length === 0) return { ok: true, detail: 'the token names no audience: only services that do not check accept it' };
  if (claims.audience.includes(WLCG_ANY_AUDIENCE)) return { ok: true, detail: `the token is for any service (${WLCG_ANY_AUDIENCE})` };
  const names = normaliseEndpoint(endpoint);
  const match = claims.audience.find((a) => names.includes(a) || names.includes(a.replace(/\/+$/, '')));
  return match
    ? { ok: true, detail: `audience ${match} names ${endpoint}` }
    : { ok: false, detail: `audience ${claims.audience.join(' ')} does not name ${endpoint}` };
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

function splitScope(scope: string): [string, string | undefined] {
  const colon = scope.indexOf(':');
  return colon < 0 ? [scope, undefined] : [scope.slice(0, colon), scope.slice(colon + 1) || '/'];
}

/**
 * Whether `endpoint` would accept the token (or its decoded claims) for `operation`: a client name
 * (condor_submit, arcsub…) or a scope (storage.read:/data, read:/). An opaque token cannot be judged.
 */
export function wouldAccept(token: string | JwtClaims, endpoint: string, operation?: string): Acceptance {
  const claims = typeof token === 'string' ? decodeClaims(token) : token;
  if (claims.format !== 'jwt') {
    const unknown = { ok: false, detail: 'an opaque token: its audience and scopes cannot be read' };
    return { accepted: false, audience: unknown };
  }
  const audience = audienceCheck(claims, endpoint);
  if (!operation) return { accepted: audience.ok, audience };
  const needed = neededScope(operation) ?? operation;
  const grantedBy = claims.scopes.find((s) => grants(s, needed));
  const scope = grantedBy
    ? { ok: true, needed, detail: `scope ${needed} granted${grantedBy === needed ? '' : ` by ${grantedBy}`}` }
    : { ok: false, needed, detail: `scope ${needed} is missing (the token has: ${claims.scopes.join(' ') || 'none'})` };
  return { accepted: audience.ok && scope.ok, audience, scope };
}

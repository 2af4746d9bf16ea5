import { decodeClaims, secondsLeft, WLCG_ANY_AUDIENCE, type JwtClaims, type TokenClaims } from '../../token/claims.js';
import { discoverTokenSync } from '../../discovery/discovery.js';
import { formatDuration, formatRelative } from '../../core/duration.js';
import type { Acceptance } from '../../token/acceptance.js';
import { UsageError } from '../../core/errors.js';
import { exitCodeFor, ExitCode } from '../exit-codes.js';
import type { Verification } from '../../token/verify.js';
import { parseCommandArgs, shown, type CliIo, type Command } from '../io.js';
import { claimsSummary, originOf } from '../summary.js';
import { tokenFromArgument, tokenFromConfig, type LoadedToken } from '../token-input.js';

const OPTIONS = {
  json: { type: 'boolean' },
  purpose: { type: 'string' },
  verify: { type: 'boolean' },
  for: { type: 'string' },
  op: { type: 'string' },
  token: { type: 'string', short: 't' },
  config: { type: 'string', short: 'c' },
} as const;

function discovered(io: CliIo, purpose: string | undefined): LoadedToken {
  const found = discoverTokenSync({ env: io.env, ...(purpose === undefined ? {} : { purpose }) });
  return { token: found.token, origin: originOf(found), label: `${found.path ?? found.source} (discovery step ${found.step})` };
}

/** --op: an operation of the table or scopes as they are; a typo lists the known operations. */
// --for, --op and --token load what they need when given: a plain `inspect` stays as quick to
// start as `discover`.
async function checkOperation(operation: string): Promise<void> {
  const [{ isKnownOperation }, { DATA_OPERATIONS, OPERATIONS }] = await Promise.all([import('../../token/acceptance.js'), import('../../token/operations.js')]);
  if (isKnownOperation(operation)) return;
  const clients = Object.keys(OPERATIONS).filter((name) => !Object.hasOwn(DATA_OPERATIONS, name));
  throw new UsageError(`inspect: --op ${shown(operation)} is neither a known operation (data: ${Object.keys(DATA_OPERATIONS).join(', ')}; clients: ${clients.join(', ')}) nor a scope (compute.read, storage.read:/PATH, read:/PATH, ...)`);
}

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function when(seconds: number | undefined, now: number): string | undefined {
  return seconds === undefined ? undefined : `${utc(seconds)} (${formatRelative(seconds, now)})`;
}

function malformed(claims: JwtClaims, claim: string): string | undefined {
  const problem = claims.malformed[claim];
  return problem === undefined ? undefined : `MALFORMED: ${claim} is ${problem}`;
}

function expiryLine(claims: JwtClaims, now: number): string {
  if (claims.malformed.exp) return malformed(claims, 'exp')!;
  if (claims.expiresAt === undefined) return 'never stated (no exp claim)';
  const left = claims.expiresAt - now;
  const status = left > 0 ? `in ${formatDuration(left)}` : `EXPIRED ${formatDuration(-left)} ago`;
  return `${utc(claims.expiresAt)} (${status})`;
}

function humanReport(claims: JwtClaims, origin: string, now: number): string {
  const audience = claims.audience.map((a) => (a === WLCG_ANY_AUDIENCE ? `${a} (any)` : a)).join(' ');
  const lifetime = claims.expiresAt !== undefined && claims.issuedAt !== undefined
    ? formatDuration(claims.expiresAt - claims.issuedAt) : undefined;
  const rows: [string, string | undefined][] = [
    ['Token', origin],
    ['Format', `JWT${claims.profile ? `, ${claims.profile.replace(/^wlcg:/, 'WLCG profile ')}` : ''}`],
    ['Issuer', claims.issuer],
    ['Subject', claims.subject],
    ['Client', claims.clientId],
    ['Audience', audience || 'none (accepted by any service that does not check)'],
    ['Scopes', claims.scopes.join(' ') || 'none'],
    ['Groups', claims.groups.length ? claims.groups.join(' ') : undefined],
    ['Issued', malformed(claims, 'iat') ?? when(claims.issuedAt, now)],
    ['Not before', malformed(claims, 'nbf') ?? (claims.notBefore !== undefined && claims.notBefore > now ? when(claims.notBefore, now) : undefined)],
    ['Expires', expiryLine(claims, now)],
    ['Lifetime', lifetime],
    ['Token ID', claims.tokenId],
  ];
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(11)}${v}`).join('\n') + '\n';
}

/** What inspect shows a person about a token (setup shows the first token with it too). */
export function describeToken(claims: TokenClaims, origin: string, now: number): string {
  if (claims.format === 'opaque') return `${'Token'.padEnd(11)}${origin}\n${'Format'.padEnd(11)}opaque: ${claims.reason}; its claims and expiry are unknown\n`;
  return humanReport(claims, origin, now);
}

function verificationLines(v: Verification): string {
  if (v.ok) return `${'Signature'.padEnd(11)}valid (${v.algorithm}${v.keyId ? `, key ${v.keyId}` : ''}), checked against ${v.jwksUri}\n`;
  // Unreachable keys say nothing about the token: not "not valid".
  if (v.code === 'ERR_VERIFY_UNAVAILABLE') return `${'Signature'.padEnd(11)}CANNOT VERIFY, not checked: ${v.problem}\n`;
  return `${'Signature'.padEnd(11)}NOT VALID: ${v.problem}\n`;
}

/** --for for --json: every key, null when not checked (time: only for a token that has exp/nbf;
 * scope: only with --op). */
function forJson(endpoint: string, operation: string | undefined, a: Acceptance | undefined): Record<string, unknown> {
  const unknown = { ok: false, detail: 'an opaque token: its audience and scopes cannot be read' };
  return { endpoint, operation: operation ?? null, accepted: a?.accepted ?? false, audience: a?.audience ?? unknown, time: a?.time ?? null, scope: a?.scope ?? null };
}

/** The verification for --json: every key, null when unknown. */
function verificationJson(v: Verification): Record<string, unknown> {
  return { ok: v.ok, code: v.code ?? null, kind: v.kind ?? null, problem: v.problem ?? null, issuer: v.issuer ?? null,
    jwksUri: v.jwksUri ?? null, algorithm: v.algorithm ?? null, keyId: v.keyId ?? null };
}

function acceptanceLines(a: Acceptance, endpoint: string, operation: string | undefined): string {
  const verdict = a.accepted ? 'accepted' : 'REFUSED';
  const lines = [`${'For'.padEnd(11)}${endpoint}${operation ? ` (${operation})` : ''}: ${verdict}`, `${''.padEnd(11)}${a.audience.ok ? 'ok' : 'no'}: ${a.audience.detail}`];
  if (a.time && !a.time.ok) lines.push(`${''.padEnd(11)}no: ${a.time.detail}`);
  if (a.scope) lines.push(`${''.padEnd(11)}${a.scope.ok ? 'ok' : 'no'}: ${a.scope.detail}`);
  return lines.join('\n') + '\n';
}

// `tokenFromConfig` rides along for `discover --token` (in the fast bundle, which loads it from
// here only when asked).
export const command: Command & { tokenFromConfig: typeof tokenFromConfig } = {
  tokenFromConfig,
  usage: `tokenenv inspect [FILE|- | --token NAME [--config FILE]] [--json] [--purpose P] [--verify] [--for ENDPOINT [--op OPERATION]]

Shows the claims of the token in FILE, on standard input (-), of [token NAME] in the config, or
found by discovery (default): issuer, subject, audience, scopes, groups, when it was issued and
when it expires. The token itself is never printed. Opaque (non-JWT) tokens are valid but have
no known claims; a claim of the wrong type (exp as a string) is shown as MALFORMED.

  --json          print where it came from and its claims as JSON (the shape of discover --json,
                  plus payload, verification and for; see the README)
  --purpose P     with discovery: read the token for purpose P
  --token NAME    the token of [token NAME] in the config (--config FILE)
  --verify        check the signature against the issuer's keys (OpenID discovery, then its
                  JWKS), and iss, exp and nbf: no need to paste the token into a web page
  --for ENDPOINT  would ENDPOINT accept it now? The audience must be ENDPOINT's exactly (a URL's
                  scheme://host[:port], an HTCondor-CE's host:port), or the WLCG "any" audience
                  in a WLCG-profile token; expiry; and with
  --op OP         an operation, the scope it needs: a client (condor_submit compute.create,
                  condor_q compute.read, arcsub compute.create, gfal-ls storage.read:/ …), a data
                  operation (read, list, create, write = xrdcp's upload, mkdir, rename, delete,
                  modify) or a scope (storage.read:/data, read:/). Add --verify to check the
                  signature too: a server does

Exit codes: 0 ok, 2 usage, 3 no token, 4 invalid token (or a malformed claim), unsafe file, bad
signature or refused --for, 5 expired, 6 cannot verify: the issuer's configuration or keys could
not be fetched (nothing is known about the signature).`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('inspect', args, OPTIONS, 1);
    if (values.op && !values.for) throw new UsageError('inspect: --op goes with --for ENDPOINT');
    if (values.op) await checkOperation(values.op);
    const given = positionals[0];
    if (values.token !== undefined && (given !== undefined || values.purpose !== undefined)) {
      throw new UsageError(`inspect: --token names a configured token: it goes without ${given !== undefined ? `FILE ${shown(given)}` : '--purpose'}`);
    }
    if (values.config !== undefined && values.token === undefined) throw new UsageError('inspect: --config goes with --token NAME');
    const loaded = values.token !== undefined ? await tokenFromConfig(values.token, io, values.config)
      : given === undefined ? discovered(io, values.purpose) : tokenFromArgument(given);
    for (const warning of loaded.origin.warnings) io.stderr(`tokenenv: warning: ${warning}\n`);
    const { token, label } = loaded;
    const now = io.now();
    const claims = decodeClaims(token);
    // --verify alone needs HTTP and jose: loaded only then.
    const verification = values.verify ? await (await import('../../token/verify.js')).verifyToken(token, { now, env: io.env }) : undefined;
    const acceptance = values.for && claims.format === 'jwt'
      ? (await import('../../token/acceptance.js')).wouldAccept(claims, values.for, values.op, { now }) : undefined;
    if (values.json) {
      io.stdout(JSON.stringify({
        ...loaded.origin, claims: claimsSummary(claims, now),
        payload: claims.format === 'jwt' ? claims.payload : null,
        verification: verification ? verificationJson(verification) : null,
        for: values.for ? forJson(values.for, values.op, acceptance) : null,
      }, null, 2) + '\n');
    } else if (claims.format === 'opaque') {
      io.stdout(describeToken(claims, label, now));
      if (verification) io.stdout(`${'Signature'.padEnd(11)}not checked: ${verification.problem}\n`);
    } else {
      io.stdout(describeToken(claims, label, now));
      if (verification) io.stdout(verificationLines(verification));
      if (acceptance) io.stdout(acceptanceLines(acceptance, values.for!, values.op));
    }
    const left = secondsLeft(claims, now);
    if (verification && !verification.ok) return exitCodeFor(verification.code ?? 'ERR_VERIFY_FAILED');
    if (claims.format === 'jwt' && Object.keys(claims.malformed).length > 0) return ExitCode.badToken;
    if (left !== undefined && left <= 0) return ExitCode.expired;
    if (values.for && !acceptance?.accepted) return ExitCode.badToken;
    return ExitCode.ok;
  },
};

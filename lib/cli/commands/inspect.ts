import { decodeClaims, secondsLeft, WLCG_ANY_AUDIENCE, type JwtClaims, type TokenClaims } from '../../token/claims.js';
import { discoverTokenSync } from '../../discovery/discovery.js';
import { formatDuration, formatRelative } from '../../core/duration.js';
import { wouldAccept, type Acceptance } from '../../token/acceptance.js';
import { NoTokenFileError, UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Verification } from '../../token/verify.js';
import { readOpenedSync, readTokenFileSync } from '../../files/read.js';
import { extractToken } from '../../token/syntax.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';
import { claimsSummary } from '../summary.js';

const OPTIONS = {
  json: { type: 'boolean' },
  purpose: { type: 'string' },
  verify: { type: 'boolean' },
  for: { type: 'string' },
  op: { type: 'string' },
} as const;

interface LoadedToken {
  token: string;
  origin: string;
}

function readGivenToken(arg: string): LoadedToken {
  const where = arg === '-' ? 'standard input' : arg;
  const request = { path: where, implicit: false, euid: process.geteuid?.() ?? -1 };
  // Standard input is read from fd 0: /dev/stdin cannot be opened when it is a socket.
  const outcome = arg === '-' ? readOpenedSync(0, request) : readTokenFileSync(request);
  if (outcome.kind === 'missing') throw new NoTokenFileError(`${where}: ${outcome.reason}`);
  if (outcome.kind === 'error') throw outcome.error;
  const token = extractToken(outcome.bytes, where);
  if (token === undefined) throw new NoTokenFileError(`${where}: empty, no token in it`);
  return { token, origin: where };
}

function discovered(io: CliIo, purpose: string | undefined): LoadedToken {
  const found = discoverTokenSync({ env: io.env, ...(purpose === undefined ? {} : { purpose }) });
  for (const warning of found.warnings) io.stderr(`tokenenv: warning: ${warning}\n`);
  return { token: found.token, origin: `${found.path ?? found.source} (discovery step ${found.step})` };
}

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function when(seconds: number | undefined, now: number): string | undefined {
  return seconds === undefined ? undefined : `${utc(seconds)} (${formatRelative(seconds, now)})`;
}

function expiryLine(claims: JwtClaims, now: number): string {
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
    ['Issued', when(claims.issuedAt, now)],
    ['Not before', claims.notBefore !== undefined && claims.notBefore > now ? when(claims.notBefore, now) : undefined],
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
  return `${'Signature'.padEnd(11)}NOT VALID: ${v.problem}\n`;
}

function acceptanceLines(a: Acceptance, endpoint: string, operation: string | undefined): string {
  const verdict = a.accepted ? 'accepted' : 'REFUSED';
  const lines = [`${'For'.padEnd(11)}${endpoint}${operation ? ` (${operation})` : ''}: ${verdict}`, `${''.padEnd(11)}${a.audience.ok ? 'ok' : 'no'}: ${a.audience.detail}`];
  if (a.scope) lines.push(`${''.padEnd(11)}${a.scope.ok ? 'ok' : 'no'}: ${a.scope.detail}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv inspect [FILE|-] [--json] [--purpose P] [--verify] [--for ENDPOINT [--op OPERATION]]

Shows the claims of the token in FILE, on standard input (-), or found by discovery (default):
issuer, subject, audience, scopes, groups, when it was issued and when it expires.
The token itself is never printed. Opaque (non-JWT) tokens are valid but have no known claims.

  --json          print the claims as JSON, for scripts
  --purpose P     with discovery: read the token for purpose P
  --verify        check the signature against the issuer's keys (OpenID discovery, then its
                  JWKS), and iss, exp and nbf: no need to paste the token into a web page
  --for ENDPOINT  would ENDPOINT accept it? Audience (the WLCG "any" audience counts) and, with
  --op OP         an operation — a client (condor_submit needs compute.create, condor_q
                  compute.read, condor_rm compute.cancel, arcsub compute.create …) or a scope
                  (storage.read:/data, read:/) — the scope it needs

Exit codes: 0 ok, 2 usage, 3 no token, 4 invalid token, unsafe file, bad signature or refused
--for, 5 expired.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('inspect', args, OPTIONS, 1);
    if (values.op && !values.for) throw new UsageError('inspect: --op goes with --for ENDPOINT');
    const given = positionals[0];
    const { token, origin } = given === undefined ? discovered(io, values.purpose) : readGivenToken(given);
    const now = io.now();
    const claims = decodeClaims(token);
    // --verify alone needs HTTP and jose: loaded only then.
    const verification = values.verify ? await (await import('../../token/verify.js')).verifyToken(token, { now, env: io.env }) : undefined;
    const acceptance = values.for && claims.format === 'jwt' ? wouldAccept(claims, values.for, values.op) : undefined;
    if (values.json) {
      const payload = claims.format === 'jwt' ? claims.payload : null;
      io.stdout(JSON.stringify({
        token: origin, ...claimsSummary(claims, now), payload,
        ...(verification ? { verification } : {}), ...(values.for ? { for: { endpoint: values.for, operation: values.op ?? null, ...(acceptance ?? { accepted: false, reason: 'opaque token' }) } } : {}),
      }, null, 2) + '\n');
    } else if (claims.format === 'opaque') {
      io.stdout(describeToken(claims, origin, now));
      if (verification) io.stdout(`${'Signature'.padEnd(11)}not checked: ${verification.problem}\n`);
    } else {
      io.stdout(describeToken(claims, origin, now));
      if (verification) io.stdout(verificationLines(verification));
      if (acceptance) io.stdout(acceptanceLines(acceptance, values.for!, values.op));
    }
    const left = secondsLeft(claims, now);
    if (verification && !verification.ok) return verification.kind === 'expired' ? ExitCode.expired : ExitCode.badToken;
    if (left !== undefined && left <= 0) return ExitCode.expired;
    if (values.for && !acceptance?.accepted) return ExitCode.badToken;
    return ExitCode.ok;
  },
};

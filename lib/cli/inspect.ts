import { decodeClaims, secondsLeft, WLCG_ANY_AUDIENCE, type JwtClaims } from '../claims.js';
import { discoverTokenSync } from '../discovery.js';
import { formatDuration, formatRelative } from '../duration.js';
import { ExitCode, NoTokenFileError } from '../errors.js';
import { readOpenedSync, readTokenFileSync } from '../token-file.js';
import { extractToken } from '../token-syntax.js';
import { parseCommandArgs, type CliIo, type Command } from './io.js';
import { claimsSummary } from './summary.js';

const OPTIONS = {
  json: { type: 'boolean' },
  purpose: { type: 'string' },
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

export const command: Command = {
  summary: 'show what a token says: issuer, audience, scopes, expiry (never the token)',
  usage: `tokenenv inspect [FILE|-] [--json] [--purpose P]

Shows the claims of the token in FILE, on standard input (-), or found by discovery (default):
issuer, subject, audience, scopes, groups, when it was issued and when it expires.
The token itself is never printed. Opaque (non-JWT) tokens are valid but have no known claims.

  --json        print the claims as JSON, for scripts
  --purpose P   with discovery: read the token for purpose P

Exit codes: 0 ok, 2 usage, 3 no token, 4 invalid token or unsafe file, 5 expired.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('inspect', args, OPTIONS, 1);
    const given = positionals[0];
    const { token, origin } = given === undefined ? discovered(io, values.purpose) : readGivenToken(given);
    const now = io.now();
    const claims = decodeClaims(token);
    if (values.json) {
      const payload = claims.format === 'jwt' ? claims.payload : null;
      io.stdout(JSON.stringify({ token: origin, ...claimsSummary(claims, now), payload }, null, 2) + '\n');
    } else if (claims.format === 'opaque') {
      io.stdout(`${'Token'.padEnd(11)}${origin}\n${'Format'.padEnd(11)}opaque: ${claims.reason}; its claims and expiry are unknown\n`);
    } else {
      io.stdout(humanReport(claims, origin, now));
    }
    const left = secondsLeft(claims, now);
    return left !== undefined && left <= 0 ? ExitCode.expired : ExitCode.ok;
  },
};

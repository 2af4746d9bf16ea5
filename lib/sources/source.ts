// The one interface every token source implements, and what they share: running a command
// safely and turning its failure into an error that never shows a token or a secret.
import { TokenenvError, type ErrorCode } from '../core/errors.js';

/** What a refresh asks of a source. */
export interface TokenRequest {
  audience?: string;
  scope?: string;
  /** Seconds the token must be valid for (oidc-token --time, htgettoken --minsecs). */
  minLifetime?: number;
}

export interface SourceContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds before a command or request is abandoned. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** tokenenv's private state directory, where a source may remember what it learned (an
   * issuer's token endpoint: ./issuer-endpoints.ts). */
  stateDir?: string;
}

export interface TokenSource {
  /** e.g. "oidc-agent account wlcg", for messages. */
  readonly description: string;
  /** Returns the raw token text (validated by the caller). */
  fetch(request: TokenRequest, context: SourceContext): Promise<string>;
}

/** A source failed: the message names the source and says why, with tokens redacted. */
export class SourceError extends TokenenvError {
  override name = 'SourceError';
  override readonly code: ErrorCode = 'ERR_SOURCE';
}

// Redaction, for every message that quotes what a source printed or an issuer answered:
// 1. the caller's known secrets, anywhere;
// 2. whatever follows `Bearer `/`Basic `, or a key such as access_token, X-Vault-Token,
//    client_secret, password (`:` or `=`) or token= (in JSON, a header or a query string);
// 3. every run of token characters (b64token: letters, digits, - . _ ~ + /, then =) of 20 or more
//    that looks random: a JWT; 16+ hex digits between separators; or a run in which, between
//    separators (. / _ - + ~ =), the kind of character (lower, upper, digit) changes at least 5
//    times, and at least once every 3.3 characters (every 5 when it holds 2 digits or more).
//    Misses (measured): about 1 in 10,000 random 43-character base64url tokens, 1 in 600 random
//    24-character letter-heavy ones (legacy Vault `s.…`), 0 of JWTs, hvs.…, ya29.…; a token
//    printed after Bearer, access_token, token= or X-Vault-Token is always redacted. Whole runs go, whatever their alphabet (Vault `hvs.…`, Google `ya29.…`, standard
//    base64 with + and /, hex); paths, host names and words such as InternalServerError (0–0.26
//    changes a character) stay readable, random base64 changes about 0.6 times a character.
const KEYWORD_VALUE = /(\b(?:bearer|basic)\s+|(?:access_token|refresh_token|id_token|client_secret|password|x-vault-token)\\?["']?\s*[:=]\s*\\?["']?|token\s*=\s*["']?)([^\s"'\\,;&)}\]<>]+)/gi;
const TOKEN_RUN = /[A-Za-z0-9\-._~+/]{20,}=*/g;
export const REDACTED = '[redacted]';

const SEPARATOR = /[._~+/=-]/;

// 16+ hex digits between separators, with letters and digits: a key, a hash, a hex token.
const HEX_PIECE = /(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{16,}(?![A-Za-z0-9])/;

function characterClass(c: string): number {
  if (c >= '0' && c <= '9') return 0;
  return c >= 'a' && c <= 'z' ? 1 : 2;
}

/** Whether a run of token characters is (or holds) a token or a secret. */
export function isTokenLike(run: string): boolean {
  if (/eyJ[A-Za-z0-9_-]{8,}/.test(run) || HEX_PIECE.test(run)) return true;
  let changes = 0;
  let characters = 0;
  let digits = 0;
  let previous = -1;
  for (const c of run) {
    if (SEPARATOR.test(c)) {
      previous = -1;
      continue;
    }
    characters++;
    const kind = characterClass(c);
    if (kind === 0) digits++;
    if (previous >= 0 && kind !== previous) changes++;
    previous = kind;
  }
  return changes >= 5 && changes >= characters * (digits >= 2 ? 0.2 : 0.3);
}

/** Replaces anything that looks like a token or a secret with [redacted]. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  out = out.replace(KEYWORD_VALUE, (_match, key: string) => `${key}${REDACTED}`);
  return out.replace(TOKEN_RUN, (run) => (isTokenLike(run) ? REDACTED : run));
}

/** A command's stderr, reduced to a short, redacted excerpt for an error message. */
export function stderrExcerpt(stderr: string, secrets: readonly string[] = []): string {
  const lines = redact(stderr, secrets).split('\n').map((l) => l.trim()).filter(Boolean);
  const excerpt = lines.slice(-3).join(' | ');
  return excerpt.length > 400 ? `${excerpt.slice(0, 400)}…` : excerpt;
}

/**
 * `work`, or a SourceError once the source's deadline passes or the caller cancels: for work
 * that cannot itself be interrupted (a read from a hung file system), the result is abandoned.
 */
export async function withinDeadline<T>(work: Promise<T>, context: SourceContext, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SourceError(`${what}: did not finish within ${context.timeoutMs / 1000} s`)), context.timeoutMs);
    onAbort = () => reject(new SourceError(`${what}: cancelled`));
    if (context.signal?.aborted) onAbort();
    context.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) context.signal?.removeEventListener('abort', onAbort);
  }
}

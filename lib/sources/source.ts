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

// JWTs, and long runs of base64url or hex (opaque tokens, refresh tokens, secrets). Runs with
// '/' or '.' are left alone: those are paths and host names, which messages need.
const TOKEN_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|(?<![A-Za-z0-9_/.-])[A-Za-z0-9_+-]{32,}=*/g;

/** Replaces anything that looks like a token or a secret with [redacted]. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out.replace(TOKEN_LIKE, '[redacted]');
}

/** A command's stderr, reduced to a short, redacted excerpt for an error message. */
export function stderrExcerpt(stderr: string, secrets: readonly string[] = []): string {
  const lines = redact(stderr, secrets).split('\n').map((l) => l.trim()).filter(Boolean);
  const excerpt = lines.slice(-3).join(' | ');
  return excerpt.length > 400 ? `${excerpt.slice(0, 400)}…` : excerpt;
}

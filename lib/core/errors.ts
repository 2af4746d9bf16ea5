// One error class per failure a caller must tell apart, each with a stable `code` (as jose and
// Node do): callers, the CLI's exit codes and tests decide on the code, never on the message.
// Messages name the variable or path and the reason, never the token or any part of it.
import type { DiscoveryStep } from '../discovery/discovery.js';

export type ErrorCode =
  | 'ERR_TOKENENV'
  | 'ERR_USAGE'
  | 'ERR_CONFIG'
  | 'ERR_CONFIG_NOT_FOUND'
  | 'ERR_NO_TOKEN'
  | 'ERR_NO_TOKEN_FILE'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_TOKEN_FILE'
  | 'ERR_UNSAFE_TOKEN_FILE'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_SOURCE'
  | 'ERR_REFRESH_FAILED'
  | 'ERR_LOCK'
  | 'ERR_WATCHER_RUNNING'
  | 'ERR_VERIFY_FAILED'
  | 'ERR_VERIFY_UNAVAILABLE'
  | 'ERR_NOT_ACCEPTED'
  | 'ERR_HTTP';

// A brand instead of `instanceof`: it holds across copies of this module (separate bundles, two
// installed versions of the package).
const BRAND = Symbol.for('tokenenv.error');

export interface TokenenvErrorOptions {
  cause?: unknown;
  /** For discovery errors: every step up to the failure, for `--explain`. */
  steps?: DiscoveryStep[];
}

export class TokenenvError extends Error {
  override name = 'TokenenvError';
  /** Stable, documented in the README; decide on this, not on the message. */
  readonly code: ErrorCode = 'ERR_TOKENENV';
  /** For discovery errors: every step up to the failure, for `--explain`. */
  steps?: DiscoveryStep[];

  constructor(message: string, options: TokenenvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.steps) this.steps = options.steps;
  }

  get [BRAND](): true {
    return true;
  }
}

/** Whether `error` is a tokenenv error, from this copy of the package or another one. */
export function isTokenenvError(error: unknown): error is TokenenvError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

/** Whether `error` is a tokenenv error with one of `codes`. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is TokenenvError {
  return isTokenenvError(error) && codes.includes(error.code);
}

export class UsageError extends TokenenvError {
  override name = 'UsageError';
  override readonly code: ErrorCode = 'ERR_USAGE';
}

/** Every discovery step was consulted and none held a token. */
export class NoTokenFoundError extends TokenenvError {
  override name = 'NoTokenFoundError';
  override readonly code: ErrorCode = 'ERR_NO_TOKEN';
  constructor(override steps: DiscoveryStep[]) {
    super(`no bearer token found: ${steps.map((s) => s.reason).join('; ')}`);
  }
}

/** The token exists but not as a file (it came from BEARER_TOKEN), or no file where one is needed. */
export class NoTokenFileError extends TokenenvError {
  override name = 'NoTokenFileError';
  override readonly code: ErrorCode = 'ERR_NO_TOKEN_FILE';
}

/** A token was found but is not an RFC 6750 b64token. `where` is a variable name or a path. */
export class InvalidTokenError extends TokenenvError {
  override name = 'InvalidTokenError';
  override readonly code: ErrorCode = 'ERR_INVALID_TOKEN';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: not a valid bearer token: ${problem}`);
  }
}

/** A token file that cannot be used: unreadable, not a file. */
export class TokenFileError extends TokenenvError {
  override name = 'TokenFileError';
  override readonly code: ErrorCode = 'ERR_TOKEN_FILE';
  constructor(readonly path: string, readonly reason: string, readonly errno?: string) {
    super(`${path}: ${reason}`);
  }
}

/** A file or directory someone else could have planted or replaced (foreign owner, link, open
 * mode): never read as the user's token, never written over. */
export class UnsafeFileError extends TokenFileError {
  override name = 'UnsafeFileError';
  override readonly code: ErrorCode = 'ERR_UNSAFE_TOKEN_FILE';
}

/** A token (file or variable) over the 64 KiB bound; nothing larger is ever read. */
export class TokenTooLargeError extends TokenenvError {
  override name = 'TokenTooLargeError';
  override readonly code: ErrorCode = 'ERR_TOKEN_TOO_LARGE';
  constructor(readonly where: string, readonly limit: number) {
    super(`${where}: larger than ${limit} bytes, refusing to read it as a token`);
  }
}

/** The token has expired, or has less than the required lifetime left. */
export class TokenExpiredError extends TokenenvError {
  override name = 'TokenExpiredError';
  override readonly code: ErrorCode = 'ERR_TOKEN_EXPIRED';
}

/** A configured token could not be refreshed, and no valid one is left. */
export class RefreshFailedError extends TokenenvError {
  override name = 'RefreshFailedError';
  override readonly code: ErrorCode = 'ERR_REFRESH_FAILED';
}

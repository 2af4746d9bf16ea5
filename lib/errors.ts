// One error class per failure a caller (or a shell script, through the exit code) must tell
// apart. Messages name the variable or path and the reason, never the token or any part of it.
import type { DiscoveryStep } from './discovery.js';

/** Exit codes of the `tokenenv` command, documented in the README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  noToken: 3,
  badToken: 4,
  expired: 5,
} as const;

export class TokenenvError extends Error {
  readonly exitCode: number = ExitCode.failure;
  override name = 'TokenenvError';
  /** For discovery errors: every step up to the failure, for `--explain`. */
  steps?: DiscoveryStep[];
}

export class UsageError extends TokenenvError {
  override readonly exitCode: number = ExitCode.usage;
  override name = 'UsageError';
}

/** Every discovery step was consulted and none held a token. */
export class NoTokenFoundError extends TokenenvError {
  override readonly exitCode: number = ExitCode.noToken;
  override name = 'NoTokenFoundError';
  constructor(override steps: DiscoveryStep[]) {
    super(`no bearer token found: ${steps.map((s) => s.reason).join('; ')}`);
  }
}

/** The token exists but not as a file (it came from BEARER_TOKEN), where a file is needed. */
export class NoTokenFileError extends TokenenvError {
  override readonly exitCode: number = ExitCode.noToken;
  override name = 'NoTokenFileError';
}

/** A token was found but is not an RFC 6750 b64token. `where` is a variable name or a path. */
export class InvalidTokenError extends TokenenvError {
  override readonly exitCode: number = ExitCode.badToken;
  override name = 'InvalidTokenError';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: not a valid bearer token: ${problem}`);
  }
}

/** A token file that must not be used: unreadable, not a file, planted by someone else. */
export class TokenFileError extends TokenenvError {
  override readonly exitCode: number = ExitCode.badToken;
  override name = 'TokenFileError';
  constructor(readonly path: string, readonly reason: string, readonly errno?: string) {
    super(`${path}: ${reason}`);
  }
}

/** A token (file or variable) over the 64 KiB bound; nothing larger is ever read. */
export class TokenTooLargeError extends TokenenvError {
  override readonly exitCode: number = ExitCode.badToken;
  override name = 'TokenTooLargeError';
  constructor(readonly where: string, readonly limit: number) {
    super(`${where}: larger than ${limit} bytes, refusing to read it as a token`);
  }
}

/** The token has expired, or has less than the required lifetime left. */
export class TokenExpiredError extends TokenenvError {
  override readonly exitCode: number = ExitCode.expired;
  override name = 'TokenExpiredError';
}

// Exit codes of the `tokenenv` command, documented in the README, and the one mapping from an
// error's code to its exit code.
import { isTokenenvError, type ErrorCode } from '../core/errors.js';

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  noToken: 3,
  badToken: 4,
  expired: 5,
  /** The signature could not be checked: the issuer's configuration or keys are out of reach. */
  cannotVerify: 6,
} as const;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ERR_USAGE: ExitCode.usage,
  ERR_CONFIG: ExitCode.usage,
  ERR_CONFIG_NOT_FOUND: ExitCode.usage,
  ERR_NO_TOKEN: ExitCode.noToken,
  ERR_NO_TOKEN_FILE: ExitCode.noToken,
  ERR_INVALID_TOKEN: ExitCode.badToken,
  ERR_TOKEN_FILE: ExitCode.badToken,
  ERR_UNSAFE_TOKEN_FILE: ExitCode.badToken,
  ERR_TOKEN_TOO_LARGE: ExitCode.badToken,
  ERR_VERIFY_FAILED: ExitCode.badToken,
  ERR_NOT_ACCEPTED: ExitCode.badToken,
  ERR_TOKEN_EXPIRED: ExitCode.expired,
  ERR_VERIFY_UNAVAILABLE: ExitCode.cannotVerify,
};

/** The exit code for an error code. */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_BY_CODE[code] ?? ExitCode.failure;
}

export function exitCodeOf(error: unknown): number {
  return isTokenenvError(error) ? exitCodeFor(error.code) : ExitCode.failure;
}

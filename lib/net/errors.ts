// The one error of lib/net: a request that got no usable answer.
import { TokenenvError, type ErrorCode } from '../core/errors.js';

/** Why a request failed, for callers to decide on (never on the message). */
export type HttpFailure =
  | 'url' | 'network' | 'connect-timeout' | 'timeout' | 'aborted' | 'too-large' | 'redirect'
  | 'untrusted' | 'certificate' | 'trust' | 'status' | 'format';

/** A request that got no complete answer. The message names the URL (or host) and the reason;
 * `reason` is the reason alone, for messages that name the URL themselves. */
export class HttpError extends TokenenvError {
  override name = 'HttpError';
  override readonly code: ErrorCode = 'ERR_HTTP';
  constructor(readonly url: string, readonly failure: HttpFailure, readonly reason: string, options: { cause?: unknown; message?: string } = {}) {
    super(options.message ?? `${url}: ${reason}`, options.cause === undefined ? {} : { cause: options.cause });
  }
}

// When the watcher looks at a token next: pure policy, with the randomness injectable so that
// tests can pin it.
export interface RetryPolicy {
  /** First retry after a failure, in ms; doubles each time. */
  baseMs: number;
  /** Longest wait between retries, in ms. */
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 2000, capMs: 60_000 };
/** Largest random advance of a refresh, in seconds, so that many tokens do not fire at once. */
export const DEFAULT_JITTER_SECONDS = 30;
/** A timer never fires sooner than this after a successful check. */
export const MIN_DELAY_MS = 1000;

export type Random = () => number;

/** The wait before retry number `failures` (1 = the first retry): doubling, capped, ±20 %. */
export function backoffMs(failures: number, retry: RetryPolicy = DEFAULT_RETRY, random: Random = Math.random): number {
  const backoff = Math.min(retry.capMs, retry.baseMs * 2 ** Math.max(0, failures - 1));
  return backoff * (0.8 + random() * 0.4);
}

export interface NextCheck {
  delayMs: number;
  /** How many seconds before the token stops being fresh the timer fires. */
  early: number;
}

/**
 * A fresh token is looked at again just before it stops being fresh: early by twice the time the
 * last fetch took (so that the new token is there before the old one drops below min_lifetime, on
 * a slow issuer too; at most half the remaining time), plus a random jitter of at most
 * `maxJitterSeconds` or a tenth of the remaining time.
 */
export function nextCheck(freshUntil: number, now: number, maxJitterSeconds = DEFAULT_JITTER_SECONDS,
  random: Random = Math.random, lastFetchSeconds = 0): NextCheck {
  const remaining = freshUntil - now;
  const lead = Math.min(2 * lastFetchSeconds, Math.max(0, remaining) * 0.5);
  const jittered = lead + random() * Math.min(maxJitterSeconds, Math.max(0, remaining - lead) * 0.1);
  // On a whole second of the clock: the refreshes of many tokens due within the same second then
  // run in one wake of the process, back to back, not each in a wake of its own.
  const fireAt = Math.floor(freshUntil - jittered);
  return { delayMs: Math.max(MIN_DELAY_MS, (fireAt - now) * 1000), early: freshUntil - fireAt };
}

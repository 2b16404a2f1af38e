// Retry policy for failed tasks: exponential backoff with jitter for transient failures, dead letter otherwise.

export interface RetryPolicy {
  /** Total attempts including the first; the failure of attempt maxAttempts dead-letters the task. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 10 * 60_000 };

/** Upper bound on how long a server's Retry-After may push a retry out. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

export interface Failure {
  transient: boolean;
  error: string;
  /** The upstream's Retry-After, honoured as a minimum delay. */
  retryAfterMs?: number;
}

export type RetryDecision =
  | { action: 'retry'; attempt: number; delayMs: number; retryAt: number }
  | { action: 'dead_letter'; reason: 'permanent' | 'exhausted'; error: string };

/**
 * Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed: base * factor^(attempt-1), capped, with
 * "equal jitter" (half fixed, half random) so retries spread out yet never collapse to zero.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * (policy.factor ?? 2) ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

/** What to do after attempt `attempt` (1-based) failed with `failure`. Pure: the clock and randomness are inputs. */
export function decideRetry(
  failure: Failure,
  attempt: number,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.transient) return { action: 'dead_letter', reason: 'permanent', error: failure.error };
  if (attempt >= policy.maxAttempts) return { action: 'dead_letter', reason: 'exhausted', error: failure.error };
  const backoff = backoffDelay(attempt, policy, random);
  const floor = Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  const delayMs = Math.max(backoff, floor);
  return { action: 'retry', attempt: attempt + 1, delayMs, retryAt: now + delayMs };
}

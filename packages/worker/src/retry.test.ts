import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, decideRetry, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 5_000 };

describe('backoffDelay', () => {
  it('doubles per attempt and caps at maxDelayMs, with jitter between half and all of the ceiling', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 1))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0))).toEqual([500, 1_000, 2_000, 2_500, 2_500]);
  });

  it('stays within [ceiling/2, ceiling] for any attempt and random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, policy, () => r);
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        return delay >= Math.floor(ceiling / 2) && delay <= ceiling;
      }),
    );
  });
});

describe('decideRetry', () => {
  const now = 1_000_000;

  it('retries transient failures until maxAttempts, then dead-letters as exhausted', () => {
    const failure = { transient: true, error: 'HTTP 503' };
    expect(decideRetry(failure, 1, policy, now, () => 1)).toEqual({
      action: 'retry',
      attempt: 2,
      delayMs: 1_000,
      retryAt: now + 1_000,
    });
    expect(decideRetry(failure, 3, policy, now, () => 1)).toMatchObject({ action: 'retry', attempt: 4 });
    expect(decideRetry(failure, 4, policy, now)).toEqual({
      action: 'dead_letter',
      reason: 'exhausted',
      error: 'HTTP 503',
    });
  });

  it('never retries a permanent failure, even on the first attempt', () => {
    expect(decideRetry({ transient: false, error: 'HTTP 401' }, 1, policy, now)).toEqual({
      action: 'dead_letter',
      reason: 'permanent',
      error: 'HTTP 401',
    });
  });

  it('waits at least the upstream Retry-After, bounded to an hour', () => {
    expect(decideRetry({ transient: true, error: '429', retryAfterMs: 20_000 }, 1, policy, now, () => 0)).toMatchObject(
      {
        delayMs: 20_000,
        retryAt: now + 20_000,
      },
    );
    expect(
      decideRetry({ transient: true, error: '429', retryAfterMs: 86_400_000 }, 1, policy, now, () => 0),
    ).toMatchObject({ delayMs: 3_600_000 });
  });

  it('defaults to three attempts with a 30 s base like mecha', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({ maxAttempts: 3, baseDelayMs: 30_000 });
  });
});

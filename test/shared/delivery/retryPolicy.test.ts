import { describe, expect, it } from 'vitest';
import {
  AWS_RETRY_POLICY,
  decideRetry,
  LOCAL_RETRY_POLICY,
  type RetryPolicy,
  retryPolicyFromEnv,
} from '../../../shared/delivery/retryPolicy.ts';
import {
  DeliveryError,
  FunctionError,
  NotFoundError,
  SchemaViolationError,
  TemplateError,
} from '../../../shared/errors.ts';

const policy: RetryPolicy = { maxAttempts: 6, maxAgeMs: 90_000, baseDelayMs: 1_000, maxDelayMs: 30_000, factor: 2 };
const T0 = 1_700_000_000_000;
const transport = () => new DeliveryError('connect ECONNREFUSED', { retryable: true });
const status = (code: number, retryAfterMs?: number) =>
  new DeliveryError(`HTTP ${code}`, { retryable: true, statusCode: code, retryAfterMs });

describe('decideRetry', () => {
  it.each([
    // attempt, random, expected delay: nominal = 1000 * 2^(attempt-1), equal jitter in [nominal/2, nominal]
    [1, 0, 500],
    [1, 0.5, 750],
    [1, 0.999999, 1_000],
    [2, 0, 1_000],
    [3, 0.5, 3_000],
    [5, 1, 16_000],
  ])('backs off exponentially with equal jitter: attempt %i, random %f → %i ms', (attempt, random, delayMs) => {
    const decision = decideRetry({
      attempt,
      firstQueuedAt: T0,
      now: T0,
      error: transport(),
      policy,
      random: () => random,
    });
    expect(decision).toEqual({ action: 'retry', delayMs });
  });

  it('caps the delay at maxDelayMs', () => {
    const long = { ...policy, maxAttempts: 20, maxAgeMs: 10 * 3_600_000 };
    const decision = decideRetry({
      attempt: 12,
      firstQueuedAt: T0,
      now: T0,
      error: transport(),
      policy: long,
      random: () => 1,
    });
    expect(decision).toEqual({ action: 'retry', delayMs: 30_000 });
  });

  it.each([
    ['a longer Retry-After wins over the backoff', 2, 10_000, 10_000],
    ['a shorter Retry-After does not shorten the backoff', 3, 100, 4_000],
    ['a Retry-After beyond the cap is capped', 1, 600_000, 30_000],
  ])('honours Retry-After: %s', (_name, attempt, retryAfterMs, delayMs) => {
    const decision = decideRetry({
      attempt,
      firstQueuedAt: T0,
      now: T0,
      error: status(503, retryAfterMs),
      policy,
      random: () => 1,
    });
    expect(decision).toEqual({ action: 'retry', delayMs });
  });

  it('backs off twice as hard for a 429 without Retry-After', () => {
    const throttled = decideRetry({
      attempt: 2,
      firstQueuedAt: T0,
      now: T0,
      error: status(429),
      policy,
      random: () => 1,
    });
    const failed = decideRetry({ attempt: 2, firstQueuedAt: T0, now: T0, error: status(503), policy, random: () => 1 });
    expect(throttled).toEqual({ action: 'retry', delayMs: 4_000 });
    expect(failed).toEqual({ action: 'retry', delayMs: 2_000 });
  });

  it.each([
    [
      'a non-retryable delivery error',
      new DeliveryError('HTTP 400', { retryable: false, statusCode: 400 }),
      'HTTP 400',
    ],
    ['failing user code', new FunctionError('boom'), 'FunctionError: boom'],
    ['a deterministic domain error', new NotFoundError('hook gone'), 'hook gone'],
    ['a schema violation', new SchemaViolationError({ config: 'bad' }), 'SchemaViolationError'],
    ['a template past its budget', new TemplateError('config.body: too big'), 'TemplateError: config.body: too big'],
  ])('dead-letters %s at once', (_name, error, mention) => {
    const decision = decideRetry({ attempt: 1, firstQueuedAt: T0, now: T0, error, policy, random: () => 0 });
    expect(decision.action).toBe('dead-letter');
    expect(decision.action === 'dead-letter' && decision.reason).toContain('not retryable');
    expect(decision.action === 'dead-letter' && decision.reason).toContain(mention);
  });

  it('retries a retryable function error and an unexpected plain error', () => {
    const cold = new FunctionError('throttled', { retryable: true });
    for (const error of [cold, new Error('socket hang up')]) {
      expect(decideRetry({ attempt: 1, firstQueuedAt: T0, now: T0, error, policy, random: () => 0 }).action).toBe(
        'retry',
      );
    }
  });

  it('dead-letters after maxAttempts, saying how many attempts were made', () => {
    const decision = decideRetry({ attempt: 6, firstQueuedAt: T0, now: T0 + 1_000, error: status(502), policy });
    expect(decision).toEqual({ action: 'dead-letter', reason: expect.stringContaining('gave up after 6 attempts') });
    expect(decision.action === 'dead-letter' && decision.reason).toContain('HTTP 502');
  });

  it('dead-letters when the next attempt would start after maxAgeMs', () => {
    const inTime = decideRetry({
      attempt: 3,
      firstQueuedAt: T0,
      now: T0 + 86_000,
      error: transport(),
      policy,
      random: () => 1,
    });
    const late = decideRetry({
      attempt: 3,
      firstQueuedAt: T0,
      now: T0 + 86_001,
      error: transport(),
      policy,
      random: () => 1,
    });
    expect(inTime).toEqual({ action: 'retry', delayMs: 4_000 });
    expect(late).toEqual({ action: 'dead-letter', reason: expect.stringContaining('limit 90000 ms') });
  });

  it('retries locally within a few seconds and finishes within about a minute', () => {
    let total = 0;
    let attempt = 1;
    for (;;) {
      const d = decideRetry({
        attempt,
        firstQueuedAt: T0,
        now: T0 + total,
        error: transport(),
        policy: LOCAL_RETRY_POLICY,
        random: () => 1,
      });
      if (d.action !== 'retry') break;
      if (attempt === 1) expect(d.delayMs).toBeLessThanOrEqual(2_000);
      total += d.delayMs;
      attempt++;
    }
    expect(attempt).toBe(LOCAL_RETRY_POLICY.maxAttempts);
    expect(total).toBeLessThanOrEqual(60_000);
  });

  it('stretches AWS retries over hours', () => {
    let total = 0;
    let attempt = 1;
    for (;;) {
      const d = decideRetry({
        attempt,
        firstQueuedAt: T0,
        now: T0 + total,
        error: transport(),
        policy: AWS_RETRY_POLICY,
        random: () => 1,
      });
      if (d.action !== 'retry') break;
      total += d.delayMs;
      attempt++;
    }
    expect(attempt).toBe(AWS_RETRY_POLICY.maxAttempts);
    expect(total).toBeGreaterThan(2 * 3_600_000);
    expect(total).toBeLessThan(AWS_RETRY_POLICY.maxAgeMs);
  });
});

describe('retryPolicyFromEnv', () => {
  it('returns the defaults when nothing is set', () => {
    expect(retryPolicyFromEnv({}, LOCAL_RETRY_POLICY)).toEqual(LOCAL_RETRY_POLICY);
  });

  it('overrides each field from its variable', () => {
    const env = {
      RETRY_MAX_ATTEMPTS: '3',
      RETRY_MAX_AGE_MS: '5000',
      RETRY_BASE_DELAY_MS: '10',
      RETRY_MAX_DELAY_MS: ' 200 ',
    };
    expect(retryPolicyFromEnv(env, AWS_RETRY_POLICY)).toEqual({
      maxAttempts: 3,
      maxAgeMs: 5_000,
      baseDelayMs: 10,
      maxDelayMs: 200,
      factor: AWS_RETRY_POLICY.factor,
    });
  });

  it.each([
    ['RETRY_MAX_ATTEMPTS', '0'],
    ['RETRY_MAX_ATTEMPTS', 'many'],
    ['RETRY_MAX_AGE_MS', '-1'],
    ['RETRY_BASE_DELAY_MS', '1.5'],
    ['RETRY_MAX_DELAY_MS', '1e3'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => retryPolicyFromEnv({ [name]: value }, LOCAL_RETRY_POLICY)).toThrow(name);
  });

  it('rejects a maximum delay below the base delay', () => {
    expect(() => retryPolicyFromEnv({ RETRY_MAX_DELAY_MS: '10' }, LOCAL_RETRY_POLICY)).toThrow('RETRY_MAX_DELAY_MS');
  });
});

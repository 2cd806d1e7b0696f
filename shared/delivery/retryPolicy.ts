import { DeliveryError, EventHooksError, FunctionError } from '../errors.ts';

/** How long and how often a failed delivery is tried again before it is dead-lettered. */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** No attempt starts later than this after the first enqueue. */
  maxAgeMs: number;
  /** Nominal delay before the first retry. */
  baseDelayMs: number;
  /** Upper bound of any single delay, `Retry-After` included. */
  maxDelayMs: number;
  /** Growth of the nominal delay from one retry to the next. */
  factor: number;
}

/** Local runtime: the first retry within a second or so, everything settled within about a minute. */
export const LOCAL_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 6,
  maxAgeMs: 90_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  factor: 2,
});

/**
 * AWS: retries stretch over hours (nominal delays 5 s, 15 s, 45 s, … capped at 1 h), so a receiver
 * that is down for a deploy or an afternoon still gets its events.
 */
export const AWS_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 10,
  maxAgeMs: 24 * 60 * 60 * 1000,
  baseDelayMs: 5_000,
  maxDelayMs: 60 * 60 * 1000,
  factor: 3,
});

/** HTTP 429 without a `Retry-After`: back off this many times harder than for other failures. */
export const THROTTLE_PENALTY = 2;

const ENV_FIELDS = [
  ['RETRY_MAX_ATTEMPTS', 'maxAttempts', 1],
  ['RETRY_MAX_AGE_MS', 'maxAgeMs', 0],
  ['RETRY_BASE_DELAY_MS', 'baseDelayMs', 0],
  ['RETRY_MAX_DELAY_MS', 'maxDelayMs', 0],
] as const;

/**
 * `defaults` overridden by `RETRY_MAX_ATTEMPTS`, `RETRY_MAX_AGE_MS`, `RETRY_BASE_DELAY_MS` and
 * `RETRY_MAX_DELAY_MS`. Throws an error naming the variable when a value is not a usable integer.
 *
 * @example
 * const policy = retryPolicyFromEnv(process.env, LOCAL_RETRY_POLICY);
 */
export function retryPolicyFromEnv(env: Record<string, string | undefined>, defaults: RetryPolicy): RetryPolicy {
  const policy: RetryPolicy = { ...defaults };
  for (const [name, field, min] of ENV_FIELDS) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
      throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
    }
    policy[field] = value;
  }
  if (policy.maxDelayMs < policy.baseDelayMs) {
    throw new Error(
      `RETRY_MAX_DELAY_MS (${policy.maxDelayMs}) must not be below RETRY_BASE_DELAY_MS (${policy.baseDelayMs})`,
    );
  }
  return policy;
}

export interface RetryInput {
  /** The attempt that just failed, 1 for the first. */
  attempt: number;
  /** Epoch ms of the first enqueue. */
  firstQueuedAt: number;
  /** Epoch ms now. */
  now: number;
  error: DeliveryError | FunctionError | Error;
  policy: RetryPolicy;
  /** Uniform in [0, 1); injectable so schedules are testable. */
  random?: () => number;
}

export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'dead-letter'; reason: string };

/**
 * What to do after a failed attempt: retry after a delay, or dead-letter now.
 *
 * The nominal delay before retry `n` (after attempt `n`) is `baseDelayMs * factor^(n-1)`, capped
 * at `maxDelayMs`. "Equal jitter" is applied: the delay is uniform in [nominal/2, nominal], so
 * retries of many deliveries spread out while each keeps at least half its backoff (full jitter
 * could retry a struggling receiver at once). A 429 without `Retry-After` multiplies the nominal
 * delay by {@link THROTTLE_PENALTY}. A `Retry-After` is honoured: the delay is never below it,
 * though still capped at `maxDelayMs`.
 *
 * Errors that cannot succeed on a second try are dead-lettered at once: a `DeliveryError` or
 * `FunctionError` that is not retryable, and any other error of the core's hierarchy (they are
 * deterministic, e.g. a schema violation). A plain `Error` is an unexpected failure of our own
 * plumbing and is retried. Retries stop after `maxAttempts`, or when the next attempt would start
 * more than `maxAgeMs` after the first enqueue.
 *
 * @example
 * decideRetry({ attempt: 1, firstQueuedAt: t0, now: t0 + 200, error, policy: LOCAL_RETRY_POLICY });
 * // → { action: 'retry', delayMs: 500..1000 }
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { attempt, firstQueuedAt, now, error, policy } = input;
  const random = input.random ?? Math.random;

  if (!isRetryable(error)) {
    return { action: 'dead-letter', reason: `not retryable: ${describe(error)}` };
  }
  if (attempt >= policy.maxAttempts) {
    return { action: 'dead-letter', reason: `gave up after ${attempt} attempts: ${describe(error)}` };
  }

  const penalty = error instanceof DeliveryError && error.statusCode === 429 ? THROTTLE_PENALTY : 1;
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1) * penalty);
  const jittered = nominal / 2 + (nominal / 2) * clampUnit(random());
  const retryAfter = error instanceof DeliveryError ? (error.retryAfterMs ?? 0) : 0;
  const delayMs = Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, retryAfter)));

  const age = now + delayMs - firstQueuedAt;
  if (age > policy.maxAgeMs) {
    return {
      action: 'dead-letter',
      reason: `gave up after ${attempt} attempts: the next one would start ${age} ms after the first enqueue (limit ${policy.maxAgeMs} ms): ${describe(error)}`,
    };
  }
  return { action: 'retry', delayMs };
}

function isRetryable(error: Error): boolean {
  if (error instanceof DeliveryError || error instanceof FunctionError) return error.retryable;
  return !(error instanceof EventHooksError);
}

function describe(error: Error): string {
  const status = error instanceof DeliveryError && error.statusCode !== undefined ? ` (HTTP ${error.statusCode})` : '';
  return `${error.name}${status}: ${error.message}`;
}

function clampUnit(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

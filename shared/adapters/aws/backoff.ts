/** Waiting between attempts at an AWS call: injectable so tests never sleep. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** In [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

/** How an adapter retries a failed AWS call; every field is optional and defaulted by `retrySettings`. */
export interface RetryOptions {
  /** Attempts, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: Sleep;
  random?: () => number;
}

/** Retries of one batch call (PutEvents, SendMessageBatch): a few quick attempts, then the caller's own retry. */
export const BATCH_RETRY_DEFAULTS = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000 } as const;

/** The options with their defaults filled in, shared by the adapters' retry loops. */
export function retrySettings(
  options: RetryOptions,
  defaults: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number },
): { maxAttempts: number; sleep: Sleep; backoff: BackoffOptions } {
  return {
    maxAttempts: Math.max(1, options.maxAttempts ?? defaults.maxAttempts),
    sleep: options.sleep ?? realSleep,
    backoff: {
      baseDelayMs: options.baseDelayMs ?? defaults.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? defaults.maxDelayMs,
      ...(options.random ? { random: options.random } : {}),
    },
  };
}

/**
 * Exponential backoff with "equal jitter": half of the capped exponential step is fixed, half random,
 * so callers that were throttled together spread out but never retry immediately.
 *
 * @example backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 2000 }) // 50..100 ms
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return Math.round(step / 2 + (step / 2) * random());
}

/** The error name the AWS SDK v3 gives a service exception (`TooManyRequestsException`, …). */
export function awsErrorName(error: unknown): string {
  if (error && typeof error === 'object' && 'name' in error && typeof error.name === 'string') return error.name;
  return 'Error';
}

/** HTTP status of a service exception, if the SDK recorded one. */
export function awsHttpStatus(error: unknown): number | undefined {
  if (error && typeof error === 'object' && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode;
  }
  return undefined;
}

/** `client` or `server` for an error the service answered with; undefined when no answer came (network, timeout). */
export function awsFault(error: unknown): 'client' | 'server' | undefined {
  if (error && typeof error === 'object' && '$fault' in error) {
    const fault = (error as { $fault?: unknown }).$fault;
    if (fault === 'client' || fault === 'server') return fault;
  }
  return undefined;
}

/** Chunks `items` into groups of at most `maxCount` whose `size` adds up to at most `maxBytes`. */
export function batchBy<T>(items: T[], maxCount: number, maxBytes: number, size: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + itemBytes > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

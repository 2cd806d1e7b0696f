import { EventHooksError } from '../errors.ts';
import type { HookEvent } from '../events/envelope.ts';

/** One delivery of one event to one hook. Small, typed and versioned; the hook is looked up by id at delivery time. */
export interface DeliveryJob {
  type: 'deliver.v1';
  /** Stable across retries; sent to receivers as `x-event-hooks-delivery` so they can de-duplicate. */
  deliveryId: string;
  tenant: string;
  hookId: string;
  event: HookEvent;
  /** 1 for the first attempt. */
  attempt: number;
  /** Epoch ms of the first enqueue, to bound retries by age. */
  firstQueuedAt: number;
}

/** A job that will never succeed, with why; stored where the Admin API can list and replay it. */
export interface DeadLetter {
  job: DeliveryJob;
  reason: string;
  deadLetteredAt: number;
}

/**
 * Some jobs of a `send` were larger than the queue takes: they were not sent, every other job was.
 * Final for those jobs: the caller dead-letters each with `reasonFor(job)`.
 */
export class JobsTooLargeError extends EventHooksError {
  override readonly status = 413;
  readonly jobs: { job: DeliveryJob; bytes: number }[];
  readonly maxBytes: number;

  constructor(jobs: { job: DeliveryJob; bytes: number }[], maxBytes: number) {
    super(`${jobs.length} delivery job(s) larger than the queue's ${maxBytes} bytes were not sent`);
    this.jobs = jobs;
    this.maxBytes = maxBytes;
  }

  reasonFor(bytes: number): string {
    return `delivery job is ${bytes} bytes; the delivery queue takes at most ${this.maxBytes}`;
  }
}

/** SQS on AWS, an in-process queue locally. */
export interface DeliveryQueue {
  /**
   * Enqueue jobs, optionally not visible before `delayMs` has passed. Rejects with
   * `JobsTooLargeError` (after sending the rest) when some jobs are too large for the queue.
   */
  send(jobs: DeliveryJob[], options?: { delayMs?: number }): Promise<void>;
}

/** Deliveries running at once by default by the local queue: enough to keep a loopback receiver busy on two cores. */
export const DEFAULT_DELIVERY_CONCURRENCY = 64;

/**
 * Deliveries to one hook running at once by default: a quarter of the total, so a hanging endpoint
 * holds at most that share and every other hook keeps the rest.
 */
export function defaultConcurrencyPerHook(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 4));
}

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

/** SQS on AWS, an in-process queue locally. */
export interface DeliveryQueue {
  /** Enqueue jobs, optionally not visible before `delayMs` has passed. */
  send(jobs: DeliveryJob[], options?: { delayMs?: number }): Promise<void>;
}

/** Deliveries running at once by default by the local queue: enough to keep a loopback receiver busy on two cores. */
export const DEFAULT_DELIVERY_CONCURRENCY = 64;

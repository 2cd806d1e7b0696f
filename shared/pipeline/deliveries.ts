import { type HookHealth, hookHealth } from '../deliveryLog/health.ts';
import type { DeliveryLog, DeliveryPage, DeliveryQuery, DeliveryRecord } from '../deliveryLog/record.ts';
import { ConflictError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue } from '../ports/deliveryQueue.ts';
import { type DeadLetterStore, deadLetterId, type StoredDeadLetter } from '../store/deadLetterStore.ts';

/** What the Admin API does with the delivery log. */
export interface Deliveries {
  list(tenant: string, hookId: string, query: DeliveryQuery): Promise<DeliveryPage>;
  get(tenant: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Queues the delivery again as a fresh first attempt, same id; `undefined` when unknown. */
  replay(tenant: string, id: string): Promise<DeliveryRecord | undefined>;
  health(tenant: string, hookId: string): Promise<HookHealth>;
}

/**
 * Counts what a replay puts back into delivery against the tenant's `events_per_second`, throwing
 * `QuotaExceededError` (429) past it: the ingest quota's `admitEvents`.
 */
export type AdmitReplays = (tenant: string, count: number) => Promise<void>;

export class EventNotKeptError extends ConflictError {}
/** A delivery still retrying or already queued again: a replay would run two chains of attempts under one id. */
export class DeliveryInProgressError extends ConflictError {}

/** The 409 of a replay while the delivery is retrying or queued (already replayed). */
export const deliveryInProgress = (id: string, status: 'retrying' | 'pending' = 'pending') =>
  new DeliveryInProgressError(
    `delivery ${id} is ${status === 'retrying' ? 'still being retried' : 'already queued'}; replay it once it is delivered or dead`,
  );

/**
 * The delivery log behind the Admin API. A replay marks the record pending, then queues the job:
 * the delivery id is kept, so receivers can still de-duplicate; dead and delivered ones alike (one
 * still retrying or queued answers 409). The record is marked pending by compare-and-set, so of
 * concurrent replays (from either route) one queues it and the others answer 409. A dead
 * delivery's dead letter goes with the replay, as a replay from `/dead-letters` takes it, and is
 * put back, with the record, if the job could not be queued.
 */
export function createDeliveries(deps: {
  log: DeliveryLog;
  queue: DeliveryQueue;
  clock: Clock;
  deadLetters?: Pick<DeadLetterStore, 'delete' | 'put'>;
  /** A replay counts against the tenant's events per second, as one from `/dead-letters` does. */
  admit?: AdmitReplays;
}): Deliveries {
  return {
    list: (tenant, hookId, query) => deps.log.list(tenant, hookId, query),
    get: (tenant, id) => deps.log.get(tenant, id),
    health: (tenant, hookId) => hookHealth(deps.log, tenant, hookId, deps.clock.now()),
    async replay(tenant, id) {
      const record = await deps.log.get(tenant, id);
      if (!record) return undefined;
      if (record.status === 'retrying' || record.status === 'pending')
        throw deliveryInProgress(record.id, record.status);
      if (!record.event) {
        throw new EventNotKeptError(
          'the event of this delivery was not kept (over 1 KB with CAPTURE_BODIES off); replay it from /dead-letters if it is there',
        );
      }
      // Refused past the quota before anything changed.
      await deps.admit?.(tenant, 1);
      // Marked pending only if still as read: of two replays racing (from either route), one marks
      // it and the other answers 409 here.
      const pending = await deps.log.replay(tenant, id, record);
      if (!pending) throw deliveryInProgress(record.id);
      // The worker dead-letters and logs a dead attempt at one instant, so the record's last write
      // names its dead letter (none left when it was deleted, or expired; a dead letter the local
      // queue itself made of a job that kept failing is not found, and stays). A `/dead-letters`
      // replay holding it meanwhile finds the record changed, answers 409 and puts it back.
      let claimed: StoredDeadLetter | undefined;
      try {
        claimed =
          record.status === 'dead'
            ? await deps.deadLetters?.delete(tenant, deadLetterId(record.updatedAt, record.id))
            : undefined;
      } catch (error) {
        await deps.log.save(record);
        throw error;
      }
      try {
        await deps.queue.send([
          {
            type: 'deliver.v1',
            deliveryId: record.id,
            tenant,
            hookId: record.hookId,
            event: record.event,
            attempt: 1,
            firstQueuedAt: deps.clock.now(),
          },
        ]);
      } catch (error) {
        // Nothing was queued: the delivery is as it was, replayable again from either route.
        await deps.log.save(record);
        if (claimed) await deps.deadLetters?.put(claimed);
        throw error;
      }
      return pending;
    },
  };
}

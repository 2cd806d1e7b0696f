import type { DeliveryLog, DeliveryRecord } from '../deliveryLog/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { DeadLetterPage, DeadLetterStore, StoredDeadLetter } from '../store/deadLetterStore.ts';

/** What the Admin API does with dead letters. */
export interface DeadLetters {
  list(tenant: string, options: { size: number; offset?: string }): Promise<DeadLetterPage>;
  get(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
  /** Puts the job back on the delivery queue as a fresh first attempt; `undefined` when unknown. */
  replay(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
  delete(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
}

/**
 * Counts what a replay puts back into delivery against the tenant's `events_per_second`, throwing
 * `QuotaExceededError` (429) past it: the ingest quota's `admitEvents`.
 */
export type AdmitReplays = (tenant: string, count: number) => Promise<void>;

/**
 * Dead letters over the store and the delivery queue. A replay claims the dead letter by deleting
 * it (so two concurrent replays send it once), counts it against the tenant's events per second,
 * then enqueues it, and puts it back if either fails: nothing is lost either way. The delivery id
 * is kept, so receivers can still de-duplicate.
 */
export function createDeadLetters(deps: {
  store: DeadLetterStore;
  queue: DeliveryQueue;
  clock: Clock;
  admit?: AdmitReplays;
  /**
   * The delivery log, when on: the replayed delivery is marked pending there, as a replay from
   * `/deliveries` marks it, so that route answers 409 while this replay runs instead of queueing
   * a second chain of attempts under the same id.
   */
  log?: Pick<DeliveryLog, 'get' | 'replay' | 'save'>;
}): DeadLetters {
  return {
    list: (tenant, options) => deps.store.list(tenant, options),
    get: (tenant, id) => deps.store.get(tenant, id),
    delete: (tenant, id) => deps.store.delete(tenant, id),
    async replay(tenant, id) {
      const entry = await deps.store.delete(tenant, id);
      if (!entry) return undefined;
      let logged: DeliveryRecord | undefined;
      try {
        await deps.admit?.(tenant, 1);
        logged = await deps.log?.get(tenant, entry.job.deliveryId);
        if (logged) await deps.log?.replay(tenant, entry.job.deliveryId);
        await deps.queue.send([{ ...entry.job, attempt: 1, firstQueuedAt: deps.clock.now() }]);
      } catch (error) {
        if (logged) await deps.log?.save(logged);
        await deps.store.put(entry);
        throw error;
      }
      return entry;
    },
  };
}

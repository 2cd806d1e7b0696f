import type { DeliveryLog } from '../deliveryLog/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { DeadLetterPage, DeadLetterStore, StoredDeadLetter } from '../store/deadLetterStore.ts';
import { type AdmitReplays, deliveryInProgress } from './deliveries.ts';

/** What the Admin API does with dead letters. */
export interface DeadLetters {
  list(tenant: string, options: { size: number; offset?: string }): Promise<DeadLetterPage>;
  get(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
  /** Puts the job back on the delivery queue as a fresh first attempt; `undefined` when unknown. */
  replay(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
  delete(tenant: string, id: string): Promise<StoredDeadLetter | undefined>;
}

/**
 * Dead letters over the store and the delivery queue. A replay is refused (409, 429) before the
 * dead letter is touched; it then claims the dead letter by deleting it (so two concurrent replays send it
 * once), marks the delivery pending in the log by compare-and-set (so a concurrent replay from
 * `/deliveries` and this one queue it once), then enqueues it, and puts it back if any step after
 * the claim fails: nothing is lost either way. The delivery id is kept, so receivers can still
 * de-duplicate.
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
      // Read first, so a replay refused (429, 409) leaves the dead letter untouched.
      const found = await deps.store.get(tenant, id);
      if (!found) return undefined;
      const deliveryId = found.job.deliveryId;
      const logged = await deps.log?.get(tenant, deliveryId);
      // Already queued again (from `/deliveries`) or still retrying: a second chain of attempts
      // under one id would run.
      if (logged && (logged.status === 'pending' || logged.status === 'retrying')) {
        throw deliveryInProgress(deliveryId, logged.status);
      }
      await deps.admit?.(tenant, 1);
      const entry = await deps.store.delete(tenant, id);
      if (!entry) return undefined;
      try {
        // Marked pending only if still as read: a replay from `/deliveries` in between wins, and
        // this one answers 409 with the dead letter put back.
        if (logged && !(await deps.log?.replay(tenant, deliveryId, logged))) throw deliveryInProgress(deliveryId);
      } catch (error) {
        await deps.store.put(entry);
        throw error;
      }
      try {
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

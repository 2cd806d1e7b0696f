import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import { dayOf, type UsageCounter, type UsageCounts, type UsageStore, zeroCounts } from './usageStore.ts';

export type { UsageCounter } from './usageStore.ts';

/** Counts usage in memory and writes it in batches (docs/saas.md § Metering). */
export interface UsageMeter {
  /** Adds `n` (default 1) to the tenant's counter for today. Synchronous and free: nothing is written here. */
  add(tenant: string, counter: UsageCounter, n?: number): void;
  /**
   * Writes what was counted since the last flush: one `UpdateItem … ADD` per tenant and day. What
   * cannot be written is kept for the next flush. Resolves when everything counted before the call
   * was tried; concurrent calls share the work.
   */
  flush(): Promise<void>;
  /**
   * A deleted tenant: what it counted and not yet written is dropped, and what it counts from now on
   * (a delivery that was under way) is ignored, so no flush writes usage back after its deletion.
   * Tenant ids are never reused.
   */
  forget(tenant: string): void;
  /** Tenant-days counted and not yet written. */
  readonly pending: number;
}

interface Pending {
  tenant: string;
  day: string;
  counts: UsageCounts;
}

/**
 * The meter every part of the pipeline counts into. Counting is a map update; writing happens when
 * the runtime flushes: every `METERING_FLUSH_MS` and at shutdown locally, at the end of each
 * invocation on AWS. So a delivery costs no write of its own, and a batch of deliveries of one tenant
 * costs one.
 *
 * @example
 * const meter = createUsageMeter({ store, clock, logger });
 * meter.add('acme', 'deliveries_delivered');
 * await meter.flush();
 */
export function createUsageMeter(options: { store: UsageStore; clock: Clock; logger: Logger }): UsageMeter {
  let pending = new Map<string, Pending>();
  let flushing: Promise<void> | undefined;
  let again = false;
  const forgotten = new Set<string>();

  const merge = (into: Map<string, Pending>, entry: Pending) => {
    const key = `${entry.tenant}\n${entry.day}`;
    const existing = into.get(key);
    if (!existing) {
      into.set(key, entry);
      return;
    }
    for (const [counter, n] of Object.entries(entry.counts)) existing.counts[counter as UsageCounter] += n;
  };

  const writeAll = async () => {
    const batch = [...pending.values()];
    pending = new Map();
    const results = await Promise.allSettled(
      batch.map((entry) => options.store.add(entry.tenant, entry.day, entry.counts)),
    );
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const entry = batch[i] as Pending;
      options.logger.warn('usage not written yet; kept for the next flush', {
        tenant: entry.tenant,
        day: entry.day,
        error: result.reason,
      });
      merge(pending, entry);
    });
  };

  const flush = (): Promise<void> => {
    if (flushing) {
      // Counted after the running flush took its batch: one more round once it ends.
      again = true;
      return flushing;
    }
    if (pending.size === 0) return Promise.resolve();
    flushing = (async () => {
      try {
        do {
          again = false;
          await writeAll();
        } while (again && pending.size > 0);
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  };

  return {
    add(tenant, counter, n = 1) {
      if (n <= 0 || forgotten.has(tenant)) return;
      const counts = zeroCounts();
      counts[counter] = n;
      merge(pending, { tenant, day: dayOf(options.clock.now()), counts });
    },
    flush,
    forget(tenant) {
      forgotten.add(tenant);
      for (const [key, entry] of pending) if (entry.tenant === tenant) pending.delete(key);
    },
    get pending() {
      return pending.size;
    },
  };
}

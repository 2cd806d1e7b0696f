import { createHash } from 'node:crypto';
import type { HookEvent } from '../events/envelope.ts';
import type { Gate } from '../gate/gate.ts';
import { findEvent } from '../hooks/catalog.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { DeadLetterStore } from '../store/deadLetterStore.ts';
import { enqueue } from './enqueue.ts';
import type { HookCache } from './hookCache.ts';
import { eventForms, formSources, matchHook } from './matching.ts';

export interface DispatcherDeps {
  cache: HookCache;
  gate: Gate;
  queue: DeliveryQueue;
  /** Where a job too large for the queue goes, on its own. */
  deadLetters: Pick<DeadLetterStore, 'put'>;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * The delivery id of one event to one hook: derived, not random, so a dispatch that EventBridge
 * retries (or delivers twice) yields the same id and receivers can de-duplicate on it.
 */
export function deliveryIdFor(eventId: string, hookId: string): string {
  const hex = createHash('sha256').update(`${eventId}\n${hookId}`).digest('hex');
  // Formatted as a name-based UUID (version 5 layout, variant 10xx).
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Which gate held an event back, as a bounded label: the gate answers yes or no, not which rule said no. */
function gateReason(hook: { snooze?: unknown; on_change?: unknown }): string {
  if (hook.snooze && hook.on_change) return 'snooze_on_change';
  return hook.snooze ? 'snooze' : 'on_change';
}

/**
 * Takes one event off the bus: finds the hooks that match any of its forms, lets each through the
 * `on_change`/`snooze` gate, and enqueues one delivery job per admitted hook. It never delivers.
 * Rejects (so the bus retries the event) only if the jobs could not be enqueued. A retry is safe:
 * the gate lets the same event through again (it remembers which event opened a window or set a
 * digest), and delivery ids are derived from the event and hook, so duplicates carry the same id.
 */
export function createDispatcher(deps: DispatcherDeps): (event: HookEvent) => Promise<DeliveryJob[]> {
  return async (event) => {
    const forms = eventForms(event.source, event.event, event.data);
    const [catalog, ...hookLists] = await Promise.all([
      deps.cache.catalog(event.tenant),
      ...formSources(forms).map((source) => deps.cache.hooksFor(event.tenant, source)),
    ]);
    const matches = hookLists.flat().flatMap((hook) => {
      const form = matchHook(hook, forms);
      return form ? [{ hook, form }] : [];
    });
    const admitted = await Promise.all(
      matches.map(async ({ hook, form }) => {
        if (!hook.snooze && !hook.on_change) return true;
        const unique = findEvent(catalog, form.source, form.event)?.unique;
        return deps.gate.admit({
          tenant: event.tenant,
          hook,
          source: form.source,
          event: form.event,
          data: event.data,
          eventId: event.id,
          ...(unique ? { unique } : {}),
        });
      }),
    );
    const now = deps.clock.now();
    const jobs: DeliveryJob[] = [];
    matches.forEach(({ hook, form }, i) => {
      if (!admitted[i]) {
        deps.logger.debug('event suppressed', { hook_id: hook.id, event_id: event.id, reason: 'on_change/snooze' });
        deps.metrics?.count('events_suppressed', { handler: hook.handler, reason: gateReason(hook) });
        return;
      }
      jobs.push({
        type: 'deliver.v1',
        deliveryId: deliveryIdFor(event.id, hook.id),
        tenant: event.tenant,
        hookId: hook.id,
        event: { ...event, source: form.source, event: form.event },
        attempt: 1,
        firstQueuedAt: now,
      });
    });
    if (jobs.length > 0) await enqueue(deps, jobs, now);
    return jobs;
  };
}

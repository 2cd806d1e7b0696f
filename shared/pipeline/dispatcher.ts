import { createHash } from 'node:crypto';
import type { HookEvent } from '../events/envelope.ts';
import type { Gate } from '../gate/gate.ts';
import type { ThresholdCounter } from '../gate/threshold.ts';
import { findEvent } from '../hooks/catalog.ts';
import type { EventHook } from '../hooks/hook.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { Metrics } from '../ports/metrics.ts';
import { createFilterCache } from '../rules/hookFilter.ts';
import type { DeadLetterStore } from '../store/deadLetterStore.ts';
import { enqueue } from './enqueue.ts';
import type { HookCache } from './hookCache.ts';
import { eventForms, formSources, matchHook } from './matching.ts';

export interface DispatcherDeps {
  cache: HookCache;
  gate: Gate;
  /** Counts events for hooks with a `threshold`. */
  threshold: ThresholdCounter;
  queue: DeliveryQueue;
  /** Where a job too large for the queue goes, on its own. */
  deadLetters: Pick<DeadLetterStore, 'put'>;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

/** What became of one matching hook: `suppressed:gate` is `on_change`/`snooze`. */
type Outcome = 'admitted' | 'suppressed:threshold' | 'suppressed:gate';

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
 * Takes one event off the bus: finds the hooks that match any of its forms, drops those whose
 * `filter` the data does not match (before any store write), counts the event for hooks with a
 * `threshold`, lets the rest through the `on_change`/`snooze` gate, and enqueues one delivery job
 * per admitted hook. It never delivers.
 * Rejects (so the bus retries the event) only if the jobs could not be enqueued. A retry is safe:
 * the gate lets the same event through again (it remembers which event opened a window or set a
 * digest), and delivery ids are derived from the event and hook, so duplicates carry the same id.
 */
export function createDispatcher(deps: DispatcherDeps): (event: HookEvent) => Promise<DeliveryJob[]> {
  const filters = createFilterCache(deps.logger);
  // Data nested past what the matcher can walk (a producer on AWS may put events 1,100 deep) fails
  // that hook's filter, not the whole dispatch: every other hook still gets the event.
  const passesFilter = (hook: EventHook, event: HookEvent): boolean => {
    if (!hook.filter) return true;
    try {
      return filters.matcherOf(hook)(event.data);
    } catch (error) {
      deps.logger.warn('event filtered: its data could not be matched', {
        hook_id: hook.id,
        event_id: event.id,
        error,
      });
      return false;
    }
  };
  return async (event) => {
    const forms = eventForms(event.source, event.event, event.data);
    const [catalog, ...hookLists] = await Promise.all([
      deps.cache.catalog(event.tenant),
      ...formSources(forms).map((source) => deps.cache.hooksFor(event.tenant, source)),
    ]);
    const matches = hookLists.flat().flatMap((hook) => {
      const form = matchHook(hook, forms);
      if (!form) return [];
      // A disabled hook writes no gate item and counts nothing: it is as if it were not there, but said.
      if (hook.enabled === false) {
        deps.logger.debug('event skipped: the hook is disabled', {
          hook_id: hook.id,
          event_id: event.id,
          outcome: 'disabled',
        });
        return [];
      }
      if (!passesFilter(hook, event)) {
        deps.logger.debug('event filtered', { hook_id: hook.id, event_id: event.id, outcome: 'filtered' });
        return [];
      }
      return [{ hook, form }];
    });
    const outcomes = await Promise.all(
      matches.map(async ({ hook, form }): Promise<Outcome> => {
        if (!hook.threshold && !hook.snooze && !hook.on_change) return 'admitted';
        const unique = findEvent(catalog, form.source, form.event)?.unique;
        const input = {
          tenant: event.tenant,
          hook,
          source: form.source,
          event: form.event,
          data: event.data,
          eventId: event.id,
          ...(unique ? { unique } : {}),
        };
        // The threshold counts matching events; snooze and on_change then apply to its firings.
        if (hook.threshold && !(await deps.threshold.reached(input))) return 'suppressed:threshold';
        if (!hook.snooze && !hook.on_change) return 'admitted';
        return (await deps.gate.admit(input)) ? 'admitted' : 'suppressed:gate';
      }),
    );
    const now = deps.clock.now();
    const jobs: DeliveryJob[] = [];
    matches.forEach(({ hook, form }, i) => {
      const outcome = outcomes[i];
      if (outcome !== 'admitted') {
        deps.logger.debug('event suppressed', { hook_id: hook.id, event_id: event.id, outcome });
        const reason = outcome === 'suppressed:threshold' ? 'threshold' : gateReason(hook);
        deps.metrics?.count('events_suppressed', { handler: hook.handler, reason });
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

import { randomUUID } from 'node:crypto';
import type { HookEvent } from '../events/envelope.ts';
import type { Gate } from '../gate/gate.ts';
import { findEvent } from '../hooks/catalog.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { HookCache } from './hookCache.ts';
import { eventForms, formSources, matchHook } from './matching.ts';

export interface DispatcherDeps {
  cache: HookCache;
  gate: Gate;
  queue: DeliveryQueue;
  clock: Clock;
  logger: Logger;
  newId?: () => string;
}

/**
 * Takes one event off the bus: finds the hooks that match any of its forms, lets each through the
 * `on_change`/`snooze` gate, and enqueues one delivery job per admitted hook. It never delivers.
 * Rejects (so the bus retries the event) only if the jobs could not be enqueued; a retried event
 * passes the gate again only where the first try did not already admit it.
 */
export function createDispatcher(deps: DispatcherDeps): (event: HookEvent) => Promise<DeliveryJob[]> {
  const newId = deps.newId ?? randomUUID;
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
          ...(unique ? { unique } : {}),
        });
      }),
    );
    const now = deps.clock.now();
    const jobs: DeliveryJob[] = [];
    matches.forEach(({ hook, form }, i) => {
      if (!admitted[i]) {
        deps.logger.debug('event suppressed', { hook_id: hook.id, event_id: event.id, reason: 'on_change/snooze' });
        return;
      }
      jobs.push({
        type: 'deliver.v1',
        deliveryId: newId(),
        tenant: event.tenant,
        hookId: hook.id,
        event: { ...event, source: form.source, event: form.event },
        attempt: 1,
        firstQueuedAt: now,
      });
    });
    if (jobs.length > 0) await deps.queue.send(jobs);
    return jobs;
  };
}

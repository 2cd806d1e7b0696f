import { deliveryIdFor, deliveryIdsFor } from '../deliveryLog/deliveryId.ts';
import type { HookEvent } from '../events/envelope.ts';
import {
  type EventOutcome,
  type EventRecords,
  eventRecord,
  type HookOutcome,
  type RecordPolicy,
} from '../events/eventRecord.ts';
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
import { type EventForm, eventForms, formSources, matchHook } from './matching.ts';
import { createUnmatchedLog } from './unmatchedLog.ts';

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
  /** Where each event's record (the event and its outcome per hook) goes; none is kept without it. */
  events?: EventRecords;
  /** What a record keeps and for how long; default: bodies captured, 7 days. */
  recordPolicy?: RecordPolicy;
}

/** An event's record keeps bodies and lasts a week unless the deployment says otherwise. */
export const DEFAULT_RECORD_POLICY: RecordPolicy = { captureBodies: true, retentionDays: 7 };

/** Derived from the event and the hook, so a retried dispatch yields the same id (shared/deliveryLog/deliveryId.ts). */
export { deliveryIdFor };

/** A hook the event matched under `form`, and what became of it. */
interface Match {
  hook: EventHook;
  form: EventForm;
  outcome: EventOutcome;
}

/**
 * Takes one event off the bus: finds the hooks that match any of its forms, skips disabled hooks
 * and drops those whose `filter` the data does not match (before any store write), counts the event
 * for hooks with a `threshold`, lets the rest through the `on_change`/`snooze` gate, and enqueues one
 * delivery job per admitted hook. It never delivers. Then it writes the event's record, one write
 * holding every hook's outcome (`GET /events/{id}`).
 * Rejects (so the bus retries the event) only if the jobs could not be enqueued; the record says
 * `failed_to_queue` meanwhile. A retry is safe: the gate lets the same event through again (it
 * remembers which event opened a window or set a digest), and delivery ids are derived from the
 * event and hook, so duplicates carry the same id; the record is rewritten.
 */
export function createDispatcher(deps: DispatcherDeps): (event: HookEvent) => Promise<DeliveryJob[]> {
  const filters = createFilterCache(deps.logger);
  const policy = deps.recordPolicy ?? DEFAULT_RECORD_POLICY;
  const unmatched = createUnmatchedLog(deps.logger, deps.clock);
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

  /** Threshold first (it counts matching events), then snooze and on_change on its firings. */
  const gateOutcome = async (
    hook: EventHook,
    form: EventForm,
    event: HookEvent,
    unique: string[] | undefined,
  ): Promise<EventOutcome> => {
    if (!hook.threshold && !hook.snooze && !hook.on_change) return 'queued';
    const input = {
      tenant: event.tenant,
      hook,
      source: form.source,
      event: form.event,
      data: event.data,
      eventId: event.id,
      ...(unique ? { unique } : {}),
    };
    if (hook.threshold && !(await deps.threshold.reached(input))) return 'suppressed:threshold';
    if (!hook.snooze && !hook.on_change) return 'queued';
    const decision = await deps.gate.decide(input);
    return decision === 'admitted' ? 'queued' : `suppressed:${decision}`;
  };

  /** One write per event; a lost record costs a diagnosis, not a delivery, so it never fails the dispatch. */
  const record = async (event: HookEvent, matches: Match[], jobs: Map<Match, DeliveryJob>) => {
    if (!deps.events) return;
    const hooks: HookOutcome[] = matches.map((match) => ({
      hook_id: match.hook.id,
      outcome: match.outcome,
      delivery_id: jobs.get(match)?.deliveryId ?? null,
    }));
    try {
      await deps.events.put(eventRecord(event, hooks, deps.clock.now(), policy));
    } catch (error) {
      deps.logger.warn('could not record the event’s outcomes', { event_id: event.id, tenant: event.tenant, error });
    }
  };

  return async (event) => {
    const forms = eventForms(event.source, event.event, event.data);
    const [catalog, ...hookLists] = await Promise.all([
      deps.cache.catalog(event.tenant),
      ...formSources(forms).map((source) => deps.cache.hooksFor(event.tenant, source)),
    ]);
    const matches: Match[] = [];
    for (const hook of hookLists.flat()) {
      const form = matchHook(hook, forms);
      if (!form) continue;
      // A disabled hook writes no gate item and counts nothing: it is as if it were not there, but said.
      if (hook.enabled === false) matches.push({ hook, form, outcome: 'disabled' });
      else matches.push({ hook, form, outcome: passesFilter(hook, event) ? 'queued' : 'filtered' });
    }
    if (matches.length === 0) unmatched.note(event);
    await Promise.all(
      matches.map(async (match) => {
        if (match.outcome !== 'queued') return;
        const unique = findEvent(catalog, match.form.source, match.form.event)?.unique;
        match.outcome = await gateOutcome(match.hook, match.form, event, unique);
      }),
    );
    const now = deps.clock.now();
    const jobs = new Map<Match, DeliveryJob>();
    const deliveryId = deliveryIdsFor(event);
    for (const match of matches) {
      const { hook, form, outcome } = match;
      if (outcome !== 'queued') {
        noteHeldBack(deps, hook, event, outcome);
        continue;
      }
      jobs.set(match, {
        type: 'deliver.v1',
        deliveryId: deliveryId(hook.id),
        tenant: event.tenant,
        hookId: hook.id,
        event: { ...event, source: form.source, event: form.event },
        attempt: 1,
        firstQueuedAt: now,
      });
    }
    if (jobs.size > 0) {
      try {
        const deadLettered = await enqueue(deps, [...jobs.values()], now);
        for (const [match, job] of jobs) if (deadLettered.has(job.deliveryId)) match.outcome = 'failed_to_queue';
      } catch (error) {
        for (const match of jobs.keys()) match.outcome = 'failed_to_queue';
        await record(event, matches, jobs);
        throw error;
      }
    }
    await record(event, matches, jobs);
    return [...jobs.values()];
  };
}

/**
 * A hook that did not get the event, said in the log: which rule held it back at `info` (the
 * question users ask is "why didn't my hook fire?"), a filter or a disabled hook at `debug`.
 */
function noteHeldBack(deps: DispatcherDeps, hook: EventHook, event: HookEvent, outcome: EventOutcome): void {
  const fields = { tenant: event.tenant, hook_id: hook.id, event_id: event.id, outcome };
  if (outcome === 'filtered') deps.logger.debug('event filtered', fields);
  else if (outcome === 'disabled') deps.logger.debug('event skipped: the hook is disabled', fields);
  else {
    const reason = outcome.slice('suppressed:'.length);
    deps.logger.info(`event suppressed by ${reason}`, { ...fields, reason });
    deps.metrics?.count('events_suppressed', { handler: hook.handler, reason });
  }
}

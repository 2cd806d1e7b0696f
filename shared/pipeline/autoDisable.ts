import type { DeliveryLog, DeliveryRecord } from '../deliveryLog/record.ts';
import { ConflictError } from '../errors.ts';
import type { EventHook } from '../hooks/hook.ts';
import { type Logger, redact } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { EventBus } from '../ports/eventBus.ts';
import type { HookStore } from '../store/hookStore.ts';

export interface AutoDisableOptions {
  /** Failed deliveries in a row (AUTO_DISABLE_FAILURES, default 50; 0 turns auto-disable off). */
  failures: number;
  /** …spanning at least this long with no success (AUTO_DISABLE_WINDOW_SECONDS, default 5 days). */
  windowMs: number;
}

export interface AutoDisableDeps extends AutoDisableOptions {
  log: Pick<DeliveryLog, 'recent' | 'save'>;
  hooks: Pick<HookStore, 'get' | 'replace'>;
  /** Opens the secrets the store keeps sealed: the store seals what it writes, so it is given them open. */
  open: (tenant: string, hook: EventHook) => Promise<EventHook>;
  /** Called after the hook was stored disabled: this process's cache sees it at once. */
  invalidate: (tenant: string) => void;
  bus: () => EventBus;
  clock: Clock;
  logger: Logger;
}

/** What the `event_hooks/disabled` event says besides the hook. */
export interface DisableFacts {
  consecutive_failures: number;
  first_failure_at: number;
  last_failure_at: number;
}

/**
 * The failures that justify disabling, or `undefined`: the newest `failures` finished deliveries
 * (delivered or dead; pending and retrying ones are not known yet) all dead, from the first
 * attempt of the oldest to the last attempt of the newest at least `windowMs` apart.
 */
export function disableFacts(newestFirst: DeliveryRecord[], options: AutoDisableOptions): DisableFacts | undefined {
  if (options.failures <= 0) return undefined;
  // Failures before an earlier auto-disable are spent: a hook enabled again starts afresh.
  const spent = newestFirst.findIndex((r) => r.hookDisabledAt !== undefined);
  const counted = spent === -1 ? newestFirst : newestFirst.slice(0, spent);
  const finished = counted.filter((r) => r.status === 'delivered' || r.status === 'dead').slice(0, options.failures);
  if (finished.length < options.failures || finished.some((r) => r.status === 'delivered')) return undefined;
  const newest = finished[0] as DeliveryRecord;
  const oldest = finished[finished.length - 1] as DeliveryRecord;
  const first = oldest.attempts[0]?.startedAt ?? oldest.createdAt;
  if (newest.updatedAt - first < options.windowMs) return undefined;
  return {
    consecutive_failures: finished.length,
    first_failure_at: Math.floor(first / 1000),
    last_failure_at: Math.floor(newest.updatedAt / 1000),
  };
}

/**
 * The auto-disable check, run after a delivery went dead (issue 12 §3, as Svix does): reads the
 * hook's newest deliveries (one bounded query), and when they qualify sets `enabled: false` on the
 * hook with a conditional write on the revision it read, then emits `event_hooks/disabled`, which
 * users hook like any other event (into Slack, say). A concurrent change of the hook wins; the next
 * dead delivery checks again.
 */
export function createAutoDisable(deps: AutoDisableDeps): (tenant: string, hookId: string) => Promise<boolean> {
  return async (tenant, hookId) => {
    if (deps.failures <= 0) return false;
    // Twice the threshold: retrying and pending deliveries sit between the finished ones.
    const records = await deps.log.recent(tenant, hookId, { since: 0, limit: deps.failures * 2 });
    const facts = disableFacts(records, deps);
    if (!facts) return false;
    const stored = await deps.hooks.get(tenant, hookId);
    if (!stored || stored.hook.enabled === false) return false;
    const hook: EventHook = { ...(await deps.open(tenant, stored.hook)), enabled: false };
    try {
      await deps.hooks.replace(tenant, hook, stored.rev);
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
    deps.invalidate(tenant);
    const newest = records.find((r) => r.status === 'dead') as DeliveryRecord;
    await deps.log.save({ ...newest, hookDisabledAt: deps.clock.now() });
    deps.logger.warn('hook disabled after consecutive failed deliveries', { tenant, hook_id: hookId, ...facts });
    try {
      await deps
        .bus()
        .publish([
          { tenant, source: 'event_hooks', event: 'disabled', data: { ...facts, hook: redact(hook) as EventHook } },
        ]);
    } catch (error) {
      deps.logger.warn('could not emit event_hooks/disabled', { tenant, hook_id: hookId, error });
    }
    return true;
  };
}

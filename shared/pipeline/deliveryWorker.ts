import { decideRetry, type RetryPolicy } from '../delivery/retryPolicy.ts';
import type { AttemptOutcome, DeliveryLog } from '../deliveryLog/record.ts';
import { DeliveryError } from '../errors.ts';
import { createHandler } from '../handlers/index.ts';
import type { HandlerDeps, HookHandler } from '../handlers/types.ts';
import type { EventHook } from '../hooks/hook.ts';
import type { Logger } from '../logger.ts';
import type { UsageMeter } from '../metering/meter.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../ports/deliveryQueue.ts';
import { type Metrics, noMetrics } from '../ports/metrics.ts';
import type { DeadLetterStore } from '../store/deadLetterStore.ts';
import { enqueue } from './enqueue.ts';
import type { HookCache } from './hookCache.ts';

export interface DeliveryWorkerDeps {
  /** Hooks by id, cached like the dispatcher's: no store read per delivery. */
  hooks: Pick<HookCache, 'hook'>;
  queue: DeliveryQueue;
  /** Where final failures are kept for inspection and replay (the table). */
  deadLetters: Pick<DeadLetterStore, 'put'>;
  handlerDeps: (tenant: string) => HandlerDeps;
  /**
   * Opens the hook's sealed secrets (shared/secrets/hookSecrets.ts). Part of the attempt: a secret
   * that does not open is a failed delivery (dead-lettered with the reason), a KMS hiccup a retry.
   */
  open?: (tenant: string, hook: EventHook) => Promise<EventHook>;
  policy: RetryPolicy;
  clock: Clock;
  logger: Logger;
  /** Outcomes, latencies and attempts, labelled by handler (never by hook). */
  metrics?: Metrics;
  /** Attempts, deliveries and failures per tenant and day (docs/saas.md § Metering). */
  meter?: UsageMeter;
  random?: () => number;
  /** Where each attempt is recorded (issue 12 §1); none when the log is off. */
  deliveryLog?: Pick<DeliveryLog, 'record'>;
  /** Called after a delivery went dead and was logged: the auto-disable check. */
  afterDead?: (tenant: string, hookId: string) => Promise<void>;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead-letter' | 'skipped';

/**
 * Runs one delivery attempt: look the hook up (a deleted hook's deliveries are dropped), run its
 * handler, and on failure either send the next attempt with a backoff delay or dead-letter the
 * job. Resolves once the job's fate is recorded, so the queue can delete the message; rejects only
 * when that recording failed (the queue then receives the message again).
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): (job: DeliveryJob) => Promise<DeliveryOutcome> {
  // The cache hands out the same hook object until the hook changes, so each hook's handler is
  // built once, not per delivery; a changed hook is a new object and gets a new handler.
  const handlers = new WeakMap<EventHook, HookHandler>();
  const handlerOf = (tenant: string, hook: EventHook) => {
    let handler = handlers.get(hook);
    if (!handler) {
      handler = createHandler(hook, deps.handlerDeps(tenant));
      handlers.set(hook, handler);
    }
    return handler;
  };
  const metrics = deps.metrics ?? noMetrics;
  const record = (handler: string, outcome: DeliveryOutcome, job: DeliveryJob, latencyMs?: number) => {
    metrics.count('deliveries', { handler, outcome });
    if (latencyMs !== undefined) metrics.observe('delivery_latency', { handler, outcome }, latencyMs / 1000);
    if (outcome === 'delivered' || outcome === 'dead-letter') {
      metrics.observe('delivery_attempts', { handler, outcome }, job.attempt);
    }
  };
  /**
   * The log is a record, not part of the delivery's fate: a write that fails is logged and the
   * delivery goes on (else a delivered webhook would be sent again for a log line).
   */
  const log = async (outcome: Omit<AttemptOutcome, 'endedAt'>, endedAt: number) => {
    if (!deps.deliveryLog) return;
    try {
      await deps.deliveryLog.record({ ...outcome, endedAt });
    } catch (error) {
      deps.logger.warn('delivery log write failed', {
        tenant: outcome.job.tenant,
        hook_id: outcome.job.hookId,
        delivery_id: outcome.job.deliveryId,
        error,
      });
    }
  };
  return async (job) => {
    const started = deps.clock.now();
    const line = {
      tenant: job.tenant,
      hook_id: job.hookId,
      event_id: job.event.id,
      delivery_id: job.deliveryId,
      attempt: job.attempt,
    };
    const hook = await deps.hooks.hook(job.tenant, job.hookId);
    if (!hook) {
      deps.logger.info('delivery', { ...line, outcome: 'skipped', reason: 'hook deleted' });
      record('unknown', 'skipped', job);
      return 'skipped';
    }
    deps.meter?.add(job.tenant, 'deliveries_attempted');
    let failure: Error;
    let status: number | undefined;
    try {
      const handler = handlerOf(job.tenant, deps.open ? await deps.open(job.tenant, hook) : hook);
      const result = await handler.callback(
        { source: job.event.source, event: job.event.event, data: job.event.data },
        { deliveryId: job.deliveryId, attempt: job.attempt, eventId: job.event.id, strict: true },
      );
      status = (result as { status?: number } | undefined)?.status;
      const ended = deps.clock.now();
      const latencyMs = ended - started;
      deps.logger.info('delivery', { ...line, outcome: 'delivered', status, latency_ms: latencyMs });
      record(hook.handler, 'delivered', job, latencyMs);
      deps.meter?.add(job.tenant, 'deliveries_delivered');
      await log(
        { job, status: 'delivered', startedAt: started, statusCode: status, response: responseOf(result) },
        ended,
      );
      return 'delivered';
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      status = (error as { statusCode?: number }).statusCode;
    }
    deps.meter?.add(job.tenant, 'deliveries_failed');
    const now = deps.clock.now();
    const decision = decideRetry({
      attempt: job.attempt,
      firstQueuedAt: job.firstQueuedAt,
      now,
      error: failure,
      policy: deps.policy,
      ...(deps.random ? { random: deps.random } : {}),
    });
    const failed = { ...line, status, latency_ms: now - started, error: failure.message };
    const attempt = {
      job,
      startedAt: started,
      statusCode: status,
      error: failure.message,
      response: failure instanceof DeliveryError ? failure.response : undefined,
    };
    if (decision.action === 'retry') {
      // Logged before the next attempt is queued: once queued, it may run (and log) at once, and a
      // write of this attempt landing after it would drop it or undo the later outcome.
      await log({ ...attempt, status: 'retrying' }, now);
      await enqueue(deps, [{ ...job, attempt: job.attempt + 1 }], now, { delayMs: decision.delayMs });
      deps.logger.warn('delivery', { ...failed, outcome: 'retry', retry_in_ms: decision.delayMs });
      record(hook.handler, 'retry', job, now - started);
      return 'retry';
    }
    // Dead-lettered, then logged dead, at the same instant: a replay from /deliveries finds the dead
    // letter by the record's last write (shared/pipeline/deliveries.ts), so it must exist by then.
    await deps.deadLetters.put({ job, reason: decision.reason, deadLetteredAt: now });
    deps.logger.error('delivery', { ...failed, outcome: 'dead-letter', reason: decision.reason });
    record(hook.handler, 'dead-letter', job, now - started);
    metrics.count('dead_letters', { cause: 'failed' });
    await log({ ...attempt, status: 'dead' }, now);
    if (deps.deliveryLog && deps.afterDead) {
      await deps
        .afterDead(job.tenant, job.hookId)
        .catch((error: unknown) =>
          deps.logger.warn('auto-disable check failed', { tenant: job.tenant, hook_id: job.hookId, error }),
        );
    }
    return 'dead-letter';
  };
}

/** A handler's answer as the log keeps it: a webhook's headers and body; another handler's result as the body. */
function responseOf(result: unknown): AttemptOutcome['response'] {
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'object' && 'status' in result && 'body' in result) {
    const { headers, body } = result as { headers?: unknown; body?: unknown };
    return { headers, body };
  }
  return { body: result };
}

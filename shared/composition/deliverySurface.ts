import { createAutoDisable } from '../pipeline/autoDisable.ts';
import { createDeliveryWorker, type DeliveryOutcome } from '../pipeline/deliveryWorker.ts';
import type { DeliveryJob } from '../ports/deliveryQueue.ts';
import { hookOpener } from '../secrets/hookSecrets.ts';
import type { Core } from './core.ts';

/** The delivery worker's surface: one attempt of one job (the handlers, the sender, retries, dead letters). */
export interface DeliverySurface {
  deliver(job: DeliveryJob): Promise<DeliveryOutcome>;
}

export function createDeliverySurface(core: Core): DeliverySurface {
  const { config, clock, logger, secrets, cache, deliveryLog } = core;
  const autoDisable = deliveryLog
    ? createAutoDisable({
        failures: config.autoDisableFailures,
        windowMs: config.autoDisableWindowMs,
        log: deliveryLog,
        hooks: core.hooks,
        open: (tenant, hook) => secrets.open(tenant, hook),
        invalidate: (tenant) => cache.invalidate(tenant),
        bus: () => core.bus,
        clock,
        logger,
      })
    : undefined;
  const deliver = createDeliveryWorker({
    hooks: cache,
    // The one pipeline stage that opens secrets: the dispatcher matches and gates sealed hooks.
    open: hookOpener(secrets),
    queue: core.queue,
    deadLetters: core.deadLetters,
    handlerDeps: core.handlerDeps,
    policy: core.retryPolicy,
    clock,
    logger,
    meter: core.meter,
    ...core.metrics,
    ...(deliveryLog ? { deliveryLog } : {}),
    ...(autoDisable
      ? { afterDead: async (tenant: string, hookId: string) => void (await autoDisable(tenant, hookId)) }
      : {}),
  });
  return { deliver };
}

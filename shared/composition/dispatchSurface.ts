import type { HookEvent } from '../events/envelope.ts';
import { createGate } from '../gate/gate.ts';
import { createThresholdCounter } from '../gate/threshold.ts';
import { createDispatcher } from '../pipeline/dispatcher.ts';
import type { DeliveryJob } from '../ports/deliveryQueue.ts';
import type { Core } from './core.ts';

/** The dispatcher's surface: one event from the bus → delivery jobs (matching, filters, the gate). */
export interface DispatchSurface {
  dispatch(event: HookEvent): Promise<DeliveryJob[]>;
}

export function createDispatchSurface(core: Core): DispatchSurface {
  const { client, config, clock } = core;
  const tableName = config.tableName;
  const dispatch = createDispatcher({
    events: core.events,
    recordPolicy: { captureBodies: config.captureBodies, retentionDays: config.eventRetentionDays },
    cache: core.cache,
    gate: createGate({ client, tableName, clock }),
    threshold: createThresholdCounter({ client, tableName, clock }),
    queue: core.queue,
    deadLetters: core.deadLetters,
    clock,
    logger: core.logger,
    ...core.metrics,
  });
  return { dispatch };
}

import type { DeliveryJob } from '../../shared/ports/deliveryQueue.ts';

let sequence = 0;

/**
 * A first-attempt delivery job with its own delivery and event ids (`d-<n>`, `e-<n>`), of tenant
 * `default` and hook `h` unless `overrides` say otherwise; the event is the job's tenant's.
 */
export function testJob(overrides: Partial<DeliveryJob> = {}): DeliveryJob {
  const n = sequence++;
  const tenant = overrides.tenant ?? 'default';
  return {
    type: 'deliver.v1',
    deliveryId: `d-${n}`,
    tenant,
    hookId: 'h',
    event: { id: `e-${n}`, time: new Date(0).toISOString(), tenant, source: 's', event: 'e', data: { n } },
    attempt: 1,
    firstQueuedAt: 0,
    ...overrides,
  };
}

/**
 * Delivery `id` of event `event-<id>` (tenant `default`, source `s`, event `e`, no data) to hook `hook-a`,
 * its event and first queueing at `at`; a first attempt unless `overrides` say otherwise.
 */
export function deliveryJobAt(id: string, at: number, overrides: Partial<DeliveryJob> = {}): DeliveryJob {
  return testJob({
    deliveryId: id,
    hookId: 'hook-a',
    event: {
      id: `event-${id}`,
      time: new Date(at).toISOString(),
      tenant: 'default',
      source: 's',
      event: 'e',
      data: {},
    },
    firstQueuedAt: at,
    ...overrides,
  });
}

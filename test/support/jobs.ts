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

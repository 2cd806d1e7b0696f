import type { EventBridgeEvent } from 'aws-lambda';
import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import type { HookEvent } from '../shared/events/envelope.ts';
import { TENANT_RESOURCE_PREFIX } from '../shared/ports/eventBus.ts';
import { awsApp } from './app.ts';
import { invocation } from './invocation.ts';

const currentApp = awsApp({ queue: createAwsDeliveryQueue });

/** An event from the bus's rule, in the EventBridge mapping documented in shared/ports/eventBus.ts. */
export function toHookEvent(event: EventBridgeEvent<string, unknown>, defaultTenant: string): HookEvent {
  const tenantResource = event.resources?.find((resource) => resource.startsWith(TENANT_RESOURCE_PREFIX));
  const detail = event.detail;
  return {
    id: event.id,
    time: event.time,
    tenant: tenantResource ? tenantResource.slice(TENANT_RESOURCE_PREFIX.length) : defaultTenant,
    source: event.source,
    event: event['detail-type'],
    data: detail && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {},
  };
}

/** Finds the hooks an event matches, applies the gate, enqueues deliveries. A throw makes EventBridge retry. */
export const handler = invocation(async (event: EventBridgeEvent<string, unknown>) => {
  const app = await currentApp();
  await app.dispatch(toHookEvent(event, app.config.tenant));
});

import type { EventBridgeEvent } from 'aws-lambda';
import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import { createDispatchSurface } from '../shared/composition/dispatchSurface.ts';
import type { HookEvent } from '../shared/events/envelope.ts';
import { withLogFields } from '../shared/logger.ts';
import { TENANT_RESOURCE_PREFIX } from '../shared/ports/eventBus.ts';
import { awsApp } from './currentApp.ts';
import { invocation } from './invocation.ts';

const currentApp = awsApp({ queue: createAwsDeliveryQueue }, createDispatchSurface);

/** `TENANCY` as the stack sets it: one tenant per deployment, or many. */
export type Tenancy = 'single' | 'multi';

export function tenancyFromEnv(env: NodeJS.ProcessEnv): Tenancy {
  return env.TENANCY === 'multi' ? 'multi' : 'single';
}

/**
 * An event from the bus's rule, in the EventBridge mapping documented in shared/ports/eventBus.ts,
 * or `undefined` when it belongs to no tenant.
 *
 * Which tenant is decided by the deployment, never by what a producer claims:
 * - `single`: always the configured tenant. Producers may `PutEvents` directly, and whatever they
 *   put in `resources` cannot reach another tenant's hooks.
 * - `multi`: the tenant resource, which only the service's own ingest and admin functions can set,
 *   since the bus's resource policy denies `PutEvents` to everyone else (infra/cdk/eventHooks.ts).
 *   An event without it did not come through ingest, and is dropped.
 */
export function toHookEvent(
  event: EventBridgeEvent<string, unknown>,
  deployment: { tenancy: Tenancy; tenant: string },
): HookEvent | undefined {
  let tenant = deployment.tenant;
  if (deployment.tenancy === 'multi') {
    const resource = event.resources?.find((r) => r.startsWith(TENANT_RESOURCE_PREFIX));
    const claimed = resource?.slice(TENANT_RESOURCE_PREFIX.length);
    if (!claimed) return undefined;
    tenant = claimed;
  }
  const detail = event.detail;
  return {
    id: event.id,
    time: event.time,
    tenant,
    source: event.source,
    event: event['detail-type'],
    data: detail && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {},
  };
}

/** Finds the hooks an event matches, applies the gate, enqueues deliveries. A throw makes EventBridge retry. */
export const handler = invocation(async (event: EventBridgeEvent<string, unknown>) => {
  const app = await currentApp();
  const hookEvent = toHookEvent(event, { tenancy: tenancyFromEnv(process.env), tenant: app.config.tenant });
  if (!hookEvent) {
    // Not retried: another attempt cannot give it a tenant.
    app.logger.warn('dropped an event without a tenant: on a multi-tenant deployment events come through ingest', {
      event_id: event.id,
      source: event.source,
    });
    return;
  }
  await withLogFields({ tenant: hookEvent.tenant, event_id: hookEvent.id }, () => app.dispatch(hookEvent));
});

import type { HookEvent } from '../events/envelope.ts';

/** An event as a producer hands it in; the bus assigns `id` and `time`. */
export type NewEvent = Omit<HookEvent, 'id' | 'time'>;

/**
 * Where accepted events go: EventBridge on AWS, an in-process router locally.
 *
 * EventBridge mapping (also what a producer on AWS sends with `PutEvents` directly):
 * `Source` = the hook source (`crud`, `rate-limiting-advanced`, …), `DetailType` = the event name,
 * `Detail` = the JSON data object, `Resources` = [`event-hooks:tenant/<tenant>`] (absent → the
 * deployment's tenant). EventBridge's own event `id` and `time` become the event's id and time.
 */
export interface EventBus {
  /** Resolves with the accepted events (ids and times assigned) once every one is accepted; rejects otherwise. */
  publish(events: NewEvent[]): Promise<HookEvent[]>;
}

export const TENANT_RESOURCE_PREFIX = 'event-hooks:tenant/';

import type { HookEvent } from '../events/envelope.ts';

/** Where accepted events go: EventBridge on AWS, an in-process router locally. */
export interface EventBus {
  /** Resolves once every event is durably accepted by the bus; rejects if any was not. */
  publish(events: HookEvent[]): Promise<void>;
}

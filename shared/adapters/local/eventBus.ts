import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../../errors.ts';
import type { HookEvent } from '../../events/envelope.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { EventBus, NewEvent } from '../../ports/eventBus.ts';

export interface LocalEventBusOptions {
  /** The rule's target: the dispatcher. Every event on the bus goes to it, as the AWS rule routes them. */
  target: (event: HookEvent) => Promise<unknown>;
  logger: Logger;
  clock?: Clock;
  /** Attempts per event before it is dead-lettered, like the EventBridge target's retry policy. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

export interface LocalEventBus extends EventBus {
  /** Resolves when no dispatch is running. */
  idle(): Promise<void>;
  /** Refuses new events and waits for the running dispatches. */
  stop(): Promise<void>;
}

export class BusStoppedError extends ServiceUnavailableError {}

/**
 * The in-process stand-in for the EventBridge bus and its rule: `publish` accepts events at once
 * and hands each to the dispatcher in the background, retrying a failed dispatch a few times, as
 * the rule's target would; an event that still fails is logged whole (EventBridge would move it to
 * the events dead-letter queue).
 */
export function createLocalEventBus(options: LocalEventBusOptions): LocalEventBus {
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const running = new Set<Promise<void>>();
  let stopped = false;

  const dispatch = async (event: HookEvent): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await options.target(event);
        return;
      } catch (error) {
        if (attempt >= maxAttempts) {
          // The whole event goes into the line, so it can be sent again from the log.
          options.logger.error('dispatch failed', { event_id: event.id, attempts: attempt, event, error });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
  };

  return {
    async publish(events: NewEvent[]): Promise<HookEvent[]> {
      if (stopped) throw new BusStoppedError('the service is shutting down and accepts no new events');
      const time = new Date(clock.now()).toISOString();
      const accepted = events.map((event) => ({ ...event, id: randomUUID(), time }));
      for (const event of accepted) {
        const task = dispatch(event).finally(() => running.delete(task));
        running.add(task);
      }
      return accepted;
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
    async stop() {
      stopped = true;
      await this.idle();
    },
  };
}

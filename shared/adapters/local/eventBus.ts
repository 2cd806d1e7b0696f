import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../../errors.ts';
import type { HookEvent } from '../../events/envelope.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { EventBus, NewEvent } from '../../ports/eventBus.ts';

/** The rule's target: the dispatcher. Every event on the bus goes to it, as the AWS rule routes them. */
export type BusTarget = (event: HookEvent) => Promise<unknown>;

export interface LocalEventBusOptions {
  /** The target from the start, as `subscribe` sets it; without one, events wait for `subscribe`. */
  target?: BusTarget;
  logger: Logger;
  clock?: Clock;
  /** Attempts per event before it is dead-lettered, like the EventBridge target's retry policy. */
  maxAttempts?: number;
  retryDelayMs?: number;
  /**
   * Where accepted events are recorded before `publish` resolves (the local journal): `publish`
   * resolves only once `accepted` has, and a finished dispatch is reported to `dispatched`.
   */
  journal?: {
    accepted(events: HookEvent[]): Promise<void>;
    dispatched(eventId: string): Promise<void>;
  };
}

export interface LocalEventBus extends EventBus {
  /**
   * Sets where events go (the dispatcher), as the EventBridge rule does on AWS, and dispatches those
   * published before. The bus only hands events on: it never knows what the target is built from,
   * so the app that publishes can be built before the dispatcher that reads.
   */
  subscribe(target: BusTarget): void;
  /** Dispatches events accepted before (by an earlier run, from the journal) in the background. */
  redispatch(events: HookEvent[]): void;
  /** Resolves when no dispatch is running. */
  idle(): Promise<void>;
  /** Refuses new events and waits for the running dispatches. */
  stop(): Promise<void>;
}

export class BusStoppedError extends ServiceUnavailableError {}

/**
 * The in-process stand-in for the EventBridge bus and its rule: `publish` accepts events at once
 * and hands each to the dispatcher in the background, retrying a failed dispatch a few times, as
 * the rule's target would. Without a journal an event that still fails is logged whole (EventBridge
 * would move it to the events dead-letter queue); with one it is tried again later, backing off.
 *
 * With a `journal`, an event is recorded before `publish` resolves, so a 202 outlives a crash.
 */
export function createLocalEventBus(options: LocalEventBusOptions): LocalEventBus {
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const running = new Set<Promise<void>>();
  let target = options.target;
  /** Events published before `subscribe`, with their retry round. */
  const waiting: { event: HookEvent; round: number }[] = [];
  /** Cancels of the later tries of events whose dispatch kept failing (journal only). */
  const later = new Set<() => void>();
  let stopped = false;

  /**
   * An accepted event is in the journal: giving up on it would leave it waiting for the next start,
   * maybe days away. It is tried again later instead, backing off to a try a minute, as EventBridge
   * keeps retrying a target for hours.
   */
  const tryLater = (event: HookEvent, round: number) => {
    const delayMs = Math.min(60_000, retryDelayMs * maxAttempts * 2 ** round);
    const cancel = clock.setTimer(delayMs, () => {
      later.delete(cancel);
      if (!stopped) start([event], round + 1);
    });
    later.add(cancel);
    return delayMs;
  };

  const dispatch = async (to: BusTarget, event: HookEvent, round: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await to(event);
        await options.journal?.dispatched(event.id).catch((error: unknown) => {
          // The dispatch itself is done; the next start dispatches it again, with the same delivery ids.
          options.logger.warn('could not record a dispatch', { event_id: event.id, error });
        });
        return;
      } catch (error) {
        if (attempt >= maxAttempts) {
          if (options.journal && !stopped) {
            const retryInMs = tryLater(event, round);
            options.logger.error('dispatch failed', {
              event_id: event.id,
              attempts: attempt,
              retry_in_ms: retryInMs,
              error,
            });
            return;
          }
          // The whole event goes into the line, so it can be sent again from the log; with a journal
          // the next start dispatches it again.
          options.logger.error('dispatch failed', { event_id: event.id, attempts: attempt, event, error });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
  };

  const start = (events: HookEvent[], round = 0) => {
    for (const event of events) {
      if (!target) {
        waiting.push({ event, round });
        continue;
      }
      const task = dispatch(target, event, round).finally(() => running.delete(task));
      running.add(task);
    }
  };

  return {
    async publish(events: NewEvent[]): Promise<HookEvent[]> {
      if (stopped) throw new BusStoppedError('the service is shutting down and accepts no new events');
      const time = new Date(clock.now()).toISOString();
      const accepted = events.map((event) => ({ ...event, id: randomUUID(), time }));
      await options.journal?.accepted(accepted);
      start(accepted);
      return accepted;
    },
    subscribe(to) {
      target = to;
      for (const { event, round } of waiting.splice(0)) start([event], round);
    },
    redispatch(events) {
      start(events);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
    async stop() {
      stopped = true;
      // What still waits for a later try stays in the journal for the next start.
      for (const cancel of later) cancel();
      later.clear();
      await this.idle();
    },
  };
}

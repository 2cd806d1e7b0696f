import { describe, expect, it } from 'vitest';
import { createLocalEventBus } from '../../../../shared/adapters/local/eventBus.ts';
import type { HookEvent } from '../../../../shared/events/envelope.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';

const newEvent = { tenant: 'default', source: 'balancer', event: 'health', data: { n: 1 } };

describe('local event bus with a journal', () => {
  it('answers publish only once the journal has the events, and dispatches only then', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const bus = createLocalEventBus({
      logger: memoryLogger(),
      target: async (event) => {
        order.push(`dispatch ${event.id}`);
      },
      journal: {
        accepted: (events) =>
          new Promise<void>((resolve) => {
            order.push(`accepted ${events.length}`);
            release = resolve;
          }),
        dispatched: async (id) => {
          order.push(`dispatched ${id}`);
        },
      },
    });
    let published: HookEvent[] | undefined;
    const publishing = bus.publish([newEvent]).then((events) => {
      published = events;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(published).toBeUndefined();
    expect(order).toEqual(['accepted 1']);
    release();
    await publishing;
    await bus.idle();
    const id = published?.[0]?.id;
    expect(order).toEqual(['accepted 1', `dispatch ${id}`, `dispatched ${id}`]);
  });

  it('rejects the publish and dispatches nothing when the journal cannot take the events', async () => {
    const dispatched: string[] = [];
    const bus = createLocalEventBus({
      logger: memoryLogger(),
      target: async (event) => {
        dispatched.push(event.id);
      },
      journal: {
        accepted: async () => {
          throw new Error('disk full');
        },
        dispatched: async () => undefined,
      },
    });
    await expect(bus.publish([newEvent])).rejects.toThrow('disk full');
    await bus.idle();
    expect(dispatched).toEqual([]);
  });

  it('leaves an event whose dispatch keeps failing undispatched in the journal, for the next start', async () => {
    const recorded: string[] = [];
    const bus = createLocalEventBus({
      logger: memoryLogger(),
      clock: new ManualClock(0),
      retryDelayMs: 1,
      target: async () => {
        throw new Error('store down');
      },
      journal: {
        accepted: async () => undefined,
        dispatched: async (id) => {
          recorded.push(id);
        },
      },
    });
    try {
      await bus.publish([newEvent]);
      await bus.idle();
      expect(recorded).toEqual([]);
    } finally {
      await bus.stop();
    }
  });

  it('tries an event whose dispatch kept failing again later, backing off, until the store is back', async () => {
    // Prepare: the store is down for the first 4 attempts (a round of 3, then the first of the next)
    const clock = new ManualClock(0);
    const recorded: string[] = [];
    let calls = 0;
    const bus = createLocalEventBus({
      logger: memoryLogger(),
      clock,
      retryDelayMs: 1,
      target: async () => {
        calls++;
        if (calls <= 4) throw new Error('store down');
      },
      journal: {
        accepted: async () => undefined,
        dispatched: async (id) => {
          recorded.push(id);
        },
      },
    });

    // Act: the first round fails; the next comes only once the clock passes its delay
    const [accepted] = await bus.publish([newEvent]);
    await bus.idle();
    expect(calls).toBe(3);
    clock.advance(2);
    await bus.idle();
    expect(calls).toBe(3);
    clock.advance(1);
    await bus.idle();

    // Assess
    expect(calls).toBe(5);
    expect(recorded).toEqual([accepted?.id]);
    await bus.stop();
  });

  it('cancels later tries at stop: the journal keeps the event for the next start', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const bus = createLocalEventBus({
      logger: memoryLogger(),
      clock,
      retryDelayMs: 1,
      target: async () => {
        calls++;
        throw new Error('store down');
      },
      journal: { accepted: async () => undefined, dispatched: async () => undefined },
    });
    await bus.publish([newEvent]);
    await bus.idle();
    await bus.stop();
    clock.advance(60_000);
    await bus.idle();
    expect(calls).toBe(3);
  });
});

describe('local event bus: the subscribe step', () => {
  it('keeps events published before subscribe and hands them to the target it is given, then every later one', async () => {
    const dispatched: string[] = [];
    const bus = createLocalEventBus({ logger: memoryLogger() });
    const [early] = await bus.publish([newEvent]);
    bus.redispatch([{ ...newEvent, id: 'from-journal', time: '2026-01-01T00:00:00Z' }]);
    await bus.idle();
    expect(dispatched).toEqual([]);

    bus.subscribe(async (event) => {
      dispatched.push(event.id);
    });
    const [late] = await bus.publish([newEvent]);
    await bus.idle();
    expect(dispatched).toEqual([early?.id, 'from-journal', late?.id]);
  });
});

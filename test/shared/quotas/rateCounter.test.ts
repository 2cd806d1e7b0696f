import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { memoryRateCounter, tableRateCounter } from '../../../shared/quotas/rateCounter.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

describe('events per second, in memory (the local runtime)', () => {
  it('takes events up to the limit in one second, refuses the rest, and starts afresh the next', async () => {
    // Prepare
    const clock = new ManualClock(1_790_000_000_000);
    const counter = memoryRateCounter(clock);

    // Act
    const first = [await counter.take('a', 3, 5), await counter.take('a', 2, 5), await counter.take('a', 1, 5)];
    const other = await counter.take('b', 5, 5);
    clock.advance(1_000);
    const next = await counter.take('a', 5, 5);

    // Assess
    expect(first).toEqual([true, true, false]);
    expect(other).toBe(true);
    expect(next).toBe(true);
  });
});

describe('events per second on the table (many Lambda instances)', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Counts the writes each instance's document client sends. */
  const countWrites = () => {
    let writes = 0;
    const id = `count-${Math.random()}`;
    store.client.middlewareStack.add(
      (next) => async (args) => {
        writes++;
        return next(args);
      },
      { step: 'initialize', name: id },
    );
    return { writes: () => writes, stop: () => store.client.middlewareStack.remove(id) };
  };

  it('holds one limit across instances that share the table, and refuses without writing once full', async () => {
    // Prepare: three "instances", each with its own counter, on one table and one second
    const clock = new ManualClock(1_790_000_100_000);
    const instances = [1, 2, 3].map(() =>
      tableRateCounter({ client: store.client, tableName: store.tableName, clock }),
    );
    const counted = countWrites();

    // Act: 30 single-event requests at once, against a limit of 10
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (instances[i % 3] as (typeof instances)[number]).take('t1', 1, 10)),
    );
    const writesDuringBurst = counted.writes();
    const later = await Promise.all(instances.map((instance) => instance.take('t1', 1, 10)));
    const writesAfterFull = counted.writes() - writesDuringBurst;
    counted.stop();

    // Assess
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(later).toEqual([false, false, false]);
    expect(writesAfterFull).toBe(0);
  });

  it('counts a batch as its events in one write, refuses a batch larger than the limit outright, and keys each second apart', async () => {
    // Prepare
    const clock = new ManualClock(1_790_000_200_000);
    const counter = tableRateCounter({ client: store.client, tableName: store.tableName, clock });

    // Act
    const batch = await counter.take('t2', 8, 10);
    const tooMany = await counter.take('t2', 3, 10);
    const never = await counter.take('t2', 11, 10);
    clock.advance(1_000);
    const nextSecond = await counter.take('t2', 10, 10);
    const otherTenant = await counter.take('t3', 10, 10);

    // Assess
    expect([batch, tooMany, never, nextSecond, otherTenant]).toEqual([true, false, false, true, true]);
  });
});

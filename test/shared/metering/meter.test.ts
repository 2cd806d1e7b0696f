import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../shared/logger.ts';
import { createUsageMeter } from '../../../shared/metering/meter.ts';
import { UsageStore } from '../../../shared/metering/usageStore.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const DAY = 86_400_000;

describe('usage meter on the embedded store', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  const countUpdates = () => {
    const commands: string[] = [];
    const id = `count-${Math.random()}`;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: id },
    );
    return { commands, stop: () => store.client.middlewareStack.remove(id) };
  };

  it('writes thousands of counts as one UpdateItem per tenant and day', async () => {
    // Prepare
    const clock = new ManualClock(Date.parse('2026-11-28T23:59:00Z'));
    const usage = new UsageStore({ client: store.client, tableName: store.tableName, clock });
    const meter = createUsageMeter({ store: usage, clock, logger: memoryLogger() });
    for (let i = 0; i < 1_000; i++) {
      meter.add('acme', 'deliveries_attempted');
      meter.add('acme', 'deliveries_delivered');
    }
    meter.add('acme', 'events_accepted', 700);
    meter.add('globex', 'deliveries_failed', 3);
    clock.advance(2 * 60_000); // past midnight: a new day
    meter.add('acme', 'function_invocations', 4);
    const counted = countUpdates();

    // Act
    await meter.flush();
    counted.stop();

    // Assess
    expect(counted.commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    expect(meter.pending).toBe(0);
    expect(await usage.list('acme', {})).toEqual([
      {
        day: '2026-11-28',
        events_accepted: 700,
        deliveries_attempted: 1000,
        deliveries_delivered: 1000,
        deliveries_failed: 0,
        function_invocations: 0,
      },
      {
        day: '2026-11-29',
        events_accepted: 0,
        deliveries_attempted: 0,
        deliveries_delivered: 0,
        deliveries_failed: 0,
        function_invocations: 4,
      },
    ]);
    expect(await usage.list('globex', {})).toMatchObject([{ day: '2026-11-28', deliveries_failed: 3 }]);
  });

  it('adds to what earlier flushes wrote, and writes nothing when nothing was counted', async () => {
    // Prepare
    const clock = new ManualClock(Date.parse('2026-10-01T12:00:00Z'));
    const usage = new UsageStore({ client: store.client, tableName: store.tableName, clock });
    const meter = createUsageMeter({ store: usage, clock, logger: memoryLogger() });
    meter.add('initech', 'events_accepted', 2);
    await meter.flush();
    meter.add('initech', 'events_accepted', 3);
    await meter.flush();
    const counted = countUpdates();

    // Act
    await meter.flush();
    counted.stop();

    // Assess
    expect(counted.commands).toEqual([]);
    expect((await usage.list('initech', {}))[0]?.events_accepted).toBe(5);
  });

  it('keeps what it could not write and writes it with the next flush', async () => {
    // Prepare: a store whose first write fails
    const clock = new ManualClock(Date.parse('2026-09-01T12:00:00Z'));
    const usage = new UsageStore({ client: store.client, tableName: store.tableName, clock });
    let failures = 1;
    const flaky = Object.assign(Object.create(usage) as UsageStore, {
      add: (...args: Parameters<UsageStore['add']>) => {
        if (failures-- > 0) return Promise.reject(new Error('store unavailable'));
        return usage.add(...args);
      },
    });
    const logger = memoryLogger();
    const meter = createUsageMeter({ store: flaky, clock, logger });
    meter.add('hooli', 'deliveries_delivered', 5);

    // Act
    await meter.flush();
    const kept = meter.pending;
    meter.add('hooli', 'deliveries_delivered', 1);
    await meter.flush();

    // Assess
    expect(kept).toBe(1);
    expect(logger.lines.some((line) => String(line.msg ?? line.message).includes('usage not written'))).toBe(true);
    expect((await usage.list('hooli', {}))[0]?.deliveries_delivered).toBe(6);
  });

  it('lists days within the bounds, both inclusive, and hides days past their retention', async () => {
    // Prepare
    const clock = new ManualClock(Date.parse('2026-06-15T00:00:00Z'));
    const usage = new UsageStore({ client: store.client, tableName: store.tableName, clock });
    for (const day of ['2025-01-01', '2026-06-01', '2026-06-02', '2026-06-03']) {
      await usage.add('umbrella', day, { events_accepted: 1 });
    }

    // Act
    const range = await usage.list('umbrella', { from: '2026-06-02', to: '2026-06-03' });
    const open = await usage.list('umbrella', { from: '2026-06-02' });
    const all = await usage.list('umbrella', {});
    clock.advance(400 * DAY);
    const afterRetention = await usage.list('umbrella', {});

    // Assess: 2025-01-01 is more than 400 days before 2026-06-15
    expect(range.map((d) => d.day)).toEqual(['2026-06-02', '2026-06-03']);
    expect(open.map((d) => d.day)).toEqual(['2026-06-02', '2026-06-03']);
    expect(all.map((d) => d.day)).toEqual(['2026-06-01', '2026-06-02', '2026-06-03']);
    expect(afterRetention.map((d) => d.day)).toEqual([]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import type { HookEvent } from '../../../shared/events/envelope.ts';
import type { EventRecord, EventRecords, RecordPolicy } from '../../../shared/events/eventRecord.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { deliveryIdFor } from '../../../shared/pipeline/dispatcher.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { type DeliveryJob, type DeliveryQueue, JobsTooLargeError } from '../../../shared/ports/deliveryQueue.ts';
import { EventRecordStore } from '../../../shared/store/eventRecordStore.ts';
import { recordingQueue, testHook, testHookId, useDispatcherStore } from '../../support/dispatcher.ts';

const hookId = testHookId;
const hook = testHook;

let seq = 0;
const event = (tenant: string, data: Record<string, unknown> = { health: 'down' }): HookEvent => ({
  id: `e-${seq++}`,
  time: '2026-11-27T00:00:00Z',
  tenant,
  source: 'balancer',
  event: 'health',
  data,
});

/** Records kept in the table, every put counted. */
function countingRecords(store: EventRecords): EventRecords & { puts: EventRecord[] } {
  const puts: EventRecord[] = [];
  return {
    puts,
    put: (record) => {
      puts.push(record);
      return store.put(record);
    },
    get: (tenant, id) => store.get(tenant, id),
  };
}

describe('dispatcher: the event record', () => {
  let table: EventRecordStore;
  const clock = new ManualClock(1_700_000_000_000);
  const f = useDispatcherStore(clock);
  beforeAll(() => {
    table = new EventRecordStore({ client: f.store.client, tableName: f.store.tableName, clock });
  });

  const dispatcher = (
    queue: DeliveryQueue,
    events: EventRecords,
    options: { policy?: RecordPolicy; logger?: ReturnType<typeof memoryLogger> } = {},
  ) =>
    f.dispatcher(queue, {
      events,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.policy ? { recordPolicy: options.policy } : {}),
    });
  const countingQueue = recordingQueue;

  it('writes one record per event with every matching hook’s outcome, read back from the table', async () => {
    // Prepare: one hook of each kind, in a tenant of its own
    await f.hooks.create('rec', hook(1));
    await f.hooks.create('rec', hook(2, { threshold: { count: 5, window: 60 } }));
    await f.hooks.create('rec', hook(3, { filter: { health: ['up'] } }));
    await f.hooks.create('rec', { ...hook(4), enabled: false } as EventHook);
    await f.hooks.create('rec', hook(5, { event: 'other' }));
    const records = countingRecords(table);
    const e = event('rec');

    // Act
    await dispatcher(countingQueue(), records)(e);

    // Assess
    expect(records.puts).toHaveLength(1);
    const read = await table.get('rec', e.id);
    expect(read?.event).toEqual(e);
    expect(read?.hooks.sort((a, b) => a.hook_id.localeCompare(b.hook_id))).toEqual([
      { hook_id: hookId(1), outcome: 'queued', delivery_id: deliveryIdFor(e, hookId(1)) },
      { hook_id: hookId(2), outcome: 'suppressed:threshold', delivery_id: null },
      { hook_id: hookId(3), outcome: 'filtered', delivery_id: null },
      { hook_id: hookId(4), outcome: 'disabled', delivery_id: null },
    ]);
    expect(read?.expires_at).toBe(Math.ceil(clock.now() / 1000) + 7 * 86_400);
    expect(await table.get('other-tenant', e.id)).toBeUndefined();
  });

  it('records failed_to_queue when the queue refuses, then queued when the retried dispatch gets through', async () => {
    await f.hooks.create('flaky', hook(1));
    let refuse = true;
    const queue: DeliveryQueue = {
      send: async () => {
        if (refuse) throw new Error('throttled');
      },
    };
    const dispatch = dispatcher(queue, table);
    const e = event('flaky');

    await expect(dispatch(e)).rejects.toThrow('throttled');
    expect((await table.get('flaky', e.id))?.hooks).toEqual([
      { hook_id: hookId(1), outcome: 'failed_to_queue', delivery_id: deliveryIdFor(e, hookId(1)) },
    ]);
    refuse = false;
    await dispatch(e);
    expect((await table.get('flaky', e.id))?.hooks).toEqual([
      { hook_id: hookId(1), outcome: 'queued', delivery_id: deliveryIdFor(e, hookId(1)) },
    ]);
  });

  it('records failed_to_queue for a job too large for the queue (dead-lettered under its delivery id), queued for the rest', async () => {
    await f.hooks.create('large', hook(1));
    await f.hooks.create('large', hook(2));
    const queue: DeliveryQueue = {
      send: async (jobs) => {
        const tooLarge = jobs.filter((job) => job.hookId === hookId(1));
        if (tooLarge.length)
          throw new JobsTooLargeError([{ job: tooLarge[0] as DeliveryJob, bytes: 2_000_000 }], 1_048_576);
      },
    };
    const e = event('large');
    await dispatcher(queue, table)(e);
    const outcomes = Object.fromEntries(((await table.get('large', e.id))?.hooks ?? []).map((h) => [h.hook_id, h]));
    expect(outcomes[hookId(1)]).toEqual({
      hook_id: hookId(1),
      outcome: 'failed_to_queue',
      delivery_id: deliveryIdFor(e, hookId(1)),
    });
    expect(outcomes[hookId(2)]?.outcome).toBe('queued');
  });

  it('keeps data over 1 KB only with body capture on, and its size either way', async () => {
    const small = event('capture', { note: 'x'.repeat(900) });
    const large = event('capture', { note: 'x'.repeat(2_000) });
    const off = dispatcher(countingQueue(), table, { policy: { captureBodies: false, retentionDays: 1 } });
    await off(small);
    await off(large);
    const on = dispatcher(countingQueue(), table, { policy: { captureBodies: true, retentionDays: 1 } });
    const kept = event('capture', { note: 'x'.repeat(2_000) });
    await on(kept);

    expect((await table.get('capture', small.id))?.event.data).toEqual(small.data);
    const dropped = await table.get('capture', large.id);
    expect(dropped?.event.data).toBeNull();
    expect(dropped?.data_bytes).toBe(JSON.stringify(large.data).length);
    expect((await table.get('capture', kept.id))?.event.data).toEqual(kept.data);
    expect(dropped?.expires_at).toBe(Math.ceil(clock.now() / 1000) + 86_400);
  });

  it('answers nothing once the retention passed, before TTL deleted the item', async () => {
    const e = event('ttl');
    await dispatcher(countingQueue(), table, { policy: { captureBodies: true, retentionDays: 1 } })(e);
    expect(await table.get('ttl', e.id)).toBeDefined();
    clock.advance(86_400_000 + 1_000);
    expect(await table.get('ttl', e.id)).toBeUndefined();
  });

  it('still enqueues when the record cannot be written, and says so in the log', async () => {
    await f.hooks.create('lost', hook(1));
    const logger = memoryLogger();
    const queue = countingQueue();
    const broken: EventRecords = {
      put: async () => {
        throw new Error('throttled');
      },
      get: async () => undefined,
    };
    const e = event('lost');
    await dispatcher(queue, broken, { logger })(e);
    expect(queue.jobs.map((job) => job.hookId)).toEqual([hookId(1)]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'could not record the event’s outcomes', event_id: e.id }),
    );
  });
});

import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import type { HookEvent } from '../../../shared/events/envelope.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../../shared/ports/deliveryQueue.ts';
import { recordingQueue, testHook, testHookId, useDispatcherStore } from '../../support/dispatcher.ts';

const id = testHookId;
const hook = (n: number, extra: Partial<EventHook>): EventHook =>
  testHook(n, { source: 'crud', event: 'consumers', filter: null, threshold: null, ...extra });

let seq = 0;
const consumerEvent = (tenant: string, username: string, extra: Record<string, unknown> = {}): HookEvent => ({
  id: `e${++seq}`,
  time: '2026-11-27T00:00:00Z',
  tenant,
  source: 'crud',
  event: 'consumers',
  data: { operation: 'delete', entity: { username }, ...extra },
});

describe('dispatcher: filters and thresholds', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const logger = memoryLogger();
  const f = useDispatcherStore(clock);
  const dispatcher = (queue: DeliveryQueue) => f.dispatcher(queue, { logger });

  it('fires a filtered hook only for events whose data match, as the issue’s svc- example', async () => {
    // Prepare
    await f.hooks.create('f1', hook(1, { filter: { entity: { username: [{ prefix: 'svc-' }] } } }));
    await f.hooks.create('f1', hook(2, {}));
    const queue = recordingQueue();
    const dispatch = dispatcher(queue);

    // Act
    const matching = await dispatch(consumerEvent('f1', 'svc-billing'));
    const other = await dispatch(consumerEvent('f1', 'alice'));

    // Assess
    expect(matching.map((job) => job.hookId).sort()).toEqual([id(1), id(2)]);
    expect(other.map((job) => job.hookId)).toEqual([id(2)]);
  });

  it('fails only the filtered hook, not the dispatch, for data nested deeper than the matcher walks', async () => {
    // Prepare: EventBridge carries events up to 1,100 deep; a direct producer may send one much deeper
    await f.hooks.create('f9', hook(1, { filter: { deep: [{ exists: true }] } }));
    await f.hooks.create('f9', hook(2, {}));
    let deep: unknown[] = [1];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const event = { ...consumerEvent('f9', 'x'), data: { deep, entity: { username: 'x' } } };

    // Act
    const jobs = await dispatcher(recordingQueue())(event);

    // Assess
    expect(jobs.map((job) => job.hookId)).toEqual([id(2)]);
  });

  it('drops a filtered event before the gate: no conditional write at all', async () => {
    // Prepare
    await f.hooks.create('f2', hook(3, { snooze: 60, filter: { entity: { username: ['svc-only'] } } }));
    const dispatch = dispatcher(recordingQueue());
    await dispatch(consumerEvent('f2', 'warm-up')); // loads the hooks into the cache
    const send = vi.spyOn(f.store.client, 'send');

    // Act
    const jobs = await dispatch(consumerEvent('f2', 'alice'));

    // Assess
    expect(jobs).toEqual([]);
    const writes = send.mock.calls.filter(
      ([command]) => command instanceof PutCommand || command instanceof UpdateCommand,
    );
    expect(writes).toEqual([]);
    send.mockRestore();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'event filtered', hook_id: id(3), outcome: 'filtered' }),
    );
  });

  it('matches with the new filter as soon as the hook changes', async () => {
    // Prepare
    const before = { entity: { username: ['a'] } };
    await f.hooks.create('f3', hook(4, { filter: before }));
    const dispatch = dispatcher(recordingQueue());

    // Act
    const first = await dispatch(consumerEvent('f3', 'a'));
    const stored = await f.hooks.get('f3', id(4));
    await f.hooks.replace(
      'f3',
      { ...(stored?.hook as EventHook), filter: { entity: { username: ['b'] } } },
      stored?.rev,
    );
    const afterChange = [await dispatch(consumerEvent('f3', 'a')), await dispatch(consumerEvent('f3', 'b'))];

    // Assess
    expect(first).toHaveLength(1);
    expect(afterChange.map((jobs) => jobs.length)).toEqual([0, 1]);
  });

  it('fires a threshold hook once when the count-th matching event arrives, of 40 dispatched at once', async () => {
    // Prepare: only svc- consumers count (the filter runs first), 5 within 300 s
    const rule = hook(5, {
      filter: { entity: { username: [{ prefix: 'svc-' }] } },
      threshold: { count: 5, window: 300 },
    });
    await f.hooks.create('t1', rule);
    const dispatch = dispatcher(recordingQueue());
    const events = Array.from({ length: 40 }, (_, i) => consumerEvent('t1', i % 2 ? `svc-${i}` : `user-${i}`));

    // Act
    const jobs = (await Promise.all(events.map(dispatch))).flat();

    // Assess: 20 events passed the filter, the 5th of them fired, the other 15 were suppressed
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.hookId).toBe(id(5));
    const suppressed = logger.lines.filter((line) => line.hook_id === id(5) && line.outcome === 'suppressed:threshold');
    expect(suppressed).toHaveLength(19);
  });

  it('opens a new window after the last one ends, and applies snooze to the firings', async () => {
    // Prepare: fire at 2 events per 10 s, at most once per 60 s
    await f.hooks.create('t2', hook(6, { threshold: { count: 2, window: 10 }, snooze: 60 }));
    const dispatch = dispatcher(recordingQueue());
    const start = clock.now();
    const fired: number[] = [];

    // Act
    for (const t of [0, 1, 20, 21, 70, 71]) {
      clock.set(start + t * 1000);
      if ((await dispatch(consumerEvent('t2', 'alice'))).length > 0) fired.push(t);
    }

    // Assess: the firing at 21 falls in the snooze window opened at 1
    expect(fired).toEqual([1, 71]);
  });

  it('fires again for the event that reached the count when its dispatch is retried after enqueueing failed', async () => {
    // Prepare
    await f.hooks.create('t3', hook(7, { threshold: { count: 2, window: 60 } }));
    let failNext = false;
    const jobs: DeliveryJob[] = [];
    const dispatch = dispatcher({
      send: async (batch) => {
        if (failNext) {
          failNext = false;
          throw new Error('throttled');
        }
        jobs.push(...batch);
      },
    });
    await dispatch(consumerEvent('t3', 'a'));
    const second = consumerEvent('t3', 'b');

    // Act
    failNext = true;
    await expect(dispatch(second)).rejects.toThrow('throttled');
    const retried = await dispatch(second);

    // Assess
    expect(retried.map((job) => job.hookId)).toEqual([id(7)]);
  });

  it('counts an event once towards a threshold when its dispatch is retried after enqueueing failed', async () => {
    // Prepare: a threshold hook and a plain one on the same events; the plain one's job fails to enqueue once.
    await f.hooks.create('t4', hook(8, { threshold: { count: 3, window: 60 } }));
    await f.hooks.create('t4', hook(9, {}));
    let failNext = false;
    const dispatch = dispatcher({
      send: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('throttled');
        }
      },
    });
    const first = consumerEvent('t4', 'a');

    // Act: the first event's dispatch fails mid-way and is retried (the bus delivers it again).
    failNext = true;
    await expect(dispatch(first)).rejects.toThrow('throttled');
    const fired = [
      await dispatch(first),
      await dispatch(consumerEvent('t4', 'b')),
      await dispatch(consumerEvent('t4', 'c')),
    ];

    // Assess: the threshold hook fires on the third distinct event, not on the second.
    expect(fired.map((jobs) => jobs.some((job) => job.hookId === id(8)))).toEqual([false, false, true]);
  });
});

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HookEvent } from '../../../shared/events/envelope.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { deliveryIdFor } from '../../../shared/pipeline/dispatcher.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import {
  type DeadLetter,
  type DeliveryJob,
  type DeliveryQueue,
  JobsTooLargeError,
} from '../../../shared/ports/deliveryQueue.ts';
import { keys } from '../../../shared/store/table.ts';
import { testHook, useDispatcherStore } from '../../support/dispatcher.ts';

const hook = testHook;

const event = (id: string, data: Record<string, unknown> = { health: 'down' }): HookEvent => ({
  id,
  time: '2026-11-27T00:00:00Z',
  tenant: 't',
  source: 'balancer',
  event: 'health',
  data,
});

/** A queue that refuses the first `failures` sends, as SQS throttling would, and records the rest. */
function flakyQueue(failures: number): DeliveryQueue & { jobs: DeliveryJob[] } {
  const jobs: DeliveryJob[] = [];
  let left = failures;
  return {
    jobs,
    async send(batch) {
      if (left-- > 0) throw new Error('throttled');
      jobs.push(...batch);
    },
  };
}

describe('dispatcher', () => {
  const clock = new ManualClock(1_000_000);
  const f = useDispatcherStore(clock);
  beforeAll(async () => {
    await f.hooks.create('t', hook(1));
    await f.hooks.create('t', hook(2, { snooze: 60 }));
    await f.hooks.create('t', hook(3, { on_change: true }));
  });

  const deadLetters: DeadLetter[] = [];
  const dispatcher = (queue: DeliveryQueue) =>
    f.dispatcher(queue, {
      deadLetters: {
        put: async (entry) => {
          deadLetters.push(entry);
          return { ...entry, id: entry.job.deliveryId };
        },
      },
    });

  it('loses nothing when enqueueing fails after the gate admitted: the retried event passes again, with the same delivery ids', async () => {
    const queue = flakyQueue(1);
    const dispatch = dispatcher(queue);
    await expect(dispatch(event('e1'))).rejects.toThrow('throttled');
    const jobs = await dispatch(event('e1'));
    expect(jobs.map((j) => j.hookId).sort()).toEqual([hook(1).id, hook(2).id, hook(3).id]);
    expect(jobs.map((j) => j.deliveryId).sort()).toEqual(
      [hook(1), hook(2), hook(3)].map((h) => deliveryIdFor(event('e1'), h.id)).sort(),
    );
    // Another event inside the snooze window with the same data is still dropped by the gated hooks.
    const next = await dispatch(event('e2'));
    expect(next.map((j) => j.hookId)).toEqual([hook(1).id]);
  });

  it('derives delivery ids from the event and the hook: stable, distinct, naming the hook', () => {
    const [h1, h2] = [hook(1).id, hook(2).id];
    expect(deliveryIdFor(event('e1'), h1)).toBe(deliveryIdFor(event('e1'), h1));
    expect(deliveryIdFor(event('e1'), h1)).not.toBe(deliveryIdFor(event('e1'), h2));
    expect(deliveryIdFor(event('e1'), h1)).not.toBe(deliveryIdFor(event('e2'), h1));
    expect(deliveryIdFor(event('e1'), h1)).toMatch(new RegExp(`^${h1}_[0-9a-z]{9}_[0-9a-f]{16}$`));
  });
  it('dead-letters a job too large for the queue on its own, with the reason, and enqueues the others', async () => {
    // Prepare: a queue that, like SQS, sends what fits and refuses the rest
    const sent: DeliveryJob[] = [];
    const queue: DeliveryQueue = {
      async send(jobs) {
        const [tooLarge, fits] = [
          jobs.filter((j) => j.hookId === hook(1).id),
          jobs.filter((j) => j.hookId !== hook(1).id),
        ];
        sent.push(...fits);
        if (tooLarge.length)
          throw new JobsTooLargeError(
            tooLarge.map((job) => ({ job, bytes: 2_000_000 })),
            1_048_576,
          );
      },
    };
    deadLetters.length = 0;

    // Act
    const jobs = await dispatcher(queue)(event('oversized-1', { health: 'oversized' }));

    // Assess
    expect(jobs.length).toBeGreaterThan(1);
    expect(sent.map((j) => j.hookId)).not.toContain(hook(1).id);
    expect(sent.length).toBe(jobs.length - 1);
    expect(deadLetters).toEqual([
      expect.objectContaining({
        job: expect.objectContaining({ hookId: hook(1).id }),
        reason: 'delivery job is 2000000 bytes; the delivery queue takes at most 1048576',
      }),
    ]);
  });

  it('skips a disabled hook: no gate item written, no delivery, and the others still get the event', async () => {
    // Prepare: a tenant of its own, a disabled hook with a snooze (which would write a gate item) and an enabled one
    const disabled = { ...hook(11, { snooze: 60 }), enabled: false } as EventHook;
    const enabled = { ...hook(12), enabled: true } as EventHook;
    await f.hooks.create('off', disabled);
    await f.hooks.create('off', enabled);
    const queue = flakyQueue(0);

    // Act
    const jobs = await dispatcher(queue)({ ...event('e-off'), tenant: 'off' });

    // Assess
    expect(jobs.map((j) => j.hookId)).toEqual([enabled.id]);
    expect(queue.jobs.map((j) => j.hookId)).toEqual([enabled.id]);
    const gate = await f.store.client.send(
      new GetCommand({ TableName: f.store.tableName, Key: keys.gate('off', `${disabled.id}:balancer:health`) }),
    );
    expect(gate.Item).toBeUndefined();
  });
});

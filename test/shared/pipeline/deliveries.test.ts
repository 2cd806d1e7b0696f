import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryLog } from '../../../shared/adapters/local/localDeliveryLog.ts';
import { DEFAULT_DELIVERY_LOG_SETTINGS } from '../../../shared/deliveryLog/record.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createDeadLetters } from '../../../shared/pipeline/deadLetters.ts';
import { createDeliveries } from '../../../shared/pipeline/deliveries.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../../shared/ports/deliveryQueue.ts';
import { DeadLetterStore } from '../../../shared/store/deadLetterStore.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const T0 = Date.parse('2026-11-29T08:00:00Z');

const job = (id: string, attempt = 1): DeliveryJob => ({
  type: 'deliver.v1',
  deliveryId: id,
  tenant: 'default',
  hookId: 'hook-a',
  event: { id: `event-${id}`, time: new Date(T0).toISOString(), tenant: 'default', source: 's', event: 'e', data: {} },
  attempt,
  firstQueuedAt: T0,
});

describe('replaying a dead delivery from the delivery log', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  /** A delivery gone dead as the worker leaves it: dead-lettered and logged dead at one instant. */
  async function deadDelivery(id: string) {
    const clock = new ManualClock(T0);
    const deadLetterStore = new DeadLetterStore({ client: store.client, tableName: store.tableName, clock });
    const log = await LocalDeliveryLog.open({ settings: DEFAULT_DELIVERY_LOG_SETTINGS, logger: memoryLogger(), clock });
    const failedAt = T0 + 1234;
    const dead = job(id, 3);
    await deadLetterStore.put({ job: dead, reason: 'receiver answered HTTP 500', deadLetteredAt: failedAt });
    await log.record({ job: dead, status: 'dead', startedAt: failedAt - 40, endedAt: failedAt, statusCode: 500 });
    return { clock, deadLetterStore, log };
  }
  const listed = async (deadLetterStore: DeadLetterStore) =>
    (await deadLetterStore.list('default', { size: 100 })).deadLetters.map((d) => d.job.deliveryId);

  it('puts the dead letter back, and the record as it was, when the job could not be queued', async () => {
    // Arrange
    const { clock, deadLetterStore, log } = await deadDelivery('d-down');
    let up = false;
    const sent: DeliveryJob[] = [];
    const queue: DeliveryQueue = {
      send: async (jobs) => {
        if (!up) throw new Error('queue unavailable');
        sent.push(...jobs);
      },
    };
    const deliveries = createDeliveries({ log, queue, clock, deadLetters: deadLetterStore });

    // Act / Assess: the failed replay leaves everything as it was, so it can be tried again.
    await expect(deliveries.replay('default', 'd-down')).rejects.toThrow(/queue unavailable/);
    expect(await listed(deadLetterStore)).toContain('d-down');
    expect((await log.get('default', 'd-down'))?.status).toBe('dead');
    up = true;
    expect(await deliveries.replay('default', 'd-down')).toMatchObject({ status: 'pending' });
    expect(sent.map((j) => [j.deliveryId, j.attempt])).toEqual([['d-down', 1]]);
    expect(await listed(deadLetterStore)).not.toContain('d-down');
  });

  it('queues a dead delivery once when both routes replay it: the dead letter is claimed by the first', async () => {
    // Arrange
    const { clock, deadLetterStore, log } = await deadDelivery('d-twice');
    const sent: DeliveryJob[] = [];
    const queue: DeliveryQueue = { send: async (jobs) => void sent.push(...jobs) };
    const deliveries = createDeliveries({ log, queue, clock, deadLetters: deadLetterStore });
    const deadLetters = createDeadLetters({ store: deadLetterStore, queue, clock });
    const [entry] = (await deadLetterStore.list('default', { size: 100 })).deadLetters.filter(
      (d) => d.job.deliveryId === 'd-twice',
    );

    // Act
    await deliveries.replay('default', 'd-twice');
    const second = await deadLetters.replay('default', entry?.id ?? '');

    // Assess: the dead letter was gone, so /dead-letters answered unknown (404) and sent nothing.
    expect(second).toBeUndefined();
    expect(sent.map((j) => j.deliveryId)).toEqual(['d-twice']);
  });

  it('a replay from /dead-letters marks the delivery pending, and leaves both as they were when the job could not be queued', async () => {
    // Arrange
    const { clock, deadLetterStore, log } = await deadDelivery('d-letter');
    let up = false;
    const queue: DeliveryQueue = {
      send: async () => {
        if (!up) throw new Error('queue unavailable');
      },
    };
    const deadLetters = createDeadLetters({ store: deadLetterStore, queue, clock, log });
    const deliveries = createDeliveries({ log, queue, clock, deadLetters: deadLetterStore });
    const [entry] = (await deadLetterStore.list('default', { size: 100 })).deadLetters.filter(
      (d) => d.job.deliveryId === 'd-letter',
    );

    // Act / Assess
    await expect(deadLetters.replay('default', entry?.id ?? '')).rejects.toThrow(/queue unavailable/);
    expect((await log.get('default', 'd-letter'))?.status).toBe('dead');
    expect(await listed(deadLetterStore)).toContain('d-letter');
    up = true;
    expect(await deadLetters.replay('default', entry?.id ?? '')).toMatchObject({ id: entry?.id });
    expect((await log.get('default', 'd-letter'))?.status).toBe('pending');
    await expect(deliveries.replay('default', 'd-letter')).rejects.toThrow(/already queued/);
  });
});

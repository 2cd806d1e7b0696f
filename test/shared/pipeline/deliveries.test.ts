import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryLog } from '../../../shared/adapters/local/localDeliveryLog.ts';
import { DEFAULT_DELIVERY_LOG_SETTINGS, type DeliveryLog } from '../../../shared/deliveryLog/record.ts';
import { QuotaExceededError } from '../../../shared/errors.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createDeadLetters } from '../../../shared/pipeline/deadLetters.ts';
import { createDeliveries, DeliveryInProgressError } from '../../../shared/pipeline/deliveries.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../../shared/ports/deliveryQueue.ts';
import { DeadLetterStore } from '../../../shared/store/deadLetterStore.ts';
import { DeliveryLogStore } from '../../../shared/store/deliveryLogStore.ts';
import { deliveryJobAt } from '../../support/jobs.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const T0 = Date.parse('2026-11-29T08:00:00Z');

const job = (id: string, attempt = 1): DeliveryJob => deliveryJobAt(id, T0, { attempt });

/** The real store, counting the claims (deletes) made of it. */
class CountingDeadLetterStore extends DeadLetterStore {
  deletes = 0;
  override delete(tenant: string, id: string) {
    this.deletes++;
    return super.delete(tenant, id);
  }
}

describe('replaying a dead delivery from the delivery log', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  /**
   * A delivery gone dead as the worker leaves it: dead-lettered and logged dead at one instant
   * (`deadLetteredAt` apart, as the local queue dead-letters a job that kept failing itself).
   */
  async function deadDelivery(
    id: string,
    options: { table?: boolean; deadLetteredAt?: number; status?: 'dead' | 'delivered' } = {},
  ) {
    const clock = new ManualClock(T0);
    const deadLetterStore = new CountingDeadLetterStore({ client: store.client, tableName: store.tableName, clock });
    const log: DeliveryLog = options.table
      ? new DeliveryLogStore({
          client: store.client,
          tableName: store.tableName,
          settings: DEFAULT_DELIVERY_LOG_SETTINGS,
          clock,
        })
      : await LocalDeliveryLog.open({ settings: DEFAULT_DELIVERY_LOG_SETTINGS, logger: memoryLogger(), clock });
    const failedAt = T0 + 1234;
    const dead = job(id, 3);
    const status = options.status ?? 'dead';
    if (status === 'dead') {
      const deadLetteredAt = options.deadLetteredAt ?? failedAt;
      await deadLetterStore.put({ job: dead, reason: 'receiver answered HTTP 500', deadLetteredAt });
    }
    const statusCode = status === 'dead' ? 500 : 200;
    await log.record({ job: dead, status, startedAt: failedAt - 40, endedAt: failedAt, statusCode });
    deadLetterStore.deletes = 0;
    return { clock, deadLetterStore, log };
  }
  const entryOf = async (deadLetterStore: DeadLetterStore, id: string) =>
    (await deadLetterStore.list('default', { size: 100 })).deadLetters.find((d) => d.job.deliveryId === id)?.id ?? '';
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

  describe.each([
    ['the local log', false],
    ['the table log (AWS)', true],
  ])('concurrent replays on %s', (_name, table) => {
    it('two replays of one delivered delivery at once queue it once; the other answers 409', async () => {
      // Arrange
      const id = `c-delivered-${table}`;
      const { clock, log } = await deadDelivery(id, { table, status: 'delivered' });
      const sent: DeliveryJob[] = [];
      const queue: DeliveryQueue = { send: async (jobs) => void sent.push(...jobs) };
      const deliveries = createDeliveries({ log, queue, clock });

      // Act
      const results = await Promise.allSettled([deliveries.replay('default', id), deliveries.replay('default', id)]);

      // Assess
      expect(sent.map((j) => j.deliveryId)).toEqual([id]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(DeliveryInProgressError);
    });

    it.each([
      ['/deliveries first', false],
      ['/dead-letters first', true],
    ])('a dead delivery replayed from both routes at once is queued once (%s)', async (_order, letterFirst) => {
      // Arrange
      const id = `c-both-${table}-${letterFirst}`;
      const { clock, deadLetterStore, log } = await deadDelivery(id, { table });
      const sent: DeliveryJob[] = [];
      const queue: DeliveryQueue = { send: async (jobs) => void sent.push(...jobs) };
      const deliveries = createDeliveries({ log, queue, clock, deadLetters: deadLetterStore });
      const deadLetters = createDeadLetters({ store: deadLetterStore, queue, clock, log });
      const entry = await entryOf(deadLetterStore, id);

      // Act
      const fromDeliveries = () => deliveries.replay('default', id);
      const fromDeadLetters = () => deadLetters.replay('default', entry);
      const results = await Promise.allSettled(
        letterFirst ? [fromDeadLetters(), fromDeliveries()] : [fromDeliveries(), fromDeadLetters()],
      );

      // Assess: one queued it; the other answered 409 (or 404: the dead letter was already taken).
      expect(sent.map((j) => j.deliveryId)).toEqual([id]);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DeliveryInProgressError);
      }
      expect((await log.get('default', id))?.status).toBe('pending');
    });
  });

  it('a /dead-letters replay answers 409 while the delivery is already queued again, and keeps its dead letter', async () => {
    // Arrange: a dead letter whose time is not the record's last write (the local queue made it).
    const { clock, deadLetterStore, log } = await deadDelivery('d-queued', { deadLetteredAt: T0 + 999 });
    const sent: DeliveryJob[] = [];
    const queue: DeliveryQueue = { send: async (jobs) => void sent.push(...jobs) };
    const deliveries = createDeliveries({ log, queue, clock, deadLetters: deadLetterStore });
    const deadLetters = createDeadLetters({ store: deadLetterStore, queue, clock, log });
    await deliveries.replay('default', 'd-queued');
    const entry = await entryOf(deadLetterStore, 'd-queued');
    deadLetterStore.deletes = 0;

    // Act / Assess
    await expect(deadLetters.replay('default', entry)).rejects.toBeInstanceOf(DeliveryInProgressError);
    expect(sent.map((j) => j.deliveryId)).toEqual(['d-queued']);
    expect(await entryOf(deadLetterStore, 'd-queued')).toBe(entry);
    expect(deadLetterStore.deletes).toBe(0);
  });

  it('a /dead-letters replay past the quota answers 429 before it touches the dead letter or the log', async () => {
    // Arrange
    const { clock, deadLetterStore, log } = await deadDelivery('d-quota');
    const sent: DeliveryJob[] = [];
    const queue: DeliveryQueue = { send: async (jobs) => void sent.push(...jobs) };
    const admit = async () => {
      throw new QuotaExceededError('events_per_second', 'events_per_second exceeded');
    };
    const deadLetters = createDeadLetters({ store: deadLetterStore, queue, clock, log, admit });
    const entry = await entryOf(deadLetterStore, 'd-quota');

    // Act / Assess
    await expect(deadLetters.replay('default', entry)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(deadLetterStore.deletes).toBe(0);
    expect(await entryOf(deadLetterStore, 'd-quota')).toBe(entry);
    expect((await log.get('default', 'd-quota'))?.status).toBe('dead');
    expect(sent).toEqual([]);
  });
});

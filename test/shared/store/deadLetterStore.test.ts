import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeadLetter } from '../../../shared/ports/deliveryQueue.ts';
import { DeadLetterStore } from '../../../shared/store/deadLetterStore.ts';
import { InvalidOffsetError } from '../../../shared/store/hookStore.ts';
import { keys } from '../../../shared/store/table.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const entry = (tenant: string, n: number, at = 1_764_000_000_000 + n): DeadLetter => ({
  job: {
    type: 'deliver.v1',
    deliveryId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    tenant,
    hookId: 'hook-1',
    event: { id: `e${n}`, time: '2026-11-27T00:00:00Z', tenant, source: 'balancer', event: 'health', data: { n } },
    attempt: 6,
    firstQueuedAt: at - 90_000,
  },
  reason: 'HTTP 500 after 6 attempts',
  deadLetteredAt: at,
});

describe('DeadLetterStore', () => {
  let store: TestStore;
  let deadLetters: DeadLetterStore;
  const clock = new ManualClock(1_764_000_100_000);
  beforeAll(async () => {
    store = await startTestStore();
    deadLetters = new DeadLetterStore({ client: store.client, tableName: store.tableName, retentionDays: 2, clock });
  });
  afterAll(() => store.close());

  it('stores a dead letter with an id that sorts by time, and a TTL after the retention', async () => {
    const stored = await deadLetters.put(entry('a', 1));
    expect(stored.id).toBe(`1764000000001-${entry('a', 1).job.deliveryId}`);
    expect(await deadLetters.get('a', stored.id)).toEqual({ ...entry('a', 1), id: stored.id });
    const { Item } = await store.client.send(
      new GetCommand({ TableName: store.tableName, Key: keys.deadLetter('a', stored.id) }),
    );
    expect(Item?.expires_at).toBe(Math.ceil((1_764_000_000_001 + 2 * 86_400_000) / 1000));
  });

  it('lists oldest first, page by page, per tenant', async () => {
    for (const n of [13, 11, 12]) await deadLetters.put(entry('b', n));
    await deadLetters.put(entry('c', 99));
    const first = await deadLetters.list('b', { size: 2 });
    expect(first.deadLetters.map((d) => d.job.event.id)).toEqual(['e11', 'e12']);
    const second = await deadLetters.list('b', { size: 2, offset: first.next! });
    expect(second.deadLetters.map((d) => d.job.event.id)).toEqual(['e13']);
    expect(second.next).toBeUndefined();
  });

  it('deletes once and says what it deleted', async () => {
    const stored = await deadLetters.put(entry('d', 1));
    expect((await deadLetters.delete('d', stored.id))?.id).toBe(stored.id);
    expect(await deadLetters.delete('d', stored.id)).toBeUndefined();
    expect(await deadLetters.get('d', stored.id)).toBeUndefined();
  });

  it('refuses offsets it did not issue and treats malformed ids as unknown', async () => {
    await expect(deadLetters.list('b', { size: 1, offset: 'x' })).rejects.toBeInstanceOf(InvalidOffsetError);
    expect(await deadLetters.get('b', '../x')).toBeUndefined();
  });

  it('stores any JSON an event can carry: big integers, a constructor key, numbers beyond double range', async () => {
    const body =
      '{"big":9007199254740993,"constructor":{"x":1},"__proto__":{"y":2},"huge":1e400,"deep":[[{"constructor":"c"}]]}';
    const data = JSON.parse(body) as Record<string, unknown>;
    const base = entry('e', 1);
    const stored = await deadLetters.put({ ...base, job: { ...base.job, event: { ...base.job.event, data } } });
    const got = await deadLetters.get('e', stored.id);
    // What the receiver got, since webhooks send JSON.stringify(data): doubles, and null for Infinity.
    expect(JSON.stringify(got?.job.event.data)).toBe(JSON.stringify(data));
    expect(got?.job.event.data).toEqual(JSON.parse(JSON.stringify(data)));
    expect(Object.hasOwn(got?.job.event.data ?? {}, '__proto__')).toBe(true);
    expect((await deadLetters.list('e', { size: 10 })).deadLetters.map((d) => d.id)).toEqual([stored.id]);
  });

  it('stores an entry too large for an item as text gzipped', async () => {
    const base = entry('h', 1);
    const data = { rows: Array.from({ length: 9000 }, (_, i) => ({ row: i, text: 'the same words again and again' })) };
    expect(JSON.stringify(data).length).toBeGreaterThan(400 * 1024);
    const stored = await deadLetters.put({ ...base, job: { ...base.job, event: { ...base.job.event, data } } });
    expect((await deadLetters.get('h', stored.id))?.job.event.data).toEqual(data);
    expect((await deadLetters.list('h', { size: 5 })).deadLetters[0]?.job.event.data).toEqual(data);
  });

  it('still reads dead letters stored as marshalled maps by the previous version', async () => {
    const old = entry('f', 1);
    const id = `1764000000001-${old.job.deliveryId}`;
    await store.client.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...keys.deadLetter('f', id), id, ...old, expires_at: 1_764_000_000 + 86_400 },
      }),
    );
    expect(await deadLetters.get('f', id)).toEqual({ ...old, id });
    expect((await deadLetters.list('f', { size: 5 })).deadLetters).toEqual([{ ...old, id }]);
  });

  it('hides dead letters whose expiry has passed, since TTL deletes late, and pages past them', async () => {
    const day = 86_400_000;
    const fresh = (n: number) => entry('g', n, clock.now() + n);
    const stale = (n: number) => entry('g', n, clock.now() - 3 * day + n);
    for (const e of [stale(1), fresh(2), stale(3), stale(4), fresh(5), stale(6)]) await deadLetters.put(e);
    const expiredId = `${stale(1).deadLetteredAt}-${stale(1).job.deliveryId}`;
    expect(await deadLetters.get('g', expiredId)).toBeUndefined();
    expect(await deadLetters.delete('g', expiredId)).toBeUndefined();
    const first = await deadLetters.list('g', { size: 1 });
    expect(first.deadLetters.map((d) => d.job.event.id)).toEqual(['e2']);
    const second = await deadLetters.list('g', { size: 1, offset: first.next! });
    expect(second.deadLetters.map((d) => d.job.event.id)).toEqual(['e5']);
    const rest = second.next ? (await deadLetters.list('g', { size: 1, offset: second.next })).deadLetters : [];
    expect(rest).toEqual([]);
  });
});

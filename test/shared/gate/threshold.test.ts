import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventDigest } from '../../../shared/gate/digest.ts';
import {
  createThresholdCounter,
  IDEMPOTENT_MAX_COUNT,
  type ThresholdCounter,
  type ThresholdInput,
} from '../../../shared/gate/threshold.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { keys } from '../../../shared/store/table.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const RATE = { consumer: 'c1', ip: '10.0.0.1', service: 's1', rate: 7 };
const UNIQUE = ['consumer', 'ip', 'service'];
const DIGEST = eventDigest(RATE, UNIQUE);
const ruleOf = (rule: { threshold: { count: number; window: number } }) =>
  `${rule.threshold.count}/${rule.threshold.window}`;

describe('threshold counter', () => {
  let store: TestStore;
  let clock: ManualClock;
  let counter: ThresholdCounter;

  beforeAll(async () => {
    store = await startTestStore();
    clock = new ManualClock(1_700_000_000_000);
    counter = createThresholdCounter({ client: store.client, tableName: store.tableName, clock });
  });
  afterAll(() => store.close());

  const hook = (count: number, window: number) => ({ id: randomUUID(), threshold: { count, window } });
  const input = (h: ThresholdInput['hook'], extra: Partial<ThresholdInput> = {}): ThresholdInput => ({
    tenant: 'default',
    hook: h,
    source: 'rate-limiting',
    event: 'exceeded',
    data: RATE,
    unique: UNIQUE,
    ...extra,
  });
  /** Counts one event at offset `t` seconds from `start`. */
  const at = async (start: number, t: number, h: ThresholdInput['hook'], extra: Partial<ThresholdInput> = {}) => {
    clock.set(start + t * 1000);
    return counter.reached(input(h, extra));
  };

  it('fires on the count-th event of a window, once, and suppresses the rest of the window', async () => {
    const rule = hook(3, 60);
    const start = clock.now();
    const results = [];
    for (const t of [0, 10, 20, 30, 59.999]) results.push(await at(start, t, rule));
    expect(results).toEqual([false, false, true, false, false]);
  });

  it('tumbles: the first event after the window ends opens a new one, counted from 1', async () => {
    const rule = hook(2, 60);
    const start = clock.now();
    const results = [];
    // Window 1 runs [0, 60), window 2 opens with the event at 60 and runs [60, 120), window 3 opens at 120.
    for (const t of [0, 30, 60, 61, 100, 119.999, 120, 150]) results.push(await at(start, t, rule));
    expect(results).toEqual([false, true, false, true, false, false, false, true]);
  });

  it('counts an event that falls exactly on the window end in the next window', async () => {
    const rule = hook(2, 1);
    const start = clock.now();
    expect([await at(start, 0, rule), await at(start, 1, rule), await at(start, 1.5, rule)]).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('fires on every event with a count of 1, once per window', async () => {
    const rule = hook(1, 60);
    const start = clock.now();
    const results = [];
    for (const t of [0, 1, 61, 62]) results.push(await at(start, t, rule));
    expect(results).toEqual([true, false, true, false]);
  });

  it('counts separately per digest of the unique fields, per event, per hook and per tenant', async () => {
    const rule = hook(2, 60);
    const other = { ...RATE, consumer: 'c2' };
    const results = [
      await counter.reached(input(rule)),
      await counter.reached(input(rule, { data: other })),
      await counter.reached(input(rule, { data: { ...RATE, rate: 99 } })), // same unique fields: second of RATE
      await counter.reached(input(rule, { tenant: 'other' })),
      await counter.reached(input(rule, { event: 'other-event' })),
      await counter.reached(input(rule, { data: other })),
    ];
    expect(results).toEqual([false, false, true, false, false, true]);
  });

  it('counts per hook, source and event when the event has no unique fields (crud)', async () => {
    const rule = hook(2, 60);
    const crud = (username: string) =>
      input(rule, { source: 'crud', event: 'consumers', unique: [], data: { entity: { username } } });
    expect([await counter.reached(crud('a')), await counter.reached(crud('b'))]).toEqual([false, true]);
  });

  it.each([
    ['in a fresh window', 0],
    ['after a window ended', 120],
  ])('fires for exactly one of 50 concurrent events (%s)', async (_name, later) => {
    // Prepare: a rule whose previous window, for the second case, has ended
    const rule = hook(10, 60);
    const start = clock.now();
    if (later) await at(start, 0, rule);
    clock.set(start + later * 1000);

    // Act
    const results = await Promise.all(Array.from({ length: 50 }, () => counter.reached(input(rule))));

    // Assess: exactly one fired, and every event was counted once in the one open window
    expect(results.filter(Boolean)).toHaveLength(1);
    const key = keys.threshold('default', `${rule.id}:rate-limiting:exceeded:${DIGEST}`, ruleOf(rule));
    const { Item } = await store.client.send(new GetCommand({ TableName: store.tableName, Key: key }));
    expect(Item?.event_count).toBe(50);
    expect(Item?.window_end).toBe(clock.now() + 60_000);
  });

  it('counts each event in one conditional update while the window is open', async () => {
    // Prepare
    const rule = hook(100, 60);
    await counter.reached(input(rule));
    const send = vi.spyOn(store.client, 'send');

    // Act
    await counter.reached(input(rule));

    // Assess
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0]?.[0];
    expect(command).toBeInstanceOf(UpdateCommand);
    expect((command as UpdateCommand).input.ConditionExpression).toContain(':now');
    send.mockRestore();
  });

  it('stores expires_at, in epoch seconds, at the window end for DynamoDB TTL', async () => {
    const rule = hook(5, 30);
    clock.set(1_700_000_123_456);
    await counter.reached(input(rule));
    const key = keys.threshold('default', `${rule.id}:rate-limiting:exceeded:${DIGEST}`, ruleOf(rule));
    const { Item } = await store.client.send(new GetCommand({ TableName: store.tableName, Key: key }));
    expect(Item?.expires_at).toBe(1_700_000_154);
  });

  it('treats a window whose end has passed as over even though TTL has not removed the item', async () => {
    // Prepare: an item whose window ended long ago, with a count past the threshold
    const rule = hook(2, 60);
    const key = keys.threshold('default', `${rule.id}:rate-limiting:exceeded:${DIGEST}`, ruleOf(rule));
    await store.client.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...key, event_count: 7, window_end: clock.now() - 1, expires_at: 1 },
      }),
    );

    // Act
    const results = [await counter.reached(input(rule)), await counter.reached(input(rule))];

    // Assess
    expect(results).toEqual([false, true]);
  });

  it('fires again for the event that reached the count when its dispatch is retried, and for no other', async () => {
    const rule = hook(2, 60);
    expect(await counter.reached(input(rule, { eventId: 'e1' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e2' }))).toBe(true);
    expect(await counter.reached(input(rule, { eventId: 'e2' }))).toBe(true);
    expect(await counter.reached(input(rule, { eventId: 'e3' }))).toBe(false);
  });

  it('counts a retried event once: a dispatch retried before the count is reached does not bring the firing forward', async () => {
    const rule = hook(3, 60);
    expect(await counter.reached(input(rule, { eventId: 'e1' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e1' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e2' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e2' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e3' }))).toBe(true);
    // After the firing: the firing event retried fires again, the others stay suppressed.
    expect(await counter.reached(input(rule, { eventId: 'e3' }))).toBe(true);
    expect(await counter.reached(input(rule, { eventId: 'e1' }))).toBe(false);
    expect(await counter.reached(input(rule, { eventId: 'e4' }))).toBe(false);
  });

  it('counts a retried event once in the window it opened, and afresh in the next window', async () => {
    const rule = hook(2, 60);
    const start = clock.now();
    expect(await at(start, 0, rule, { eventId: 'a' })).toBe(false);
    expect(await at(start, 1, rule, { eventId: 'a' })).toBe(false);
    expect(await at(start, 61, rule, { eventId: 'a' })).toBe(false);
    expect(await at(start, 62, rule, { eventId: 'b' })).toBe(true);
  });

  it('keeps the ids of the counted events only until the firing, so the item stays small', async () => {
    const rule = hook(3, 60);
    for (let i = 0; i < 30; i++) await counter.reached(input(rule, { eventId: `id-${i}` }));
    const key = keys.threshold('default', `${rule.id}:rate-limiting:exceeded:${DIGEST}`, ruleOf(rule));
    const { Item } = await store.client.send(
      new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
    );
    expect([...((Item?.counted_ids as Set<string> | undefined) ?? [])].sort()).toEqual(['id-0', 'id-1', 'id-2']);
    expect(Item?.fired_by).toBe('id-2');
  });

  it('fires for one event of 20 counted once each, when each of them arrives twice at once', async () => {
    const rule = hook(IDEMPOTENT_MAX_COUNT, 60);
    const ids = Array.from({ length: IDEMPOTENT_MAX_COUNT }, (_, i) => `c-${i}`);
    const calls = [...ids, ...ids].map(async (eventId) => [eventId, await counter.reached(input(rule, { eventId }))]);
    const fired = (await Promise.all(calls)).filter(([, reached]) => reached).map(([eventId]) => eventId);
    // The firing event may be counted, then retried: it fires again, no other does.
    expect(new Set(fired).size).toBe(1);
    expect(fired.length).toBeGreaterThanOrEqual(1);
  });

  it('still counts an event with its id in one conditional update while the window is open', async () => {
    const rule = hook(IDEMPOTENT_MAX_COUNT, 60);
    await counter.reached(input(rule, { eventId: 'first' }));
    const send = vi.spyOn(store.client, 'send');
    await counter.reached(input(rule, { eventId: 'second' }));
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]?.[0]).toBeInstanceOf(UpdateCommand);
    send.mockRestore();
  });

  it(`counts a retried event again above a count of ${IDEMPOTENT_MAX_COUNT}, where keeping the ids would cost more than the error`, async () => {
    const rule = hook(IDEMPOTENT_MAX_COUNT + 1, 60);
    await counter.reached(input(rule, { eventId: 'r' }));
    await counter.reached(input(rule, { eventId: 'r' }));
    const key = keys.threshold('default', `${rule.id}:rate-limiting:exceeded:${DIGEST}`, ruleOf(rule));
    const { Item } = await store.client.send(
      new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
    );
    expect(Item?.event_count).toBe(2);
    expect(Item).not.toHaveProperty('counted_ids');
  });

  it('counts afresh under a changed threshold', async () => {
    const before = hook(3, 60);
    const after = { id: before.id, threshold: { count: 2, window: 60 } };
    expect([await counter.reached(input(before)), await counter.reached(input(before))]).toEqual([false, false]);
    expect([await counter.reached(input(after)), await counter.reached(input(after))]).toEqual([false, true]);
  });

  it('passes every event of a hook without threshold, without touching the store', async () => {
    const send = vi.spyOn(store.client, 'send');
    expect(await counter.reached(input({ id: randomUUID(), threshold: null }))).toBe(true);
    expect(send).not.toHaveBeenCalled();
    send.mockRestore();
  });

  it('lets store errors other than a failed condition propagate', async () => {
    const broken = createThresholdCounter({ client: store.client, tableName: 'no-such-table', clock });
    await expect(broken.reached(input(hook(2, 60)))).rejects.toThrow();
  });
});

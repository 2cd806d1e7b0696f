import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGate, type Gate, type GateInput } from '../../../shared/gate/gate.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { keys } from '../../../shared/store/table.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const A = { some: 'data' };
const B = { some: 'other data' };

describe('gate', () => {
  let store: TestStore;
  let clock: ManualClock;
  let gate: Gate;

  beforeAll(async () => {
    store = await startTestStore();
    clock = new ManualClock(1_700_000_000_000);
    gate = createGate({ client: store.client, tableName: store.tableName, clock });
  });
  afterAll(() => store.close());

  const hook = (fields: { snooze?: number | null; on_change?: boolean | null }) => ({
    id: randomUUID(),
    snooze: fields.snooze ?? null,
    on_change: fields.on_change ?? null,
  });
  const input = (h: GateInput['hook'], data: Record<string, unknown>, extra: Partial<GateInput> = {}): GateInput => ({
    tenant: 'default',
    hook: h,
    source: 'balancer',
    event: 'health',
    data,
    ...extra,
  });
  /** Admits `data` at offset `t` seconds from `start`. */
  const at = async (start: number, t: number, h: GateInput['hook'], data: Record<string, unknown>) => {
    clock.set(start + t * 1000);
    return gate.admit(input(h, data));
  };

  it('passes every event of a hook without snooze or on_change, without touching the store', async () => {
    // Prepare
    const send = vi.spyOn(store.client, 'send');
    const plain = hook({ snooze: null, on_change: false });

    // Act
    const results = [await gate.admit(input(plain, A)), await gate.admit(input(plain, A))];

    // Assess
    expect(results).toEqual([true, true]);
    expect(send).not.toHaveBeenCalled();
    send.mockRestore();
  });

  it("follows Kong's snooze sequence: t=0 pass, 0 drop, 50 drop, 70 pass, 100 drop, 131 pass", async () => {
    const snoozed = hook({ snooze: 60 });
    const start = clock.now();
    const results = [];
    for (const [t, data] of [
      [0, A],
      [0, B],
      [50, A],
      [70, B],
      [100, A],
      [131, A],
    ] as const) {
      results.push(await at(start, t, snoozed, data));
    }
    expect(results).toEqual([true, false, false, true, false, true]);
  });

  it('opens the next snooze window exactly when the previous one ends, to the millisecond', async () => {
    const snoozed = hook({ snooze: 1 });
    const start = clock.now();
    expect(await at(start, 0, snoozed, A)).toBe(true);
    expect(await at(start, 0.999, snoozed, A)).toBe(false);
    expect(await at(start, 1, snoozed, A)).toBe(true);
  });

  it("follows Kong's on_change sequence: A pass, A drop, B pass, B drop, A pass", async () => {
    const changing = hook({ on_change: true });
    const start = clock.now();
    const results = [];
    for (const data of [A, A, B, B, A]) results.push(await at(start, 0, changing, data));
    expect(results).toEqual([true, false, true, false, true]);
  });

  it('keeps on_change state without expiry', async () => {
    const changing = hook({ on_change: true });
    const start = clock.now();
    expect(await at(start, 0, changing, A)).toBe(true);
    expect(await at(start, 365 * 24 * 3600, changing, A)).toBe(false);
  });

  it('compares only the unique fields for on_change', async () => {
    const changing = hook({ on_change: true });
    const unique = ['service'];
    expect(await gate.admit(input(changing, { service: 's1', rate: 1 }, { unique }))).toBe(true);
    expect(await gate.admit(input(changing, { service: 's1', rate: 99 }, { unique }))).toBe(false);
    expect(await gate.admit(input(changing, { service: 's2', rate: 99 }, { unique }))).toBe(true);
  });

  it('applies the snooze window per digest when both are set', async () => {
    const both = hook({ snooze: 60, on_change: true });
    const start = clock.now();
    const results = [
      await at(start, 0, both, A), // pass: first A
      await at(start, 10, both, A), // drop: A inside its window
      await at(start, 20, both, B), // pass: B has its own window
      await at(start, 30, both, A), // drop: A's window still open
      await at(start, 61, both, A), // pass: A's window ended at 60
      await at(start, 70, both, B), // drop: B's window runs to 80
      await at(start, 80, both, B), // pass
    ];
    expect(results).toEqual([true, false, true, false, true, false, true]);
  });

  it('treats a window whose TTL has passed as over even though the item still exists', async () => {
    // Prepare
    const snoozed = hook({ snooze: 60 });
    const start = clock.now();
    await at(start, 0, snoozed, A);
    clock.set(start + 3_600_000);
    const key = keys.gate('default', `${snoozed.id}:balancer:health`);
    const { Item } = await store.client.send(new GetCommand({ TableName: store.tableName, Key: key }));

    // Act
    const admitted = await gate.admit(input(snoozed, A));

    // Assess: the stale item was still there (TTL is lazy), and the gate ignored it
    expect(Item?.expires_at).toBe(Math.ceil((start + 60_000) / 1000));
    expect((Item?.expires_at as number) * 1000).toBeLessThan(clock.now());
    expect(admitted).toBe(true);
  });

  it('writes expires_at in epoch seconds for DynamoDB TTL, and none for on_change alone', async () => {
    const snoozed = hook({ snooze: 30 });
    const changing = hook({ on_change: true });
    clock.set(1_700_000_123_456);
    await gate.admit(input(snoozed, A));
    await gate.admit(input(changing, A));
    const get = async (id: string) =>
      (
        await store.client.send(
          new GetCommand({ TableName: store.tableName, Key: keys.gate('default', `${id}:balancer:health`) }),
        )
      ).Item;
    expect((await get(snoozed.id))?.expires_at).toBe(1_700_000_154);
    expect((await get(changing.id))?.expires_at).toBeUndefined();
  });

  it('keeps gate state separate per hook, per event and per tenant', async () => {
    const first = hook({ snooze: 60 });
    const second = hook({ snooze: 60 });
    expect(await gate.admit(input(first, A))).toBe(true);
    expect(await gate.admit(input(second, A))).toBe(true);
    expect(await gate.admit(input(first, A, { tenant: 'other-tenant' }))).toBe(true);
    expect(await gate.admit(input(first, A, { source: 'crud', event: 'consumers' }))).toBe(true);
    expect(await gate.admit(input(first, A))).toBe(false);
    expect(await gate.admit(input(first, A, { tenant: 'other-tenant' }))).toBe(false);
  });

  it.each([
    ['snooze', { snooze: 60 }],
    ['on_change', { on_change: true }],
    ['snooze and on_change', { snooze: 60, on_change: true }],
  ])('admits exactly one of 50 identical concurrent events (%s)', async (_name, fields) => {
    const gated = hook(fields);
    const results = await Promise.all(Array.from({ length: 50 }, () => gate.admit(input(gated, A))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it.each([
    ['snooze', { snooze: 60 }],
    ['on_change', { on_change: true }],
    ['snooze and on_change', { snooze: 60, on_change: true }],
  ])('makes exactly one conditional write per admitted or dropped event (%s)', async (_name, fields) => {
    // Prepare
    const gated = hook(fields);
    const send = vi.spyOn(store.client, 'send');

    // Act
    const results = [await gate.admit(input(gated, A)), await gate.admit(input(gated, A))];

    // Assess
    expect(results).toEqual([true, false]);
    expect(send).toHaveBeenCalledTimes(2);
    for (const [command] of send.mock.calls) {
      expect(command).toBeInstanceOf(PutCommand);
      expect((command as PutCommand).input.ConditionExpression).toBeTruthy();
    }
    send.mockRestore();
  });

  it('lets store errors other than a failed condition propagate', async () => {
    const broken = createGate({ client: store.client, tableName: 'no-such-table', clock });
    await expect(broken.admit(input(hook({ snooze: 60 }), A))).rejects.toThrow();
  });

  it('lets the event that opened a window or set a digest through again, and no other', async () => {
    const clock = new ManualClock(0);
    const gate = createGate({ client: store.client, tableName: store.tableName, clock });
    for (const hook of [
      { id: 'retry-snooze', snooze: 60, on_change: null },
      { id: 'retry-change', snooze: null, on_change: true },
      { id: 'retry-both', snooze: 60, on_change: true },
    ]) {
      const admit = (eventId: string) =>
        gate.admit({ tenant: 'retry', hook, source: 'balancer', event: 'health', data: { h: 'down' }, eventId });
      expect(await admit('e1')).toBe(true);
      expect(await admit('e1')).toBe(true);
      expect(await admit('e2')).toBe(false);
    }
  });

  it('names the rule that held an event back: snooze, on_change, and snooze for a hook with both', async () => {
    const snoozed = hook({ snooze: 60 });
    const changing = hook({ on_change: true });
    const both = hook({ snooze: 60, on_change: true });
    const decisions = async (h: GateInput['hook']) => [await gate.decide(input(h, A)), await gate.decide(input(h, A))];

    expect(await decisions(snoozed)).toEqual(['admitted', 'snooze']);
    expect(await decisions(changing)).toEqual(['admitted', 'on_change']);
    // Unchanged data inside the window: after the window it would pass again, so the window held it.
    expect(await decisions(both)).toEqual(['admitted', 'snooze']);
    expect(await gate.decide(input(both, B))).toBe('admitted');
  });
});

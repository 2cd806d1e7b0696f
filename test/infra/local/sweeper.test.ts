import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/localRuntime.ts';
import { startSweeper, sweepExpired, sweepIntervalFromEnv } from '../../../infra/local/sweeper.ts';
import { ConfigError } from '../../../shared/config.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeadLetter } from '../../../shared/ports/deliveryQueue.ts';
import { DeadLetterStore } from '../../../shared/store/deadLetterStore.ts';
import { HookStore } from '../../../shared/store/hookStore.ts';
import { IdempotencyStore } from '../../../shared/store/idempotencyStore.ts';
import { keys } from '../../../shared/store/table.ts';
import { testHook } from '../../support/dispatcher.ts';
import { startTestRuntime } from '../../support/runtime.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const DAY = 86_400_000;
const deadLetter = (tenant: string, n: number, at: number): DeadLetter => ({
  job: {
    type: 'deliver.v1',
    deliveryId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    tenant,
    hookId: 'h',
    event: { id: `e${n}`, time: '2026-11-27T00:00:00Z', tenant, source: 'balancer', event: 'health', data: { n } },
    attempt: 1,
    firstQueuedAt: at,
  },
  reason: 'HTTP 400',
  deadLetteredAt: at,
});

async function count(store: { client: TestStore['client']; tableName: string }): Promise<number> {
  const { Count } = await store.client.send(new ScanCommand({ TableName: store.tableName, Select: 'COUNT' }));
  return Count ?? 0;
}

describe('local TTL sweeper', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  it('deletes every expired item, whatever its kind, and keeps the rest', async () => {
    const clock = new ManualClock(1_790_000_000_000);
    const { client, tableName } = store;
    const deadLetters = new DeadLetterStore({ client, tableName, retentionDays: 1, clock });
    const idempotency = new IdempotencyStore({ client, tableName, clock });
    await new HookStore({ client, tableName }).create('t', testHook(1, { created_at: 1 }));
    for (let n = 0; n < 20; n++) await deadLetters.put(deadLetter('t', n, clock.now() - 2 * DAY + n));
    await deadLetters.put(deadLetter('t', 99, clock.now()));
    const now = clock.now();
    clock.set(now - 2 * DAY);
    for (let n = 0; n < 10; n++) await idempotency.claim('t', `REQ#old-${n}`, 'f');
    clock.set(now);
    await idempotency.claim('t', 'REQ#fresh', 'f');
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.gate('t', 'old'), expires_at: Math.floor(now / 1000) - 1 },
      }),
    );
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.gate('t', 'open'), expires_at: Math.floor(now / 1000) + 60 },
      }),
    );
    const before = await count(store);
    expect(await sweepExpired(client, tableName, now)).toBe(31);
    expect(await count(store)).toBe(before - 31);
    // Kept: the hook and its version item, the fresh dead letter, idempotency record and gate.
    const { Items } = await client.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'pk, sk' }));
    expect((Items ?? []).map((i) => `${i.pk} ${i.sk}`).sort()).toEqual(
      [
        'T#t#HOOK 00000000-0000-4000-8000-000000000001',
        'T#t#META HOOKS_VERSION',
        `T#t#DEAD ${String(now).padStart(13, '0')}-00000000-0000-4000-8000-000000000099`,
        'T#t#IDEM#REQ#fresh IDEM',
        'T#t#GATE#open GATE',
      ].sort(),
    );
    expect(await sweepExpired(client, tableName, now)).toBe(0);
  });

  it('runs on its interval and stops cleanly', async () => {
    const clock = new ManualClock(1_790_000_000_000);
    const own = await startTestStore();
    let sweeper: ReturnType<typeof startSweeper> | undefined;
    try {
      const deadLetters = new DeadLetterStore({ ...own, retentionDays: 1, clock });
      for (let n = 0; n < 5; n++) await deadLetters.put(deadLetter('t', n, clock.now()));
      sweeper = startSweeper({ ...own, clock, logger: memoryLogger(), intervalMs: 20 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await count(own)).toBe(5);
      clock.advance(DAY + 1000);
      await waitFor(async () => (await count(own)) === 0);
    } finally {
      await sweeper?.stop();
      await own.close();
    }
  });

  it('reads SWEEP_INTERVAL_MS, refusing what is not a whole number of ms', () => {
    expect(sweepIntervalFromEnv({})).toBe(60_000);
    expect(sweepIntervalFromEnv({ SWEEP_INTERVAL_MS: '0' })).toBe(0);
    expect(() => sweepIntervalFromEnv({ SWEEP_INTERVAL_MS: '1.5' })).toThrow(ConfigError);
    expect(() => sweepIntervalFromEnv({ SWEEP_INTERVAL_MS: '-1' })).toThrow(ConfigError);
  });

  it('refuses to start the local runtime on a bad SWEEP_INTERVAL_MS', async () => {
    await expect(
      startLocalRuntime({ port: 0, memory: true, env: { SWEEP_INTERVAL_MS: 'soon' }, logger: memoryLogger() }),
    ).rejects.toThrow(/SWEEP_INTERVAL_MS/);
  });

  it('makes the local runtime’s store shrink as dead letters expire', async () => {
    const clock = new ManualClock(Date.now());
    const t = await startTestRuntime({ env: { SWEEP_INTERVAL_MS: '25', DEAD_LETTER_RETENTION_DAYS: '1' }, clock });
    try {
      const base = await count(t.store);
      for (let n = 0; n < 10; n++)
        await t.runtime.app.deadLetters.put(deadLetter(t.runtime.config.tenant, n, clock.now()));
      expect(await count(t.store)).toBe(base + 10);
      expect((await t.request('GET', '/dead-letters')).body.data).toHaveLength(10);
      clock.advance(DAY + 1000);
      // Hidden at once, deleted within a few passes.
      expect((await t.request('GET', '/dead-letters')).body.data).toHaveLength(0);
      await waitFor(async () => (await count(t.store)) === base);
    } finally {
      await t.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../infra/local/localRuntime.ts';
import { memoryLogger } from '../../shared/logger.ts';
import { deliveryIdFor } from '../../shared/pipeline/dispatcher.ts';
import { createDocumentClient } from '../../shared/store/dynamo.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * "Why didn't my hook fire?" end to end on the local runtime: events through the Admin API, the bus
 * and the dispatcher, then `GET /events/{id}` and the log lines that answer it.
 */
describe('GET /events/{id}: what became of an event, per hook (local runtime)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
    for (const event of ['snoozed', 'changed', 'filtered', 'off', 'nobody', 'both']) {
      const res = await t.request('PUT', `/event-hooks/sources/why/${event}`, { fields: ['amount'] });
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => t.close());

  const hook = async (body: Record<string, unknown>): Promise<string> => {
    const res = await t.request('POST', '/event-hooks', { source: 'why', handler: 'log', ...body });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  /** Posts one event, waits for its dispatch, answers its record. */
  const emit = async (event: string, data: Record<string, unknown>) => {
    const posted = await t.request('POST', '/events', { source: 'why', event, data });
    expect(posted.status).toBe(202);
    const id: string = posted.body.data[0].id;
    await t.runtime.bus.idle();
    const got = await t.request('GET', `/events/${id}`);
    expect(got.status).toBe(200);
    return { id, record: got.body };
  };
  const linesFor = (eventId: string) => t.logs.filter((line) => line.event_id === eventId);

  it('says queued, then suppressed:snooze, for a snoozed hook, and logs the suppression at info', async () => {
    const id = await hook({ event: 'snoozed', snooze: 60 });

    const first = await emit('snoozed', { amount: 1 });
    const second = await emit('snoozed', { amount: 1 });

    expect(first.record).toEqual({
      id: first.id,
      time: expect.any(String),
      source: 'why',
      event: 'snoozed',
      data: { amount: 1 },
      data_bytes: 12,
      dispatched_at: expect.any(Number),
      hooks: [{ hook_id: id, outcome: 'queued', delivery_id: deliveryIdFor(first.record, id) }],
    });
    expect(second.record.hooks).toEqual([{ hook_id: id, outcome: 'suppressed:snooze', delivery_id: null }]);
    expect(linesFor(second.id)).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'event suppressed by snooze',
        hook_id: id,
        reason: 'snooze',
        outcome: 'suppressed:snooze',
      }),
    );
  });

  it('says suppressed:on_change for unchanged data, queued for changed data', async () => {
    const id = await hook({ event: 'changed', on_change: true });

    await emit('changed', { amount: 1 });
    const same = await emit('changed', { amount: 1 });
    const changed = await emit('changed', { amount: 2 });

    expect(same.record.hooks).toEqual([{ hook_id: id, outcome: 'suppressed:on_change', delivery_id: null }]);
    expect(changed.record.hooks).toEqual([
      { hook_id: id, outcome: 'queued', delivery_id: deliveryIdFor(changed.record, id) },
    ]);
    expect(linesFor(same.id)).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'event suppressed by on_change', hook_id: id }),
    );
  });

  it('names snooze when a hook with both snooze and on_change holds back unchanged data', async () => {
    const id = await hook({ event: 'both', snooze: 60, on_change: true });
    await emit('both', { amount: 1 });
    const same = await emit('both', { amount: 1 });
    expect(same.record.hooks).toEqual([{ hook_id: id, outcome: 'suppressed:snooze', delivery_id: null }]);
  });

  it('answers empty hooks for an event that matched none, and logs it', async () => {
    const nobody = await emit('nobody', { amount: 3 });
    expect(nobody.record.hooks).toEqual([]);
    expect(linesFor(nobody.id)).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'event matched no hook', source: 'why', event: 'nobody' }),
    );
  });

  it('says filtered for data the filter refuses, disabled for a disabled hook, and delivers to neither', async () => {
    const filtered = await hook({ event: 'filtered', filter: { amount: [{ numeric: ['>', 100] }] } });
    const off = await hook({ event: 'off', enabled: false });

    const a = await emit('filtered', { amount: 5 });
    const b = await emit('off', { amount: 5 });
    await t.runtime.queue.idle();

    expect(a.record.hooks).toEqual([{ hook_id: filtered, outcome: 'filtered', delivery_id: null }]);
    expect(b.record.hooks).toEqual([{ hook_id: off, outcome: 'disabled', delivery_id: null }]);
    const deliveries = t.logs.filter((line) => line.message === 'delivery');
    expect(deliveries.filter((line) => line.hook_id === filtered || line.hook_id === off)).toEqual([]);

    // Enabled again, the same hook gets the next event.
    await t.request('PATCH', `/event-hooks/${off}`, { enabled: true });
    const c = await emit('off', { amount: 5 });
    expect(c.record.hooks).toEqual([{ hook_id: off, outcome: 'queued', delivery_id: deliveryIdFor(c.record, off) }]);
  });

  it('answers 404 for an unknown id and for another tenant’s event', async () => {
    const mine = await emit('nobody', { amount: 4 });
    await t.runtime.app.events.put({
      event: {
        id: '11111111-2222-4333-8444-555555555555',
        time: 'x',
        tenant: 'other',
        source: 'why',
        event: 'nobody',
        data: {},
      },
      data_bytes: 2,
      hooks: [],
      dispatched_at: Date.now(),
      expires_at: Math.ceil(Date.now() / 1000) + 60,
    });

    expect((await t.request('GET', '/events/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.request('GET', '/events/11111111-2222-4333-8444-555555555555')).status).toBe(404);
    expect((await t.request('GET', `/events/${mine.id.toUpperCase()}`)).status).toBe(200);
    const wrongMethod = await t.request('DELETE', `/events/${mine.id}`);
    expect(wrongMethod.status).toBe(405);
  });
});

describe('GET /events/{id} on a data folder (npm start)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-records-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const call = async (
    url: string,
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };

  it('keeps the records in the event log across a restart, owner-only, with no store write per event', async () => {
    const first = await startLocalRuntime({ port: 0, dataDir, logger: memoryLogger(), drainMs: 200 });
    let ids: string[];
    let hookId: string;
    try {
      hookId = (await call(first.url, 'POST', '/event-hooks', { source: 'balancer', handler: 'log', snooze: 60 })).body
        .id;
      const posted = await call(first.url, 'POST', '/events', [
        { source: 'balancer', event: 'health', data: { n: 1 } },
        { source: 'balancer', event: 'health', data: { n: 1 } },
      ]);
      ids = posted.body.data.map((e: { id: string }) => e.id);
      await first.bus.idle();
    } finally {
      await first.close();
    }
    const files = readdirSync(join(dataDir, 'events'));
    expect(files).toEqual([expect.stringMatching(/^events-\d+\.log$/)]);
    expect(statSync(join(dataDir, 'events', files[0] as string)).mode & 0o777).toBe(0o600);

    const second = await startLocalRuntime({ port: 0, dataDir, logger: memoryLogger(), drainMs: 200 });
    try {
      const outcomes = await Promise.all(
        ids.map(async (id) => (await call(second.url, 'GET', `/events/${id}`)).body.hooks[0].outcome),
      );
      // Two events in one request race for the snooze window: exactly one passes.
      expect(outcomes.sort()).toEqual(['queued', 'suppressed:snooze']);
      // The records are in the event log only: the store holds no event record item.
      const client = createDocumentClient({
        endpoint: second.config.dynamodbEndpoint as string,
        ...(second.storeCredentials ? { credentials: second.storeCredentials } : {}),
      });
      const { Items } = await client.send(new ScanCommand({ TableName: second.config.tableName }));
      client.destroy();
      expect((Items ?? []).filter((item) => String(item.pk).includes('#EVT#'))).toEqual([]);
      expect((Items ?? []).length).toBeGreaterThan(0);
      const record = (await call(second.url, 'GET', `/events/${ids[0]}`)).body;
      expect(record).toMatchObject({ id: ids[0], source: 'balancer', event: 'health', data: { n: 1 } });
      expect(record.hooks[0].hook_id).toBe(hookId);
    } finally {
      await second.close();
    }
  });
});

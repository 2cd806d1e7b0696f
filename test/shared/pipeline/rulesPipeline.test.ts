import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT } from '../../../shared/hooks/hook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/** Filters and thresholds end to end: through the Admin API, the bus, the dispatcher and the delivery worker. */
describe('filters and thresholds (local runtime, real store)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  const hook = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/event-hooks', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; filter: unknown; threshold: unknown };
  };
  const emit = async (source: string, event: string, data: Record<string, unknown>) => {
    const res = await t.request('POST', '/events', { source, event, data });
    expect(res.status).toBe(202);
  };
  const settle = async () => {
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };
  const delivered = (hookId: string) =>
    t.logs.filter((l) => l.message === 'delivery' && l.hook_id === hookId && l.outcome === 'delivered');

  it('answers filter and threshold in every hook shape, null when unset', async () => {
    const plain = await hook({ source: 'crud', event: 'consumers', handler: 'log' });
    expect([plain.filter, plain.threshold]).toEqual([null, null]);
    const got = await t.request('GET', `/event-hooks/${plain.id}`);
    expect([got.body.filter, got.body.threshold]).toEqual([null, null]);
    const listed = await t.request('GET', '/event-hooks');
    for (const item of listed.body.data) expect(item).toHaveProperty('filter');

    const patched = await t.request('PATCH', `/event-hooks/${plain.id}`, { threshold: { count: 3, window: 60 } });
    expect(patched.status).toBe(200);
    expect(patched.body.threshold).toEqual({ count: 3, window: 60 });
  });

  it('answers both as null for a hook stored before they existed', async () => {
    const id = randomUUID();
    await t.runtime.app.hooks.create(DEFAULT_TENANT, {
      id,
      created_at: 0,
      source: 'crud',
      event: 'routes',
      handler: 'log',
      on_change: null,
      snooze: null,
      config: {},
    });
    const got = await t.request('GET', `/event-hooks/${id}`);
    expect([got.body.filter, got.body.threshold]).toEqual([null, null]);
    const listed = await t.request('GET', '/event-hooks?size=1000');
    expect(listed.body.data.find((hook: { id: string }) => hook.id === id)).toMatchObject({
      filter: null,
      threshold: null,
    });
  });

  it('takes a threshold as form fields (threshold.count, threshold.window), as Kong forms nest', async () => {
    const res = await fetch(`${t.runtime.url}/event-hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...t.auth },
      body: 'source=crud&event=consumers&handler=log&threshold.count=5&threshold.window=60',
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { threshold: unknown }).threshold).toEqual({ count: 5, window: 60 });
  });

  it('refuses a bad filter with Kong’s schema-violation answer saying where and what', async () => {
    const res = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'log',
      filter: { entity: { username: [{ prefix: ['svc-'] }] } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 2,
      name: 'schema violation',
      message:
        'schema violation (filter: entity.username[0]: prefix must be a string or {"equals-ignore-case": string})',
      fields: { filter: 'entity.username[0]: prefix must be a string or {"equals-ignore-case": string}' },
    });
  });

  it('delivers only the events whose data match the filter (svc- consumers deleted)', async () => {
    const rule = await hook({
      source: 'crud',
      event: 'consumers:delete',
      handler: 'log',
      filter: { entity: { username: [{ prefix: 'svc-' }] } },
    });
    for (const username of ['svc-billing', 'alice', 'svc-search', 'bob']) {
      await emit('crud', 'consumers', { operation: 'delete', entity: { username } });
    }
    await emit('crud', 'consumers', { operation: 'create', entity: { username: 'svc-new' } });
    await settle();
    expect(delivered(rule.id)).toHaveLength(2);
  });

  it('fires a threshold once per service when it exceeds its rate limit 5 times, of 30 events sent at once', async () => {
    const rule = await hook({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'log',
      threshold: { count: 5, window: 300 },
    });
    // Two services: 20 events for s1 and 10 for s2, counted apart (the unique fields consumer, ip, service).
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        emit('rate-limiting-advanced', 'rate-limit-exceeded', {
          consumer: 'c',
          ip: '10.0.0.1',
          service: i % 3 ? 's1' : 's2',
        }),
      ),
    );
    await settle();
    expect(delivered(rule.id)).toHaveLength(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../../shared/admin/http.ts';
import { type Clock, systemClock } from '../../../shared/ports/clock.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/** Real timers, but a time that moves only when told: each second's window is the test's to choose. */
class PinnedClock implements Clock {
  constructor(public ms: number) {}
  now = () => this.ms;
  setTimer = systemClock.setTimer;
}

const EVENT = { source: 'balancer', event: 'health', data: { upstream_id: 'u1' } };

describe('quotas on the local runtime', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  const clock = new PinnedClock(Date.parse('2026-11-29T10:00:00.000Z'));

  beforeAll(async () => {
    t = await startTestRuntime({
      clock,
      env: {
        QUOTA_EVENTS_PER_SECOND: '3',
        QUOTA_HOOKS: '2',
        QUOTA_USER_FUNCTIONS: '1',
        QUOTA_BODY_BYTES: '2000',
      },
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** `POST /events` as the edge hands it over once a tenant's key was checked. */
  const ingestAs = (tenant: string, body: unknown) => {
    const request: ApiRequest = {
      method: 'POST',
      path: '/events',
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      principal: { tenant, scopes: ['ingest'] },
    };
    return t.runtime.app.ingest(request);
  };

  it('answers 429 with Retry-After in Kong’s shape past the events per second, and takes events again the next second', async () => {
    // Act
    const accepted = [];
    for (let i = 0; i < 3; i++) accepted.push((await t.request('POST', '/events', EVENT)).status);
    const refused = await t.request('POST', '/events', EVENT);
    const batch = await t.request('POST', '/events', [EVENT, EVENT]);
    clock.ms += 1_000;
    const nextSecond = await t.request('POST', '/events', [EVENT, EVENT, EVENT]);
    const tooBig = await t.request('POST', '/events', [EVENT, EVENT, EVENT, EVENT]);

    // Assess
    expect(accepted).toEqual([202, 202, 202]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body).toEqual({ message: 'API rate limit exceeded: at most 3 events per second' });
    expect(batch.status).toBe(429);
    expect(nextSecond.status).toBe(202);
    expect(tooBig.status).toBe(429);
    expect(tooBig.body.message).toMatch(/4 events in one request, the quota is 3/);
  });

  it('counts each tenant on its own: one at its quota leaves another untouched', async () => {
    // Prepare
    clock.ms += 1_000;
    for (let i = 0; i < 3; i++) expect((await ingestAs('tenant-a', EVENT)).statusCode).toBe(202);

    // Act
    const a = await ingestAs('tenant-a', EVENT);
    const b = await ingestAs('tenant-b', EVENT);

    // Assess
    expect(a.statusCode).toBe(429);
    expect(b.statusCode).toBe(202);
  });

  it('refuses a body over the tenant’s body_bytes with 413 before reading it', async () => {
    const big = { ...EVENT, data: { upstream_id: 'x'.repeat(2_100) } };
    clock.ms += 1_000;
    const res = await t.request('POST', '/events', big);
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/quota of 2000 bytes/);
  });

  it('serves and replaces a tenant’s overrides at /tenants/{id}/quotas, in force at once', async () => {
    // Act
    const put = await t.request('PUT', '/tenants/tenant-c/quotas', { events_per_second: 5, hooks: null });
    const got = await t.request('GET', '/tenants/tenant-c/quotas');
    clock.ms += 1_000;
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await ingestAs('tenant-c', EVENT)).statusCode);

    // Assess
    expect(put.status).toBe(200);
    expect(got.body).toEqual({
      data: { events_per_second: 5, hooks: null, user_functions: 1, body_bytes: 2000, deliveries_in_flight: null },
      overrides: { events_per_second: 5, hooks: null },
      defaults: { events_per_second: 3, hooks: 2, user_functions: 1, body_bytes: 2000, deliveries_in_flight: null },
    });
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('refuses bad quota bodies and methods with Kong’s errors, never a 500', async () => {
    const bad = await t.request('PUT', '/tenants/tenant-c/quotas', { hooks: -1, speed: 3 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 2, name: 'schema violation', fields: { hooks: expect.any(String) } });
    expect((await t.request('PUT', '/tenants/tenant-c/quotas', '[1]')).status).toBe(400);
    expect((await t.request('PUT', '/tenants/tenant-c/quotas', '{nope')).status).toBe(400);
    expect((await t.request('DELETE', '/tenants/tenant-c/quotas')).status).toBe(405);
  });

  it('refuses the hook past the tenant’s hooks quota with 429, and stores nothing', async () => {
    // Prepare
    const hook = { source: 'balancer', event: 'health', handler: 'log' };
    expect((await t.request('POST', '/event-hooks', hook)).status).toBe(201);
    expect((await t.request('POST', '/event-hooks', hook)).status).toBe(201);

    // Act
    const third = await t.request('POST', '/event-hooks', hook);
    const put = await t.request('PUT', '/event-hooks/0b9b8a4e-2f0e-4d51-9a49-1d5d3e0f0a11', hook);
    const list = await t.request('GET', '/event-hooks');

    // Assess: replacing an existing hook is no new hook, so it still passes
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('60');
    expect(third.body.message).toMatch(/at most 2 event hooks/);
    expect(put.status).toBe(429);
    expect(list.body.data).toHaveLength(2);
    const existing = list.body.data[0];
    const replaced = await t.request('PUT', `/event-hooks/${existing.id}`, { ...hook, on_change: true });
    expect(replaced.status).toBe(200);
  });

  it('holds the hooks quota against creates sent all at once', async () => {
    // Prepare: a tenant of its own, with the default quota of 2 hooks
    const create = () =>
      t.runtime.app.admin({
        method: 'POST',
        path: '/event-hooks',
        query: new URLSearchParams(),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'balancer', event: 'health', handler: 'log' }),
        principal: { tenant: 'racer', scopes: ['admin'] },
      });

    // Act
    const answers = await Promise.all(Array.from({ length: 20 }, create));

    // Assess
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(2);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(18);
    expect(await t.runtime.app.hooks.listAll('racer')).toHaveLength(2);
  });

  it('counts user functions at create and on updates that add code', async () => {
    // Prepare: room for hooks, one user function
    expect((await t.request('PUT', '/tenants/default/quotas', { hooks: null })).status).toBe(200);
    const lambda = (functions: string[]) => ({
      source: 'balancer',
      event: 'health',
      handler: 'lambda',
      config: { functions },
    });
    const code = (n: number) => `return function (data) { return { n: ${n} } }`;

    // Act
    const two = await t.request('POST', '/event-hooks', lambda([code(1), code(2)]));
    const one = await t.request('POST', '/event-hooks', lambda([code(1)]));
    const named = await t.request(
      'POST',
      '/event-hooks',
      lambda(['arn:aws:lambda:us-east-1:123456789012:function:mine']),
    );
    const grow = await t.request('PATCH', `/event-hooks/${one.body.id}`, { config: { functions: [code(1), code(3)] } });
    const second = await t.request('POST', '/event-hooks', lambda([code(4)]));

    // Assess: functions the user already owns are not deployed here, so not counted
    expect(two.status).toBe(429);
    expect(two.body.message).toMatch(/at most 1 user functions \(this write makes 2\)/);
    expect(one.status).toBe(201);
    expect(named.status).toBe(201);
    expect(grow.status).toBe(429);
    expect(second.status).toBe(429);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../../shared/admin/http.ts';
import { apiKeyId } from '../../../shared/auth/apiKeys.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

interface Entry {
  id: string;
  created_at: number;
  actor: string;
  method: string;
  route: string;
  resource_id: string | null;
  status: number;
}

describe('the audit log (Admin API, local runtime)', () => {
  let t: TestRuntime;
  const audit = async (query = '') => {
    const res = await t.request('GET', `/audit${query}`);
    expect(res.status, res.text).toBe(200);
    return res.body as { data: Entry[]; next: string | null };
  };
  const direct = (request: Partial<ApiRequest> & { method: string; path: string }) =>
    t.runtime.app.admin({ query: new URLSearchParams(), headers: {}, ...request });

  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  it('records each change with who, what and the outcome, newest first, and never a read, a test or a body', async () => {
    const secret = 'audit-secret-5e1f0c';
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'log',
      config: {},
    });
    const id = created.body.id as string;
    const webhook = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:9/x', secret, headers: { Authorization: `Bearer ${secret}` } },
    });
    expect(webhook.status, webhook.text).toBe(201);
    await t.request('PATCH', `/event-hooks/${id}`, { snooze: 5 });
    await t.request('POST', `/event-hooks/${webhook.body.id}/secret/rotate`, { secret: `${secret}-2` });
    const refused = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      handler: 'webhook',
      config: { secret },
    });
    expect(refused.status).toBe(400);
    await t.request('PUT', '/event-hooks/sources/shop/order_placed', { fields: ['id'] });
    await t.request('DELETE', '/event-hooks/sources/shop/order_placed');
    await t.request('POST', '/dead-letters/0000000000000-nope/replay');
    await t.request('DELETE', `/event-hooks/${id}`);
    // Reads and runs are not changes.
    await t.request('GET', `/event-hooks/${webhook.body.id}`);
    await t.request('GET', '/event-hooks');
    await t.request('POST', `/event-hooks/${webhook.body.id}/test`, { n: 1 });
    await t.request('GET', '/audit');
    await t.runtime.app.settled();

    const { data, next } = await audit();
    expect(next).toBeNull();
    expect(data.map((e) => [e.method, e.route, e.resource_id, e.status])).toEqual([
      ['DELETE', '/event-hooks/{id}', id, 204],
      ['POST', '/dead-letters/{id}/replay', '0000000000000-nope', 404],
      ['DELETE', '/event-hooks/sources/{source}/{event}', 'shop/order_placed', 204],
      ['PUT', '/event-hooks/sources/{source}/{event}', 'shop/order_placed', 200],
      ['POST', '/event-hooks', null, 400],
      ['POST', '/event-hooks/{id}/secret/rotate', webhook.body.id, 200],
      ['PATCH', '/event-hooks/{id}', id, 200],
      ['POST', '/event-hooks', webhook.body.id, 201],
      ['POST', '/event-hooks', id, 201],
    ]);
    const now = Math.floor(Date.now() / 1000);
    for (const entry of data) {
      // Without auth nobody is named; under TEST_TENANCY=multi the test runtime's key is.
      const key = t.auth.authorization?.replace(/^Bearer /, '');
      expect(entry.actor).toBe(key ? apiKeyId(key) : 'anonymous');
      expect(Math.abs(entry.created_at - now)).toBeLessThan(60);
      expect(Object.keys(entry).sort()).toEqual([
        'actor',
        'created_at',
        'id',
        'method',
        'resource_id',
        'route',
        'status',
      ]);
    }
    expect(new Set(data.map((e) => e.id)).size).toBe(data.length);
    // Neither the entries nor the stored items nor the logs hold what the bodies carried.
    expect(JSON.stringify(data)).not.toContain(secret);
    expect(JSON.stringify(t.logs)).not.toContain(secret);
  });

  it('names the key that made a change, or the operator, from the principal the edge set', async () => {
    const tenant = t.runtime.config.tenant;
    const byKey = await direct({
      method: 'PUT',
      path: '/event-hooks/sources/billing/paid',
      body: '{"fields":["id"]}',
      principal: { tenant, scopes: ['admin'], keyId: 'key_01HZX3' },
    });
    expect(byKey.statusCode).toBe(200);
    await direct({
      method: 'DELETE',
      path: '/event-hooks/sources/billing/paid',
      principal: { tenant, scopes: [], operator: true },
    });
    const [deleted, put] = (await audit('?size=2')).data;
    expect(put).toMatchObject({ actor: 'key_01HZX3', method: 'PUT', resource_id: 'billing/paid' });
    expect(deleted).toMatchObject({ actor: 'operator', method: 'DELETE', resource_id: 'billing/paid' });
  });

  it('pages with size and next, keeping since, and filters by since', async () => {
    const first = await audit('?size=2');
    expect(first.data).toHaveLength(2);
    expect(first.next).toMatch(/^\/audit\?offset=\d{13}-[0-9a-f]{16}&size=2$/);
    const second = await audit(first.next?.slice('/audit'.length));
    expect(second.data).toHaveLength(2);
    expect((second.data[0]?.id as string) < (first.data[1]?.id as string)).toBe(true);

    const since = first.data[1]?.created_at as number;
    const recent = await audit(`?since=${since}&size=1`);
    expect(recent.data).toHaveLength(1);
    expect(recent.next ?? '').toContain(`since=${since}`);
    expect((await audit(`?since=${Math.floor(Date.now() / 1000) + 3600}`)).data).toEqual([]);
  });

  it('refuses a bad since, offset or size with a 4xx in Kong shape, and allows GET only', async () => {
    expect((await t.request('GET', '/audit?since=yesterday')).status).toBe(400);
    expect((await t.request('GET', '/audit?offset=nope')).body).toMatchObject({ code: 7, name: 'invalid offset' });
    expect((await t.request('GET', '/audit?size=0')).body).toMatchObject({ code: 9, name: 'invalid size' });
    expect((await t.request('POST', '/audit', {})).status).toBe(405);
    expect((await t.request('DELETE', '/audit')).status).toBe(405);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OK_ENTRY, RATE_LIMITED_ENTRY, UPSTREAM_503_ENTRY, UPSTREAM_RETRIED_ENTRY } from '../fixtures/kong/httpLog.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * `POST /ingest/kong-http-log` on the local runtime, fed what Kong's http-log plugin posts, with
 * webhook hooks on the events it produces.
 */
describe('Kong http-log adapter (local runtime)', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestRuntime();
    receiver = await startReceiver();
    for (const [source, event] of [
      ['rate-limiting-advanced', 'rate-limit-exceeded'],
      ['proxy', 'upstream-error'],
    ]) {
      const created = await t.request('POST', '/event-hooks', {
        source,
        event,
        handler: 'webhook',
        config: { url: `${receiver.url}/${source}` },
      });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const deliveries = () =>
    receiver.requests
      .filter((r) => r.url !== undefined && !JSON.parse(r.body.toString()).event_hooks)
      .map((r) => ({ path: r.url, body: JSON.parse(r.body.toString()) as Record<string, unknown> }));

  it('delivers a rate-limit refusal and an upstream 5xx from one http-log batch, and nothing for a 200', async () => {
    const before = deliveries().length;
    const res = await t.request('POST', '/ingest/kong-http-log', [OK_ENTRY, RATE_LIMITED_ENTRY, UPSTREAM_503_ENTRY]);
    expect(res.status).toBe(202);
    expect(res.body.data.map((d: { source: string; event: string }) => `${d.source}/${d.event}`)).toEqual([
      'rate-limiting-advanced/rate-limit-exceeded',
      'proxy/upstream-error',
    ]);
    await expect.poll(() => deliveries().length - before, { timeout: 10_000 }).toBe(2);
    const got = deliveries().slice(before);
    expect(got.find((d) => d.path === '/rate-limiting-advanced')?.body).toEqual({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      consumer: 'jane',
      ip: '203.0.113.7',
      service: 'orders',
      limit: 10,
      window: 'minute',
    });
    expect(got.find((d) => d.path === '/proxy')?.body).toMatchObject({
      source: 'proxy',
      event: 'upstream-error',
      service: 'orders',
      route: 'orders-route',
      upstream_status: 503,
      status: 503,
      target: '10.0.3.7:8080',
    });
  });

  it('takes a single entry (http-log without batching)', async () => {
    const res = await t.request('POST', '/ingest/kong-http-log', UPSTREAM_RETRIED_ENTRY);
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({ source: 'proxy', event: 'upstream-error', id: expect.any(String) });
  });

  it('answers 202 with no events for ordinary traffic', async () => {
    const res = await t.request('POST', '/ingest/kong-http-log', [OK_ENTRY, OK_ENTRY]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ data: [] });
  });

  it('does not send an entry twice when http-log retries the same batch', async () => {
    const entry = {
      ...UPSTREAM_503_ENTRY,
      request: { ...UPSTREAM_503_ENTRY.request, id: 'retried0000000000000000000000001' },
    };
    const first = await t.request('POST', '/ingest/kong-http-log', [entry]);
    const again = await t.request('POST', '/ingest/kong-http-log', [entry]);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.data[0].id).toBe(first.body.data[0].id);
  });

  it('refuses what http-log does not send with a Kong-shaped 400, never a 500', async () => {
    const bad = await t.request('POST', '/ingest/kong-http-log', [OK_ENTRY, { response: { status: 'x' } }]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 2,
      name: 'schema violation',
      fields: { '2': { response: { status: 'expected an integer' } } },
    });
    const notJson = await t.request('POST', '/ingest/kong-http-log', '{nope');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ message: 'Cannot parse JSON body' });
    const empty = await t.request('POST', '/ingest/kong-http-log', []);
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ message: 'no log entries given' });
    const tooMany = await t.request(
      'POST',
      '/ingest/kong-http-log',
      Array.from({ length: 101 }, () => OK_ENTRY),
    );
    expect(tooMany.status).toBe(400);
    const get = await t.request('GET', '/ingest/kong-http-log');
    expect(get.status).toBeGreaterThanOrEqual(400);
    expect(get.status).toBeLessThan(500);
  });
});

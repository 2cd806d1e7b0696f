import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../infra/local/localRuntime.ts';
import { MAX_BODY_BYTES } from '../../shared/deliveryLog/record.ts';
import { memoryLogger } from '../../shared/logger.ts';
import { pipelineSteps } from '../support/pipeline.ts';
import { type Answer, type ReceivedRequest, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '50',
  HTTP_TIMEOUT_MS: '1000',
};

const isPing = (request: ReceivedRequest) => request.body.toString('utf8').includes('"kong:event_hooks"');

describe('the delivery log on the local runtime (issue 12: deliveries, attempts, replay)', () => {
  let t: TestRuntime;
  const steps = pipelineSteps(() => t);
  const { settle } = steps;
  /** A receiver whose deliveries (pings aside) are answered by `answers` in turn, then 200. */
  const receiver = (answers: Answer[] = []) => {
    let deliveries = 0;
    return steps.receiver((request) => {
      if (isPing(request)) return { status: 200 };
      return answers[deliveries++] ?? { status: 200, body: 'thanks' };
    });
  };
  const create = async (url: string) =>
    (await steps.hook({ source: 'balancer', event: 'health', handler: 'webhook', config: { url } })).id;
  const emit = async (data: Record<string, unknown>) => {
    await steps.emit('balancer', 'health', data);
    await settle();
  };

  beforeAll(async () => {
    t = await startTestRuntime({ env: FAST_RETRIES });
  });
  afterEach(async () => {
    await steps.deleteHooks();
    await steps.cleanUp();
  });
  afterAll(() => t.close());

  it('records a failing receiver, then the fixed one: every attempt with status, latency, capped body and redacted headers', async () => {
    // Arrange: two failures (one with a long body and a cookie), then success.
    const r = await receiver([
      { status: 500, body: 'x'.repeat(10_000), headers: { 'set-cookie': 'session=hunter2', 'x-trace': 'abc' } },
      { status: 503, body: 'down' },
    ]);
    const hookId = await create(r.url);

    // Act
    await emit({ upstream_id: 'u1' });
    await r.waitFor(4); // the ping and three attempts

    // Assess: the list, newest first, with the summary shape.
    const list = await t.request('GET', `/event-hooks/${hookId}/deliveries`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.next).toBeNull();
    expect(list.body.data).toHaveLength(1);
    const [summary] = list.body.data;
    expect(summary).toMatchObject({ hook_id: hookId, status: 'delivered', attempts: 3, last_status_code: 200 });
    expect(Object.keys(summary).sort()).toEqual(
      [
        'attempts',
        'created_at',
        'event_id',
        'hook_id',
        'id',
        'last_error',
        'last_status_code',
        'status',
        'updated_at',
      ].sort(),
    );
    // The delivery id is the one the receiver saw.
    const seen = r.requests.filter((q) => !isPing(q)).map((q) => q.headers['x-event-hooks-delivery']);
    expect(new Set(seen)).toEqual(new Set([summary.id]));

    const one = await t.request('GET', `/deliveries/${summary.id}`);
    expect(one.status).toBe(200);
    const attempts = one.body.attempts as Record<string, unknown>[];
    expect(attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    for (const a of attempts) {
      expect(Object.keys(a).sort()).toEqual(
        ['attempt', 'error', 'latency_ms', 'response_body', 'response_headers', 'started_at', 'status_code'].sort(),
      );
      expect(a.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(String(attempts[0]?.response_body).length).toBe(MAX_BODY_BYTES);
    expect(attempts[0]?.error).toBe('receiver answered HTTP 500');
    const headers = attempts[0]?.response_headers as Record<string, string>;
    expect(Object.values(headers)).not.toContain('session=hunter2');
    expect(Object.entries(headers).find(([name]) => name.toLowerCase() === 'set-cookie')?.[1]).toBe('[redacted]');
    expect(Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-trace')?.[1]).toBe('abc');
    expect(attempts[2]).toMatchObject({ response_body: 'thanks', error: null });
  });

  it('filters by status and pages newest first with Kong paging', async () => {
    const r = await receiver([{ status: 400 }]); // the first delivery fails for good (a 4xx is final)
    const hookId = await create(r.url);
    for (let i = 0; i < 3; i++) await emit({ n: i });

    const dead = await t.request('GET', `/event-hooks/${hookId}/deliveries?status=dead`);
    expect(dead.body.data.map((d: { status: string }) => d.status)).toEqual(['dead']);
    const page1 = await t.request('GET', `/event-hooks/${hookId}/deliveries?size=2`);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.next).toMatch(/offset=/);
    expect(page1.body.next).toMatch(/size=2/);
    const page2 = await t.request('GET', page1.body.next);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.next).toBeNull();
    // Newest first: the dead one was the first event, so it comes last.
    expect(page2.body.data[0].status).toBe('dead');
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect((await t.request('GET', `/event-hooks/${hookId}/deliveries?since=${future}`)).body.data).toEqual([]);
    const iso = new Date(Date.now() - 60_000).toISOString();
    expect((await t.request('GET', `/event-hooks/${hookId}/deliveries?since=${iso}`)).body.data).toHaveLength(3);
  });

  it('answers clear 400s for bad parameters and 404s for unknown ids', async () => {
    const r = await receiver();
    const hookId = await create(r.url);
    for (const [query, message] of [
      ['status=lost', /status must be one of pending, delivered, retrying, dead/],
      ['since=yesterday', /since must be epoch seconds or an ISO-8601 date/],
      ['size=0', /size must be an integer/],
      ['offset=nope', /offset/],
    ] as const) {
      const res = await t.request('GET', `/event-hooks/${hookId}/deliveries?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const unknown = '5f0e4b6a-0000-4000-8000-000000000000';
    expect((await t.request('GET', `/event-hooks/${unknown}/deliveries`)).status).toBe(404);
    expect((await t.request('GET', `/event-hooks/${unknown}/health`)).status).toBe(404);
    expect((await t.request('GET', `/deliveries/${unknown}`)).status).toBe(404);
    expect((await t.request('POST', `/deliveries/${unknown}/replay`)).status).toBe(404);
    expect((await t.request('DELETE', `/deliveries/${unknown}`)).status).toBe(405);
  });

  it('replays a dead delivery and a delivered one: 202, the same id, a fresh first attempt', async () => {
    const r = await receiver([{ status: 410 }]);
    const hookId = await create(r.url);
    await emit({ n: 1 });
    await emit({ n: 2 });
    const [delivered, dead] = (await t.request('GET', `/event-hooks/${hookId}/deliveries`)).body.data;
    expect([delivered.status, dead.status]).toEqual(['delivered', 'dead']);

    for (const target of [dead, delivered]) {
      const before = r.requests.length;
      const replay = await t.request('POST', `/deliveries/${target.id}/replay`);
      expect(replay.status, replay.text).toBe(202);
      expect(replay.body).toMatchObject({ id: target.id, status: 'pending' });
      await settle();
      const sent = r.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.headers['x-event-hooks-delivery']).toBe(target.id);
      const after = (await t.request('GET', `/deliveries/${target.id}`)).body;
      expect(after.status).toBe('delivered');
      expect(after.attempt_count).toBe(2);
      // A fresh first attempt: numbered 1 again, after the history.
      expect(after.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 1]);
    }
    // The replayed event is the one sent the first time.
    expect(JSON.parse(r.requests.at(-2)?.body.toString() ?? '{}')).toMatchObject({ n: 1 });
  });

  it('computes health from the log: success rate, latency percentiles, consecutive failures', async () => {
    const r = await receiver([{ status: 400 }, { status: 400 }]);
    const hookId = await create(r.url);
    await emit({ n: 1 });
    const healthy = await t.request('GET', `/event-hooks/${hookId}/health`);
    expect(healthy.body.consecutive_failures).toBe(1);
    await emit({ n: 2 });
    await emit({ n: 3 });

    const health = await t.request('GET', `/event-hooks/${hookId}/health`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      hook_id: hookId,
      enabled: true,
      disabled_since: null,
      consecutive_failures: 0,
      sampled: false,
    });
    expect(health.body.last_hour).toMatchObject({ deliveries: 3, delivered: 1, failed: 2, success_rate: 0.3333 });
    expect(health.body.last_day.deliveries).toBe(3);
    expect(health.body.last_hour.latency_p50_ms).toBeGreaterThanOrEqual(0);
    expect(health.body.last_hour.latency_p95_ms).toBeGreaterThanOrEqual(health.body.last_hour.latency_p50_ms);
  });
});

describe('the delivery log on a data folder', () => {
  it('keeps deliveries and their attempts across a restart, in DATA_DIR/deliveries.log (owner-only)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-dlog-'));
    const r = await startReceiver();
    try {
      const first = await startLocalRuntime({ port: 0, dataDir, logger: memoryLogger(), drainMs: 200 });
      const call = (base: string, method: string, path: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const created = await call(first.url, 'POST', '/event-hooks', {
        source: 'balancer',
        event: 'health',
        handler: 'webhook',
        config: { url: r.url },
      });
      const { id: hookId } = (await created.json()) as { id: string };
      expect((await call(first.url, 'POST', '/events', { source: 'balancer', event: 'health', data: {} })).status).toBe(
        202,
      );
      await first.bus.idle();
      await first.queue.idle();
      const before = (await (await call(first.url, 'GET', `/event-hooks/${hookId}/deliveries`)).json()) as {
        data: { id: string }[];
      };
      expect(before.data).toHaveLength(1);
      await first.close();
      expect(statSync(join(dataDir, 'deliveries.log')).mode & 0o777).toBe(0o600);

      const second = await startLocalRuntime({ port: 0, dataDir, logger: memoryLogger(), drainMs: 200 });
      try {
        const one = await call(second.url, 'GET', `/deliveries/${before.data[0]?.id}`);
        expect(one.status).toBe(200);
        expect(await one.json()).toMatchObject({ status: 'delivered', attempts: [{ attempt: 1, status_code: 200 }] });
      } finally {
        await second.close();
      }
    } finally {
      await r.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the delivery log per tenant (api-keys multi-tenant mode)', () => {
  it("answers 404 to another tenant for a hook's deliveries, its health, a delivery and its replay", async () => {
    const operatorKey = `op-${'x'.repeat(40)}`;
    const t = await startTestRuntime({ env: { TENANCY: 'multi', AUTH_MODE: 'api-keys', OPERATOR_KEY: operatorKey } });
    const r = await startReceiver();
    try {
      const call = async (method: string, path: string, key: string, body?: unknown) => {
        const res = await fetch(`${t.runtime.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      };
      const adminKeyOf = async (name: string) => {
        const tenant = await call('POST', '/tenants', operatorKey, { name });
        expect(tenant.status).toBe(201);
        const key = await call('POST', `/tenants/${tenant.body.id}/keys`, operatorKey, { scopes: ['admin'] });
        expect(key.status).toBe(201);
        return key.body.key as string;
      };
      const a = await adminKeyOf('acme');
      const b = await adminKeyOf('bravo');
      const hook = await call('POST', '/event-hooks', a, {
        source: 'balancer',
        event: 'health',
        handler: 'webhook',
        config: { url: r.url },
      });
      expect(hook.status).toBe(201);
      expect((await call('POST', '/events', a, { source: 'balancer', event: 'health', data: {} })).status).toBe(202);
      await t.runtime.bus.idle();
      await t.runtime.queue.idle();
      const mine = await call('GET', `/event-hooks/${hook.body.id}/deliveries`, a);
      expect(mine.body.data).toHaveLength(1);
      const deliveryId = mine.body.data[0].id as string;
      expect((await call('GET', `/deliveries/${deliveryId}`, a)).status).toBe(200);

      expect((await call('GET', `/event-hooks/${hook.body.id}/deliveries`, b)).status).toBe(404);
      expect((await call('GET', `/event-hooks/${hook.body.id}/health`, b)).status).toBe(404);
      expect((await call('GET', `/deliveries/${deliveryId}`, b)).status).toBe(404);
      expect((await call('POST', `/deliveries/${deliveryId}/replay`, b)).status).toBe(404);
      // Nothing was replayed for B: A's delivery is as it was.
      expect((await call('GET', `/deliveries/${deliveryId}`, a)).body.status).toBe('delivered');
    } finally {
      await r.close();
      await t.close();
    }
  });
});

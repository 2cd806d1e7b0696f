import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipelineSteps } from '../../support/pipeline.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '4',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '100',
  RETRY_MAX_AGE_MS: '10000',
  HTTP_TIMEOUT_MS: '500',
  FUNCTION_TIMEOUT_MS: '1500',
  FUNCTION_MEMORY_MB: '48',
};

describe('event pipeline (local runtime, real store, loopback receivers)', () => {
  let t: TestRuntime;
  const { receiver, hook, emit, settle, cleanUp } = pipelineSteps(() => t);
  const deliveries = (hookId: string) => t.logs.filter((l) => l.message === 'delivery' && l.hook_id === hookId);

  beforeAll(async () => {
    t = await startTestRuntime({ env: FAST_RETRIES });
  });
  afterEach(cleanUp);
  afterAll(() => t.close());

  it('delivers a webhook byte for byte, signed over the exact body, with a delivery id', async () => {
    const r = await receiver();
    const h = await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/in`, secret: 'hunter2', headers: { 'x-team': 'core' } },
    });
    await r.waitFor(1); // the ping after create
    const event = await emit('balancer', 'health', { upstream_id: 'u1', health: 'unhealthy' });
    const [, got] = await r.waitFor(2);
    expect(got!.method).toBe('POST');
    expect(got!.url).toBe('/in');
    expect(JSON.parse(got!.body.toString())).toEqual({
      upstream_id: 'u1',
      health: 'unhealthy',
      event: 'health',
      source: 'balancer',
    });
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-team']).toBe('core');
    const expected = `sha1=${createHmac('sha1', 'hunter2').update(got!.body).digest('hex')}`;
    expect(got!.headers['x-kong-signature']).toBe(expected);
    await settle();
    const [line] = deliveries(h.id);
    expect(line).toMatchObject({
      event_id: event.id,
      delivery_id: got!.headers['x-event-hooks-delivery'],
      attempt: 1,
      outcome: 'delivered',
      status: 200,
    });
    expect(line!.latency_ms).toEqual(expect.any(Number));
  });

  it('retries a receiver that fails twice, delivering exactly once with a stable delivery id', async () => {
    let calls = 0;
    const isEvent = (body: Buffer) => JSON.parse(body.toString()).event === 'rate-limit-exceeded';
    const r = await receiver((req) => (isEvent(req.body) && ++calls <= 2 ? { status: 503 } : { status: 200 }));
    const h = await hook({
      source: 'service-protection',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      config: { url: `${r.url}/flaky` },
    });
    await emit('service-protection', 'rate-limit-exceeded', { service: 's1', rate: 11, limit: 10, window: 'minute' });
    await settle();
    const attempts = r.requests.filter((q) => JSON.parse(q.body.toString()).event === 'rate-limit-exceeded');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((q) => q.headers['x-event-hooks-delivery'])).size).toBe(1);
    expect(attempts.map((q) => q.headers['x-event-hooks-attempt'])).toEqual(['1', '2', '3']);
    expect(deliveries(h.id).map((l) => l.outcome)).toEqual(['retry', 'retry', 'delivered']);
  });

  it('dead-letters a receiver that always fails after the bounded attempts, and replays it on request', async () => {
    let up = false;
    const r = await receiver((req) => (req.url === '/down' && !up ? { status: 500 } : { status: 200 }));
    const h = await hook({
      source: 'oas-validation',
      event: 'validation-failed',
      handler: 'webhook',
      config: { url: `${r.url}/down` },
    });
    const event = await emit('oas-validation', 'validation-failed', {
      consumer: 'c',
      ip: '1.2.3.4',
      service: 's',
      err: 'bad',
    });
    await settle();
    expect(deliveries(h.id).map((l) => l.outcome)).toEqual(['retry', 'retry', 'retry', 'dead-letter']);
    const listed = await t.request('GET', '/dead-letters');
    const dead = (listed.body.data as { id: string; hook_id: string; delivery_id: string }[]).filter(
      (d) => d.hook_id === h.id,
    );
    expect(dead).toEqual([
      {
        id: expect.stringMatching(/^\d{13}-/),
        delivery_id: expect.any(String),
        hook_id: h.id,
        attempts: 4,
        reason: expect.stringMatching(/500/),
        dead_lettered_at: expect.any(Number),
        event: expect.objectContaining({
          id: event.id,
          source: 'oas-validation',
          data: expect.objectContaining({ err: 'bad' }),
        }),
      },
    ]);
    const id = dead[0]!.id;
    expect((await t.request('GET', `/dead-letters/${id}`)).body).toEqual(dead[0]);

    // The receiver is fixed: a replay delivers the same delivery, as a fresh first attempt.
    up = true;
    const before = r.requests.length;
    const replay = await t.request('POST', `/dead-letters/${id}/replay`);
    expect(replay.status).toBe(202);
    await settle();
    const replayed = r.requests.slice(before);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.headers['x-event-hooks-delivery']).toBe(dead[0]!.delivery_id);
    expect(replayed[0]!.headers['x-event-hooks-attempt']).toBe('1');
    expect((await t.request('GET', `/dead-letters/${id}`)).status).toBe(404);
    expect((await t.request('POST', `/dead-letters/${id}/replay`)).status).toBe(404);
  });

  it('lists dead letters page by page, and drops one on DELETE', async () => {
    const r = await receiver(() => ({ status: 400 }));
    const h = await hook({ source: 'balancer', event: 'health', handler: 'webhook', config: { url: `${r.url}/bad` } });
    for (let i = 0; i < 3; i++) await emit('balancer', 'health', { upstream_id: `dl-${i}` });
    await settle();
    const seen: { id: string; hook_id: string }[] = [];
    let next: string | null = '/dead-letters?size=1';
    while (next) {
      const page = await t.request('GET', next);
      expect(page.body.data.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.data);
      next = page.body.next;
    }
    const mine = seen.filter((d) => d.hook_id === h.id);
    expect(mine).toHaveLength(3);
    expect(new Set(seen.map((d) => d.id)).size).toBe(seen.length);
    expect((await t.request('DELETE', `/dead-letters/${mine[0]!.id}`)).status).toBe(204);
    expect((await t.request('GET', `/dead-letters/${mine[0]!.id}`)).status).toBe(404);
    expect((await t.request('GET', '/dead-letters?offset=nope')).status).toBe(400);
    await t.request('DELETE', `/event-hooks/${h.id}`);
  });

  it('stores a final failure whatever JSON its event carries, after exactly one request to the receiver', async () => {
    const r = await receiver(() => ({ status: 400 }));
    const h = await hook({ source: 'balancer', event: 'health', handler: 'webhook', config: { url: `${r.url}/odd` } });
    await r.waitFor(1); // the ping after create
    const data = '{"upstream_id":"odd","big":9007199254740993,"constructor":"x","huge":1e400}';
    const res = await t.request('POST', '/events', `{"source":"balancer","event":"health","data":${data}}`);
    expect(res.status).toBe(202);
    await settle();
    const sent = r.requests.filter((q) => q.body.toString().includes('"odd"'));
    expect(sent).toHaveLength(1);
    expect(deliveries(h.id).map((l) => l.outcome)).toEqual(['dead-letter']);
    const listed = await t.request('GET', '/dead-letters?size=1000');
    const dead = (listed.body.data as { hook_id: string; event: { data: unknown } }[]).filter(
      (d) => d.hook_id === h.id,
    );
    // Stored as the receiver got it: JSON numbers are doubles, and JSON has no Infinity.
    expect(dead.map((d) => d.event.data)).toEqual([
      JSON.parse(sent[0]!.body.toString(), (k, v) => (k === 'event' || k === 'source' ? undefined : v)),
    ]);
    await t.request('DELETE', `/event-hooks/${h.id}`);
  });

  it('times out a slow receiver and retries, and unreachable URLs do not hold up other hooks', async () => {
    const slow = await receiver((req) =>
      req.url === '/slow'
        ? new Promise((resolve) => setTimeout(() => resolve({ status: 200 }), 2_000))
        : { status: 200 },
    );
    const good = await receiver();
    const slowHook = await hook({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      config: { url: `${slow.url}/slow` },
    });
    const deadHook = await hook({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:1/none' },
    });
    await hook({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      config: { url: `${good.url}/ok` },
    });
    await emit('rate-limiting-advanced', 'rate-limit-exceeded', { consumer: 'c', ip: '1.1.1.1', service: 's' });
    const arrived = await good.waitFor(2, 5_000);
    expect(arrived.filter((q) => q.url === '/ok')).toHaveLength(2);
    await settle();
    expect(deliveries(slowHook.id)[0]).toMatchObject({
      outcome: 'retry',
      error: expect.stringMatching(/timed out|timeout/i),
    });
    expect(deliveries(deadHook.id).at(-1)).toMatchObject({ outcome: 'dead-letter' });
  }, 30_000);

  it('fans an entity change out to crud and dao:crud hooks, each firing once', async () => {
    const r = await receiver();
    const bodies = [
      { source: 'crud', event: null },
      { source: 'crud', event: 'consumers' },
      { source: 'crud', event: 'consumers:create' },
      { source: 'dao:crud', event: 'create' },
      { source: 'dao:crud', event: null },
      { source: 'crud', event: 'consumers:delete' },
      { source: 'dao:crud', event: 'update' },
    ];
    const created = [];
    for (const [i, b] of bodies.entries()) {
      created.push(
        await hook({
          ...b,
          handler: 'webhook-custom',
          config: {
            url: `${r.url}/fan/${i}`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            payload: { e: '{{ event }}', s: '{{ source }}' },
          },
        }),
      );
    }
    // Creating the hooks emitted event_hooks changes, which some of these hooks rightly match too.
    await settle();
    const before = r.requests.length;
    await emit('crud', 'consumers', { operation: 'create', entity: { username: 'jane' } });
    await settle();
    const byPath = r.requests
      .slice(before)
      .filter((q) => q.url.startsWith('/fan/'))
      .map((q) => [q.url, JSON.parse(q.body.toString())]);
    expect(byPath.sort()).toEqual(
      [
        ['/fan/0', { e: 'consumers', s: 'crud' }],
        ['/fan/1', { e: 'consumers', s: 'crud' }],
        ['/fan/2', { e: 'consumers:create', s: 'crud' }],
        ['/fan/3', { e: 'create', s: 'dao:crud' }],
        ['/fan/4', { e: 'create', s: 'dao:crud' }],
      ].sort(),
    );
    for (const h of created) await t.request('DELETE', `/event-hooks/${h.id}`);
  });

  it('applies snooze: many identical events at once produce exactly one delivery', async () => {
    const r = await receiver();
    await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      snooze: 60,
      config: { url: `${r.url}/snooze` },
    });
    await Promise.all(
      Array.from({ length: 30 }, () => emit('balancer', 'health', { upstream_id: 'snooze', health: 'down' })),
    );
    await settle();
    expect(
      r.requests.filter((q) => q.url === '/snooze' && JSON.parse(q.body.toString()).event === 'health'),
    ).toHaveLength(1);
  });

  it('applies on_change: only changed data passes', async () => {
    const r = await receiver();
    await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      on_change: true,
      config: { url: `${r.url}/change` },
    });
    for (const health of ['A', 'A', 'B', 'B', 'A']) {
      await emit('balancer', 'health', { upstream_id: 'change', health });
      await settle();
    }
    const seen = r.requests.filter((q) => q.url === '/change' && JSON.parse(q.body.toString()).event === 'health');
    expect(seen.map((q) => JSON.parse(q.body.toString()).health)).toEqual(['A', 'B', 'A']);
  });

  it('matches an event against hooks as they are right after a create or delete returned', async () => {
    const r = await receiver();
    const h = await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/fresh` },
    });
    await emit('balancer', 'health', { upstream_id: 'fresh' });
    await settle();
    await t.request('DELETE', `/event-hooks/${h.id}`);
    await emit('balancer', 'health', { upstream_id: 'fresh' });
    await settle();
    expect(
      r.requests.filter((q) => q.url === '/fresh' && JSON.parse(q.body.toString()).event === 'health'),
    ).toHaveLength(1);
  });

  it('emits its own event_hooks changes on crud so hooks can watch them, with secrets hidden', async () => {
    const r = await receiver();
    const watcher = await hook({
      source: 'crud',
      event: 'event_hooks',
      handler: 'webhook',
      config: { url: `${r.url}/watch` },
    });
    await r.waitFor(1);
    const other = await hook({
      source: 'balancer',
      handler: 'webhook',
      config: {
        url: 'http://127.0.0.1:1/x',
        secret: 's3cret',
        headers: { Authorization: 'Bearer t0ken', 'x-team': 'a' },
      },
    });
    await settle();
    const changes = () => r.requests.map((q) => JSON.parse(q.body.toString())).filter((b) => b.entity?.id === other.id);
    const change = changes()[0];
    expect(change).toMatchObject({
      operation: 'create',
      source: 'crud',
      event: 'event_hooks',
      schema: 'event_hooks',
      old_entity: null,
    });
    expect(change.entity.config.secret).toBe('[redacted]');
    expect(change.entity.config.headers).toEqual({ Authorization: '[redacted]', 'x-team': 'a' });
    await t.request('DELETE', `/event-hooks/${other.id}`);
    await settle();
    // As Kong's DAO emits a delete: the deleted entity, no old one.
    expect(changes().find((b) => b.operation === 'delete')).toMatchObject({
      entity: { id: other.id },
      old_entity: null,
    });
    await t.request('DELETE', `/event-hooks/${watcher.id}`);
  });

  it('writes one structured line for a log hook', async () => {
    const h = await hook({ source: 'balancer', event: 'health', handler: 'log' });
    await emit('balancer', 'health', { upstream_id: 'logged' });
    await settle();
    const line = t.logs.find((l) => l.message === 'event hook' && l.hook_id === h.id);
    expect(line).toMatchObject({ source: 'balancer', event: 'health', data: { upstream_id: 'logged' } });
    await t.request('DELETE', `/event-hooks/${h.id}`);
  });

  describe('POST /events', () => {
    it('answers a retry with the same Idempotency-Key with the first answer; receivers get one delivery id', async () => {
      const r = await receiver();
      const h = await hook({
        source: 'balancer',
        event: 'health',
        handler: 'webhook',
        config: { url: `${r.url}/idem` },
      });
      const post = async (body: unknown, headers: Record<string, string>) => {
        const res = await fetch(`${t.runtime.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...t.auth, ...headers },
          body: JSON.stringify(body),
        });
        return { status: res.status, text: await res.text() };
      };
      const event = { source: 'balancer', event: 'health', data: { upstream_id: 'idem' } };
      const key = { 'Idempotency-Key': `retry-${h.id}` };
      const first = await post([event], key);
      expect(first.status).toBe(202);
      expect(await post([event], key)).toEqual(first);
      expect((await post([{ ...event, data: { upstream_id: 'other' } }], key)).status).toBe(422);
      // A producer id: posted again, the first event id comes back and nothing is published.
      const withId = await post([{ ...event, id: `evt-${h.id}` }], {});
      expect((await post([{ ...event, id: `evt-${h.id}` }], {})).text).toBe(withId.text);
      await settle();
      const got = r.requests.filter((q) => q.url === '/idem' && q.body.toString().includes('"idem"'));
      expect(got).toHaveLength(2);
      expect(new Set(got.map((q) => q.headers['x-event-hooks-delivery'])).size).toBe(2);
      await t.request('DELETE', `/event-hooks/${h.id}`);
    });

    it('accepts a batch and answers 202 with an id per event', async () => {
      const res = await t.request('POST', '/events', [
        { source: 'balancer', event: 'health', data: {} },
        { source: 'crud', event: 'consumers:create', data: { operation: 'create' } },
      ]);
      expect(res.status).toBe(202);
      expect(res.body.data).toEqual([
        { id: expect.any(String), time: expect.any(String), source: 'balancer', event: 'health' },
        { id: expect.any(String), time: expect.any(String), source: 'crud', event: 'consumers:create' },
      ]);
    });

    it.each([
      ['missing data', { source: 'balancer', event: 'health' }, { data: 'required field missing' }],
      ['missing source', { event: 'health', data: {} }, { source: 'required field missing' }],
      [
        'data that is not an object',
        { source: 'balancer', event: 'health', data: [1] },
        { data: 'expected an object' },
      ],
      ['an unknown source', { source: 'nope', event: 'x', data: {} }, { '@entity': "source 'nope' is not registered" }],
      [
        'an unknown event',
        { source: 'balancer', event: 'x', data: {} },
        { '@entity': "source 'balancer' has no 'x' event" },
      ],
    ])('rejects %s with 400 and enqueues nothing', async (_name, body, fields) => {
      const before = t.logs.length;
      const res = await t.request('POST', '/events', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 2, name: 'schema violation', fields });
      await settle();
      expect(t.logs.slice(before).filter((l) => l.message === 'delivery')).toEqual([]);
    });

    it('rejects a whole batch when one event is bad, naming it by position', async () => {
      const res = await t.request('POST', '/events', [
        { source: 'balancer', event: 'health', data: {} },
        { source: 'balancer', data: {} },
      ]);
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual({ 2: { event: 'required field missing' } });
    });

    it('rejects an oversized event and a non-JSON body', async () => {
      const big = await t.request('POST', '/events', {
        source: 'balancer',
        event: 'health',
        data: { pad: 'x'.repeat(210 * 1024) },
      });
      expect(big.status).toBe(400);
      expect(big.body.fields.data).toMatch(/larger than/);
      expect(await t.request('POST', '/events', '{nope')).toMatchObject({
        status: 400,
        body: { message: 'Cannot parse JSON body' },
      });
    });
  });

  describe('/test and /ping', () => {
    it('runs a webhook now and shows the remote answer', async () => {
      const r = await receiver(() => ({ status: 201, body: 'made', headers: { 'x-remote': 'yes' } }));
      const h = await hook({
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        config: { url: `${r.url}/test` },
      });
      const res = await t.request('POST', `/event-hooks/${h.id}/test`, { consumer: { username: 'Jane Austen' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: { consumer: { username: 'Jane Austen' }, event: 'consumers', source: 'crud' },
        result: { status: 201, body: 'made', headers: expect.objectContaining({ 'x-remote': 'yes' }) },
      });
    });

    it('shows the receiver’s header names as it spelled them, and sends no event for a hook on every event', async () => {
      const r = await receiver(() => ({
        status: 200,
        headers: { 'X-Request-Id': 'abc', 'Cache-Control': 'no-cache' },
      }));
      const h = await hook({ source: 'balancer', handler: 'webhook', config: { url: `${r.url}/any` } });
      await r.waitFor(1);
      const res = await t.request('POST', `/event-hooks/${h.id}/test`, { upstream_id: 'u' });
      expect(res.body.data).toEqual({ upstream_id: 'u', source: 'balancer' });
      expect(res.body.result.headers).toMatchObject({ 'X-Request-Id': 'abc', 'Cache-Control': 'no-cache' });
      expect(JSON.parse(r.requests.at(-1)!.body.toString())).toEqual({ upstream_id: 'u', source: 'balancer' });
      await t.request('DELETE', `/event-hooks/${h.id}`);
    });

    it('runs a lambda pipeline and reports a failing one as Kong does', async () => {
      const ok = await hook({
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        config: {
          functions: ['return function () { return "HELLO" }', 'return function (data) { return data + " WORLD" }'],
        },
      });
      expect((await t.request('POST', `/event-hooks/${ok.id}/test`, {})).body.result).toBe('HELLO WORLD');
      const bad = await hook({
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        config: {
          functions: ['return function (data) { throw new Error("Event hook on consumer " + data.entity.username) }'],
        },
      });
      const res = await t.request('POST', `/event-hooks/${bad.id}/test`, { entity: { username: 'jane' } });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        message: 'An unexpected error ocurred',
        err: expect.stringContaining('Event hook on consumer jane'),
      });
    });

    it('kills user code at its time limit and its memory cap, and hides the service environment from it', async () => {
      process.env.EVENT_HOOKS_TEST_SECRET = 'do-not-leak';
      const run = async (code: string) => {
        const h = await hook({ source: 'balancer', handler: 'lambda', config: { functions: [code] } });
        return t.request('POST', `/event-hooks/${h.id}/test`, {});
      };
      const loop = await run('return function () { while (true) {} }');
      expect(loop.status).toBe(500);
      expect(loop.body.err).toMatch(/timed out/);
      const hog = await run('return function () { const a = []; for (;;) a.push(new Array(1e6).fill(1)) }');
      expect(hog.status).toBe(500);
      expect(hog.body.err).toMatch(/memory|killed|exited|timed out/);
      const env = await run(
        'return function () { return { keys: Object.keys(process.env), secret: process.env.EVENT_HOOKS_TEST_SECRET ?? null } }',
      );
      expect(env.body.result).toEqual({ keys: [], secret: null });
    }, 20_000);

    it('dead-letters at once a delivery whose user code throws, since a retry cannot help', async () => {
      const h = await hook({
        source: 'balancer',
        event: 'health',
        handler: 'lambda',
        config: {
          functions: ['return function (data) { return data }', 'return function () { throw new Error("nope") }'],
        },
      });
      await emit('balancer', 'health', { upstream_id: 'lambda' });
      await settle();
      expect(deliveries(h.id).map((l) => l.outcome)).toEqual(['dead-letter']);
      await t.request('DELETE', `/event-hooks/${h.id}`);
    });

    it('pings a webhook and refuses other handlers', async () => {
      const r = await receiver();
      const h = await hook({
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        config: { url: `${r.url}/ping`, secret: 'hunter2' },
      });
      await r.waitFor(1); // the automatic ping after create, with operation
      const res = await t.request('GET', `/event-hooks/${h.id}/ping`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ source: 'kong:event_hooks', event: 'ping', event_hooks: { id: h.id } });
      // What the receiver got is what the answer shows, signed, at the hook's URL.
      const [auto, manual] = await r.waitFor(2);
      expect(JSON.parse(auto!.body.toString())).toMatchObject({ event: 'ping', operation: 'create' });
      expect(manual!.url).toBe('/ping');
      expect(JSON.parse(manual!.body.toString())).toEqual(res.body);
      expect(manual!.headers['x-kong-signature']).toBe(
        `sha1=${createHmac('sha1', 'hunter2').update(manual!.body).digest('hex')}`,
      );
      const log = await hook({ source: 'crud', handler: 'log' });
      expect(await t.request('GET', `/event-hooks/${log.id}/ping`)).toMatchObject({
        status: 400,
        body: { message: "handler 'log' does not support 'ping'" },
      });
    });
  });
});

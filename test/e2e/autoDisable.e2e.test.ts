import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/** A short window for the test: 3 failed deliveries in a row spanning at least 1 s. */
const ENV = {
  RETRY_MAX_ATTEMPTS: '1',
  AUTO_DISABLE_FAILURES: '3',
  AUTO_DISABLE_WINDOW_SECONDS: '1',
};

const isPing = (body: Buffer) => body.toString('utf8').includes('"kong:event_hooks"');

describe('auto-disable on the local runtime (issue 12 §3)', () => {
  let t: TestRuntime;
  let failing: Receiver;
  let watcher: Receiver;
  const settle = async () => {
    await t.runtime.app.settled();
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };
  const emit = async (n: number) => {
    const res = await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n } });
    expect(res.status, res.text).toBe(202);
    await settle();
  };

  beforeAll(async () => {
    t = await startTestRuntime({ env: ENV });
    failing = await startReceiver((request) => (isPing(request.body) ? { status: 200 } : { status: 410 }));
    watcher = await startReceiver();
  });
  afterAll(async () => {
    await t.close();
    await failing.close();
    await watcher.close();
  });

  it('disables a hook after consecutive failures spanning the window, and emits event_hooks/disabled to another hook', async () => {
    // Arrange: a hook on a receiver that always fails, and a hook that watches for disabled hooks.
    const hook = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: failing.url, secret: 'hunter2' },
    });
    expect(hook.status, hook.text).toBe(201);
    const alert = await t.request('POST', '/event-hooks', {
      source: 'event_hooks',
      event: 'disabled',
      handler: 'webhook',
      config: { url: watcher.url },
    });
    expect(alert.status, alert.text).toBe(201);
    await settle();
    const pings = watcher.requests.length;

    // Act 1: three failures within a few milliseconds: enough failures, not yet the window.
    for (let n = 1; n <= 3; n++) await emit(n);

    // Assess 1
    expect((await t.request('GET', `/event-hooks/${hook.body.id}`)).body.enabled).not.toBe(false);
    expect((await t.request('GET', `/event-hooks/${hook.body.id}/health`)).body.consecutive_failures).toBe(3);

    // Act 2: one more failure after the window has passed.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await emit(4);

    // Assess 2: stored disabled, with health saying so, and the watcher told (secrets hidden).
    const after = await t.request('GET', `/event-hooks/${hook.body.id}`);
    expect(after.body.enabled).toBe(false);
    // Written back with its secret as it was (sealed once by the store, not sealed twice).
    expect(after.body.config.secret).toBe('hunter2');
    const health = await t.request('GET', `/event-hooks/${hook.body.id}/health`);
    expect(health.body).toMatchObject({ enabled: false, consecutive_failures: 4 });
    expect(health.body.disabled_since).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    await watcher.waitFor(pings + 1);
    const told = watcher.requests.slice(pings).map((r) => JSON.parse(r.body.toString('utf8')));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      source: 'event_hooks',
      event: 'disabled',
      consecutive_failures: 3,
      hook: { id: hook.body.id, enabled: false, config: { secret: '[redacted]' } },
    });
    expect(told[0].last_failure_at - told[0].first_failure_at).toBeGreaterThanOrEqual(1);

    // A disabled hook receives nothing more, and the watcher is told once.
    const deliveries = () => failing.requests.filter((r) => !isPing(r.body)).length;
    const sent = deliveries();
    await emit(5);
    expect(deliveries()).toBe(sent);
    expect(watcher.requests.length).toBe(pings + 1);

    // Enabled again by hand, it starts counting afresh: one more failure does not disable it.
    const enabled = await t.request('PATCH', `/event-hooks/${hook.body.id}`, { enabled: true });
    expect(enabled.status, enabled.text).toBe(200);
    await emit(6);
    expect(deliveries()).toBe(sent + 1);
    expect((await t.request('GET', `/event-hooks/${hook.body.id}`)).body.enabled).toBe(true);
    expect(watcher.requests.length).toBe(pings + 1);
  });
});

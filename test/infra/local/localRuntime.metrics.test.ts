import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../../shared/ports/metrics.ts';
import { parsePrometheus, parseSeries, seriesValue } from '../../support/prometheus.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '4',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '100',
  RETRY_MAX_AGE_MS: '10000',
  HTTP_TIMEOUT_MS: '500',
};

describe('GET /metrics on the local runtime', () => {
  let t: TestRuntime;
  let ok: Receiver;
  let flaky: Receiver;
  let down: Receiver;

  beforeAll(async () => {
    t = await startTestRuntime({ env: FAST_RETRIES });
    ok = await startReceiver();
    // Fails twice (the ping after create is the first request), then answers.
    flaky = await startReceiver((_request, index) => ({ status: index >= 1 && index <= 2 ? 503 : 200 }));
    down = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await t?.close();
    for (const r of [ok, flaky, down]) await r?.close();
  });

  const hook = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/event-hooks', body);
    expect(res.status).toBe(201);
  };
  const emit = async (source: string, event: string, data: Record<string, unknown>) => {
    expect((await t.request('POST', '/events', { source, event, data })).status).toBe(202);
    await t.runtime.bus.idle();
  };

  it('counts what real traffic did, in a format a Prometheus parser reads', async () => {
    const health = { source: 'balancer', event: 'health', handler: 'webhook' };
    await hook({ ...health, config: { url: `${ok.url}/ok` } });
    await hook({ ...health, config: { url: `${flaky.url}/flaky` } });
    await hook({ ...health, config: { url: `${down.url}/down` } });
    await hook({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      snooze: 60,
      config: { url: `${ok.url}/snoozed` },
    });
    await Promise.all([ok.waitFor(2), flaky.waitFor(1), down.waitFor(1)]); // the pings after create

    await emit('balancer', 'health', { upstream_id: 'u1', health: 'unhealthy' });
    const limited = { consumer: 'c1', ip: '10.0.0.1', service: 's1' };
    await emit('rate-limiting-advanced', 'rate-limit-exceeded', limited);
    await emit('rate-limiting-advanced', 'rate-limit-exceeded', limited); // snoozed
    await t.runtime.queue.idle();

    const res = await fetch(`${t.runtime.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const families = parsePrometheus(text);
    expect(families.find((f) => f.name === METRICS.delivery_latency.name)?.type).toBe('HISTOGRAM');
    const series = parseSeries(text);
    const value = (name: string, labels: Record<string, string> = {}) => seriesValue(series, name, labels);
    const webhook = (outcome: string) => ({ handler: 'webhook', outcome });

    expect(value(METRICS.events_accepted.name)).toBe(3);
    // ok: 1 + snoozed hook's first event: 1 + flaky on its third attempt: 1.
    expect(value(METRICS.deliveries.name, webhook('delivered'))).toBe(3);
    // flaky: 2, down: 3 (four attempts at most).
    expect(value(METRICS.deliveries.name, webhook('retry'))).toBe(5);
    expect(value(METRICS.deliveries.name, webhook('dead-letter'))).toBe(1);
    expect(value(METRICS.dead_letters.name, { cause: 'failed' })).toBe(1);
    expect(value(METRICS.events_suppressed.name, { handler: 'webhook', reason: 'snooze' })).toBe(1);

    const attempts = METRICS.delivery_attempts.name;
    expect(value(`${attempts}_count`, webhook('delivered'))).toBe(3);
    expect(value(`${attempts}_sum`, webhook('delivered'))).toBe(1 + 1 + 3);
    expect(value(`${attempts}_sum`, webhook('dead-letter'))).toBe(4);
    const latency = METRICS.delivery_latency.name;
    expect(value(`${latency}_count`, webhook('delivered'))).toBe(3);
    expect(value(`${latency}_count`, webhook('retry'))).toBe(5);
    expect(value(`${latency}_bucket`, { ...webhook('delivered'), le: '+Inf' })).toBe(3);
    expect(value(METRICS.queue_depth.name)).toBe(0);

    // Bounded labels: nothing names a hook, an event or a tenant.
    const labelNames = new Set(series.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['cause', 'handler', 'le', 'outcome', 'reason']);
  });

  it('shows the queue depth while deliveries wait', async () => {
    const slow = await startReceiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { status: 200 };
    });
    try {
      await hook({ source: 'balancer', event: 'health', handler: 'webhook', config: { url: `${slow.url}/slow` } });
      await emit('balancer', 'health', { upstream_id: 'u2', health: 'healthy' });
      const depth = seriesValue(
        parseSeries(await (await fetch(`${t.runtime.url}/metrics`)).text()),
        METRICS.queue_depth.name,
      );
      expect(depth).toBeGreaterThan(0);
      await t.runtime.queue.idle();
    } finally {
      await slow.close();
    }
  });
});

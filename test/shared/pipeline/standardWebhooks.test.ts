import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWhsec } from '../../../shared/delivery/signing.ts';
import { type Clock, systemClock } from '../../../shared/ports/clock.ts';
import { pipelineSteps } from '../../support/pipeline.ts';
import type { ReceivedRequest, Receiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/**
 * Real deliveries through the local runtime, checked by receivers nobody here wrote: the Standard
 * Webhooks reference library and Svix's. Both compare the timestamp with the real time (5 minutes
 * either way), so the service's clock is the real one, shifted when a test needs another time.
 */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  setTimer(ms: number, fn: () => void): () => void {
    return systemClock.setTimer(ms, fn);
  }
}

const VERIFIERS = {
  standardwebhooks: (secret: string, payload: Buffer, headers: Record<string, string>) =>
    new StandardWebhook(secret).verify(payload.toString('utf8'), headers),
  svix: (secret: string, payload: Buffer, headers: Record<string, string>) =>
    new SvixWebhook(secret).verify(payload.toString('utf8'), headers),
};

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name] = value;
  return out;
}

/** Verifies with both libraries; resolves with the reason each one refused, or `null` when it accepted. */
function verdicts(secret: string, request: ReceivedRequest, body: Buffer = request.body) {
  const headers = plainHeaders(request.headers);
  const out: Record<keyof typeof VERIFIERS, string | null> = { standardwebhooks: null, svix: null };
  for (const name of Object.keys(VERIFIERS) as (keyof typeof VERIFIERS)[]) {
    try {
      const parsed = VERIFIERS[name](secret, body, headers);
      // Both libraries answer with the parsed JSON body once the signature holds.
      expect(parsed).toEqual(JSON.parse(body.toString('utf8')));
    } catch (error) {
      out[name] = (error as Error).message;
    }
  }
  return out;
}
const ACCEPTED = { standardwebhooks: null, svix: null };

const ENV = {
  RETRY_MAX_ATTEMPTS: '4',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '100',
  RETRY_MAX_AGE_MS: '60000',
  HTTP_TIMEOUT_MS: '1000',
};

describe('Standard Webhooks deliveries, verified by standardwebhooks and svix', () => {
  let t: TestRuntime;
  const clock = new ShiftedClock();
  const { receiver, hook, emit, settle, cleanUp } = pipelineSteps(() => t);
  const ofEvent = (r: Receiver, event: string) =>
    r.requests.filter((q) => JSON.parse(q.body.toString()).event === event);

  beforeAll(async () => {
    t = await startTestRuntime({ env: ENV, clock });
  });
  afterEach(async () => {
    await cleanUp();
    clock.offsetMs = 0;
  });
  afterAll(() => t.close());

  it('signs a delivery both libraries accept, with the delivery id and the time of the attempt, and a generated secret', async () => {
    const r = await receiver();
    const h = await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/in`, signing: 'standard-webhooks' },
    });
    expect(h.config).toMatchObject({ signing: 'standard-webhooks', secret: expect.stringMatching(/^whsec_/) });
    expect((await t.request('GET', `/event-hooks/${h.id}`)).body.config.secret).toBe(h.config.secret);
    const before = Math.floor(Date.now() / 1000);
    await emit('balancer', 'health', { upstream_id: 'u1', health: 'unhealthy' });
    await settle();
    const [ping] = ofEvent(r, 'ping');
    const [got] = ofEvent(r, 'health');
    expect(verdicts(h.config.secret, ping!)).toEqual(ACCEPTED);
    expect(verdicts(h.config.secret, got!)).toEqual(ACCEPTED);
    expect(got!.headers['webhook-id']).toBe(got!.headers['x-event-hooks-delivery']);
    expect(Number(got!.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(got!.headers['webhook-timestamp'])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(got!.headers['x-kong-signature']).toBeUndefined();
    // The signature covers the exact bytes on the wire.
    const key = Buffer.from(h.config.secret.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key)
      .update(`${got!.headers['webhook-id']}.${got!.headers['webhook-timestamp']}.`)
      .update(got!.body)
      .digest('base64');
    expect(got!.headers['webhook-signature']).toBe(`v1,${mac}`);
  });

  it('signs each retry anew: the same webhook-id, the timestamp of that attempt, accepted by both', async () => {
    let failures = 0;
    const r = await receiver((req) => {
      if (JSON.parse(req.body.toString()).event !== 'rate-limit-exceeded' || ++failures > 2) return { status: 200 };
      // The next attempt happens 7 s later by the service's clock.
      clock.offsetMs += 7_000;
      return { status: 503 };
    });
    const h = await hook({
      source: 'service-protection',
      event: 'rate-limit-exceeded',
      handler: 'webhook',
      config: { url: `${r.url}/flaky`, signing: 'standard-webhooks' },
    });
    await emit('service-protection', 'rate-limit-exceeded', { service: 's1', rate: 11, limit: 10, window: 'minute' });
    await settle();
    const attempts = ofEvent(r, 'rate-limit-exceeded');
    expect(attempts.map((q) => q.headers['x-event-hooks-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(attempts.map((q) => q.headers['webhook-id'])).size).toBe(1);
    const times = attempts.map((q) => Number(q.headers['webhook-timestamp']));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(6);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(6);
    for (const attempt of attempts) expect(verdicts(h.config.secret, attempt)).toEqual(ACCEPTED);
  });

  it('signs a webhook-custom replay from /dead-letters with the same webhook-id, accepted by both', async () => {
    let up = false;
    const r = await receiver((req) => (req.url === '/custom' && !up ? { status: 500 } : { status: 200 }));
    const h = await hook({
      source: 'oas-validation',
      event: 'validation-failed',
      handler: 'webhook-custom',
      config: {
        url: `${r.url}/custom`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        payload: { event: '{{ event }}', err: '{{ err }}' },
        signing: 'standard-webhooks',
      },
    });
    await emit('oas-validation', 'validation-failed', { consumer: 'c', ip: '1.2.3.4', service: 's', err: 'bad' });
    await settle();
    const failed = ofEvent(r, 'validation-failed');
    expect(failed).toHaveLength(4);
    for (const attempt of failed) expect(verdicts(h.config.secret, attempt)).toEqual(ACCEPTED);
    const dead = (await t.request('GET', '/dead-letters?size=1000')).body.data.find(
      (d: { hook_id: string }) => d.hook_id === h.id,
    );
    up = true;
    expect((await t.request('POST', `/dead-letters/${dead.id}/replay`)).status).toBe(202);
    await settle();
    const replayed = ofEvent(r, 'validation-failed').slice(4);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.headers['webhook-id']).toBe(dead.delivery_id);
    expect(replayed[0]!.headers['x-event-hooks-attempt']).toBe('1');
    expect(verdicts(h.config.secret, replayed[0]!)).toEqual(ACCEPTED);
  });

  it('during a rotation overlap a delivery verifies with either secret; after it, with the new one alone', async () => {
    const r = await receiver();
    const old = generateWhsec();
    const h = await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/rotating`, signing: 'standard-webhooks', secret: old },
    });
    const rotated = await t.request('POST', `/event-hooks/${h.id}/secret/rotate`, { overlap_seconds: 60 });
    expect(rotated.status, rotated.text).toBe(200);
    const current = rotated.body.secret as string;
    const expiresAt = Math.floor(clock.now() / 1000) + 60;
    expect(rotated.body).toEqual({
      signing: 'standard-webhooks',
      secret: expect.stringMatching(/^whsec_/),
      overlap_seconds: 60,
      previous_secret_expires_at: expect.any(Number),
      message: expect.stringMatching(/previous_secret_expires_at/),
    });
    expect(Math.abs(rotated.body.previous_secret_expires_at - expiresAt)).toBeLessThanOrEqual(1);
    expect(current).not.toBe(old);
    const during = await t.request('GET', `/event-hooks/${h.id}`);
    expect(during.body.config).toMatchObject({ secret: current, previous_secret: { secret: old } });

    await emit('balancer', 'health', { upstream_id: 'during' });
    await settle();
    const [overlap] = r.requests.filter((q) => q.body.includes('"during"'));
    expect((overlap!.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(verdicts(old, overlap!)).toEqual(ACCEPTED);
    expect(verdicts(current, overlap!)).toEqual(ACCEPTED);

    // 61 s later by the service's clock the overlap is over; the stored hook still holds the old secret.
    clock.offsetMs += 61_000;
    expect((await t.runtime.app.hooks.get('default', h.id))!.hook.config).toHaveProperty('previous_secret');
    await emit('balancer', 'health', { upstream_id: 'after' });
    await settle();
    const [after] = r.requests.filter((q) => q.body.includes('"after"'));
    expect((after!.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(verdicts(current, after!)).toEqual(ACCEPTED);
    expect(verdicts(old, after!)).toEqual({
      standardwebhooks: expect.stringMatching(/No matching signature found/),
      svix: expect.stringMatching(/No matching signature found/),
    });
    const read = await t.request('GET', `/event-hooks/${h.id}`);
    expect(read.body.config).not.toHaveProperty('previous_secret');
    const listed = await t.request('GET', '/event-hooks?size=1000');
    expect(listed.body.data.find((x: { id: string }) => x.id === h.id).config).not.toHaveProperty('previous_secret');
  });

  it('is refused by both libraries for a tampered body, a wrong secret and a stale timestamp', async () => {
    const r = await receiver();
    const h = await hook({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/strict`, signing: 'standard-webhooks' },
    });
    await emit('balancer', 'health', { upstream_id: 'fresh', health: 'healthy' });
    await settle();
    const [fresh] = r.requests.filter((q) => q.body.includes('"fresh"'));
    expect(verdicts(h.config.secret, fresh!)).toEqual(ACCEPTED);
    const tampered = Buffer.from(fresh!.body.toString().replace('"healthy"', '"unhealthy"'));
    expect(tampered.equals(fresh!.body)).toBe(false);
    const noMatch = {
      standardwebhooks: expect.stringMatching(/No matching signature found/),
      svix: expect.stringMatching(/No matching signature found/),
    };
    expect(verdicts(h.config.secret, fresh!, tampered)).toEqual(noMatch);
    expect(verdicts(generateWhsec(), fresh!)).toEqual(noMatch);

    // A delivery signed 6 minutes ago: a captured request replayed past the 5-minute tolerance.
    clock.offsetMs = -6 * 60_000;
    await emit('balancer', 'health', { upstream_id: 'stale' });
    await settle();
    const [stale] = r.requests.filter((q) => q.body.includes('"stale"'));
    expect(Number(stale!.headers['webhook-timestamp'])).toBeLessThan(Date.now() / 1000 - 5 * 60);
    expect(verdicts(h.config.secret, stale!)).toEqual({
      standardwebhooks: expect.stringMatching(/timestamp too old/i),
      svix: expect.stringMatching(/timestamp too old/i),
    });
  });
});

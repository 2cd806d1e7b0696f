import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWhsec } from '../../../shared/delivery/signing.ts';
import { pipelineSteps } from '../../support/pipeline.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '50',
  HTTP_TIMEOUT_MS: '500',
};

describe('signing schemes and secret rotation (Admin API, local runtime)', () => {
  let t: TestRuntime;
  const steps = pipelineSteps(() => t);
  const { settle } = steps;
  const receiver = () => steps.receiver();
  const create = async (config: Record<string, unknown>, handler = 'webhook') => {
    const res = await t.request('POST', '/event-hooks', { source: 'balancer', event: 'health', handler, config });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; config: Record<string, unknown> & { secret: string } };
  };
  const rotate = (id: string, body?: unknown) => t.request('POST', `/event-hooks/${id}/secret/rotate`, body);

  beforeAll(async () => {
    t = await startTestRuntime({ env: FAST_RETRIES });
  });
  afterEach(async () => {
    await steps.deleteHooks();
    await steps.cleanUp();
  });
  afterAll(() => t.close());

  it("keeps Kong's config shape for a hook that does not choose a scheme", async () => {
    const r = await receiver();
    const h = await create({ url: r.url, secret: 'hunter2' });
    expect(Object.keys(h.config)).toEqual(['url', 'headers', 'secret', 'ssl_verify']);
    const kong = await create({ url: r.url, secret: 'hunter2', signing: 'kong' });
    expect(kong.config.signing).toBe('kong');
    // `null` clears the choice back to the default.
    const cleared = await t.request('PATCH', `/event-hooks/${kong.id}`, { config: { signing: null } });
    expect(Object.keys(cleared.body.config)).toEqual(['url', 'headers', 'secret', 'ssl_verify']);
  });

  it('refuses a standard-webhooks secret that is not whsec_, and an unknown scheme, with 400 field errors', async () => {
    const bad = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook-custom',
      config: { url: 'http://127.0.0.1:9/x', method: 'POST', signing: 'standard-webhooks', secret: 'hunter2' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual({
      config: { secret: expect.stringMatching(/^must be 'whsec_' followed by the base64 of 24 to 64/) },
    });
    const scheme = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:9/x', signing: 'hmac' },
    });
    expect(scheme.status).toBe(400);
    expect(scheme.body.fields).toEqual({ config: { signing: 'expected one of: kong, standard-webhooks' } });
    const log = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'log',
      config: { signing: 'kong' },
    });
    expect(log.status).toBe(400);
    expect(log.body.fields).toEqual({ config: { signing: 'unknown field' } });
  });

  it('ignores a previous_secret sent by a client: only a rotation sets it', async () => {
    const r = await receiver();
    const h = await create({
      url: r.url,
      signing: 'standard-webhooks',
      previous_secret: { secret: generateWhsec(), expires_at: 4102444800 },
    });
    expect(h.config).not.toHaveProperty('previous_secret');
    const put = await t.request('PUT', `/event-hooks/${h.id}`, {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { ...h.config, previous_secret: { secret: generateWhsec(), expires_at: 4102444800 } },
    });
    expect(put.status).toBe(200);
    expect(put.body.config).toEqual(h.config);
  });

  it('answers a malformed rotation request with 400, a missing hook with 404, other methods with 405', async () => {
    const r = await receiver();
    const std = await create({ url: r.url, signing: 'standard-webhooks' });
    const kong = await create({ url: r.url, secret: 'hunter2' });
    const log = await t.request('POST', '/event-hooks', { source: 'balancer', event: 'health', handler: 'log' });
    const cases: [string, unknown, Record<string, unknown>][] = [
      [std.id, { secret: 'hunter2' }, { secret: expect.stringMatching(/^must be 'whsec_'/) }],
      [std.id, { secret: std.config.secret }, { secret: 'must differ from the current secret' }],
      [std.id, { overlap_seconds: -1 }, { overlap_seconds: 'value should be between 0 and 604800' }],
      [std.id, { overlap_seconds: 1.5 }, { overlap_seconds: 'expected an integer' }],
      [std.id, { overlap: 60 }, { overlap: 'unknown field' }],
      [std.id, [], { '@entity': ['expected a record'] }],
      [kong.id, { overlap_seconds: 60 }, { overlap_seconds: expect.stringMatching(/kong scheme sends one signature/) }],
      [log.body.id, {}, { handler: 'only webhook and webhook-custom hooks have a secret to rotate' }],
    ];
    for (const [id, body, fields] of cases) {
      const res = await rotate(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.fields).toEqual(fields);
    }
    expect((await t.request('GET', `/event-hooks/${std.id}`)).body.config.secret).toBe(std.config.secret);
    expect((await rotate('4e4e4e4e-1111-4222-8333-444444444444')).status).toBe(404);
    expect((await t.request('GET', `/event-hooks/${std.id}/secret/rotate`)).status).toBe(405);
    expect((await t.request('POST', `/event-hooks/${std.id}/secret/turn`)).status).toBe(404);
  });

  it('rotates a kong secret at once, says so, and the next delivery is signed by the new secret alone', async () => {
    const r = await receiver();
    const h = await create({ url: `${r.url}/kong`, secret: 'hunter2' });
    const res = await rotate(h.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      signing: 'kong',
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
      overlap_seconds: 0,
      previous_secret_expires_at: null,
      message: expect.stringMatching(/replaced the old one at once/),
    });
    const given = await rotate(h.id, { secret: 'correct horse battery staple', overlap_seconds: 0 });
    expect(given.body.secret).toBe('correct horse battery staple');
    const stored = (await t.request('GET', `/event-hooks/${h.id}`)).body.config;
    expect(stored).toEqual({
      url: `${r.url}/kong`,
      headers: {},
      secret: 'correct horse battery staple',
      ssl_verify: false,
    });
    await settle();
    const before = r.requests.length;
    expect((await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 1 } })).status).toBe(
      202,
    );
    await settle();
    const [got] = r.requests.slice(before);
    const expected = `sha1=${createHmac('sha1', 'correct horse battery staple').update(got!.body).digest('hex')}`;
    expect(got!.headers['x-kong-signature']).toBe(expected);
    expect(got!.headers['webhook-signature']).toBeUndefined();
  });

  it('keeps a previous secret across writes that keep the secret, and drops it when the secret or scheme changes', async () => {
    const r = await receiver();
    const h = await create({ url: r.url, signing: 'standard-webhooks' });
    const rotated = await rotate(h.id, { secret: generateWhsec() });
    expect(rotated.body.overlap_seconds).toBe(86400);
    const kept = await t.request('PATCH', `/event-hooks/${h.id}`, { config: { headers: { 'x-team': 'a' } } });
    expect(kept.body.config.previous_secret).toEqual({
      secret: h.config.secret,
      expires_at: rotated.body.previous_secret_expires_at,
    });
    // A rotation without overlap replaces at once, and a second rotation forgets the older secret.
    const again = await rotate(h.id, { overlap_seconds: 0 });
    expect(again.body.previous_secret_expires_at).toBeNull();
    expect((await t.request('GET', `/event-hooks/${h.id}`)).body.config).not.toHaveProperty('previous_secret');
    await rotate(h.id);
    const replaced = await t.request('PATCH', `/event-hooks/${h.id}`, { config: { secret: generateWhsec() } });
    expect(replaced.body.config).not.toHaveProperty('previous_secret');
    await rotate(h.id);
    const kong = await t.request('PATCH', `/event-hooks/${h.id}`, { config: { signing: 'kong' } });
    expect(kong.body.config).not.toHaveProperty('previous_secret');
  });

  it('never writes a secret, current or rotated away, to the logs or to the event_hooks change events', async () => {
    const own = await receiver();
    const changes = await receiver();
    const capture = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'event_hooks',
      handler: 'webhook',
      config: { url: `${changes.url}/changes` },
    });
    expect(capture.status).toBe(201);
    const first = generateWhsec();
    const h = await create({ url: `${own.url}/own`, signing: 'standard-webhooks', secret: first });
    const second = (await rotate(h.id)).body.secret as string;
    const third = generateWhsec();
    expect((await rotate(h.id, { secret: third, overlap_seconds: 3600 })).status).toBe(200);
    await t.request('PATCH', `/event-hooks/${h.id}`, { config: { headers: { 'x-team': 'b' } } });
    await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 2 } });
    await settle();

    const events = changes.requests
      .map((q) => JSON.parse(q.body.toString()))
      .filter((body) => body.event === 'event_hooks' && body.entity?.id === h.id);
    expect(events.map((e) => e.operation)).toEqual(['create', 'update', 'update', 'update']);
    const last = events.at(-1);
    expect(last.entity.config).toMatchObject({ secret: '[redacted]', previous_secret: '[redacted]' });
    expect(last.old_entity.config).toMatchObject({ secret: '[redacted]', previous_secret: '[redacted]' });
    // The receiver of the hook itself did get signed requests: the secrets were in use.
    expect(own.requests.some((q) => q.headers['webhook-signature'])).toBe(true);

    const logs = JSON.stringify(t.logs);
    const captured = changes.requests.map((q) => q.body.toString()).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [first, second, third]) {
      const key = secret.slice('whsec_'.length);
      expect(logs).not.toContain(key);
      expect(captured).not.toContain(key);
    }
  });
});

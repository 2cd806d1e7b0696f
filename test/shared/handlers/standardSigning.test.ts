import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateWhsec } from '../../../shared/delivery/signing.ts';
import { webhook } from '../../../shared/handlers/webhook.ts';
import { webhookCustom } from '../../../shared/handlers/webhookCustom.ts';
import type { WebhookCustomConfig } from '../../../shared/hooks/hook.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { type Receiver, startReceiver } from '../../support/rawReceiver.ts';
import { hookOf, type TestDeps, testDeps } from './fixtures.ts';

let remote: Receiver;
let deps: TestDeps;
const clock = new ManualClock(1_614_265_330_500);
beforeAll(async () => {
  remote = await startReceiver((_req, res) => {
    res.writeHead(200);
    res.end('ok');
  });
  deps = { ...testDeps(), clock };
});
afterAll(async () => {
  deps.http.close();
  await remote.close();
});

const secret = generateWhsec();
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const expected = (id: string, timestamp: string, body: Buffer, by: Buffer = key) =>
  `v1,${createHmac('sha256', by).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;

function custom(overrides: Partial<WebhookCustomConfig>): WebhookCustomConfig {
  return {
    url: `${remote.url}/custom`,
    method: 'POST',
    payload: null,
    payload_format: true,
    body: null,
    body_format: true,
    headers: null,
    headers_format: false,
    secret,
    ssl_verify: false,
    signing: 'standard-webhooks',
    ...overrides,
  };
}
const event = { source: 'crud', event: 'consumers', data: { operation: 'create' } };

describe('standard-webhooks signing in the handlers', () => {
  it('signs a webhook delivery with its delivery id and the time by the clock, with no x-kong-signature', async () => {
    const hook = hookOf('webhook', {
      url: remote.url,
      headers: {},
      secret,
      ssl_verify: false,
      signing: 'standard-webhooks',
    });
    await webhook(hook, deps).callback(event, { deliveryId: 'd-1', attempt: 2, strict: true });
    const seen = remote.requests.at(-1)!;
    expect(seen.headers['webhook-id']).toBe('d-1');
    expect(seen.headers['webhook-timestamp']).toBe('1614265330');
    expect(seen.headers['webhook-signature']).toBe(expected('d-1', '1614265330', seen.body));
    expect(seen.headers['x-kong-signature']).toBeUndefined();
    // The reference library agrees, at the same moment.
    const now = vi.spyOn(Date, 'now').mockReturnValue(clock.now());
    try {
      expect(new Webhook(secret).verify(seen.body.toString(), seen.headers as Record<string, string>)).toEqual(
        JSON.parse(seen.body.toString()),
      );
    } finally {
      now.mockRestore();
    }
  });

  it('gives a ping its own webhook id, and signs it', async () => {
    const hook = hookOf('webhook', {
      url: remote.url,
      headers: {},
      secret,
      ssl_verify: false,
      signing: 'standard-webhooks',
    });
    await webhook(hook, deps).ping?.('create');
    const seen = remote.requests.at(-1)!;
    expect(seen.headers['webhook-id']).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(seen.headers['webhook-signature']).toBe(
      expected(seen.headers['webhook-id'] as string, seen.headers['webhook-timestamp'] as string, seen.body),
    );
  });

  it('signs a webhook-custom GET over an empty body, and a form body as sent; a configured header cannot override', async () => {
    const payload = { name: 'jane doe' };
    await webhookCustom(hookOf('webhook-custom', custom({ method: 'GET', payload })), deps).callback(event, {
      deliveryId: 'd-get',
    });
    const get = remote.requests.at(-1)!;
    expect(get.method).toBe('GET');
    expect(get.body.length).toBe(0);
    expect(get.headers['webhook-signature']).toBe(expected('d-get', '1614265330', Buffer.alloc(0)));

    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'webhook-signature': 'v1,forged' };
    await webhookCustom(hookOf('webhook-custom', custom({ payload, headers })), deps).callback(event, {
      deliveryId: 'd-form',
    });
    const form = remote.requests.at(-1)!;
    expect(form.body.toString()).toBe('name=jane%20doe');
    expect(form.headers['webhook-signature']).toBe(expected('d-form', '1614265330', form.body));
  });

  it('adds the previous secret while the overlap lasts, by the clock', async () => {
    const previous = generateWhsec();
    const config = custom({ body: '{"a":1}', body_format: false });
    const rotating = { ...config, previous_secret: { secret: previous, expires_at: 1614265331 } };
    const hook = hookOf('webhook-custom', rotating);
    await webhookCustom(hook, deps).callback(event, { deliveryId: 'd-rot' });
    const during = remote.requests.at(-1)!;
    const signatures = (during.headers['webhook-signature'] as string).split(' ');
    const previousKey = Buffer.from(previous.slice('whsec_'.length), 'base64');
    expect(signatures).toEqual([
      expected('d-rot', '1614265330', during.body),
      expected('d-rot', '1614265330', during.body, previousKey),
    ]);
    clock.set(1_614_265_331_000);
    await webhookCustom(hook, deps).callback(event, { deliveryId: 'd-rot' });
    const after = remote.requests.at(-1)!;
    expect(after.headers['webhook-signature']).toBe(expected('d-rot', '1614265331', after.body));
  });
});

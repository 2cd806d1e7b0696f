import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/localRuntime.ts';
import { KEY_FILE_NAME } from '../../../shared/adapters/local/secretCipher.ts';
import { generateWhsec } from '../../../shared/delivery/signing.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { keys } from '../../../shared/store/table.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const TENANT = 'default';
const ENV = { RETRY_MAX_ATTEMPTS: '1', HTTP_TIMEOUT_MS: '1000' };

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name] = value;
  return out;
}

describe('hook secrets at rest (local runtime, embedded store)', () => {
  let t: TestRuntime;
  let r: Receiver;
  const settle = async () => {
    await t.runtime.app.settled();
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };
  /** The item exactly as the table holds it. */
  const rawItem = async (id: string) =>
    (await t.store.client.send(new GetCommand({ TableName: t.store.tableName, Key: keys.hook(TENANT, id) }))).Item;

  beforeAll(async () => {
    t = await startTestRuntime({ env: ENV });
  });
  afterEach(async () => {
    await settle();
    for (const { id } of (await t.request('GET', '/event-hooks?size=1000')).body.data as { id: string }[]) {
      await t.request('DELETE', `/event-hooks/${id}`);
    }
    await settle();
    await r?.close();
  });
  afterAll(() => t.close());

  it('stores no secret, rotated secret or credential header in plaintext, answers them as Kong does, and signs with them', async () => {
    r = await startReceiver();
    const first = generateWhsec();
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: {
        url: `${r.url}/std`,
        signing: 'standard-webhooks',
        secret: first,
        headers: { Authorization: 'Bearer tok-4f9a81', 'X-Api-Key': 'key-77c2e0', 'x-team': 'payments' },
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const rotated = await t.request('POST', `/event-hooks/${id}/secret/rotate`, {});
    expect(rotated.status, rotated.text).toBe(200);
    const second = rotated.body.secret as string;

    const item = await rawItem(id);
    const text = JSON.stringify(item);
    for (const secret of [first, second, 'tok-4f9a81', 'key-77c2e0']) expect(text).not.toContain(secret);
    const stored = JSON.parse(item?.hookJson as string);
    expect(stored.config.secret).toMatch(/^enc:v1:/);
    expect(stored.config.previous_secret.secret).toMatch(/^enc:v1:/);
    expect(stored.config.headers.Authorization).toMatch(/^enc:v1:/);
    expect(stored.config.headers['X-Api-Key']).toMatch(/^enc:v1:/);
    // Headers that are not credentials stay readable, like the URL.
    expect(stored.config.headers['x-team']).toBe('payments');

    // The Admin API answers the hook as Kong does: its secrets as they were given.
    const read = await t.request('GET', `/event-hooks/${id}`);
    expect(read.body.config).toMatchObject({
      secret: second,
      previous_secret: { secret: first },
      headers: { Authorization: 'Bearer tok-4f9a81', 'X-Api-Key': 'key-77c2e0', 'x-team': 'payments' },
    });

    expect((await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 1 } })).status).toBe(
      202,
    );
    await settle();
    // The first request is the ping Kong sends on create; every request opens the secrets.
    const request = r.requests.find((q) => JSON.parse(q.body.toString()).n === 1);
    const headers = plainHeaders(request?.headers ?? {});
    expect(headers.authorization).toBe('Bearer tok-4f9a81');
    expect(headers['x-api-key']).toBe('key-77c2e0');
    // Both secrets sign during the overlap: a receiver on either verifies the delivery.
    for (const secret of [first, second]) {
      expect(new Webhook(secret).verify(request?.body.toString('utf8') as string, headers)).toMatchObject({ n: 1 });
    }
    // /test and /ping open the secrets too.
    const tested = await t.request('POST', `/event-hooks/${id}/test`, { n: 2 });
    expect(tested.status, tested.text).toBe(200);
    const last = r.requests.at(-1);
    expect(
      new Webhook(second).verify(last?.body.toString('utf8') as string, plainHeaders(last?.headers ?? {})),
    ).toMatchObject({
      n: 2,
    });
    expect(JSON.stringify(t.logs)).not.toMatch(/tok-4f9a81|key-77c2e0|enc:v1:/);
  });

  it('treats a client value that looks sealed as plaintext: a copied ciphertext of another hook never opens to its secret', async () => {
    r = await startReceiver();
    const hook = (secret: string, path: string) => ({
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${r.url}/${path}`, secret, headers: { Authorization: secret } },
    });
    const victim = await t.request('POST', '/event-hooks', hook('victim-secret-8c1d', 'victim'));
    expect(victim.status, victim.text).toBe(201);
    // An attacker who got hold of the sealed value (a backup, a log) sends it as their own hook's secret.
    const copied = JSON.parse((await rawItem(victim.body.id as string))?.hookJson as string).config.secret as string;
    expect(copied).toMatch(/^enc:v1:/);
    const attacker = await t.request('POST', '/event-hooks', hook(copied, 'attacker'));
    expect(attacker.status, attacker.text).toBe(201);
    const id = attacker.body.id as string;
    // Stored sealed like any value, and answered as it was sent.
    expect(JSON.parse((await rawItem(id))?.hookJson as string).config.secret).not.toBe(copied);
    expect((await t.request('GET', `/event-hooks/${id}`)).body.config).toMatchObject({
      secret: copied,
      headers: { Authorization: copied },
    });
    // Delivered and tested with the value as sent: the victim's secret reaches the attacker nowhere.
    expect((await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 1 } })).status).toBe(
      202,
    );
    await settle();
    const tested = await t.request('POST', `/event-hooks/${id}/test`, { n: 2 });
    expect(tested.status, tested.text).toBe(200);
    const toAttacker = r.requests.filter((q) => q.url.startsWith('/attacker'));
    expect(toAttacker.length).toBeGreaterThanOrEqual(2);
    for (const q of toAttacker) {
      expect(q.headers.authorization).toBe(copied);
      const signature = createHmac('sha1', copied).update(q.body).digest('hex');
      expect(q.headers['x-kong-signature']).toBe(`sha1=${signature}`);
    }
    expect(JSON.stringify([toAttacker.map((q) => q.headers), tested.body])).not.toContain('victim-secret-8c1d');
  });

  it('seals the secret of a webhook-custom hook and its credential headers, templates included', async () => {
    r = await startReceiver();
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook-custom',
      config: {
        url: `${r.url}/custom`,
        method: 'POST',
        body: '{"n":"{{n}}"}',
        headers: { 'content-type': 'application/json', Authorization: 'Token {{n}}-9d1e' },
        headers_format: true,
        secret: 'hunter2',
      },
    });
    expect(created.status, created.text).toBe(201);
    const stored = JSON.parse((await rawItem(created.body.id))?.hookJson as string);
    expect(stored.config.secret).toMatch(/^enc:v1:/);
    expect(stored.config.headers.Authorization).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toMatch(/hunter2|9d1e/);
    await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 5 } });
    await settle();
    const request = r.requests.find((q) => q.body.toString() === '{"n":"5"}');
    expect(request?.headers.authorization).toBe('Token 5-9d1e');
    const signature = createHmac('sha1', 'hunter2')
      .update(request?.body as Buffer)
      .digest('hex');
    expect(request?.headers['x-kong-signature']).toBe(`sha1=${signature}`);
  });

  it('seals every value the read scope masks (payload keys, credential URL, credential headers) and delivers them as given', async () => {
    r = await startReceiver();
    const url = `${r.url.replace('http://', 'http://bot:pw-51ac@')}/custom?token=tk-0e3b&team=payments`;
    const changes = await startReceiver();
    const capture = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'event_hooks',
      handler: 'webhook',
      config: { url: `${changes.url}/changes` },
    });
    expect(capture.status, capture.text).toBe(201);
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook-custom',
      config: {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Auth-Token': 'h-3c2f', 'x-team': 'payments' },
        payload: { token: 'p-tok-7d1a', password: 'p-pw-80be', user: 'bot' },
        payload_format: false,
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const item = await rawItem(id);
    const text = JSON.stringify(item);
    for (const value of ['pw-51ac', 'tk-0e3b', 'h-3c2f', 'p-tok-7d1a', 'p-pw-80be'])
      expect(text, value).not.toContain(value);
    const stored = JSON.parse(item?.hookJson as string);
    expect(stored.config.url).toMatch(/^enc:v1:/);
    expect(stored.config.payload).toEqual({
      token: expect.stringMatching(/^enc:v1:/),
      password: expect.stringMatching(/^enc:v1:/),
      user: 'bot',
    });
    expect(stored.config.headers['x-team']).toBe('payments');

    // Opened for the answer as given; the read scope's masking is unchanged.
    expect((await t.request('GET', `/event-hooks/${id}`)).body.config).toMatchObject({
      url,
      headers: { 'X-Auth-Token': 'h-3c2f' },
      payload: { token: 'p-tok-7d1a', password: 'p-pw-80be', user: 'bot' },
    });

    expect((await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 7 } })).status).toBe(
      202,
    );
    await settle();
    const request = r.requests.find((q) => q.body.toString().includes('p-tok-7d1a'));
    expect(request?.url).toBe('/custom?token=tk-0e3b&team=payments');
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('bot:pw-51ac').toString('base64')}`);
    expect(request?.headers['x-auth-token']).toBe('h-3c2f');
    expect(JSON.parse(request?.body.toString() as string)).toEqual({
      token: 'p-tok-7d1a',
      password: 'p-pw-80be',
      user: 'bot',
    });

    // The change events mask these values, the delete's too (it carries the hook as stored, sealed).
    expect((await t.request('DELETE', `/event-hooks/${id}`)).status).toBe(204);
    await settle();
    await changes.close();
    const events = changes.requests
      .map((q) => JSON.parse(q.body.toString()))
      .filter((body) => body.event === 'event_hooks' && body.entity?.id === id);
    expect(events.map((e) => e.operation)).toEqual(['create', 'delete']);
    expect(events[0].entity.config.url).toBe(url.replace('pw-51ac', 'redacted').replace('tk-0e3b', 'redacted'));
    expect(events[1].entity.config.url).toBe('[redacted]');
    for (const e of events)
      expect(e.entity.config.payload).toEqual({ token: '[redacted]', password: '[redacted]', user: 'bot' });
    const captured = changes.requests.map((q) => q.body.toString()).join('\n');
    expect(captured).not.toMatch(/pw-51ac|tk-0e3b|h-3c2f|p-tok-7d1a|p-pw-80be|enc:v1:/);
    expect(JSON.stringify(t.logs)).not.toMatch(/pw-51ac|tk-0e3b|h-3c2f|p-tok-7d1a|p-pw-80be|enc:v1:/);
  });

  it('reads and delivers a hook written in plaintext before secrets were sealed, and seals it on its next write', async () => {
    r = await startReceiver();
    const id = '0b7c6a52-4c1e-4c55-9a57-3f1d6c0d1e01';
    const hook = {
      id,
      created_at: 1_700_000_000,
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      on_change: null,
      snooze: null,
      config: {
        url: `${r.url}/old`,
        headers: { Authorization: 'Basic b2xkOm9sZA==' },
        secret: 'hunter2',
        ssl_verify: false,
      },
    };
    await t.store.client.send(
      new PutCommand({
        TableName: t.store.tableName,
        Item: {
          ...keys.hook(TENANT, id),
          ...keys.hookBySource(TENANT, 'balancer', id),
          rev: 1,
          hookJson: JSON.stringify(hook),
        },
      }),
    );
    t.runtime.app.cache.invalidate(TENANT);
    expect((await t.request('GET', `/event-hooks/${id}`)).body.config.secret).toBe('hunter2');
    await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n: 3 } });
    const [request] = await r.waitFor(1);
    expect(request?.headers.authorization).toBe('Basic b2xkOm9sZA==');
    const signature = createHmac('sha1', 'hunter2')
      .update(request?.body as Buffer)
      .digest('hex');
    expect(request?.headers['x-kong-signature']).toBe(`sha1=${signature}`);

    expect((await t.request('PATCH', `/event-hooks/${id}`, { snooze: 5 })).status).toBe(200);
    const resealed = JSON.parse((await rawItem(id))?.hookJson as string);
    expect(resealed.config.secret).toMatch(/^enc:v1:/);
    expect(resealed.config.headers.Authorization).toMatch(/^enc:v1:/);
  });
});

describe('the key file in the data folder', () => {
  it('keeps secrets across a restart, and with another key file fails clearly instead of sending unsigned', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eh-secrets-'));
    const receiver = await startReceiver();
    // Runtimes still open when an assertion fails are closed in `finally`, before their folder goes.
    const running = new Set<{ close(): Promise<void> }>();
    const start = async (logger = memoryLogger()) => {
      const runtime = await startLocalRuntime({ port: 0, dataDir, logger, env: ENV, drainMs: 500 });
      running.add(runtime);
      return runtime;
    };
    const stop = async (runtime: { close(): Promise<void> }) => {
      running.delete(runtime);
      await runtime.close();
    };
    try {
      const first = await start();
      const res = await fetch(`${first.url}/event-hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          source: 'balancer',
          event: 'health',
          handler: 'webhook',
          config: { url: receiver.url, secret: 'hunter2' },
        }),
      });
      const { id } = (await res.json()) as { id: string };
      await first.app.settled();
      await stop(first);

      const again = await start();
      const read = (await (await fetch(`${again.url}/event-hooks/${id}`)).json()) as { config: { secret: string } };
      expect(read.config.secret).toBe('hunter2');
      await stop(again);

      // Another key in the file: the hook's secret does not open, and the log says why.
      writeFileSync(join(dataDir, KEY_FILE_NAME), `${Buffer.alloc(32, 9).toString('base64')}\n`);
      const logger = memoryLogger();
      const wrong = await start(logger);
      const failed = await fetch(`${wrong.url}/event-hooks/${id}`);
      expect(failed.status).toBe(500);
      expect(await failed.text()).not.toContain('hunter2');
      expect(JSON.stringify(logger.lines)).toMatch(/was sealed with key [0-9a-f]{8}, but .*secrets\.key holds key/);
      // A delivery is not sent unsigned: it fails for good, and the dead letter says why.
      const sent = receiver.requests.length;
      const accepted = await fetch(`${wrong.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'balancer', event: 'health', data: { n: 1 } }),
      });
      expect(accepted.status).toBe(202);
      await wrong.bus.idle();
      await wrong.queue.idle();
      const letters = (await (await fetch(`${wrong.url}/dead-letters`)).json()) as { data: { reason: string }[] };
      expect(letters.data.map((l) => l.reason)).toEqual([
        expect.stringMatching(/^not retryable: SecretDecryptionError: a secret of hook .* was sealed with key/),
      ]);
      expect(receiver.requests).toHaveLength(sent);
      await stop(wrong);
    } finally {
      for (const runtime of running) await runtime.close();
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a key file that holds no 256-bit key, naming the file, before anything runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eh-secrets-'));
    try {
      writeFileSync(join(dataDir, KEY_FILE_NAME), 'not a key\n', { mode: 0o600 });
      await expect(
        startLocalRuntime({ port: 0, dataDir, logger: memoryLogger(), env: ENV, drainMs: 500 }),
      ).rejects.toThrow(/secrets\.key is not a secrets key file/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/localRuntime.ts';
import { DEFAULT_TENANT, type EventHook } from '../../shared/hooks/hook.ts';
import { memoryLogger } from '../../shared/logger.ts';
import { startReceiver as startRawReceiver } from '../support/rawReceiver.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * The local runtime as `npm start --memory` runs it (embedded store in-process, private-network
 * blocking off): a hook must never be able to call the service's own listeners, whatever the URL
 * spelling, and the store itself refuses requests without the per-start credential.
 */
describe('the service never calls itself (local runtime, embedded store)', () => {
  let runtime: LocalRuntime;
  let receiver: Receiver;
  const SECRET = `very-secret-${randomUUID()}`;

  beforeAll(async () => {
    receiver = await startReceiver();
    runtime = await startLocalRuntime({ port: 0, memory: true, logger: memoryLogger(), drainMs: 500 });
    // A hook whose secret an attacker wants.
    const created = await call('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: receiver.url, secret: SECRET },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await runtime?.close();
    await receiver?.close();
  });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
  }

  const storePort = () => new URL(runtime.config.dynamodbEndpoint as string).port;
  const apiPort = () => new URL(runtime.url).port;

  /** The request that read every hook's secret through `/test` before the fix. */
  const scanConfig = (url: string) => ({
    url,
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.Scan',
      'x-amz-date': '20240101T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({ TableName: runtime.config.tableName }),
    body_format: false,
  });

  it('refuses at create a webhook-custom hook aimed at the embedded store, however the address is spelled', async () => {
    const spellings = [
      `http://127.0.0.1:${storePort()}/`,
      `http://localhost:${storePort()}/`,
      `http://127.0.0.2:${storePort()}/`,
      `http://[::1]:${storePort()}/`,
      `http://0.0.0.0:${storePort()}/`,
      `http://[::ffff:127.0.0.1]:${storePort()}/`,
      `http://2130706433:${storePort()}/`,
      `http://0x7f.0.0.1:${storePort()}/`,
      `http://LOCALHOST.:${storePort()}/`,
    ];
    for (const url of spellings) {
      const res = await call('POST', '/event-hooks', {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook-custom',
        config: scanConfig(url),
      });
      expect(res.status, url).toBe(400);
      expect(res.body.name, url).toBe('schema violation');
      expect(res.body.fields.config.url, url).toMatch(/this service's own/);
      expect(res.text).not.toContain(SECRET);
    }
  });

  it('refuses at create a webhook aimed at the API port, and at update too', async () => {
    const res = await call('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: `http://localhost:${apiPort()}/event-hooks` },
    });
    expect(res.status).toBe(400);
    expect(res.body.fields.config.url).toMatch(/this service's own/);

    const ok = await call('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: receiver.url },
    });
    expect(ok.status).toBe(201);
    const patched = await call('PATCH', `/event-hooks/${ok.body.id}`, {
      config: { url: `http://127.0.0.1:${apiPort()}/event-hooks` },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.fields.config.url).toMatch(/this service's own/);
  });

  it('refuses user code that calls the store directly with a dummy signature (the per-start credential)', async () => {
    const code = `return async function (data) {
  const res = await fetch(data.url, { method: 'POST', headers: data.headers, body: data.body });
  return { status: res.status, text: await res.text() };
}`;
    const created = await call('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'lambda',
      config: { functions: [code] },
    });
    expect(created.status).toBe(201);
    const { headers, body } = scanConfig('');
    const res = await call('POST', `/event-hooks/${created.body.id}/test`, {
      url: runtime.config.dynamodbEndpoint,
      headers,
      body,
    });
    expect(res.text).not.toContain(SECRET);
    // Either the sandbox kept user code off the network, or the store refused the unsigned request.
    if (res.status === 200) {
      expect(res.body.result.status).toBe(400);
      expect(res.body.result.text).toMatch(/UnrecognizedClientException|InvalidSignatureException/);
    } else {
      expect(res.body.err).toMatch(/not allowed in event hook functions|this service's own listener/);
    }
  });

  it('refuses at send a hook stored before the check (Scan and PutItem through /test read or write nothing)', async () => {
    const scan: EventHook = {
      id: randomUUID(),
      created_at: 0,
      source: 'crud',
      event: 'consumers',
      on_change: null,
      snooze: null,
      handler: 'webhook-custom',
      config: {
        ...scanConfig(`http://localhost:${storePort()}/`),
        payload: null,
        payload_format: true,
        headers_format: false,
        secret: null,
        ssl_verify: false,
      },
    };
    const putItem: EventHook = {
      ...scan,
      id: randomUUID(),
      config: {
        ...scan.config,
        url: `http://[::ffff:7f00:1]:${storePort()}/`,
        headers: { ...scanConfig('').headers, 'x-amz-target': 'DynamoDB_20120810.PutItem' },
        body: JSON.stringify({
          TableName: runtime.config.tableName,
          Item: { pk: { S: 'injected' }, sk: { S: 'injected' } },
        }),
      },
    } as EventHook;
    await runtime.app.hooks.create(DEFAULT_TENANT, scan);
    await runtime.app.hooks.create(DEFAULT_TENANT, putItem);

    const scanned = await call('POST', `/event-hooks/${scan.id}/test`, {});
    expect(scanned.text).not.toContain(SECRET);
    // Kong answers a failed /test with its "unexpected error" shape and the reason in `err`.
    expect(scanned.status).not.toBe(200);
    expect(scanned.text).toMatch(/this service's own/);

    const put = await call('POST', `/event-hooks/${putItem.id}/test`, {});
    expect(put.status).not.toBe(200);
    expect(put.text).toMatch(/this service's own/);
  });
});

describe('framing headers and private addresses (local runtime)', () => {
  let t: TestRuntime;
  let blocking: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
    blocking = await startTestRuntime({ env: { BLOCK_PRIVATE_NETWORKS: 'true' } });
  });
  afterAll(async () => {
    await t?.close();
    await blocking?.close();
  });

  it('refuses framing and hop-by-hop headers at create and update with a schema violation', async () => {
    const created = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook-custom',
      config: {
        url: 'https://example.com/hook',
        method: 'POST',
        headers: { 'Transfer-Encoding': 'chunked', Host: 'evil.example', 'x-fine': 'ok' },
      },
    });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({
      code: 2,
      name: 'schema violation',
      fields: {
        config: {
          headers: {
            'Transfer-Encoding': expect.stringMatching(/cannot be configured/),
            Host: expect.stringMatching(/cannot be configured/),
          },
        },
      },
    });

    const ok = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook-custom',
      config: { url: 'https://example.com/hook', method: 'POST', headers: { 'x-fine': 'ok' } },
    });
    expect(ok.status).toBe(201);
    const patched = await t.request('PATCH', `/event-hooks/${ok.body.id}`, {
      config: { headers: { 'keep-alive': 'timeout=1' } },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.fields.config.headers['keep-alive']).toMatch(/cannot be configured/);
    // Events sent later in this file must never be delivered off this machine.
    expect((await t.request('DELETE', `/event-hooks/${ok.body.id}`)).status).toBe(204);
  });

  it("drops them at send from a hook stored before the check: the wire carries only the sender's framing", async () => {
    const raw = await startRawReceiver();
    try {
      const hook = {
        id: randomUUID(),
        created_at: 0,
        source: 'crud',
        event: 'consumers',
        on_change: null,
        snooze: null,
        handler: 'webhook-custom',
        config: {
          url: `${raw.url}/in`,
          method: 'POST',
          payload: null,
          payload_format: true,
          body: '{"user":"{{ name }}"}',
          body_format: true,
          headers: {
            'content-type': 'application/json',
            'Transfer-Encoding': 'chunked',
            Host: 'evil.example',
            Connection: 'close',
            'Proxy-Authorization': 'Basic eDp5',
            'x-user': '{{ name }}',
          },
          headers_format: true,
          secret: null,
          ssl_verify: false,
        },
      } as EventHook;
      await t.runtime.app.hooks.create(DEFAULT_TENANT, hook);

      const res = await t.request('POST', `/event-hooks/${hook.id}/test`, { name: 'ada' });

      expect(res.status).toBe(200);
      expect(raw.requests).toHaveLength(1);
      const [seen] = raw.requests;
      expect(seen?.body.toString()).toBe('{"user":"ada"}');
      expect(seen?.headers['content-length']).toBe(String('{"user":"ada"}'.length));
      expect(seen?.headers['transfer-encoding']).toBeUndefined();
      expect(seen?.headers.host).toBe(`127.0.0.1:${raw.port}`);
      expect(seen?.headers['proxy-authorization']).toBeUndefined();
      expect(seen?.headers.connection).toBe('keep-alive');
      expect(seen?.headers['x-user']).toBe('ada');
    } finally {
      await raw.close();
    }
  });

  it('dead-letters a delivery to an own listener at once, without retrying', async () => {
    const storePort = new URL(t.runtime.config.dynamodbEndpoint as string).port;
    const hook = {
      id: randomUUID(),
      created_at: 0,
      source: 'crud',
      event: 'consumers',
      on_change: null,
      snooze: null,
      handler: 'webhook',
      config: { url: `http://localhost:${storePort}/`, headers: {}, secret: null, ssl_verify: false },
    } as EventHook;
    await t.runtime.app.hooks.create(DEFAULT_TENANT, hook);
    t.runtime.app.cache.invalidate(DEFAULT_TENANT);

    const emitted = await t.request('POST', '/events', { source: 'crud', event: 'consumers', data: { id: 'c1' } });
    expect(emitted.status).toBe(202);
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();

    const outcomes = t.logs.filter((l) => l.message === 'delivery' && l.hook_id === hook.id).map((l) => l.outcome);
    expect(outcomes).toEqual(['dead-letter']);
    const dead = (await t.request('GET', '/dead-letters')).body.data as { hook_id: string; reason: string }[];
    expect(dead.find((d) => d.hook_id === hook.id)?.reason).toMatch(/this service's own listener/);
  });

  it('refuses private and loopback addresses at create and update when BLOCK_PRIVATE_NETWORKS is on', async () => {
    for (const url of [
      'http://127.0.0.1:9/',
      'http://localhost/x',
      'http://10.0.0.1/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      const res = await blocking.request('POST', '/event-hooks', {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        config: { url },
      });
      expect(res.status, url).toBe(400);
      expect(res.body.fields.config.url, url).toMatch(/BLOCK_PRIVATE_NETWORKS/);
    }
    // webhook-custom: a webhook would be pinged on create, and tests contact nothing but 127.0.0.1.
    const ok = await blocking.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook-custom',
      config: { url: 'https://hooks.example.com/x', method: 'POST' },
    });
    expect(ok.status).toBe(201);
    const patched = await blocking.request('PATCH', `/event-hooks/${ok.body.id}`, {
      config: { url: 'http://192.168.0.1/' },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.fields.config.url).toMatch(/BLOCK_PRIVATE_NETWORKS/);
    expect((await blocking.request('DELETE', `/event-hooks/${ok.body.id}`)).status).toBe(204);

    // Without blocking (the local default) the same address is accepted.
    const local = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook-custom',
      config: { url: 'http://10.0.0.1/', method: 'POST' },
    });
    expect(local.status).toBe(201);
    expect((await t.request('DELETE', `/event-hooks/${local.body.id}`)).status).toBe(204);
  });
});

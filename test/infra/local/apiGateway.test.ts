import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, spawnRuntime } from '../../../bench/runtimeProcess.ts';
import { MAX_PAYLOAD_BYTES, refusal } from '../../../infra/local/apiGateway.ts';
import { storeKey } from '../../support/fuzz/harness.ts';
import { sendRaw } from '../../support/fuzz/rawHttp.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

/** A raw request, so the test controls `Host` and `Origin` as a browser or a rebinding attack would. */
function raw(url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local API gateway: requests a browser page could forge', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  it('refuses a cross-origin POST (a "simple" text/plain request needs no preflight) and stores nothing', async () => {
    const body = JSON.stringify({ source: 'crud', handler: 'log' });
    const res = await raw(
      `${t.runtime.url}/event-hooks`,
      { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body,
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ message: 'cross-origin requests are refused' });
    expect((await t.request('GET', '/event-hooks')).body.data).toEqual([]);
  });

  it('refuses a rebinding host name on the loopback listener', async () => {
    const res = await raw(`${t.runtime.url}/event-hooks`, { host: 'attacker.example:8001' });
    expect(res.status).toBe(403);
  });

  it('serves same-origin and non-browser clients', async () => {
    const host = new URL(t.runtime.url).host;
    expect((await raw(`${t.runtime.url}/health`, { origin: `http://${host}` })).status).toBe(200);
    expect((await raw(`${t.runtime.url}/health`, {})).status).toBe(200);
    expect((await raw(`${t.runtime.url}/health`, { host: `localhost:${new URL(t.runtime.url).port}` })).status).toBe(
      200,
    );
  });

  it('accepts any host name when not bound to loopback', () => {
    expect(refusal({ host: 'hooks.internal:8001' }, false)).toBeUndefined();
    expect(refusal({ host: 'hooks.internal:8001', origin: 'http://other:1' }, false)).toBe(
      'cross-origin requests are refused',
    );
  });
});

describe('local API gateway: bodies over the payload limit', () => {
  let store: TestStore;
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    store = await startTestStore();
    // In its own process, as a user runs it: the reset raced the answer only across processes.
    runtime = await spawnRuntime({
      quiet: true,
      env: { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: store.tableName, ...storeKey(store) },
    });
  });
  afterAll(async () => {
    await runtime.close();
    await store.close();
  });

  // Found by the fuzz test: the gateway closed the connection with the body still arriving, the
  // kernel reset it, and the client got EPIPE instead of the 413.
  it('answers 413 to a client still sending the oversized body, instead of resetting the connection', async () => {
    const port = Number(new URL(runtime.url).port);
    const body = JSON.stringify({ a: 'x'.repeat(MAX_PAYLOAD_BYTES) });
    const results = [];
    for (let i = 0; i < 12; i++) {
      const target = ['/events', '/event-hooks', '/dead-letters/x/replay'][i % 3] as string;
      const c = { n: i, kind: 'size', route: `POST ${target}`, method: 'POST', target, headers: [], body };
      results.push(await sendRaw(port, c, 10_000));
    }
    for (const res of results) {
      expect(res.error).toBeUndefined();
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toEqual({ message: `request body is larger than ${MAX_PAYLOAD_BYTES} bytes` });
    }
  }, 60_000);
});

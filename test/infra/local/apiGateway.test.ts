import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../../../infra/local/apiGateway.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

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

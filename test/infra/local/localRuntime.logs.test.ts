import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

describe('local runtime logs', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ env: { HTTP_TIMEOUT_MS: '500' } });
  });
  afterAll(() => t?.close());

  it('writes one access line per API request: method, path without the query, status, time and request id', async () => {
    const before = t.logs.length;
    const res = await t.request('GET', '/event-hooks?size=1&secret=hunter2');
    expect(res.status).toBe(200);
    await t.request('GET', '/event-hooks/not-a-hook');
    const lines = t.logs.slice(before).filter((l) => l.message === 'request');
    expect(lines).toEqual([
      expect.objectContaining({ method: 'GET', path: '/event-hooks', status: 200, level: 'info' }),
      expect.objectContaining({ method: 'GET', path: '/event-hooks/not-a-hook', status: 404 }),
    ]);
    for (const line of lines) {
      expect(line.request_id).toEqual(expect.any(String));
      expect(line.latency_ms).toEqual(expect.any(Number));
    }
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('says which hook a failed background task was for', async () => {
    // A receiver that is not there: the ping after create fails, in the background.
    const res = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:1/down' },
    });
    expect(res.status).toBe(201);
    await t.runtime.app.settled();
    expect(t.logs.find((l) => l.message === 'background task failed')).toMatchObject({
      level: 'warn',
      task: 'ping',
      hook_id: res.body.id,
      operation: 'create',
    });
  });
});

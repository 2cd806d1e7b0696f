import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/localRuntime.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('local runtime shutdown', () => {
  let dataDir: string;
  let receiver: Receiver;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-runtime-'));
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a delivery waiting for its retry on disk across a restart and delivers it afterwards', async () => {
    // A receiver that is down: the first attempt fails and the retry waits 2-4 s.
    const env = { RETRY_BASE_DELAY_MS: '4000', HTTP_TIMEOUT_MS: '500' };
    const first = await startLocalRuntime({ port: 0, dataDir, env, logger: memoryLogger(), drainMs: 200 });
    const down = 'http://127.0.0.1:1/down';
    const created = await post(`${first.url}/event-hooks`, {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: down },
    });
    const hook = (await created.json()) as { id: string };
    expect((await post(`${first.url}/events`, { source: 'balancer', event: 'health', data: { n: 1 } })).status).toBe(
      202,
    );
    await first.bus.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.close();

    const saved = JSON.parse(readFileSync(join(dataDir, 'queue.json'), 'utf8')) as {
      jobs: { job: { hookId: string; attempt: number } }[];
    };
    expect(saved.jobs.map((j) => j.job)).toEqual([expect.objectContaining({ hookId: hook.id, attempt: 2 })]);

    // Point the hook at a working receiver, then start again on the same data.
    const second = await startLocalRuntime({ port: 0, dataDir, env, logger: memoryLogger(), drainMs: 200 });
    try {
      const patched = await fetch(`${second.url}/event-hooks/${hook.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ config: { url: `${receiver.url}/up` } }),
      });
      expect(patched.status).toBe(200);
      const requests = await receiver.waitFor(2, 10_000);
      const delivered = requests.map((r) => JSON.parse(r.body.toString())).find((b) => b.event === 'health');
      expect(delivered).toEqual({ n: 1, event: 'health', source: 'balancer' });
      expect(requests.find((r) => r.url === '/up' && r.headers['x-event-hooks-attempt'] === '2')).toBeDefined();
    } finally {
      await second.close();
    }
  }, 30_000);

  it('refuses new events once it is stopping', async () => {
    const runtime = await startLocalRuntime({ port: 0, memory: true, logger: memoryLogger() });
    const closing = runtime.close();
    await expect(
      runtime.bus.publish([{ tenant: 'default', source: 'balancer', event: 'health', data: {} }]),
    ).rejects.toThrow(/shutting down/);
    await closing;
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/** 4 delivery slots, 1 per hook; a hanging request holds its slot for the whole 10 s HTTP timeout. */
const ENV = { DELIVERY_CONCURRENCY: '4', DELIVERY_CONCURRENCY_PER_HOOK: '1', HTTP_TIMEOUT_MS: '10000' };

describe('local runtime: a hanging endpoint does not slow other hooks', () => {
  let t: TestRuntime | undefined;
  const receivers: Receiver[] = [];
  let releaseHanging: (() => void)[] = [];

  afterEach(async () => {
    for (const release of releaseHanging) release();
    releaseHanging = [];
    await t?.close();
    for (const r of receivers.splice(0)) await r.close();
  });

  it('delivers every event to the healthy hook at once while the other hook hangs', async () => {
    // Prepare
    t = await startTestRuntime({ env: ENV });
    const runtime = t;
    const hanging = await startReceiver((request) =>
      request.body.includes('"ping"')
        ? { status: 200 }
        : new Promise((resolve) => releaseHanging.push(() => resolve({ status: 200 }))),
    );
    const healthy = await startReceiver();
    receivers.push(hanging, healthy);
    const hook = async (url: string) => {
      const res = await runtime.request('POST', '/event-hooks', {
        source: 'balancer',
        event: 'health',
        handler: 'webhook',
        config: { url },
      });
      expect(res.status).toBe(201);
    };
    // The hanging hook first, so its jobs are ahead of the healthy hook's for every event.
    await hook(`${hanging.url}/hang`);
    await hook(`${healthy.url}/ok`);
    const events = (r: Receiver) => r.requests.filter((request) => !request.body.includes('"ping"'));

    // Act: more events than there are slots in all
    const startedAt = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await runtime.request('POST', '/events', { source: 'balancer', event: 'health', data: { i } });
      expect(res.status).toBe(202);
    }
    await vi.waitFor(() => expect(events(healthy)).toHaveLength(10), { timeout: 5_000, interval: 20 });

    // Assess: well inside the hanging requests' 10 s timeout, and the hanging hook holds one slot only
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(events(hanging)).toHaveLength(1);
  }, 30_000);
});

import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/localRuntime.ts';
import { DeliveryJournal } from '../../../shared/adapters/local/deliveryJournal.ts';
import { saveQueueFile } from '../../../shared/adapters/local/queueFile.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { deliveryIdFor } from '../../../shared/pipeline/dispatcher.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

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
    // A data folder someone made world-readable is closed again at start.
    chmodSync(dataDir, 0o755);
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

    // The journal keeps it; the queue itself no longer writes a file.
    expect(existsSync(join(dataDir, 'queue.json'))).toBe(false);
    // Owner-only: the journal holds every accepted event's data, the folder the store's secrets too.
    expect(statSync(join(dataDir, 'journal.log')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const saved = await DeliveryJournal.open({ path: join(dataDir, 'journal.log'), logger: memoryLogger() });
    expect(saved.backlog().jobs.map((j) => j.job)).toEqual([expect.objectContaining({ hookId: hook.id, attempt: 2 })]);
    await saved.close();

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

  it('imports the queue.json of the version before the journal: jobs delivered, dead letters listed, file renamed', async () => {
    const upgradeDir = mkdtempSync(join(tmpdir(), 'event-hooks-upgrade-'));
    const receiver = await startReceiver();
    try {
      // The hook exists in the store of the old version: create it on a first start.
      const env = { RETRY_BASE_DELAY_MS: '100' };
      const old = await startLocalRuntime({ port: 0, dataDir: upgradeDir, env, logger: memoryLogger(), drainMs: 200 });
      const created = await post(`${old.url}/event-hooks`, {
        source: 'balancer',
        event: 'health',
        handler: 'webhook',
        config: { url: `${receiver.url}/upgrade` },
      });
      const hook = (await created.json()) as { id: string };
      await old.close();

      // What the old version left: one job waiting for its retry and one dead letter, in its format.
      const event = (n: number) => ({
        id: `old-${n}`,
        time: new Date(0).toISOString(),
        tenant: 'default',
        source: 'balancer',
        event: 'health',
        data: { n },
      });
      const job = (n: number) => ({
        type: 'deliver.v1' as const,
        deliveryId: deliveryIdFor(event(n), hook.id),
        tenant: 'default',
        hookId: hook.id,
        event: event(n),
        attempt: 2,
        firstQueuedAt: Date.now(),
      });
      const path = join(upgradeDir, 'queue.json');
      await saveQueueFile(path, {
        jobs: [{ job: job(1), receiveCount: 1, visibleAt: Date.now() + 200 }],
        deadLetters: [{ job: job(2), reason: 'HTTP 500', deadLetteredAt: Date.now() }],
      });

      const upgraded = await startLocalRuntime({
        port: 0,
        dataDir: upgradeDir,
        env,
        logger: memoryLogger(),
        drainMs: 200,
      });
      try {
        expect(existsSync(path)).toBe(false);
        expect(JSON.parse(readFileSync(`${path}.imported`, 'utf8')).jobs).toHaveLength(1);
        // (The hook's creation pinged the receiver; the delivery is the request with a delivery id.)
        const isDelivery = (r: (typeof receiver.requests)[number]) => r.headers['x-event-hooks-delivery'] !== undefined;
        await waitUntil(() => receiver.requests.some(isDelivery));
        const delivered = receiver.requests.find(isDelivery);
        expect(delivered?.headers['x-event-hooks-delivery']).toBe(job(1).deliveryId);
        expect(JSON.parse(delivered?.body.toString() ?? '{}')).toEqual({ n: 1, event: 'health', source: 'balancer' });
        const listed = (await (await fetch(`${upgraded.url}/dead-letters`)).json()) as {
          data: { delivery_id: string }[];
        };
        expect(listed.data.map((d) => d.delivery_id)).toEqual([job(2).deliveryId]);
      } finally {
        await upgraded.close();
      }
      // Imported once: a second start finds only the renamed file and delivers nothing again.
      const requestsBefore = receiver.requests.length;
      const again = await startLocalRuntime({
        port: 0,
        dataDir: upgradeDir,
        env,
        logger: memoryLogger(),
        drainMs: 200,
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await again.close();
      expect(receiver.requests.length).toBe(requestsBefore);
    } finally {
      await receiver.close();
      rmSync(upgradeDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('syncs the journal with JOURNAL_FSYNC=true and refuses to start on another value', async () => {
    const fsyncDir = mkdtempSync(join(tmpdir(), 'event-hooks-fsync-'));
    try {
      await expect(
        startLocalRuntime({ port: 0, dataDir: fsyncDir, env: { JOURNAL_FSYNC: 'yes' }, logger: memoryLogger() }),
      ).rejects.toThrow(/JOURNAL_FSYNC must be true or false, got 'yes'/);
      const runtime = await startLocalRuntime({
        port: 0,
        dataDir: fsyncDir,
        env: { JOURNAL_FSYNC: 'true' },
        logger: memoryLogger(),
      });
      try {
        const res = await post(`${runtime.url}/events`, { source: 'balancer', event: 'health', data: { n: 1 } });
        expect(res.status).toBe(202);
        expect(runtime.journal?.stats().fileBytes).toBeGreaterThan(0);
      } finally {
        await runtime.close();
      }
    } finally {
      rmSync(fsyncDir, { recursive: true, force: true });
    }
  });

  it('refuses new events once it is stopping', async () => {
    const runtime = await startLocalRuntime({ port: 0, memory: true, logger: memoryLogger() });
    const closing = runtime.close();
    await expect(
      runtime.bus.publish([{ tenant: 'default', source: 'balancer', event: 'health', data: {} }]),
    ).rejects.toThrow(/shutting down/);
    await closing;
  });
});

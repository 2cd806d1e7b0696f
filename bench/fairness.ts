import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DELIVERY_CONCURRENCY } from '../shared/ports/deliveryQueue.ts';
import { EVENT, eventBody, SOURCE, seqOf } from './events.ts';
import { createClient, type Receiver, sleep, startReceiver } from './http.ts';
import { spawnRuntime } from './runtimeProcess.ts';
import { type Figure, figure, summarize } from './stats.ts';

export interface FairnessOptions {
  /** Length of each measured phase (B alone, then B next to A's flood). */
  phaseMs: number;
  /** An unmeasured phase of B alone first. */
  warmupMs: number;
  /** How long to wait for B's last delivery of a phase; a missing one counts as this long. */
  arrivalTimeoutMs: number;
  /** Tenant B's steady rate (open loop). */
  quietRate?: number;
  /** Tenant A's attempted rate, against `quota`. */
  floodRate?: number;
  /** Every tenant's `events_per_second`. */
  quota?: number;
  /** Events per request of tenant A (a flooding producer batches, as Kong's http-log does). */
  floodBatch?: number;
  /** Tenant A's hooks on the event: its fan-out. */
  floodHooks?: number;
  /** How long A's receiver takes to answer, so A's deliveries hold their slots. */
  floodReceiverDelayMs?: number;
}

/** A receiver that answers every request after `delayMs`, and counts deliveries. */
async function startSlowReceiver(delayMs: number) {
  let count = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      count++;
      setTimeout(() => res.end('ok'), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/a`,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Figure 10: fairness between tenants. The local runtime in its own child process with two tenants; the
 * clients and receivers here, each tenant on its own keep-alive client. B has one webhook hook on a
 * fast receiver and posts 50 events/s. A posts 1,000 events/s (requests of 10) against an
 * `events_per_second` quota of 500 (every tenant's quota here), to four hooks on a receiver that
 * takes 200 ms: A's accepted deliveries (2,000/s) far outrun what its slots can send, so its backlog
 * grows through the phase and its deliveries hold every slot they are allowed. B's delivery latency
 * (from its `POST /events` to its receiver having read the webhook) next to A is the value; B alone,
 * in the phase just before on the same runtime, the baseline. Target: p99 at most 2× the baseline.
 *
 * Tenants are driven through a bench-only HTTP front in the child (runtimeHost.ts) that calls the
 * app's ingest with the principal the edge would set (`request.principal`), since the service has
 * no keys yet; everything after that (quota, bus, dispatcher, queue, delivery) is the runtime's own.
 */
export async function benchFairness(options: FairnessOptions): Promise<Figure[]> {
  const quietRate = options.quietRate ?? 50;
  const floodRate = options.floodRate ?? 1000;
  const quota = options.quota ?? 500;
  const receiverB: Receiver = await startReceiver();
  const floodDelayMs = options.floodReceiverDelayMs ?? 200;
  const receiverA = await startSlowReceiver(floodDelayMs);
  const runtime = await spawnRuntime({
    quiet: true,
    env: {
      BENCH_TENANT_FRONT: '1',
      QUOTA_EVENTS_PER_SECOND: String(quota),
      // What a multi-tenant deployment defaults to; set here so the bench does not depend on TENANCY.
      QUOTA_DELIVERIES_IN_FLIGHT: String(Math.ceil(DEFAULT_DELIVERY_CONCURRENCY / 2)),
    },
  });
  const front = runtime.tenantUrl as string;
  // One client per tenant: B's requests never wait for a socket behind A's.
  const clients = { 'tenant-a': createClient(64), 'tenant-b': createClient(8) };
  const ingest = async (tenant: keyof typeof clients, seq: number) => {
    const res = await clients[tenant].post(`${front}/t/${tenant}/events`, eventBody(seq));
    return { statusCode: res.status, body: res.text };
  };
  const createHook = async (tenant: keyof typeof clients, url: string) => {
    const res = await clients[tenant].call('POST', `${front}/t/${tenant}/event-hooks`, {
      source: SOURCE,
      event: EVENT,
      handler: 'webhook',
      config: { url },
    });
    if (res.status !== 201) throw new Error(`creating a hook answered ${res.status}: ${res.text}`);
    return (JSON.parse(res.text) as { id: string }).id;
  };
  const floodHookIds: string[] = [];
  try {
    await createHook('tenant-b', receiverB.url);
    for (let i = 0; i < (options.floodHooks ?? 4); i++) floodHookIds.push(await createHook('tenant-a', receiverA.url));
    await runtime.idle();

    let floodSeq = 10_000_000;
    const flood = { accepted: 0, refused: 0, other: 0 };
    const batch = options.floodBatch ?? 10;
    /** A posts `floodRate` events a second in requests of `batch` (open loop, in 5 ms ticks) until `until`. */
    const runFlood = async (until: number) => {
      const start = performance.now();
      let sent = 0;
      const posts: Promise<unknown>[] = [];
      while (performance.now() < until) {
        const due = Math.floor(((performance.now() - start) * floodRate) / 1000 / batch);
        for (; sent < due; sent++) {
          const body = `[${Array.from({ length: batch }, () => eventBody(floodSeq++)).join(',')}]`;
          posts.push(
            clients['tenant-a'].post(`${front}/t/tenant-a/events`, body).then((res) => {
              if (res.status === 202) {
                flood.accepted += batch;
              } else if (res.status === 429) flood.refused += batch;
              else flood.other++;
            }),
          );
        }
        await sleep(5);
      }
      await Promise.all(posts);
    };

    /** B posts at `quietRate` for `phaseMs`; each event's latency to B's receiver. */
    const quietPhase = async (firstSeq: number, phaseMs: number) => {
      const count = Math.round((quietRate * phaseMs) / 1000);
      const postedAt = new Map<number, number>();
      /** How long B's POST /events took to answer: the ingest's share of its latency. */
      const answered: number[] = [];
      /** When each event's 202 was read, and each delivery, to split off what happens after the 202. */
      const answeredAt = new Map<number, number>();
      const deliveredAt = new Map<number, number>();
      const latencies: number[] = [];
      let allArrived: () => void = () => undefined;
      const arrived = new Promise<void>((resolve) => {
        allArrived = resolve;
      });
      receiverB.onDelivery = (body, at) => {
        const seq = seqOf(body);
        const sent = postedAt.get(seq);
        if (sent === undefined) return;
        postedAt.delete(seq);
        deliveredAt.set(seq, at);
        latencies.push(at - sent);
        if (latencies.length === count) allArrived();
      };
      const start = performance.now();
      const posts: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = start + (i * 1000) / quietRate - performance.now();
        if (wait > 1) await sleep(wait);
        const seq = firstSeq + i;
        const sentAt = performance.now();
        postedAt.set(seq, sentAt);
        posts.push(
          ingest('tenant-b', seq).then((res) => {
            answered.push(performance.now() - sentAt);
            answeredAt.set(seq, performance.now());
            if (res.statusCode !== 202)
              throw new Error(`tenant B's POST /events answered ${res.statusCode}: ${res.body}`);
          }),
        );
      }
      await Promise.all(posts);
      let cancel: () => void = () => undefined;
      const timeout = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), options.arrivalTimeoutMs);
        cancel = () => clearTimeout(timer);
      });
      // The timer is cleared once everything arrived: it must not keep the benchmark alive.
      const timedOut = await Promise.race([arrived.then(() => false), timeout]);
      cancel();
      receiverB.onDelivery = undefined;
      const missing = timedOut ? postedAt.size : 0;
      for (let i = 0; i < missing; i++) latencies.push(options.arrivalTimeoutMs);
      // Delivery starts as soon as the event is on the bus, often before the client has read its 202.
      const afterAnswer = [...deliveredAt].map(([seq, at]) => Math.max(0, at - (answeredAt.get(seq) ?? at)));
      return {
        missing,
        summary: summarize(latencies),
        answered: summarize(answered),
        afterAnswer: summarize(afterAnswer.length > 0 ? afterAnswer : [0]),
      };
    };

    await quietPhase(500_000, options.warmupMs);
    const alone = await quietPhase(1_000_000, options.phaseMs);
    const floodStarted = performance.now();
    const [flooded] = await Promise.all([
      quietPhase(2_000_000, options.phaseMs),
      runFlood(floodStarted + options.phaseMs),
    ]);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const delivered = receiverA.count();

    const note =
      `B ${quietRate} events/s to 1 fast hook, ${options.phaseMs / 1000} s alone then next to A; ` +
      `A ${floodRate} events/s in requests of ${batch} against a quota of ${quota}/s to ${floodHookIds.length} hooks on a ` +
      `${floodDelayMs} ms receiver (${flood.accepted} accepted, ${flood.refused} answered 429, ` +
      `${delivered} of A's deliveries made by the end); ${DEFAULT_DELIVERY_CONCURRENCY} queue workers, ` +
      `${Math.ceil(DEFAULT_DELIVERY_CONCURRENCY / 2)} per tenant; missing B deliveries (counted as ` +
      `${options.arrivalTimeoutMs / 1000} s): ${flooded.missing} with A, ${alone.missing} alone; B's POST /events ` +
      `alone to its 202 p50/p99 ${alone.answered.p50.toFixed(1)}/${alone.answered.p99.toFixed(1)} ms, next to A ` +
      `${flooded.answered.p50.toFixed(1)}/${flooded.answered.p99.toFixed(1)} ms (the rest is queue and delivery)`;
    if (flood.other > 0) throw new Error(`tenant A got ${flood.other} answers other than 202 and 429`);
    return [
      figure({
        name: 'fairness: B p50 next to A',
        unit: 'ms',
        value: flooded.summary.p50,
        baseline: alone.summary.p50,
        note,
      }),
      figure({
        name: 'fairness: B p99 next to A',
        unit: 'ms',
        value: flooded.summary.p99,
        baseline: alone.summary.p99,
        note,
        target: { text: 'ratio <= 2', met: ({ ratio }) => ratio !== null && ratio <= 2 },
      }),
      figure({
        name: 'fairness: B p99 after its 202, next to A',
        unit: 'ms',
        value: flooded.afterAnswer.p99,
        baseline: alone.afterAnswer.p99,
        note: "from B's 202 having been read to its delivery having been read (0 when the delivery came first): the queue's and the delivery's share, without the ingest's",
      }),
      figure({
        name: 'fairness: A accepted events/s',
        unit: 'events/s',
        value: flood.accepted / floodSeconds,
        baseline: quota,
        note: `A attempted ${floodRate}/s; baseline: its quota. Fixed one-second windows: a phase that starts and ends inside a second may take up to one window more`,
        target: {
          text: `ratio <= ${(1 + 1 / floodSeconds).toFixed(2)}`,
          met: ({ ratio }) => ratio !== null && ratio <= 1 + 1 / floodSeconds,
        },
      }),
    ];
  } finally {
    receiverB.onDelivery = undefined;
    // A's backlog is skipped once its hooks are gone, so the runtime closes without delivering it.
    for (const id of floodHookIds) {
      await clients['tenant-a'].call('DELETE', `${front}/t/tenant-a/event-hooks/${id}`).catch(() => undefined);
    }
    clients['tenant-a'].close();
    clients['tenant-b'].close();
    await runtime.close();
    await receiverA.close();
    await receiverB.close();
  }
}

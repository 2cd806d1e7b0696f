import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createWebhookHooks, eventBody, seqOf } from './events.ts';
import { type BenchClient, type Receiver, sleep } from './http.ts';
import type { RuntimeProcess } from './runtimeProcess.ts';
import { type Figure, figure, summarize } from './stats.ts';

export interface NoisyNeighbourOptions {
  runtime: RuntimeProcess;
  client: BenchClient;
  /** The healthy hook's receiver. */
  receiver: Receiver;
  /** Events posted per second in each phase (open loop: the rate does not wait for deliveries). */
  eventsPerSecond: number;
  /** Length of each phase. */
  phaseMs: number;
  /** An unmeasured phase first, so code is warm and connections open for the baseline too. */
  warmupMs: number;
  /** How long to wait for the last healthy delivery of a phase; a missing one counts as this long. */
  arrivalTimeoutMs: number;
}

/** A receiver that answers the ping a new hook gets and never answers a delivery. */
async function startHangingReceiver() {
  const held: ServerResponse[] = [];
  let hanging = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (Buffer.concat(chunks).includes('"event":"ping"')) {
        res.end('ok');
        return;
      }
      hanging++;
      held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hang`,
    hanging: () => hanging,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Posts `eventsPerSecond × phaseMs` events at a steady rate and measures, for each, the time from
 * posting to the healthy receiver having read its webhook. Missing deliveries count as the timeout.
 */
async function phase(options: NoisyNeighbourOptions, firstSeq: number, phaseMs = options.phaseMs) {
  const { runtime, client, receiver } = options;
  const count = Math.round((options.eventsPerSecond * phaseMs) / 1000);
  const postedAt = new Map<number, number>();
  const latencies: number[] = [];
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    allArrived = resolve;
  });
  receiver.onDelivery = (body, at) => {
    const seq = seqOf(body);
    const sent = postedAt.get(seq);
    if (sent === undefined) return;
    postedAt.delete(seq);
    latencies.push(at - sent);
    if (latencies.length === count) allArrived();
  };
  const posts: Promise<unknown>[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / options.eventsPerSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const seq = firstSeq + i;
    postedAt.set(seq, performance.now());
    posts.push(
      client.post(`${runtime.url}/events`, eventBody(seq)).then((res) => {
        if (res.status !== 202) throw new Error(`POST /events answered ${res.status}: ${res.text}`);
      }),
    );
  }
  await Promise.all(posts);
  const timedOut = await Promise.race([arrived.then(() => false), sleep(options.arrivalTimeoutMs).then(() => true)]);
  receiver.onDelivery = undefined;
  const missing = timedOut ? postedAt.size : 0;
  for (let i = 0; i < missing; i++) latencies.push(options.arrivalTimeoutMs);
  return { count, missing, summary: summarize(latencies) };
}

/**
 * Figure 7: one healthy webhook hook, first alone, then next to a hook whose endpoint never answers
 * (both on every event). The healthy hook's delivery latency with the hanging neighbour is the
 * value, the same without it the baseline; the target is p99 at most 2× the baseline.
 * Expects exactly one hook on balancer/health pointing at `receiver`; adds the hanging one.
 */
export async function benchNoisyNeighbour(options: NoisyNeighbourOptions): Promise<Figure[]> {
  await phase(options, 500_000, options.warmupMs);
  const alone = await phase(options, 1_000_000);
  const hangingReceiver = await startHangingReceiver();
  try {
    await createWebhookHooks(options.client, options.runtime.url, hangingReceiver.url, 1);
    const neighboured = await phase(options, 2_000_000);
    const note =
      `${alone.count} events per phase after ${options.warmupMs / 1000} s of warm-up at ${options.eventsPerSecond}/s; with: a second hook on the same events whose endpoint never answers ` +
      `(${hangingReceiver.hanging()} requests held unanswered); baseline: the healthy hook alone; ` +
      `not delivered within ${options.arrivalTimeoutMs / 1000} s (counted as that long): ${neighboured.missing} with, ${alone.missing} without`;
    return [
      figure({
        name: 'noisy neighbour: healthy p50',
        unit: 'ms',
        value: neighboured.summary.p50,
        baseline: alone.summary.p50,
        note,
      }),
      figure({
        name: 'noisy neighbour: healthy p99',
        unit: 'ms',
        value: neighboured.summary.p99,
        baseline: alone.summary.p99,
        note,
        target: { text: 'ratio <= 2', met: ({ ratio }) => ratio !== null && ratio <= 2 },
      }),
    ];
  } finally {
    // Ends the hanging requests, so the runtime can close.
    await hangingReceiver.close();
  }
}

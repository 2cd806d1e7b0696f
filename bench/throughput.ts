import { performance } from 'node:perf_hooks';
import { eventBody, webhookBody } from './events.ts';
import { type BenchClient, createClient, type Receiver, runPool, sleep } from './http.ts';
import type { RuntimeProcess } from './runtimeProcess.ts';
import { type Figure, type FigureInput, figure } from './stats.ts';

export interface ThroughputOptions {
  runtime: RuntimeProcess;
  /** Client for `POST /events`. */
  client: BenchClient;
  receiver: Receiver;
  /** Hooks on balancer/health pointing at `receiver` right now (all of them are matched). */
  fanOut: number;
  /** Measured window, ms. */
  windowMs: number;
  /** Unmeasured ramp-up before the window, ms. */
  warmupMs: number;
  /** The delivery queue's worker concurrency: the raw client uses the same. */
  concurrency: number;
  /**
   * Measure the raw client first (default true); `false` for none (the delivery log figure compares
   * two services instead), or a rate measured just before on the same receiver, to reuse.
   */
  baseline?: boolean | number;
  /** Events per `POST /events` (default 1): producers that batch pay one request for this many events. */
  batch?: number;
}

export interface ThroughputResult {
  fanOut: number;
  /** Events per `POST /events`. */
  batch: number;
  /** Deliveries per second received during the window. */
  serviceRate: number;
  /** Raw client POSTs per second received during the window. */
  baselineRate: number;
  events: number;
  expected: number;
  received: number;
  /** Events `POST /events` did not accept (should be 0). */
  rejected: number;
  /** The runtime's CPU (user + system) per delivery received over the service run, µs. */
  cpuPerDeliveryUs: number;
}

/**
 * Figure 2, one fan-out level. The service side posts events in a closed loop that keeps at most
 * a few fan-outs' worth of deliveries outstanding, so the queue always has work but never an
 * unbounded backlog (what is measured is sustained delivery, not how fast the queue can fill).
 * After the window it stops posting, waits until the runtime is idle and counts what arrived.
 */
export async function benchThroughputLevel(options: ThroughputOptions): Promise<ThroughputResult> {
  const { runtime, client, receiver, fanOut } = options;
  const batch = options.batch ?? 1;

  // Baseline: the raw client, `concurrency` POSTs in flight, the same body as one webhook delivery.
  const baselineRate =
    options.baseline === false
      ? 0
      : typeof options.baseline === 'number'
        ? options.baseline
        : await rawClientRate(options);

  // Service: events in, deliveries out.
  receiver.reset();
  const cap = Math.max(4 * options.concurrency, 3 * fanOut);
  let posted = 0;
  let rejected = 0;
  const waiting: (() => void)[] = [];
  const outstanding = () => posted * fanOut - receiver.count();
  receiver.onDelivery = () => {
    while (waiting.length > 0 && outstanding() < cap) waiting.shift()?.();
  };
  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const deadline = windowStart + options.windowMs;
  // A stalled service must not hang the run: waiting for room ends at the deadline anyway.
  const room = () =>
    outstanding() < cap
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
  let atStart = -1;
  const sampler = setTimeout(() => {
    atStart = receiver.count();
  }, options.warmupMs);
  let seq = 0;
  const cpuBefore = (await runtime.memory()).cpuMs;
  const lanes = Math.min(16, Math.max(2, Math.ceil(cap / (fanOut * batch))));
  try {
    await runPool(
      Number.MAX_SAFE_INTEGER,
      lanes,
      async () => {
        await room();
        if (performance.now() >= deadline) return;
        posted += batch;
        const body =
          batch === 1 ? eventBody(seq++) : `[${Array.from({ length: batch }, () => eventBody(seq++)).join(',')}]`;
        const res = await client.post(`${runtime.url}/events`, body);
        if (res.status !== 202) {
          posted -= batch;
          rejected += batch;
          await sleep(10);
        }
      },
      deadline,
    );
  } finally {
    clearTimeout(sampler);
  }
  const atEnd = receiver.count();
  const measured = performance.now() - windowStart;
  const serviceRate = ((atEnd - Math.max(0, atStart)) / measured) * 1000;
  receiver.onDelivery = undefined;
  for (const release of waiting.splice(0)) release();
  await runtime.idle();
  const cpuMs = (await runtime.memory()).cpuMs - cpuBefore;
  return {
    cpuPerDeliveryUs: (cpuMs * 1000) / Math.max(1, receiver.count()),
    fanOut,
    batch,
    serviceRate,
    baselineRate,
    events: posted,
    expected: posted * fanOut,
    received: receiver.count(),
    rejected,
  };
}

/** Issue 10's targets, as ratios to the raw client: fan-out 1 (one event per POST), batches of 10, fan-out 100. */
function targetOf(result: ThroughputResult): FigureInput['target'] {
  const atLeast = (min: number) => ({
    text: `ratio >= ${min}`,
    met: ({ ratio }: { ratio: number | null }) => ratio !== null && ratio >= min,
  });
  if (result.batch === 10 && result.fanOut === 1) return atLeast(0.7);
  if (result.batch !== 1) return undefined;
  if (result.fanOut === 1) return atLeast(0.4);
  if (result.fanOut === 100) return atLeast(0.8);
  return undefined;
}

/** The figures of one level: rate against the raw client, and what was lost. */
export function throughputFigures(result: ThroughputResult, windowMs: number, quick: boolean): Figure[] {
  const window = `${windowMs / 1000} s window${quick ? ' (quick mode; --full uses 30 s)' : ''}`;
  const name = `fan-out ${result.fanOut}${result.batch === 1 ? '' : `, ${result.batch} events per POST`}`;
  const lost = result.expected - result.received;
  const target = targetOf(result);
  return [
    figure({
      name: `${name}: deliveries/s`,
      unit: 'deliveries/s',
      value: result.serviceRate,
      baseline: result.baselineRate,
      note: `${window}; baseline: raw keep-alive client POSTing the same body (one webhook's) to the same receiver at the same concurrency; runtime CPU ${result.cpuPerDeliveryUs.toFixed(0)} µs per delivery`,
      ...(target ? { target } : {}),
    }),
    figure({
      name: `${name}: lost`,
      unit: 'deliveries',
      value: lost,
      note: `${result.events} events x ${result.fanOut} hooks = ${result.expected} expected, ${result.received} received after idle (negative = duplicates); ${result.rejected} events rejected`,
      target: { text: 'lost = 0', met: ({ value }) => value === 0 && result.rejected === 0 },
    }),
  ];
}

/** The raw client's rate: `concurrency` POSTs in flight of one webhook's body, straight to the receiver. */
async function rawClientRate(options: ThroughputOptions): Promise<number> {
  const { receiver } = options;
  receiver.reset();
  const raw = createClient(options.concurrency);
  const body = webhookBody(0);
  let baselineRate = 0;
  try {
    const rawStart = performance.now();
    const windowStart = rawStart + options.warmupMs;
    const deadline = windowStart + options.windowMs;
    let atStart = -1;
    const sampler = setTimeout(() => {
      atStart = receiver.count();
    }, options.warmupMs);
    await runPool(
      Number.MAX_SAFE_INTEGER,
      options.concurrency,
      async () => {
        await raw.post(receiver.url, body);
      },
      deadline,
    );
    clearTimeout(sampler);
    const atEnd = receiver.count();
    const measured = performance.now() - windowStart;
    baselineRate = ((atEnd - Math.max(0, atStart)) / measured) * 1000;
  } finally {
    raw.close();
  }
  return baselineRate;
}

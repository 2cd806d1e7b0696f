import { performance } from 'node:perf_hooks';
import { eventBody, seqOf, webhookBody } from './events.ts';
import type { BenchClient, Receiver } from './http.ts';
import type { RuntimeProcess } from './runtimeProcess.ts';
import { type Figure, figure, summarize } from './stats.ts';

export interface LatencyOptions {
  runtime: RuntimeProcess;
  client: BenchClient;
  receiver: Receiver;
  /** Measured events (each side). */
  events: number;
  /** Unmeasured events first, so connections are open and code is warm on both sides. */
  warmup: number;
  /** Gives up on one delivery after this long. */
  timeoutMs?: number;
}

/**
 * Figure 1: from the client sending `POST /events` to the receiver having read the whole webhook,
 * one event at a time (no queueing), against the same client POSTing the webhook's body straight
 * to the same receiver. The two are interleaved event by event so both see the same machine.
 * Expects exactly one hook on balancer/health pointing at `receiver`.
 */
export async function benchLatency(options: LatencyOptions): Promise<Figure[]> {
  const { runtime, client, receiver } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const arrivals = new Map<number, (at: number) => void>();
  receiver.onDelivery = (body, at) => {
    const seq = seqOf(body);
    const done = arrivals.get(seq);
    arrivals.delete(seq);
    done?.(at);
  };
  const arrival = (seq: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        arrivals.delete(seq);
        reject(new Error(`event ${seq} was not delivered within ${timeoutMs} ms`));
      }, timeoutMs);
      arrivals.set(seq, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });

  const service: number[] = [];
  const direct: number[] = [];
  let cpuBefore = 0;
  try {
    for (let i = 0; i < options.warmup + options.events; i++) {
      const measured = i >= options.warmup;
      if (i === options.warmup) cpuBefore = (await runtime.memory()).cpuMs;
      // Direct: one POST of the webhook's body to the receiver.
      const directSeq = 2 * i;
      const directArrival = arrival(directSeq);
      const t0 = performance.now();
      const res = await client.post(receiver.url, webhookBody(directSeq));
      if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
      const d = (await directArrival) - t0;
      // Service: POST /events, then the webhook.
      const serviceSeq = 2 * i + 1;
      const serviceArrival = arrival(serviceSeq);
      const t1 = performance.now();
      const accepted = await client.post(`${runtime.url}/events`, eventBody(serviceSeq));
      if (accepted.status !== 202) throw new Error(`POST /events answered ${accepted.status}: ${accepted.text}`);
      const s = (await serviceArrival) - t1;
      if (measured) {
        direct.push(d);
        service.push(s);
      }
    }
  } finally {
    receiver.onDelivery = undefined;
  }
  await runtime.idle();
  // Everything the runtime did for the measured events, the work after each delivery included.
  const cpuPerEventUs = (((await runtime.memory()).cpuMs - cpuBefore) * 1000) / options.events;

  const sv = summarize(service);
  const bl = summarize(direct);
  const note = `${options.events} events one at a time after ${options.warmup} warm-up; baseline: one direct POST to the receiver, interleaved; runtime CPU ${cpuPerEventUs.toFixed(0)} µs per event`;
  return [
    figure({
      name: 'delivery latency p50',
      unit: 'ms',
      value: sv.p50,
      baseline: bl.p50,
      note,
      target: { text: 'ratio <= 3 (floor 2)', met: ({ ratio }) => ratio !== null && ratio <= 3 },
    }),
    figure({ name: 'delivery latency p95', unit: 'ms', value: sv.p95, baseline: bl.p95, note }),
    figure({ name: 'delivery latency p99', unit: 'ms', value: sv.p99, baseline: bl.p99, note }),
  ];
}

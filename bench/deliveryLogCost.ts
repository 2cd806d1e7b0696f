import type { BenchClient, Receiver } from './http.ts';
import type { RuntimeProcess } from './runtimeProcess.ts';
import { type Figure, figure } from './stats.ts';
import { benchThroughputLevel } from './throughput.ts';

export interface DeliveryLogCostOptions {
  /** The runtime with the delivery log on (the default), and one with DELIVERY_LOG=false, each on a DATA_DIR. */
  on: RuntimeProcess;
  off: RuntimeProcess;
  client: BenchClient;
  receiver: Receiver;
  /** Hooks on balancer/health at `receiver` in both runtimes. */
  fanOut: number;
  concurrency: number;
  /** Rounds of one window each, on and off interleaved so that the machine's drift hits both. */
  rounds: number;
  windowMs: number;
  warmupMs: number;
}

/**
 * What the delivery log costs in throughput (issue 12): the same closed loop as figure 2 on two
 * runtimes that differ only in DELIVERY_LOG, interleaved round by round. Target: with the log
 * on, at least 80 % of the deliveries per second with it off.
 */
export async function benchDeliveryLogCost(options: DeliveryLogCostOptions): Promise<Figure[]> {
  const rates = { on: [] as number[], off: [] as number[] };
  /** The runtime's CPU time per delivery: steadier than a rate on a busy machine. */
  const cpu = { on: { ms: 0, deliveries: 0 }, off: { ms: 0, deliveries: 0 } };
  let lost = 0;
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which goes first, so neither always runs on the warmer machine.
    const order: ('on' | 'off')[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const which of order) {
      const before = (await options[which].memory()).cpuMs;
      const result = await benchThroughputLevel({
        runtime: options[which],
        client: options.client,
        receiver: options.receiver,
        fanOut: options.fanOut,
        concurrency: options.concurrency,
        windowMs: options.windowMs,
        warmupMs: options.warmupMs,
        baseline: false,
      });
      rates[which].push(result.serviceRate);
      cpu[which].ms += (await options[which].memory()).cpuMs - before;
      cpu[which].deliveries += result.received;
      lost += result.expected - result.received;
    }
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [
    figure({
      name: `delivery log on: fan-out ${options.fanOut} deliveries/s`,
      unit: 'deliveries/s',
      value: mean(rates.on),
      baseline: mean(rates.off),
      note: `${options.rounds} interleaved rounds of ${options.windowMs / 1000} s per side, both runtimes on a DATA_DIR; baseline: the same runtime with DELIVERY_LOG=false; ${lost} deliveries lost`,
      target: { text: 'ratio >= 0.8', met: ({ ratio }) => ratio !== null && ratio >= 0.8 && lost === 0 },
    }),
    figure({
      name: 'delivery log on: runtime CPU per delivery',
      unit: 'µs',
      value: (cpu.on.ms * 1000) / Math.max(1, cpu.on.deliveries),
      baseline: (cpu.off.ms * 1000) / Math.max(1, cpu.off.deliveries),
      note: `the runtime process's user + system CPU over the same runs, per delivery received (posting and idle included); ${cpu.on.deliveries} and ${cpu.off.deliveries} deliveries`,
    }),
  ];
}

/**
 * `npm run bench` (quick, under two minutes on two cores) and `npm run bench -- --full`.
 * Every timing is measured next to a baseline in the same run and reported as a ratio; the table is
 * printed and bench/results.json written. Options:
 *   --full               the long windows and sample counts described in BENCHMARKS.md
 *   --only=a,b           run some suites: latency, throughput, deliverylog, noisy, fairness, gate, filter, record, admin, bundles, crash (crash: --full or named), fuzz, sender
 *   --memory             run the runtime in memory instead of on a DATA_DIR (the journal's baseline)
 *   --profile[=dir]      run the runtime child under `node --cpu-prof` (default dir bench/profiles)
 *   --markdown           also print the table as Markdown
 *   --out=file           where to write the results (default bench/results.json)
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DELIVERY_CONCURRENCY } from '../shared/ports/deliveryQueue.ts';
import { benchAdmin } from './admin.ts';
import { benchBundles } from './bundles.ts';
import { crashFigures, runCrashRounds } from './crash.ts';
import { benchDeliveryLogCost } from './deliveryLogCost.ts';
import { benchEventRecord } from './eventRecord.ts';
import { createWebhookHooks } from './events.ts';
import { benchFairness } from './fairness.ts';
import { benchFilter } from './filter.ts';
import { benchFuzz } from './fuzz.ts';
import { benchGate } from './gate.ts';
import { createClient, startReceiver } from './http.ts';
import { benchLatency } from './latency.ts';
import { benchNoisyNeighbour } from './noisyNeighbour.ts';
import { spawnRuntime } from './runtimeProcess.ts';
import { benchSender } from './sender.ts';
import { type Figure, figure, formatMarkdown, formatTable } from './stats.ts';
import { benchThroughputLevel, throughputFigures } from './throughput.ts';

const SUITES = [
  'latency',
  'throughput',
  'deliverylog',
  'noisy',
  'fairness',
  'gate',
  'filter',
  'record',
  'admin',
  'bundles',
  'crash',
  'fuzz',
  'sender',
] as const;
type Suite = (typeof SUITES)[number];

/** The local delivery queue's worker concurrency: the raw client runs at the same. */
const QUEUE_CONCURRENCY = DEFAULT_DELIVERY_CONCURRENCY;
const FAN_OUTS = [1, 10, 100];
/** Events per POST of the batched figure (issue 10: producers batching 10 events per POST). */
const BATCH = 10;

const PLANS = {
  quick: {
    latency: { events: 1000, warmup: 50 },
    // Quick windows keep the whole quick run under its 2-minute budget (measured 123 s at 5 s windows;
    // 3 s and 0.75 s make room for the batched level and the sender figure).
    throughput: { windowMs: 3_000, warmupMs: 750 },
    deliveryLog: { fanOut: 10, rounds: 2, windowMs: 1_500, warmupMs: 200 },
    noisy: { eventsPerSecond: 100, phaseMs: 5_000, warmupMs: 1_000, arrivalTimeoutMs: 30_000 },
    fairness: { phaseMs: 4_000, warmupMs: 1_000, arrivalTimeoutMs: 20_000 },
    gate: { windowMs: 3_000, rounds: 3, concurrency: 8, hooksPerScenario: 2 },
    filter: { windowMs: 3_000, rounds: 3, concurrency: 8, hooks: 10 },
    record: { windowMs: 3_000, rounds: 10, concurrency: 8, hooks: 10 },
    admin: { hooks: 500, lists: 20 },
    bundles: { runs: 7 },
    crash: { rounds: 20, eventsPerRound: 120 },
    fuzz: { idleMs: 2_000, requests: 300 },
    sender: { rounds: 2, sequential: 100, windowMs: 400, concurrency: 64 },
  },
  full: {
    latency: { events: 3000, warmup: 100 },
    throughput: { windowMs: 30_000, warmupMs: 2_000 },
    deliveryLog: { fanOut: 10, rounds: 4, windowMs: 10_000, warmupMs: 1_000 },
    noisy: { eventsPerSecond: 100, phaseMs: 20_000, warmupMs: 2_000, arrivalTimeoutMs: 60_000 },
    fairness: { phaseMs: 20_000, warmupMs: 2_000, arrivalTimeoutMs: 60_000 },
    gate: { windowMs: 15_000, rounds: 5, concurrency: 8, hooksPerScenario: 2 },
    filter: { windowMs: 5_000, rounds: 5, concurrency: 8, hooks: 10 },
    record: { windowMs: 10_000, rounds: 20, concurrency: 8, hooks: 10 },
    admin: { hooks: 1000, lists: 100 },
    bundles: { runs: 20 },
    crash: { rounds: 30, eventsPerRound: 300 },
    fuzz: { idleMs: 10_000, requests: 1_100 },
    sender: { rounds: 6, sequential: 1_000, windowMs: 2_000, concurrency: 64 },
  },
};

function parseArgs(argv: string[]) {
  const flag = (name: string) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const value = (name: string) => flag(name)?.split('=').slice(1).join('=') || undefined;
  // The crash rounds take minutes: part of --full, or when named.
  const only = value('only')?.split(',') ?? SUITES.filter((suite) => suite !== 'crash' || flag('full'));
  for (const suite of only)
    if (!(SUITES as readonly string[]).includes(suite)) throw new Error(`unknown suite '${suite}'`);
  const profile = flag('profile');
  const root = join(dirname(fileURLToPath(import.meta.url)));
  return {
    full: Boolean(flag('full')),
    only: new Set(only as Suite[]),
    profileDir: profile ? resolve(value('profile') ?? join(root, 'profiles')) : undefined,
    markdown: Boolean(flag('markdown')),
    memory: Boolean(flag('memory')),
    out: resolve(value('out') ?? join(root, 'results.json')),
  };
}

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    nproc: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Figures 1, 2 and 6: the runtime in a child process, the client and receiver here. */
async function runtimeSuites(args: ReturnType<typeof parseArgs>, plan: (typeof PLANS)['quick']): Promise<Figure[]> {
  const figures: Figure[] = [];
  const receiver = await startReceiver();
  const client = createClient(64);
  // On a DATA_DIR, as `npm start` runs: what is measured includes the journal's writes.
  const dataDir = args.memory ? undefined : await mkdtemp(join(tmpdir(), 'event-hooks-bench-'));
  const runtime = await spawnRuntime({
    ...(args.profileDir ? { cpuProfileDir: args.profileDir } : {}),
    ...(dataDir ? { dataDir } : {}),
  });
  try {
    let hooks = 0;
    const ensureHooks = async (count: number) => {
      await createWebhookHooks(client, runtime.url, receiver.url, count - hooks);
      hooks = count;
      await runtime.idle();
    };
    /** The delivery log's cost: this runtime (log on) against one with DELIVERY_LOG=false, both on a DATA_DIR. */
    const deliveryLogSuite = async (): Promise<Figure[]> => {
      const { fanOut, rounds, windowMs, warmupMs } = plan.deliveryLog;
      log(`delivery log: on against off, fan-out ${fanOut}, ${rounds} interleaved rounds of ${windowMs / 1000} s`);
      // Both runtimes with the same hooks: this one has `fanOut` now (the throughput levels go up).
      await ensureHooks(fanOut);
      const offDir = args.memory ? undefined : await mkdtemp(join(tmpdir(), 'event-hooks-bench-nolog-'));
      const off = await spawnRuntime({ ...(offDir ? { dataDir: offDir } : {}), env: { DELIVERY_LOG: 'false' } });
      try {
        await createWebhookHooks(client, off.url, receiver.url, fanOut);
        await off.idle();
        return await benchDeliveryLogCost({
          on: runtime,
          off,
          client,
          receiver,
          fanOut,
          concurrency: QUEUE_CONCURRENCY,
          rounds,
          windowMs,
          warmupMs,
        });
      } finally {
        await off.close();
        if (offDir) await rm(offDir, { recursive: true, force: true });
      }
    };
    if (args.only.has('latency')) {
      log(`latency: ${plan.latency.events} events after ${plan.latency.warmup} warm-up`);
      await ensureHooks(1);
      figures.push(...(await benchLatency({ runtime, client, receiver, ...plan.latency })));
    }
    if (args.only.has('throughput')) {
      await runtime.memory({ resetPeak: true });
      for (const fanOut of FAN_OUTS) {
        await ensureHooks(fanOut);
        log(`throughput: fan-out ${fanOut}, ${plan.throughput.windowMs / 1000} s windows`);
        const result = await benchThroughputLevel({
          runtime,
          client,
          receiver,
          fanOut,
          concurrency: QUEUE_CONCURRENCY,
          ...plan.throughput,
        });
        figures.push(...throughputFigures(result, plan.throughput.windowMs, !args.full));
        if (fanOut === 1) {
          // Producers that batch: 10 events per POST, against the raw client rate just measured.
          log(`throughput: fan-out 1, ${BATCH} events per POST`);
          const batched = await benchThroughputLevel({
            runtime,
            client,
            receiver,
            fanOut,
            batch: BATCH,
            baseline: result.baselineRate,
            concurrency: QUEUE_CONCURRENCY,
            ...plan.throughput,
          });
          figures.push(...throughputFigures(batched, plan.throughput.windowMs, !args.full));
        }
        // Between the levels, while the runtime has exactly the comparison's hooks.
        if (args.only.has('deliverylog') && fanOut === plan.deliveryLog.fanOut)
          figures.push(...(await deliveryLogSuite()));
      }
      const memory = await runtime.memory();
      const mb = (bytes: number) => bytes / 2 ** 20;
      figures.push(
        figure({
          name: 'runtime peak RSS (throughput)',
          unit: 'MiB',
          value: mb(memory.peakRss),
          baseline: mb(runtime.startRss),
          note: `runtime alone in a child process, RSS sampled every 25 ms during the throughput runs; baseline: its RSS right after start; OS lifetime max ${mb(memory.maxRss).toFixed(0)} MiB`,
        }),
      );
    }
    if (args.only.has('deliverylog') && !args.only.has('throughput')) figures.push(...(await deliveryLogSuite()));
  } finally {
    client.close();
    await runtime.close();
    await receiver.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return figures;
}

/** Figure 7 on a runtime of its own, since it leaves a hook whose deliveries hang. */
async function noisySuite(plan: (typeof PLANS)['quick']): Promise<Figure[]> {
  const { eventsPerSecond, phaseMs } = plan.noisy;
  log(`noisy neighbour: ${phaseMs / 1000} s at ${eventsPerSecond} events/s alone, then next to a hanging hook`);
  const receiver = await startReceiver();
  const client = createClient(64);
  const runtime = await spawnRuntime();
  try {
    await createWebhookHooks(client, runtime.url, receiver.url, 1);
    await runtime.idle();
    return await benchNoisyNeighbour({ runtime, client, receiver, ...plan.noisy });
  } finally {
    client.close();
    await runtime.close();
    await receiver.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.full ? PLANS.full : PLANS.quick;
  const startedAt = new Date();
  const started = performance.now();
  const figures: Figure[] = [];
  const notes: string[] = [];
  log(`${args.full ? 'full' : 'quick'} run: ${[...args.only].join(', ')}`);

  if (args.only.has('latency') || args.only.has('throughput') || args.only.has('deliverylog')) {
    figures.push(...(await runtimeSuites(args, plan)));
  }
  if (args.only.has('noisy')) figures.push(...(await noisySuite(plan)));
  if (args.only.has('fairness')) {
    log(
      `fairness: tenant B at 50 events/s for ${plan.fairness.phaseMs / 1000} s alone, then next to tenant A at 1,000/s against a quota of 500/s`,
    );
    figures.push(...(await benchFairness(plan.fairness)));
  }
  if (args.only.has('gate')) {
    log('gate: snooze and on_change against no gate');
    figures.push(...(await benchGate(plan.gate)));
  }
  if (args.only.has('filter')) {
    log('filter: a 10-clause filter on every hook against none');
    figures.push(...(await benchFilter(plan.filter)));
  }
  if (args.only.has('record')) {
    log('record: each event’s record written to the local event log against none');
    figures.push(...(await benchEventRecord(plan.record)));
  }
  if (args.only.has('admin')) {
    log(`admin: ${plan.admin.hooks} hooks`);
    figures.push(...(await benchAdmin(plan.admin)));
  }
  if (args.only.has('fuzz')) {
    log(`fuzz: /health idle for ${plan.fuzz.idleMs / 1000} s, then under ${plan.fuzz.requests} fuzz requests`);
    figures.push(...(await benchFuzz(plan.fuzz)));
  }
  if (args.only.has('sender')) {
    log('sender: today’s node:http sender against an undici one, same receiver and guard');
    figures.push(...(await benchSender(plan.sender)));
  }
  if (args.only.has('bundles')) {
    log(`bundles: ${plan.bundles.runs} cold loads each`);
    const { figures: bundleFigures, missing } = await benchBundles(plan.bundles);
    figures.push(...bundleFigures);
    if (missing.length > 0) notes.push(`entries not found, not bundled: ${missing.join(', ')}`);
  }

  if (args.only.has('crash')) {
    log(`crash: ${plan.crash.rounds} SIGKILLs at random moments, bursts of ${plan.crash.eventsPerRound} events`);
    figures.push(...crashFigures(await runCrashRounds({ ...plan.crash, seed: 9, settleMs: 120_000 })));
  }
  if (args.only.has('latency') || args.only.has('throughput')) {
    notes.push(
      args.memory ? 'runtime in memory (--memory)' : 'runtime on a DATA_DIR (store and delivery journal on disk)',
    );
  }

  const durationS = (performance.now() - started) / 1000;
  const results = {
    mode: args.full ? 'full' : 'quick',
    startedAt: startedAt.toISOString(),
    durationS: Math.round(durationS),
    machine: machine(),
    notes,
    figures,
  };
  await writeFile(args.out, `${JSON.stringify(results, null, 2)}\n`);

  process.stdout.write(`\n${formatTable(figures)}\n\n`);
  if (args.markdown) process.stdout.write(`${formatMarkdown(figures)}\n\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  const m = results.machine;
  process.stdout.write(
    `${results.mode} run, ${durationS.toFixed(0)} s on ${m.nproc} x ${m.cpu}, Node ${m.node}; written to ${args.out}\n`,
  );
  const missed = figures.filter((f) => f.met === false);
  if (missed.length > 0) process.stdout.write(`targets missed: ${missed.map((f) => f.name).join('; ')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

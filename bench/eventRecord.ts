import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDynalite } from '../infra/local/embeddedStore.ts';
import { LocalEventLog } from '../shared/adapters/local/eventLog.ts';
import { createGate } from '../shared/gate/gate.ts';
import { createThresholdCounter } from '../shared/gate/threshold.ts';
import type { EventHook } from '../shared/hooks/hook.ts';
import { createLogger } from '../shared/logger.ts';
import { createDispatcher } from '../shared/pipeline/dispatcher.ts';
import { HookCache } from '../shared/pipeline/hookCache.ts';
import { systemClock } from '../shared/ports/clock.ts';
import type { DeliveryQueue } from '../shared/ports/deliveryQueue.ts';
import { createDocumentClient, ensureTable } from '../shared/store/dynamo.ts';
import { HookStore } from '../shared/store/hookStore.ts';
import { SourceStore } from '../shared/store/sourceStore.ts';
import { EVENT, eventData, SOURCE } from './events.ts';
import { runPool } from './http.ts';
import { type Figure, figure } from './stats.ts';

export interface EventRecordOptions {
  /** Measured time per scenario, split over `rounds` interleaved rounds, ms. */
  windowMs: number;
  rounds: number;
  /** Dispatches running at once. */
  concurrency: number;
  /** Hooks per scenario, all matched by every event. */
  hooks: number;
}

type Scenario = 'off' | 'on';
const SCENARIOS: Scenario[] = ['off', 'on'];

function hook(): EventHook {
  return {
    id: randomUUID(),
    created_at: Math.floor(Date.now() / 1000),
    source: SOURCE,
    event: EVENT,
    handler: 'log',
    on_change: null,
    snooze: null,
    config: {},
  };
}

/**
 * The event record's cost: the dispatcher (hook cache, enqueue) on the embedded store with a queue
 * that only counts, once writing each event's record to the local event log (day files on disk, group
 * commits, as the local runtime on a DATA_DIR does) and once without a record, in interleaved rounds.
 */
export async function benchEventRecord(options: EventRecordOptions): Promise<Figure[]> {
  const store = await startDynalite();
  const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
  const tableName = 'event-hooks-bench';
  const dataDir = await mkdtemp(join(tmpdir(), 'event-hooks-bench-records-'));
  const log = await LocalEventLog.open({ dir: join(dataDir, 'events'), logger: createLogger({ level: 'warn' }) });
  try {
    await ensureTable(client, tableName);
    const hooks = new HookStore({ client, tableName });
    const tenants: Record<Scenario, string> = { off: 'bench-record-off', on: 'bench-record-on' };
    for (const scenario of SCENARIOS) {
      for (let h = 0; h < options.hooks; h++) await hooks.create(tenants[scenario], hook());
    }
    let enqueued = 0;
    const queue: DeliveryQueue = {
      async send(jobs) {
        enqueued += jobs.length;
      },
    };
    const cache = new HookCache({
      hooks,
      sources: new SourceStore({ client, tableName }),
      clock: systemClock,
      checkIntervalMs: 0,
    });
    const shared = {
      deadLetters: {
        put: () => {
          throw new Error('no job of the bench is too large for the queue');
        },
      },
      cache,
      gate: createGate({ client, tableName, clock: systemClock }),
      threshold: createThresholdCounter({ client, tableName, clock: systemClock }),
      queue,
      clock: systemClock,
      logger: createLogger({ level: 'warn' }),
    };
    const dispatchers: Record<Scenario, ReturnType<typeof createDispatcher>> = {
      off: createDispatcher(shared),
      on: createDispatcher({ ...shared, events: log }),
    };
    const eventFor = (scenario: Scenario, seq: number) => ({
      id: randomUUID(),
      time: new Date().toISOString(),
      tenant: tenants[scenario],
      source: SOURCE,
      event: EVENT,
      data: eventData(seq),
    });

    const totals = Object.fromEntries(SCENARIOS.map((s) => [s, { events: 0, ms: 0, cpuMs: 0, admitted: 0 }])) as Record<
      Scenario,
      { events: number; ms: number; cpuMs: number; admitted: number }
    >;
    for (const scenario of SCENARIOS) await dispatchers[scenario](eventFor(scenario, -1)); // warm the caches
    let seq = 0;
    const slice = options.windowMs / options.rounds;
    for (let round = 0; round < options.rounds; round++) {
      // Each scenario goes first in every other round, so neither gains from its place.
      for (const scenario of round % 2 === 0 ? SCENARIOS : [...SCENARIOS].reverse()) {
        const before = enqueued;
        const cpuBefore = process.cpuUsage();
        const start = performance.now();
        const done = await runPool(
          Number.MAX_SAFE_INTEGER,
          options.concurrency,
          async () => {
            await dispatchers[scenario](eventFor(scenario, seq++));
          },
          start + slice,
        );
        totals[scenario].ms += performance.now() - start;
        const cpu = process.cpuUsage(cpuBefore);
        totals[scenario].cpuMs += (cpu.user + cpu.system) / 1000;
        totals[scenario].events += done;
        totals[scenario].admitted += enqueued - before;
      }
    }
    // Every recorded event must be readable: the figure is only worth something if the records are kept.
    if (log.size() < totals.on.events) throw new Error('the event log lost records during the bench');
    const rate = (s: Scenario) => (totals[s].events / totals[s].ms) * 1000;
    const perCpuSecond = (s: Scenario) => (totals[s].events / totals[s].cpuMs) * 1000;
    const setup = `dispatcher on the embedded store (in this process), ${options.concurrency} at a time, ${options.hooks} hooks per event, each event's record written to the local event log on disk (${totals.on.events} events); baseline: the same without a record (${totals.off.events} events)`;
    return [
      figure({
        name: 'event record: dispatch events/s',
        unit: 'events/s',
        value: rate('on'),
        baseline: rate('off'),
        note: `wall clock; ${setup}`,
      }),
      // What the record costs the process, unmoved by other work on a shared machine: on a saturated
      // machine throughput is events per CPU-second.
      figure({
        name: 'event record: dispatch events/CPU-s',
        unit: 'events/CPU-s',
        value: perCpuSecond('on'),
        baseline: perCpuSecond('off'),
        note: `events per second of this process's CPU time (user + system, the store's included); ${setup}`,
        target: { text: 'ratio >= 0.8', met: ({ ratio }) => ratio !== null && ratio >= 0.8 },
      }),
    ];
  } finally {
    await log.close();
    await rm(dataDir, { recursive: true, force: true });
    client.destroy();
    await store.close();
  }
}

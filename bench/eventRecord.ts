import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEventLog } from '../shared/adapters/local/eventLog.ts';
import { createLogger } from '../shared/logger.ts';
import { benchEvent, benchHook, type DispatchFigureOptions, interleave, startDispatchBench } from './dispatchBench.ts';
import { eventData } from './events.ts';
import { type Figure, figure } from './stats.ts';

export type EventRecordOptions = DispatchFigureOptions;

type Scenario = 'off' | 'on';
const SCENARIOS: Scenario[] = ['off', 'on'];

/**
 * The event record's cost: the dispatcher (hook cache, enqueue) on the embedded store with a queue
 * that only counts, once writing each event's record to the local event log (day files on disk, group
 * commits, as the local runtime on a DATA_DIR does) and once without a record, in interleaved rounds.
 */
export async function benchEventRecord(options: EventRecordOptions): Promise<Figure[]> {
  const bench = await startDispatchBench();
  const dataDir = await mkdtemp(join(tmpdir(), 'event-hooks-bench-records-'));
  const log = await LocalEventLog.open({ dir: join(dataDir, 'events'), logger: createLogger({ level: 'warn' }) });
  try {
    const tenants: Record<Scenario, string> = { off: 'bench-record-off', on: 'bench-record-on' };
    for (const scenario of SCENARIOS) {
      for (let h = 0; h < options.hooks; h++) await bench.hooks.create(tenants[scenario], benchHook());
    }
    const dispatchers: Record<Scenario, ReturnType<typeof bench.dispatcher>> = {
      off: bench.dispatcher(),
      on: bench.dispatcher({ events: log }),
    };
    for (const scenario of SCENARIOS) await dispatchers[scenario](benchEvent(tenants[scenario], eventData(-1))); // warm the caches
    let seq = 0;
    const totals = await interleave(bench, { ...options, scenarios: SCENARIOS, alternate: true }, async (scenario) => {
      await dispatchers[scenario](benchEvent(tenants[scenario], eventData(seq++)));
    });
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
    await bench.close();
  }
}

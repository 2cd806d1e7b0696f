import { performance } from 'node:perf_hooks';
import type { EventHook, EventPattern } from '../shared/hooks/hook.ts';
import { compilePattern } from '../shared/rules/eventPattern.ts';
import { benchEvent, benchHook, type DispatchFigureOptions, interleave, startDispatchBench } from './dispatchBench.ts';
import { eventData } from './events.ts';
import { countStoreCalls } from './gate.ts';
import { runPool } from './http.ts';
import { type Figure, figure } from './stats.ts';

export type FilterOptions = DispatchFigureOptions;

type Scenario = 'plain' | 'filtered';
const SCENARIOS: Scenario[] = ['plain', 'filtered'];
/** Events sent through threshold hooks to count their store writes (not timed). */
const THRESHOLD_EVENTS = 100;
const THRESHOLD = { count: 20, window: 600 };

/** The bench event with the fields the filter reads; both scenarios dispatch exactly this data. */
function filterEventData(seq: number): Record<string, unknown> {
  return {
    ...eventData(seq),
    service: 'svc-orders-prod',
    consumer: 'Bench-Consumer',
    route: '/orders/42',
    tags: ['bench', 'load'],
  };
}

/** Ten ANDed clauses, one operator each, all true for every bench event: every clause is evaluated. */
export const TEN_CLAUSE_FILTER: EventPattern = {
  upstream_id: [{ prefix: 'b1e7' }],
  ip: [{ cidr: '10.0.0.0/8' }],
  port: [{ numeric: ['>', 0, '<=', 65535] }],
  hostname: [{ suffix: '.bench' }],
  health: ['HEALTHY', 'UNHEALTHY'],
  seq: [{ exists: true }],
  service: [{ wildcard: 'svc-*-prod' }],
  consumer: [{ 'equals-ignore-case': 'bench-consumer' }],
  route: [{ 'anything-but': { prefix: '/admin' } }],
  tags: ['bench'],
};

function hookFor(scenario: Scenario | 'threshold'): EventHook {
  return benchHook({
    filter: scenario === 'filtered' ? TEN_CLAUSE_FILTER : null,
    threshold: scenario === 'threshold' ? THRESHOLD : null,
  });
}

/**
 * The filter figure: the dispatcher (hook cache, filter, enqueue) on the embedded store with a
 * queue that only counts, for the same events through hooks with a 10-clause filter and through
 * the same number of hooks without one, in interleaved rounds. Also the matcher alone, per call.
 */
export async function benchFilter(options: FilterOptions): Promise<Figure[]> {
  const bench = await startDispatchBench();
  try {
    const tenants: Record<Scenario | 'threshold', string> = {
      plain: 'bench-plain',
      filtered: 'bench-filtered',
      threshold: 'bench-threshold',
    };
    for (const scenario of [...SCENARIOS, 'threshold'] as const) {
      for (let h = 0; h < options.hooks; h++) await bench.hooks.create(tenants[scenario], hookFor(scenario));
    }
    const dispatch = bench.dispatcher();
    let seq = 0;
    const eventFor = (scenario: Scenario | 'threshold') => benchEvent(tenants[scenario], filterEventData(seq++));

    for (const scenario of SCENARIOS) await dispatch(benchEvent(tenants[scenario], filterEventData(-1))); // warm the caches
    const totals = await interleave(bench, { ...options, scenarios: SCENARIOS }, async (scenario) => {
      await dispatch(eventFor(scenario));
    });
    if (totals.filtered.admitted !== totals.filtered.events * options.hooks) {
      throw new Error('the bench filter must admit every event, or the two runs do different work');
    }

    // Threshold writes: the same events through hooks with a threshold, counted on the wire.
    await dispatch(benchEvent(tenants.threshold, filterEventData(-1)));
    const counter = countStoreCalls(bench.client);
    const firedBefore = bench.enqueued();
    await runPool(THRESHOLD_EVENTS, options.concurrency, async () => {
      await dispatch(eventFor('threshold'));
    });
    const thresholdWrites = counter.calls.writes / (THRESHOLD_EVENTS * options.hooks);
    const fired = bench.enqueued() - firedBefore;

    const rate = (s: Scenario) => (totals[s].events / totals[s].ms) * 1000;
    const describe = (s: Scenario) => `${totals[s].events} events × ${options.hooks} hooks`;
    return [
      figure({
        name: 'filter: dispatch events/s',
        unit: 'events/s',
        value: rate('filtered'),
        baseline: rate('plain'),
        note: `dispatcher on the embedded store, ${options.concurrency} at a time, every hook with a 10-clause filter (${describe('filtered')}); baseline: the same hooks without a filter (${describe('plain')})`,
        target: { text: 'ratio >= 0.8', met: ({ ratio }) => ratio !== null && ratio >= 0.8 },
      }),
      matcherFigure(),
      figure({
        name: 'threshold: writes/event/hook',
        unit: 'writes',
        value: thresholdWrites,
        note: `${THRESHOLD_EVENTS + 1} events through ${options.hooks} hooks with threshold ${THRESHOLD.count} in ${THRESHOLD.window} s, ${options.concurrency} at a time; ${fired} firings; writes counted on the document client: one atomic update per event, plus one record per firing`,
        target: { text: '<= 1 + firings', met: ({ value }) => value <= 1 + fired / (THRESHOLD_EVENTS * options.hooks) },
      }),
    ];
  } finally {
    await bench.close();
  }
}

/** The compiled 10-clause matcher alone: what a filtered hook adds to a dispatch, per hook. */
function matcherFigure(): Figure {
  const match = compilePattern(TEN_CLAUSE_FILTER);
  const data = Array.from({ length: 1000 }, (_, i) => filterEventData(i));
  const runs = 200;
  let matched = 0;
  const start = performance.now();
  for (let r = 0; r < runs; r++) for (const item of data) if (match(item)) matched++;
  const nsPerCall = ((performance.now() - start) * 1e6) / (runs * data.length);
  if (matched !== runs * data.length) throw new Error('the bench filter must match every event');
  return figure({
    name: 'filter: 10-clause match',
    unit: 'ns/call',
    value: nsPerCall,
    note: `compiled pattern evaluated ${runs * data.length} times in process`,
  });
}

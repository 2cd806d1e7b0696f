import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startDynalite } from '../infra/local/embeddedStore.ts';
import { createGate } from '../shared/gate/gate.ts';
import { createThresholdCounter } from '../shared/gate/threshold.ts';
import type { EventHook, EventPattern } from '../shared/hooks/hook.ts';
import { createLogger } from '../shared/logger.ts';
import { createDispatcher } from '../shared/pipeline/dispatcher.ts';
import { HookCache } from '../shared/pipeline/hookCache.ts';
import { systemClock } from '../shared/ports/clock.ts';
import type { DeliveryQueue } from '../shared/ports/deliveryQueue.ts';
import { compilePattern } from '../shared/rules/eventPattern.ts';
import { createDocumentClient, ensureTable } from '../shared/store/dynamo.ts';
import { HookStore } from '../shared/store/hookStore.ts';
import { SourceStore } from '../shared/store/sourceStore.ts';
import { EVENT, eventData, SOURCE } from './events.ts';
import { countStoreCalls } from './gate.ts';
import { runPool } from './http.ts';
import { type Figure, figure } from './stats.ts';

export interface FilterOptions {
  /** Measured time per scenario, split over `rounds` interleaved rounds, ms. */
  windowMs: number;
  rounds: number;
  /** Dispatches running at once. */
  concurrency: number;
  /** Hooks per scenario, all matched by every event. */
  hooks: number;
}

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
  return {
    id: randomUUID(),
    created_at: Math.floor(Date.now() / 1000),
    source: SOURCE,
    event: EVENT,
    handler: 'log',
    on_change: null,
    snooze: null,
    filter: scenario === 'filtered' ? TEN_CLAUSE_FILTER : null,
    threshold: scenario === 'threshold' ? THRESHOLD : null,
    config: {},
  };
}

/**
 * The filter figure: the dispatcher (hook cache, filter, enqueue) on the embedded store with a
 * queue that only counts, for the same events through hooks with a 10-clause filter and through
 * the same number of hooks without one, in interleaved rounds. Also the matcher alone, per call.
 */
export async function benchFilter(options: FilterOptions): Promise<Figure[]> {
  const store = await startDynalite();
  const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
  const tableName = 'event-hooks-bench';
  try {
    await ensureTable(client, tableName);
    const hooks = new HookStore({ client, tableName });
    const tenants: Record<Scenario | 'threshold', string> = {
      plain: 'bench-plain',
      filtered: 'bench-filtered',
      threshold: 'bench-threshold',
    };
    for (const scenario of [...SCENARIOS, 'threshold'] as const) {
      for (let h = 0; h < options.hooks; h++) await hooks.create(tenants[scenario], hookFor(scenario));
    }
    let enqueued = 0;
    const queue: DeliveryQueue = {
      async send(jobs) {
        enqueued += jobs.length;
      },
    };
    const dispatch = createDispatcher({
      deadLetters: {
        put: () => {
          throw new Error('no job of the bench is too large for the queue');
        },
      },
      cache: new HookCache({
        hooks,
        sources: new SourceStore({ client, tableName }),
        clock: systemClock,
        checkIntervalMs: 0,
      }),
      gate: createGate({ client, tableName, clock: systemClock }),
      threshold: createThresholdCounter({ client, tableName, clock: systemClock }),
      queue,
      clock: systemClock,
      logger: createLogger({ level: 'warn' }),
    });
    const eventFor = (scenario: Scenario | 'threshold', seq: number) => ({
      id: randomUUID(),
      time: new Date().toISOString(),
      tenant: tenants[scenario],
      source: SOURCE,
      event: EVENT,
      data: filterEventData(seq),
    });

    const totals = Object.fromEntries(SCENARIOS.map((s) => [s, { events: 0, ms: 0, admitted: 0 }])) as Record<
      Scenario,
      { events: number; ms: number; admitted: number }
    >;
    for (const scenario of SCENARIOS) await dispatch(eventFor(scenario, -1)); // warm the caches
    let seq = 0;
    const slice = options.windowMs / options.rounds;
    for (let round = 0; round < options.rounds; round++) {
      for (const scenario of SCENARIOS) {
        const before = enqueued;
        const start = performance.now();
        const done = await runPool(
          Number.MAX_SAFE_INTEGER,
          options.concurrency,
          async () => {
            await dispatch(eventFor(scenario, seq++));
          },
          start + slice,
        );
        totals[scenario].ms += performance.now() - start;
        totals[scenario].events += done;
        totals[scenario].admitted += enqueued - before;
      }
    }
    if (totals.filtered.admitted !== totals.filtered.events * options.hooks) {
      throw new Error('the bench filter must admit every event, or the two runs do different work');
    }

    // Threshold writes: the same events through hooks with a threshold, counted on the wire.
    await dispatch(eventFor('threshold', -1));
    const counter = countStoreCalls(client);
    const firedBefore = enqueued;
    await runPool(THRESHOLD_EVENTS, options.concurrency, async () => {
      await dispatch(eventFor('threshold', seq++));
    });
    const thresholdWrites = counter.calls.writes / (THRESHOLD_EVENTS * options.hooks);
    const fired = enqueued - firedBefore;

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
    client.destroy();
    await store.close();
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

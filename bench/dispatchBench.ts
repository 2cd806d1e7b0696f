import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../infra/local/embeddedStore.ts';
import type { HookEvent } from '../shared/events/envelope.ts';
import { createGate } from '../shared/gate/gate.ts';
import { createThresholdCounter } from '../shared/gate/threshold.ts';
import type { EventHook } from '../shared/hooks/hook.ts';
import { createLogger } from '../shared/logger.ts';
import { createDispatcher, type DispatcherDeps } from '../shared/pipeline/dispatcher.ts';
import { HookCache } from '../shared/pipeline/hookCache.ts';
import { systemClock } from '../shared/ports/clock.ts';
import type { DeliveryQueue } from '../shared/ports/deliveryQueue.ts';
import { createDocumentClient, ensureTable } from '../shared/store/dynamo.ts';
import { HookStore } from '../shared/store/hookStore.ts';
import { SourceStore } from '../shared/store/sourceStore.ts';
import { EVENT, SOURCE } from './events.ts';
import { runPool } from './http.ts';

export type Dispatch = ReturnType<typeof createDispatcher>;

/**
 * What the dispatcher figures (gate, filter, event record) run on: the embedded store in this
 * process, and a queue that only counts, so that a figure is the dispatcher's own cost.
 */
export interface DispatchBench {
  client: DynamoDBDocumentClient;
  hooks: HookStore;
  /** Deliveries the queue has taken so far. */
  enqueued(): number;
  /** A dispatcher on this store and queue; `extra` adds what a figure measures (an event log). */
  dispatcher(extra?: Pick<DispatcherDeps, 'events'>): Dispatch;
  close(): Promise<void>;
}

export async function startDispatchBench(): Promise<DispatchBench> {
  const store = await startDynalite();
  const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
  const tableName = 'event-hooks-bench';
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await store.close();
    throw error;
  }
  const hooks = new HookStore({ client, tableName });
  let enqueued = 0;
  const queue: DeliveryQueue = {
    async send(jobs) {
      enqueued += jobs.length;
    },
  };
  // One cache for every dispatcher, as one runtime has; the local runtime's setting: the hooks
  // version is checked on every event.
  const cache = new HookCache({
    hooks,
    sources: new SourceStore({ client, tableName }),
    clock: systemClock,
    checkIntervalMs: 0,
  });
  const deps: DispatcherDeps = {
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
  return {
    client,
    hooks,
    enqueued: () => enqueued,
    dispatcher: (extra = {}) => createDispatcher({ ...deps, ...extra }),
    async close() {
      client.destroy();
      await store.close();
    },
  };
}

/** A `log` hook on the bench's source and event (all of them match every bench event). */
export function benchHook(
  settings: Partial<Pick<EventHook, 'on_change' | 'snooze' | 'filter' | 'threshold'>> = {},
): EventHook {
  return {
    id: randomUUID(),
    created_at: Math.floor(Date.now() / 1000),
    source: SOURCE,
    event: EVENT,
    handler: 'log',
    on_change: null,
    snooze: null,
    config: {},
    ...settings,
  };
}

/** A new event of the bench's source and event. */
export function benchEvent(tenant: string, data: Record<string, unknown>): HookEvent {
  return { id: randomUUID(), time: new Date().toISOString(), tenant, source: SOURCE, event: EVENT, data };
}

/** One scenario's sums over its slices. */
export interface SliceTotals {
  events: number;
  ms: number;
  /** This process's CPU time (user + system, the embedded store's included). */
  cpuMs: number;
  /** Deliveries the queue took. */
  admitted: number;
}

/** How long a dispatcher figure measures, how hard, and through how many hooks. */
export interface DispatchFigureOptions {
  /** Measured time per scenario, split over `rounds` interleaved rounds, ms. */
  windowMs: number;
  rounds: number;
  /** Dispatches running at once. */
  concurrency: number;
  /** Hooks per scenario, all matched by every event. */
  hooks: number;
}

export interface InterleaveOptions<S extends string> extends Omit<DispatchFigureOptions, 'hooks'> {
  scenarios: readonly S[];
  /** Every other round in reverse order, so that no scenario gains from its place. */
  alternate?: boolean;
  /** Around each slice, for what a figure counts itself (store calls). */
  beforeSlice?: (scenario: S) => void;
  afterSlice?: (scenario: S) => void;
}

/**
 * Runs each scenario for its slice of the window in every round, in turn, so that the machine's
 * drift falls on all of them alike; `send` sends one event of the scenario.
 */
export async function interleave<S extends string>(
  bench: DispatchBench,
  options: InterleaveOptions<S>,
  send: (scenario: S) => Promise<void>,
): Promise<Record<S, SliceTotals>> {
  const totals = Object.fromEntries(
    options.scenarios.map((s) => [s, { events: 0, ms: 0, cpuMs: 0, admitted: 0 }]),
  ) as Record<S, SliceTotals>;
  const slice = options.windowMs / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    const order = options.alternate && round % 2 === 1 ? [...options.scenarios].reverse() : options.scenarios;
    for (const scenario of order) {
      options.beforeSlice?.(scenario);
      const before = bench.enqueued();
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      const done = await runPool(Number.MAX_SAFE_INTEGER, options.concurrency, () => send(scenario), start + slice);
      const total = totals[scenario];
      total.ms += performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      total.cpuMs += (cpu.user + cpu.system) / 1000;
      total.events += done;
      total.admitted += bench.enqueued() - before;
      options.afterSlice?.(scenario);
    }
  }
  return totals;
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventHook } from '../shared/hooks/hook.ts';
import { benchEvent, benchHook, interleave, startDispatchBench } from './dispatchBench.ts';
import { eventData } from './events.ts';
import { type Figure, figure } from './stats.ts';

export interface GateOptions {
  /** Measured time per scenario, split over `rounds` interleaved rounds, ms. */
  windowMs: number;
  rounds: number;
  /** Dispatches running at once. */
  concurrency: number;
  /** Hooks per scenario (all matched by every event). */
  hooksPerScenario: number;
}

/** Store calls seen through the wrapped document client. */
export interface StoreCalls {
  reads: number;
  writes: number;
  conditionalWrites: number;
}

type Scenario = 'plain' | 'snooze' | 'on_change';
const SCENARIOS: Scenario[] = ['plain', 'snooze', 'on_change'];

const WRITE_COMMANDS = new Set([
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'BatchWriteCommand',
  'TransactWriteCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

/**
 * Wraps `client.send` so every command is counted (by class name) before it goes out: the gate's
 * write cost is read off the wire, not off the gate's own code.
 */
export function countStoreCalls(client: DynamoDBDocumentClient): { calls: StoreCalls; reset(): void } {
  const calls: StoreCalls = { reads: 0, writes: 0, conditionalWrites: 0 };
  const original = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const counting = (command: unknown, ...rest: unknown[]) => {
    const name = (command as { constructor: { name: string } }).constructor.name;
    if (WRITE_COMMANDS.has(name)) {
      calls.writes++;
      if ((command as { input?: { ConditionExpression?: string } }).input?.ConditionExpression)
        calls.conditionalWrites++;
    } else {
      calls.reads++;
    }
    return original(command, ...rest);
  };
  (client as unknown as { send: typeof counting }).send = counting;
  return {
    calls,
    reset() {
      calls.reads = 0;
      calls.writes = 0;
      calls.conditionalWrites = 0;
    },
  };
}

function hookFor(scenario: Scenario): EventHook {
  return benchHook({
    on_change: scenario === 'on_change' ? true : null,
    snooze: scenario === 'snooze' ? 60 : null,
  });
}

/**
 * Figure 3: the dispatcher (hook cache, gate, enqueue) on the embedded store, with a queue that only
 * counts, for the same events through hooks with `snooze`, with `on_change`, and without either.
 * Each scenario has its own tenant, so their hooks and gate items never meet. Events alternate
 * between two health states in pairs, so `on_change` admits about half of them and `snooze` the
 * first one per window.
 */
export async function benchGate(options: GateOptions): Promise<Figure[]> {
  const bench = await startDispatchBench();
  try {
    const tenants: Record<Scenario, string> = {
      plain: 'bench-plain',
      snooze: 'bench-snooze',
      on_change: 'bench-on-change',
    };
    for (const scenario of SCENARIOS) {
      for (let h = 0; h < options.hooksPerScenario; h++) await bench.hooks.create(tenants[scenario], hookFor(scenario));
    }
    const counter = countStoreCalls(bench.client);
    const dispatch = bench.dispatcher();

    const calls = Object.fromEntries(
      SCENARIOS.map((s) => [s, { reads: 0, writes: 0, conditionalWrites: 0 }]),
    ) as Record<Scenario, StoreCalls>;
    let seq = 0;
    // Warm-up: load the hook cache of every tenant and the SDK's code paths once.
    for (const scenario of SCENARIOS) await dispatch(benchEvent(tenants[scenario], eventData(-1)));
    const measured = await interleave(
      bench,
      {
        ...options,
        scenarios: SCENARIOS,
        beforeSlice: () => counter.reset(),
        afterSlice: (scenario) => {
          calls[scenario].reads += counter.calls.reads;
          calls[scenario].writes += counter.calls.writes;
          calls[scenario].conditionalWrites += counter.calls.conditionalWrites;
        },
      },
      async (scenario) => {
        const i = seq++;
        await dispatch(benchEvent(tenants[scenario], eventData(i, (i >> 1) % 2 === 0 ? 'HEALTHY' : 'UNHEALTHY')));
      },
    );
    const totals = Object.fromEntries(SCENARIOS.map((s) => [s, { ...measured[s], calls: calls[s] }])) as Record<
      Scenario,
      (typeof measured)[Scenario] & { calls: StoreCalls }
    >;

    const rate = (s: Scenario) => (totals[s].events / totals[s].ms) * 1000;
    const perHook = (s: Scenario) => totals[s].calls.conditionalWrites / totals[s].events / options.hooksPerScenario;
    const describe = (s: Scenario) => {
      const t = totals[s];
      return `${t.events} events, ${options.hooksPerScenario} hooks, ${t.admitted} deliveries admitted; store calls per event: ${(t.calls.reads / t.events).toFixed(2)} reads, ${(t.calls.writes / t.events).toFixed(2)} writes`;
    };
    const figures: Figure[] = [];
    for (const s of ['snooze', 'on_change'] as const) {
      figures.push(
        figure({
          name: `gate ${s}: events/s`,
          unit: 'events/s',
          value: rate(s),
          baseline: rate('plain'),
          note: `dispatcher on the embedded store, ${options.concurrency} at a time; ${describe(s)}; baseline (no gate): ${describe('plain')}`,
        }),
        figure({
          name: `gate ${s}: cond. writes/event/hook`,
          unit: 'writes',
          value: perHook(s),
          baseline: totals.plain.calls.conditionalWrites / totals.plain.events / options.hooksPerScenario,
          note: 'conditional writes counted on the document client; baseline: the same without a gate',
          target: { text: '<= 1', met: ({ value }) => value <= 1 },
        }),
      );
    }
    return figures;
  } finally {
    await bench.close();
  }
}

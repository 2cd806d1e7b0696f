import { afterAll, beforeAll } from 'vitest';
import { createGate } from '../../shared/gate/gate.ts';
import { createThresholdCounter } from '../../shared/gate/threshold.ts';
import type { EventHook } from '../../shared/hooks/hook.ts';
import { memoryLogger } from '../../shared/logger.ts';
import { createDispatcher, type DispatcherDeps } from '../../shared/pipeline/dispatcher.ts';
import { HookCache } from '../../shared/pipeline/hookCache.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../shared/ports/deliveryQueue.ts';
import { HookStore } from '../../shared/store/hookStore.ts';
import { SourceStore } from '../../shared/store/sourceStore.ts';
import { startTestStore, type TestStore } from './store.ts';

/** The n-th test hook's id, a fixed UUID. */
export const testHookId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The n-th test hook: `log`, on balancer/health, no gate, unless `extra` says otherwise. */
export const testHook = (n: number, extra: Partial<EventHook> = {}): EventHook =>
  ({
    id: testHookId(n),
    created_at: 0,
    source: 'balancer',
    event: 'health',
    handler: 'log',
    on_change: null,
    snooze: null,
    config: {},
    ...extra,
  }) as EventHook;

/** A queue that keeps every job it is sent. */
export const recordingQueue = (): DeliveryQueue & { jobs: DeliveryJob[] } => {
  const jobs: DeliveryJob[] = [];
  return { jobs, send: async (batch) => void jobs.push(...batch) };
};

/** The embedded store and the hooks a describe's dispatchers read (set once its tests start). */
export interface DispatcherFixture {
  store: TestStore;
  hooks: HookStore;
  /** Checks the hooks' version on every event, so a hook created in a test is seen at once. */
  cache: HookCache;
  /** A dispatcher on the store, with `queue`; `deps` replace the defaults (dead letters kept nowhere). */
  dispatcher(queue: DeliveryQueue, deps?: Partial<DispatcherDeps>): ReturnType<typeof createDispatcher>;
}

/**
 * Starts the embedded store before the describe's tests and closes it after: call it in the
 * describe's body, and read its fields inside the tests.
 */
export function useDispatcherStore(clock: Clock): DispatcherFixture {
  const fixture = {
    dispatcher: (queue, deps = {}) => {
      const { client, tableName } = fixture.store;
      return createDispatcher({
        cache: fixture.cache,
        gate: createGate({ client, tableName, clock }),
        threshold: createThresholdCounter({ client, tableName, clock }),
        queue,
        deadLetters: { put: async (entry) => ({ ...entry, id: entry.job.deliveryId }) },
        clock,
        logger: memoryLogger(),
        ...deps,
      });
    },
  } as DispatcherFixture;
  beforeAll(async () => {
    fixture.store = await startTestStore();
    const { client, tableName } = fixture.store;
    fixture.hooks = new HookStore({ client, tableName });
    const sources = new SourceStore({ client, tableName });
    fixture.cache = new HookCache({ hooks: fixture.hooks, sources, clock, checkIntervalMs: 0 });
  });
  afterAll(() => fixture.store?.close());
  return fixture;
}

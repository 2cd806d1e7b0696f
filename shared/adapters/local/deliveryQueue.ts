import { ServiceUnavailableError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  DEFAULT_DELIVERY_CONCURRENCY,
  type DeadLetter,
  type DeliveryQueue,
  defaultConcurrencyPerHook,
} from '../../ports/deliveryQueue.ts';
import { DeliveryPump, type DeliveryWorker } from './deliveryPump.ts';
import { QueueModel } from './queueModel.ts';
import {
  memoryPersistence,
  type QueuePersistence,
  type QueuePersistenceFactory,
  snapshotPersistence,
} from './queuePersistence.ts';

export type { DeliveryWorker } from './deliveryPump.ts';

/** How long a worker call may run before it is taken as hung (Lambda's own maximum run time). */
export const DEFAULT_MAX_RUN_MS = 15 * 60_000;

export interface LocalDeliveryQueueOptions {
  clock?: Clock;
  /**
   * How long a received message stays invisible without a heartbeat (SQS visibility timeout). The
   * queue sends the heartbeat itself while the worker call is still running, so this never makes a
   * running call's message visible again; only `maxRunMs` does.
   */
  visibilityTimeoutMs?: number;
  /**
   * A worker call still running after this long (default 15 min) is taken as hung: its message is
   * received again and whatever the call does later is ignored. The worker's own time limits (HTTP
   * timeout, function timeout) are meant to end a call long before.
   */
  maxRunMs?: number;
  /** Receives without an acknowledgement after which a message is dead-lettered (SQS redrive policy). */
  maxReceiveCount?: number;
  /** Worker calls running at once. */
  concurrency?: number;
  /**
   * Worker calls running at once for one hook (a tenant's `hookId`), so a slow or hanging endpoint
   * only holds its own share of `concurrency` (default a quarter of it).
   */
  concurrencyPerHook?: number;
  /**
   * Worker calls running at once for one tenant over all its hooks (its `deliveries_in_flight`
   * quota), asked as messages are received; no cap beyond `concurrency` when absent. So a tenant that
   * floods, over as many hooks as it likes, leaves the other slots to everyone else.
   */
  concurrencyPerTenant?: (tenant: string) => number;
  /** JSON file that keeps pending jobs and dead letters across restarts; memory only when unset. */
  persistPath?: string;
  /**
   * Where the queue keeps its state instead of `persistPath` (for example a journal); `persistPath`
   * and `snapshotMs` are then ignored.
   */
  persistence?: QueuePersistenceFactory;
  /**
   * Where a job goes when it was received `maxReceiveCount` times without an answer (the SQS
   * redrive): the local runtime puts it with the other dead letters in the table, so `/dead-letters`
   * shows it. Until that succeeds the queue keeps it, in its file too.
   */
  onDeadLetter?: (entry: DeadLetter) => Promise<void>;
  /**
   * How often a changed queue is written to `persistPath` while running (default 1 s), so a crash
   * loses at most that much; `stop()` always writes the final state. Delivery is at least once: a
   * job delivered after the last snapshot may be delivered again after a crash.
   */
  snapshotMs?: number;
  logger: Logger;
}

export interface LocalDeliveryQueue extends DeliveryQueue {
  /** Starts handing messages to `worker`: resolving acknowledges (deletes) the message, rejecting means a crash. */
  start(worker: DeliveryWorker): void;
  /** Dead letters not handed to `onDeadLetter` (none given, or it failed); kept in the queue file. */
  deadLetters(): DeadLetter[];
  /** Messages accepted and not yet acknowledged: visible, delayed and in flight. */
  size(): number;
  /** Resolves when nothing is visible, delayed or in flight (or the queue has stopped). */
  idle(): Promise<void>;
  /** Refuses new sends, waits up to `drainMs` for running workers, then persists what is left. */
  stop(options?: { drainMs?: number }): Promise<void>;
}

/**
 * The in-process stand-in for the SQS delivery queue, with SQS's semantics: delayed messages,
 * a visibility timeout, a receive count that ends in a dead letter, and at-least-once delivery.
 * Retries with backoff are the delivery worker's business (it sends the next attempt with a delay
 * and resolves); a rejecting worker is a crash, and the message is received again at once.
 *
 * Three parts: the model (`queueModel.ts`: the state and its rules, including the per-hook cap),
 * the pump (`deliveryPump.ts`: worker calls, heartbeats, wake-ups on the `Clock`) and persistence
 * (`queuePersistence.ts`: load, record, flush). This function wires them and adds the shutdown.
 *
 * @example
 * const queue = createLocalDeliveryQueue({ logger, persistPath: '.data/queue.json' });
 * queue.start((job) => deliver(job));
 * await queue.send([job]);
 * await queue.stop({ drainMs: 5_000 });
 */
export function createLocalDeliveryQueue(options: LocalDeliveryQueueOptions): LocalDeliveryQueue {
  const clock = options.clock ?? systemClock;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 60_000;
  const concurrency = options.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY;
  const logger = options.logger.child({ component: 'deliveryQueue' });

  let state: 'running' | 'draining' | 'stopped' = 'running';
  let idleWaiters: (() => void)[] = [];
  let drainWaiter: (() => void) | undefined;
  let stopping: Promise<void> | undefined;

  const factory =
    options.persistence ??
    (options.persistPath
      ? snapshotPersistence({
          path: options.persistPath,
          logger,
          ...(options.snapshotMs !== undefined ? { snapshotMs: options.snapshotMs } : {}),
        })
      : memoryPersistence(logger));
  const persistence: QueuePersistence = factory(() => ({
    jobs: model.pending(clock.now()),
    deadLetters: model.deadLetters(),
  }));
  const model: QueueModel = new QueueModel({
    visibilityTimeoutMs,
    maxReceiveCount: options.maxReceiveCount ?? 5,
    maxInFlightPerGroup: Math.min(concurrency, options.concurrencyPerHook ?? defaultConcurrencyPerHook(concurrency)),
    ...(options.concurrencyPerTenant ? { maxInFlightPerTenant: options.concurrencyPerTenant } : {}),
    record: (change) => persistence.record(change),
  });

  /** Hands a dead letter over, or keeps it when there is nowhere to hand it or that fails. */
  const handOver = (entry: DeadLetter) => {
    if (!options.onDeadLetter) return model.keepDeadLetter(entry);
    options.onDeadLetter(entry).catch((error) => {
      logger.error('dead letter kept by the queue: it could not be stored', {
        deliveryId: entry.job.deliveryId,
        hook_id: entry.job.hookId,
        error,
      });
      model.keepDeadLetter(entry);
    });
  };

  const pump = new DeliveryPump({
    model,
    clock,
    concurrency,
    visibilityTimeoutMs,
    maxRunMs: options.maxRunMs ?? DEFAULT_MAX_RUN_MS,
    logger,
    onDeadLetter(entry) {
      const { job, reason } = entry;
      logger.error('delivery dead-lettered', {
        deliveryId: job.deliveryId,
        hookId: job.hookId,
        tenant: job.tenant,
        reason,
      });
      handOver(entry);
    },
    onStep() {
      if (model.inFlightCount === 0 && drainWaiter) drainWaiter();
      if (idleWaiters.length > 0 && model.size === 0) resolveIdle();
    },
  });

  const resolveIdle = () => {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const stoppedError = () =>
    new ServiceUnavailableError('delivery queue is stopped: it accepts no new jobs (the service is shutting down)');

  const stop = async (drainMs: number) => {
    state = 'draining';
    pump.pause();
    if (model.inFlightCount > 0 && drainMs > 0) {
      await new Promise<void>((resolve) => {
        const cancel = clock.setTimer(drainMs, resolve);
        drainWaiter = () => {
          cancel();
          resolve();
        };
      });
      drainWaiter = undefined;
    }
    state = 'stopped';
    pump.stop();
    try {
      await persistence.flush({ final: true });
    } finally {
      model.clear();
      resolveIdle();
    }
  };

  const restored = persistence.load();
  model.restore(restored.jobs, restored.deadLetters, clock.now());
  pump.step();

  return {
    async send(jobs, sendOptions) {
      if (state !== 'running') throw stoppedError();
      model.send(jobs, clock.now(), sendOptions?.delayMs ?? 0);
      pump.step();
    },
    start(worker) {
      pump.start(worker);
      // Dead letters restored from the file get another chance to reach the table.
      if (options.onDeadLetter) for (const entry of model.takeDeadLetters()) handOver(entry);
    },
    deadLetters: () => model.deadLetters(),
    size: () => model.size,
    idle() {
      if (state === 'stopped' || model.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    stop(stopOptions) {
      stopping ??= stop(stopOptions?.drainMs ?? 10_000);
      return stopping;
    },
  };
}

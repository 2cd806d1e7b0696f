import { EventHooksError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  DEFAULT_DELIVERY_CONCURRENCY,
  type DeadLetter,
  type DeliveryJob,
  type DeliveryQueue,
} from '../../ports/deliveryQueue.ts';

import { type Message, MessageHeap } from './messageHeap.ts';
import { loadQueueFile, saveQueueFile } from './queueFile.ts';

export interface LocalDeliveryQueueOptions {
  clock?: Clock;
  /** How long a received message stays invisible before it is received again (SQS visibility timeout). */
  visibilityTimeoutMs?: number;
  /** Receives without an acknowledgement after which a message is dead-lettered (SQS redrive policy). */
  maxReceiveCount?: number;
  /** Worker calls running at once. */
  concurrency?: number;
  /** JSON file that keeps pending jobs and dead letters across restarts; memory only when unset. */
  persistPath?: string;
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

/** Resolving (with anything) acknowledges the job; rejecting is a crash and the job is received again. */
export type DeliveryWorker = (job: DeliveryJob) => Promise<unknown>;

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

interface InFlight {
  message: Message;
  deadline: number;
}

/**
 * The in-process stand-in for the SQS delivery queue, with SQS's semantics: delayed messages,
 * a visibility timeout, a receive count that ends in a dead letter, and at-least-once delivery.
 * Retries with backoff are the delivery worker's business (it sends the next attempt with a delay
 * and resolves); a rejecting worker is a crash, and the message is received again at once.
 *
 * A worker that outlives the visibility timeout gives up its concurrency slot and the message is
 * received again; whatever that stale call does later is ignored.
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
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const concurrency = options.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY;
  const { persistPath } = options;
  const logger = options.logger.child({ component: 'deliveryQueue' });

  /** Visible messages, FIFO; `head` avoids shifting the array on every receive. */
  let ready: Message[] = [];
  let head = 0;
  const delayed = new MessageHeap();
  /** Insertion order is deadline order, since every receive uses the same visibility timeout. */
  const inFlight = new Map<number, InFlight>();
  const dead: DeadLetter[] = [];
  let seq = 0;
  let receipts = 0;
  let worker: DeliveryWorker | undefined;
  let state: 'running' | 'draining' | 'stopped' = 'running';
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Number.POSITIVE_INFINITY;
  let idleWaiters: (() => void)[] = [];
  let drainWaiter: (() => void) | undefined;
  let stopping: Promise<void> | undefined;

  let dirty = false;
  let writing: Promise<void> | undefined;

  const readyCount = () => ready.length - head;
  const isIdle = () => readyCount() === 0 && delayed.size === 0 && inFlight.size === 0;

  const enqueue = (job: DeliveryJob, receiveCount: number, visibleAt: number) => {
    const message: Message = { job, receiveCount, visibleAt, seq: seq++ };
    if (visibleAt > clock.now()) delayed.push(message);
    else ready.push(message);
  };

  const keepDeadLetter = (entry: DeadLetter) => {
    dead.push(entry);
    dirty = true;
  };

  /** Hands a dead letter over, or keeps it when there is nowhere to hand it or that fails. */
  const handOver = (entry: DeadLetter) => {
    if (!options.onDeadLetter) return keepDeadLetter(entry);
    options.onDeadLetter(entry).catch((error) => {
      logger.error('dead letter kept by the queue: it could not be stored', {
        deliveryId: entry.job.deliveryId,
        error,
      });
      keepDeadLetter(entry);
    });
  };

  const recordDeadLetter = (entry: DeadLetter) => {
    const { job, reason } = entry;
    logger.error('delivery dead-lettered', {
      deliveryId: job.deliveryId,
      hookId: job.hookId,
      tenant: job.tenant,
      reason,
    });
    handOver(entry);
  };

  /** Back to visible after a crash or a visibility timeout, or to the dead letters when received too often. */
  const release = (message: Message, why: string) => {
    if (message.receiveCount >= maxReceiveCount) {
      recordDeadLetter({
        job: message.job,
        reason: `received ${message.receiveCount} times without acknowledgement (last: ${why})`,
        deadLetteredAt: clock.now(),
      });
    } else {
      logger.warn('delivery will be received again', {
        deliveryId: message.job.deliveryId,
        receiveCount: message.receiveCount,
        why,
      });
      message.visibleAt = clock.now();
      ready.push(message);
    }
  };

  const settle = (receipt: number, error: unknown) => {
    const entry = inFlight.get(receipt);
    if (!entry) return; // the visibility timeout already gave this message to someone else
    inFlight.delete(receipt);
    if (error !== undefined && state !== 'stopped') {
      release(entry.message, `worker failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    afterChange();
  };

  const receive = (message: Message) => {
    const receipt = receipts++;
    message.receiveCount += 1;
    inFlight.set(receipt, { message, deadline: clock.now() + visibilityTimeoutMs });
    const run = worker as DeliveryWorker;
    Promise.resolve()
      .then(() => run(message.job))
      .then(
        () => settle(receipt, undefined),
        (error: unknown) => settle(receipt, error ?? new Error('worker rejected')),
      );
  };

  const promoteDue = (now: number) => {
    for (let top = delayed.peek(); top && top.visibleAt <= now; top = delayed.peek()) {
      ready.push(delayed.pop() as Message);
    }
    for (const [receipt, entry] of inFlight) {
      if (entry.deadline > now) break;
      inFlight.delete(receipt);
      release(entry.message, `visibility timeout of ${visibilityTimeoutMs} ms passed`);
    }
  };

  const pump = () => {
    if (state !== 'running' || !worker) return;
    while (inFlight.size < concurrency && readyCount() > 0) {
      const message = ready[head] as Message;
      ready[head++] = undefined as unknown as Message;
      receive(message);
    }
    if (head === ready.length) {
      ready = [];
      head = 0;
    } else if (head > 1024 && head * 2 > ready.length) {
      ready = ready.slice(head);
      head = 0;
    }
  };

  const armTimer = () => {
    if (state === 'stopped') return;
    const first = inFlight.values().next();
    const due = Math.min(
      delayed.peek()?.visibleAt ?? Number.POSITIVE_INFINITY,
      first.done ? Number.POSITIVE_INFINITY : first.value.deadline,
    );
    if (due === timerDue) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    timerDue = due;
    if (due === Number.POSITIVE_INFINITY) return;
    // Timers may fire a millisecond early by the clock; onTimer re-arms until the clock agrees.
    timer = setTimeout(onTimer, Math.max(1, due - clock.now()));
  };

  const onTimer = () => {
    timer = undefined;
    timerDue = Number.POSITIVE_INFINITY;
    afterChange();
  };

  const afterChange = () => {
    if (state === 'stopped') return;
    dirty = true;
    promoteDue(clock.now());
    pump();
    armTimer();
    if (inFlight.size === 0 && drainWaiter) drainWaiter();
    if (idleWaiters.length > 0 && isIdle()) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const stoppedError = () =>
    new EventHooksError('delivery queue is stopped: it accepts no new jobs (the service is shutting down)');

  /** Everything accepted and not acknowledged: in flight, visible, and the given delayed messages. */
  const pendingMessages = (delayedMessages: Message[]) => [
    ...[...inFlight.values()].map((e) => e.message),
    ...ready.slice(head),
    ...delayedMessages,
  ];
  /** As the queue file keeps them; a job due in the past is due at restart. */
  const fileEntries = (messages: Message[]) => {
    const now = clock.now();
    return messages.map((m) => ({ job: m.job, receiveCount: m.receiveCount, visibleAt: Math.max(m.visibleAt, now) }));
  };

  const persist = async () => {
    const pending = pendingMessages(delayed.drain());
    ready = [];
    head = 0;
    inFlight.clear();
    if (!persistPath) {
      if (pending.length > 0)
        logger.warn('pending deliveries dropped: the queue is memory only', { count: pending.length });
      return;
    }
    await saveQueueFile(persistPath, { jobs: fileEntries(pending), deadLetters: dead });
    logger.info('delivery queue persisted', { pending: pending.length, deadLetters: dead.length });
  };

  /** Writes what is pending now, without touching it; one write at a time. */
  const snapshot = async () => {
    if (!persistPath || !dirty || writing || state === 'stopped') return;
    dirty = false;
    writing = saveQueueFile(persistPath, {
      jobs: fileEntries(pendingMessages(delayed.snapshot())),
      deadLetters: [...dead],
    })
      .catch((error) => {
        dirty = true;
        logger.warn('delivery queue snapshot failed', { error });
      })
      .finally(() => {
        writing = undefined;
      });
    await writing;
  };
  const snapshotTimer = persistPath ? setInterval(snapshot, options.snapshotMs ?? 1000) : undefined;
  snapshotTimer?.unref();

  const stop = async (drainMs: number) => {
    clearInterval(snapshotTimer);
    state = 'draining';
    if (inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const giveUp = setTimeout(resolve, drainMs);
        drainWaiter = () => {
          clearTimeout(giveUp);
          resolve();
        };
      });
      drainWaiter = undefined;
    }
    state = 'stopped';
    if (timer) clearTimeout(timer);
    timer = undefined;
    await writing;
    await persist();
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };

  if (persistPath) {
    const restored = loadQueueFile(persistPath, logger);
    for (const { job, receiveCount, visibleAt } of restored.jobs) enqueue(job, receiveCount, visibleAt);
    dead.push(...restored.deadLetters);
    if (restored.jobs.length > 0) logger.info('pending deliveries restored', { count: restored.jobs.length });
    armTimer();
  }

  return {
    async send(jobs, sendOptions) {
      if (state !== 'running') throw stoppedError();
      const visibleAt = clock.now() + Math.max(0, sendOptions?.delayMs ?? 0);
      for (const job of jobs) enqueue(job, 0, visibleAt);
      afterChange();
    },
    start(next) {
      if (worker) throw new Error('delivery queue already started');
      worker = next;
      // Dead letters restored from the file get another chance to reach the table.
      if (options.onDeadLetter) for (const entry of dead.splice(0)) handOver(entry);
      afterChange();
    },
    deadLetters: () => [...dead],
    size: () => readyCount() + delayed.size + inFlight.size,
    idle() {
      if (state === 'stopped' || isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    stop(stopOptions) {
      stopping ??= stop(stopOptions?.drainMs ?? 10_000);
      return stopping;
    },
  };
}

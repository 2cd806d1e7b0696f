import type { Logger } from '../../logger.ts';
import type { DeadLetter } from '../../ports/deliveryQueue.ts';
import { loadQueueFile, saveQueueFile } from './queueFile.ts';
import type { PendingEntry, QueueChange } from './queueModel.ts';

/** What the queue keeps across restarts. */
export interface PersistedQueue {
  jobs: PendingEntry[];
  deadLetters: DeadLetter[];
}

/**
 * Where the local delivery queue keeps its state, behind the three calls the queue makes, so the
 * snapshot below can be replaced (by a journal) without touching the model or the pump.
 */
export interface QueuePersistence {
  /** What the last run left. Called once, before anything is recorded. */
  load(): PersistedQueue;
  /** Every change to the queue, in order, as it happens; synchronous, so it must not wait for I/O. */
  record(change: QueueChange): void;
  /**
   * Makes everything recorded so far durable. `final` is the call at stop: nothing is recorded after
   * it, and what it writes is what the next start loads.
   */
  flush(options?: { final?: boolean }): Promise<void>;
}

/** Builds a persistence given a view of the queue's current state (what a snapshot writes). */
export type QueuePersistenceFactory = (current: () => PersistedQueue) => QueuePersistence;

/** The queue writes nothing; at stop, `onPending` is told how many jobs were still pending. */
function nothingWritten(onPending: (count: number) => void): QueuePersistenceFactory {
  return (current) => ({
    load: () => ({ jobs: [], deadLetters: [] }),
    record: () => undefined,
    async flush(options) {
      if (!options?.final) return;
      const { jobs } = current();
      if (jobs.length > 0) onPending(jobs.length);
    },
  });
}

/** Nothing is kept: what is pending at stop is dropped, with a warning. */
export function memoryPersistence(logger: Logger): QueuePersistenceFactory {
  return nothingWritten((count) => logger.warn('pending deliveries dropped: the queue is memory only', { count }));
}

/**
 * The queue keeps nothing itself because something else keeps every job it holds (the local
 * runtime's delivery journal): what is pending at stop is left to that, and said so.
 */
export function keptElsewhere(logger: Logger, where: string): QueuePersistenceFactory {
  return nothingWritten((count) =>
    logger.info(`pending deliveries kept in the ${where} for the next start`, { count }),
  );
}

/**
 * The whole queue as one JSON file (`queueFile.ts`), written when something changed every
 * `snapshotMs` while running and at stop. A crash loses at most one interval; delivery is at least
 * once, so a job delivered after the last snapshot may be delivered again after a crash.
 */
export function snapshotPersistence(options: {
  path: string;
  snapshotMs?: number;
  logger: Logger;
}): QueuePersistenceFactory {
  const { path, logger } = options;
  return (current) => {
    let dirty = false;
    let stopped = false;
    let writing: Promise<void> | undefined;

    /** Writes what is pending now; one write at a time. */
    const snapshot = async () => {
      if (!dirty || writing || stopped) return;
      dirty = false;
      writing = saveQueueFile(path, current())
        .catch((error) => {
          dirty = true;
          logger.warn('delivery queue snapshot failed', { error });
        })
        .finally(() => {
          writing = undefined;
        });
      await writing;
    };
    const interval = setInterval(snapshot, options.snapshotMs ?? 1000);
    // The file is a safety net; it must not keep the process alive.
    interval.unref();

    return {
      load() {
        const restored = loadQueueFile(path, logger);
        if (restored.jobs.length > 0) logger.info('pending deliveries restored', { count: restored.jobs.length });
        return restored;
      },
      record() {
        dirty = true;
      },
      async flush(flushOptions) {
        if (!flushOptions?.final) return snapshot();
        stopped = true;
        clearInterval(interval);
        await writing;
        const state = current();
        await saveQueueFile(path, state);
        logger.info('delivery queue persisted', { pending: state.jobs.length, deadLetters: state.deadLetters.length });
      },
    };
  };
}

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';

/**
 * One SQS record of a delivery batch, as far as the batch cares. A type, not an interface, so that
 * it fits Powertools' record type (`{ [key: string]: unknown }`).
 */
export type BatchRecord = {
  messageId: string;
  body: string;
};

export interface BatchOptions {
  /**
   * Milliseconds this invocation may still spend. Records not finished by then are reported as
   * failed, so the invocation returns in time: a timed-out invocation fails its whole batch, and
   * SQS would then hand every record, the healthy ones already delivered too, back for another run.
   */
  budgetMs: number;
  /** Called for each record whose work threw, or outlived the budget. */
  onFailure: (record: BatchRecord, error: unknown) => void;
  /**
   * Throw Powertools' `FullBatchFailureError` when every record of a non-empty batch failed, so
   * Lambda's Errors metric (and its alarm) sees a function that cannot do its work: the worker turns
   * a receiver's failures into retries and dead letters, so a record fails here only when the
   * service's own bookkeeping (queue, table) failed. Records that merely ran out of time do not
   * count: a slow receiver is not a broken function. SQS then receives the whole batch again, as it
   * would for a batch reported failed record by record.
   */
  throwOnFullBatchFailure?: boolean;
  /** Timer, injectable for tests. */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

/** The records still running when the budget ran out. */
export class RecordDeadlineError extends Error {
  constructor(budgetMs: number) {
    super(`record not finished within the invocation's remaining ${budgetMs} ms; handed back to the queue`);
    this.name = 'RecordDeadlineError';
  }
}

/**
 * Powertools' SQS processor, but a batch whose failures include a record that ran out of time is
 * not a full-batch failure: what Powertools cannot know is which failures are the function's own.
 */
class DeliveryBatchProcessor extends BatchProcessor {
  override entireBatchFailed(): boolean {
    return super.entireBatchFailed() && !this.errors.some((error) => error instanceof RecordDeadlineError);
  }
}

const realTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(timer) };
};

/**
 * Runs every record of a batch at once with Powertools' batch processor, each on its own: a slow or
 * failing record never holds up the others, and the answer names only the records that must come
 * back (`batchItemFailures`). What is ours is the budget each record races against.
 */
export async function processBatch(
  records: BatchRecord[],
  work: (record: BatchRecord) => Promise<unknown>,
  options: BatchOptions,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const setTimer = options.setTimer ?? realTimer;
  let expired!: () => void;
  const deadline = new Promise<'expired'>((resolve) => {
    expired = () => resolve('expired');
  });
  const timer = setTimer(expired, Math.max(0, options.budgetMs));
  const recordHandler = async (record: BatchRecord) => {
    try {
      const outcome = await Promise.race([work(record).then(() => 'done' as const), deadline]);
      if (outcome === 'expired') throw new RecordDeadlineError(options.budgetMs);
    } catch (error) {
      options.onFailure(record, error);
      throw error;
    }
  };
  try {
    // One processor per batch: its state is the batch's, so concurrent calls (tests, the local
    // runtime) cannot mix their records. Powertools keeps it per invocation the same way on Lambda.
    const answer = await processPartialResponse(
      { Records: records },
      recordHandler,
      new DeliveryBatchProcessor(EventType.SQS),
      {
        processInParallel: true,
        throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? false,
      },
    );
    // Powertools lists failures as they happened; in the order SQS gave them is what the logs read best.
    const order = new Map(records.map((r, i) => [r.messageId, i]));
    const failures = [...answer.batchItemFailures].sort(
      (a, b) => (order.get(a.itemIdentifier) ?? 0) - (order.get(b.itemIdentifier) ?? 0),
    );
    return { batchItemFailures: failures };
  } finally {
    timer.cancel();
  }
}

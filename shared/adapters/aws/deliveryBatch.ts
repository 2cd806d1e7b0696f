/** One SQS record of a delivery batch, as far as the batch cares. */
export interface BatchRecord {
  messageId: string;
  body: string;
}

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
   * Throw `FullBatchFailureError` when every record of a non-empty batch failed, as Powertools'
   * batch processor does, so Lambda's Errors metric (and its alarm) sees a function that cannot do
   * its work: the worker turns a receiver's failures into retries and dead letters, so a record
   * fails here only when the service's own bookkeeping (queue, table) failed. Records that merely
   * ran out of time do not count: a slow receiver is not a broken function. SQS then receives
   * the whole batch again, as it would for a batch reported failed record by record.
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

/** Every record of a batch failed; `errors` are theirs, in the batch's order. */
export class FullBatchFailureError extends AggregateError {
  constructor(errors: unknown[]) {
    super(errors, `all ${errors.length} records of the batch failed`);
    this.name = 'FullBatchFailureError';
  }
}

const realTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(timer) };
};

/**
 * Runs every record of a batch at once, each on its own: a slow or failing record never holds up
 * the others, and the answer names only the records that must come back (`batchItemFailures`).
 */
export async function processBatch(
  records: BatchRecord[],
  work: (record: BatchRecord) => Promise<unknown>,
  options: BatchOptions,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const setTimer = options.setTimer ?? realTimer;
  const failed: string[] = [];
  const errors = new Map<string, unknown>();
  let expired!: () => void;
  const deadline = new Promise<'expired'>((resolve) => {
    expired = () => resolve('expired');
  });
  const timer = setTimer(expired, Math.max(0, options.budgetMs));
  try {
    await Promise.all(
      records.map(async (record) => {
        try {
          const outcome = await Promise.race([work(record).then(() => 'done' as const), deadline]);
          if (outcome === 'expired') throw new RecordDeadlineError(options.budgetMs);
        } catch (error) {
          failed.push(record.messageId);
          errors.set(record.messageId, error);
          options.onFailure(record, error);
        }
      }),
    );
  } finally {
    timer.cancel();
  }
  // In the order SQS gave them, which is what the tests and the logs read best.
  const order = new Map(records.map((r, i) => [r.messageId, i]));
  failed.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const reasons = failed.map((id) => errors.get(id));
  if (
    options.throwOnFullBatchFailure &&
    records.length > 0 &&
    failed.length === records.length &&
    !reasons.some((error) => error instanceof RecordDeadlineError)
  ) {
    throw new FullBatchFailureError(reasons);
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

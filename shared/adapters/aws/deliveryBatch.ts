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
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

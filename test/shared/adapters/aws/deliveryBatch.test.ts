import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { describe, expect, it } from 'vitest';
import { type BatchRecord, processBatch, RecordDeadlineError } from '../../../../shared/adapters/aws/deliveryBatch.ts';

const records = (...ids: string[]): BatchRecord[] => ids.map((messageId) => ({ messageId, body: messageId }));

/** A timer the test fires by hand. */
function manualTimer() {
  let fire: (() => void) | undefined;
  let cancelled = false;
  return {
    setTimer: (fn: () => void) => {
      fire = fn;
      return { cancel: () => (cancelled = true) };
    },
    fire: () => fire?.(),
    get cancelled() {
      return cancelled;
    },
  };
}

describe('processBatch', () => {
  it('reports only the records that failed, each on its own', async () => {
    const failures: [string, unknown][] = [];
    const timer = manualTimer();
    const answer = await processBatch(
      records('a', 'b', 'c'),
      async (record) => {
        if (record.messageId === 'b') throw new Error('bookkeeping failed');
      },
      { budgetMs: 10_000, onFailure: (r, e) => failures.push([r.messageId, e]), setTimer: timer.setTimer },
    );
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(failures.map(([id]) => id)).toEqual(['b']);
    expect(timer.cancelled).toBe(true);
  });

  it('answers before the invocation runs out: a record still running then is handed back, the finished ones are not', async () => {
    // Prepare: 'slow' never finishes; the others do at once
    const failures: [string, unknown][] = [];
    const timer = manualTimer();
    const done: string[] = [];

    // Act
    const answering = processBatch(
      records('fast-1', 'slow', 'fast-2'),
      async (record) => {
        if (record.messageId === 'slow') return new Promise(() => {});
        done.push(record.messageId);
      },
      { budgetMs: 5_000, onFailure: (r, e) => failures.push([r.messageId, e]), setTimer: timer.setTimer },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toEqual(['fast-1', 'fast-2']);
    timer.fire();
    const answer = await answering;

    // Assess
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'slow' }] });
    expect(failures).toHaveLength(1);
    expect(failures[0]![1]).toBeInstanceOf(RecordDeadlineError);
    expect(String(failures[0]![1])).toMatch(/remaining 5000 ms/);
  });

  it("names the failures in the batch's order, not in the order they failed", async () => {
    const answer = await processBatch(
      records('a', 'b', 'c'),
      async (record) => {
        // 'a' fails last, 'c' first.
        await new Promise((resolve) => setTimeout(resolve, record.messageId === 'a' ? 20 : 1));
        if (record.messageId !== 'b') throw new Error(`bookkeeping failed for ${record.messageId}`);
      },
      { budgetMs: 10_000, onFailure: () => {} },
    );
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'c' }] });
  });

  it('runs the records at once, not one after another', async () => {
    let running = 0;
    let most = 0;
    await processBatch(
      records('1', '2', '3', '4'),
      async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
      },
      { budgetMs: 10_000, onFailure: () => {} },
    );
    expect(most).toBe(4);
  });

  describe('throwOnFullBatchFailure', () => {
    const failing = async (record: BatchRecord) => {
      throw new Error(`store unavailable for ${record.messageId}`);
    };

    it('throws when every record failed, so the invocation counts as an error', async () => {
      const failures: string[] = [];
      const run = processBatch(records('a', 'b'), failing, {
        budgetMs: 10_000,
        onFailure: (r) => failures.push(r.messageId),
        throwOnFullBatchFailure: true,
      });
      await expect(run).rejects.toBeInstanceOf(FullBatchFailureError);
      await expect(run).rejects.toThrow(/All records failed processing/);
      const error = (await run.catch((e: unknown) => e)) as FullBatchFailureError;
      expect(error.recordErrors.map(String)).toEqual([
        'Error: store unavailable for a',
        'Error: store unavailable for b',
      ]);
      // Each failure is still logged on its own before the throw.
      expect(failures).toEqual(['a', 'b']);
    });

    it('answers with the failures when only some records failed', async () => {
      const answer = await processBatch(
        records('a', 'b'),
        async (record) => {
          if (record.messageId === 'a') throw new Error('store unavailable');
        },
        { budgetMs: 10_000, onFailure: () => {}, throwOnFullBatchFailure: true },
      );
      expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
    });

    it('does not throw when the records ran out of time: a slow receiver is not a broken function', async () => {
      const timer = manualTimer();
      const run = processBatch(records('slow'), () => new Promise(() => {}), {
        budgetMs: 5_000,
        onFailure: () => {},
        setTimer: timer.setTimer,
        throwOnFullBatchFailure: true,
      });
      timer.fire();
      expect(await run).toEqual({ batchItemFailures: [{ itemIdentifier: 'slow' }] });
    });

    it('does not throw when one record ran out of time and the others failed: the batch is not all broken', async () => {
      const timer = manualTimer();
      const failures: unknown[] = [];
      const run = processBatch(
        records('broken', 'slow'),
        async (record) => {
          if (record.messageId === 'slow') return new Promise(() => {});
          throw new Error('store unavailable');
        },
        {
          budgetMs: 5_000,
          onFailure: (_r, e) => failures.push(e),
          setTimer: timer.setTimer,
          throwOnFullBatchFailure: true,
        },
      );
      await new Promise((resolve) => setImmediate(resolve));
      timer.fire();
      expect(await run).toEqual({ batchItemFailures: [{ itemIdentifier: 'broken' }, { itemIdentifier: 'slow' }] });
      expect(failures.map((e) => (e as Error).name)).toEqual(['Error', 'RecordDeadlineError']);
    });

    it('is off by default, and an empty batch never throws', async () => {
      const options = { budgetMs: 10_000, onFailure: () => {} };
      expect(await processBatch(records('a'), failing, options)).toEqual({
        batchItemFailures: [{ itemIdentifier: 'a' }],
      });
      expect(await processBatch([], failing, { ...options, throwOnFullBatchFailure: true })).toEqual({
        batchItemFailures: [],
      });
    });
  });
});

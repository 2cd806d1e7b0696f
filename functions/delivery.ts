import type { Context, SQSEvent } from 'aws-lambda';
import { processBatch } from '../shared/adapters/aws/deliveryBatch.ts';
import {
  createAwsDeliveryQueue,
  parseDeliveryMessage,
  remainingDelayMs,
} from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsFunctionInvoker } from '../shared/adapters/aws/functionInvoker.ts';
import { createKmsSecretCipher } from '../shared/adapters/aws/secretCipher.ts';
import { createDeliverySurface } from '../shared/composition/deliverySurface.ts';
import { createHttpSender } from '../shared/http/httpSender.ts';
import { withLogFields } from '../shared/logger.ts';
import type { DeliveryJob } from '../shared/ports/deliveryQueue.ts';
import { awsApp } from './currentApp.ts';
import { invocation } from './invocation.ts';

const currentApp = awsApp(
  {
    queue: createAwsDeliveryQueue,
    functions: createAwsFunctionInvoker,
    secrets: createKmsSecretCipher,
    http: createHttpSender,
  },
  createDeliverySurface,
);

/** Time kept back from the invocation's deadline to answer SQS with the failures. */
const ANSWER_MARGIN_MS = 2_000;

/**
 * One batch from the delivery queue. Each job is one attempt: the worker itself re-sends failed
 * jobs with a backoff delay or dead-letters them, so a message is reported failed (and received
 * again, then redriven to the dead-letter queue) only when that bookkeeping itself failed, or when
 * it was still running as the invocation's time ran out. When every record failed so (the queue or
 * the table is failing, not a receiver), the invocation fails with Powertools' `FullBatchFailureError`,
 * so Lambda's Errors metric tells; records that only ran out of time do not count.
 */
export const handler = invocation(async (event: SQSEvent, context: Context) => {
  const app = await currentApp();
  // Which job each message held, so that a failure line names its hook and delivery too.
  const jobs = new Map<string, Record<string, unknown>>();
  return processBatch(
    event.Records,
    async (record) => {
      const job = parseDeliveryMessage(record.body);
      const fields = jobLogFields(job);
      jobs.set(record.messageId, fields);
      await withLogFields(fields, async () => {
        const wait = remainingDelayMs(job, Date.now());
        if (wait > 0) await app.queue.send([job], { delayMs: wait });
        else await app.deliver(job);
      });
    },
    {
      budgetMs: context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS,
      throwOnFullBatchFailure: true,
      onFailure: (record, error) =>
        app.logger.error('delivery message failed', {
          message_id: record.messageId,
          ...jobs.get(record.messageId),
          error,
        }),
    },
  );
});

/** What every log line written for one job carries on Lambda: its tenant, hook, delivery and event. */
export function jobLogFields(job: DeliveryJob): Record<string, unknown> {
  return { tenant: job.tenant, hook_id: job.hookId, delivery_id: job.deliveryId, event_id: job.event.id };
}

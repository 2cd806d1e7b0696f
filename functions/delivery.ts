import middy from '@middy/core';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  createAwsDeliveryQueue,
  parseDeliveryMessage,
  remainingDelayMs,
} from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsFunctionRunner } from '../shared/adapters/aws/functionRunner.ts';
import { awsApp } from './app.ts';
import { invocation } from './invocation.ts';

const currentApp = awsApp({ queue: createAwsDeliveryQueue, functions: createAwsFunctionRunner });

/**
 * One batch from the delivery queue. Each job is one attempt: the worker itself re-sends failed
 * jobs with a backoff delay or dead-letters them, so a message is reported failed (and received
 * again, then redriven to the dead-letter queue) only when that bookkeeping itself failed.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(
  invocation(async (event: SQSEvent) => {
    const app = await currentApp();
    const batchItemFailures: SQSBatchItemFailure[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        try {
          const job = parseDeliveryMessage(record.body);
          const wait = remainingDelayMs(job, Date.now());
          if (wait > 0) await app.queue.send([job], { delayMs: wait });
          else await app.deliver(job);
        } catch (error) {
          app.logger.error('delivery message failed', { message_id: record.messageId, error });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures };
  }),
);

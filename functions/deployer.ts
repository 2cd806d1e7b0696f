import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseDeployMessage } from '../shared/adapters/aws/functionDeployQueue.ts';
import { createAwsFunctionRunner } from '../shared/adapters/aws/functionRunner.ts';
import { packageUserFunction } from '../shared/adapters/aws/userFunctionPackage.ts';
import { createDeploySurface } from '../shared/composition/deploySurface.ts';
import { BadRequestError } from '../shared/errors.ts';
import { awsApp } from './currentApp.ts';
import { invocation } from './invocation.ts';

// The only function that deploys, so the only bundle with the zip writer.
const currentApp = awsApp(
  {
    functions: (options) =>
      createAwsFunctionRunner({ ...options, packageCode: (code) => packageUserFunction(code).zip }),
  },
  createDeploySurface,
);

/** Receives of one deploy message before SQS moves it to the dead-letter queue; the stack sets both. */
const DEFAULT_MAX_RECEIVES = 5;

/**
 * The deploy worker: deploy jobs from the deploy queue, one after the other (the event source runs at
 * most a couple of these at once, within Lambda's control-plane quota). A job that fails is reported
 * failed and comes back after the visibility timeout, the hook staying `pending`; on its last receive
 * the hook is marked `failed` with the reason instead.
 */
export const handler = invocation(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const app = await currentApp();
  const maxReceives = Number(process.env.DEPLOY_MAX_RECEIVES) || DEFAULT_MAX_RECEIVES;
  const batchItemFailures: SQSBatchItemFailure[] = [];
  for (const record of event.Records) {
    try {
      const job = parseDeployMessage(record.body);
      const final = Number(record.attributes.ApproximateReceiveCount) >= maxReceives;
      await app.deployFunctions(job, { final });
    } catch (error) {
      // A message that is not a job will never be one: retrying it would only fill the dead-letter queue.
      if (error instanceof BadRequestError) {
        app.logger.error('deploy message dropped', { message_id: record.messageId, error });
        continue;
      }
      app.logger.warn('deploy job failed, will be retried', { message_id: record.messageId, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
});

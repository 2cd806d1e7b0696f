import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BadRequestError, EventHooksError } from '../../errors.ts';
import type { FunctionDeployJob, FunctionDeployQueue } from '../../ports/functionDeployQueue.ts';
import { awsErrorName } from './backoff.ts';

/** A deploy job as it travels on SQS. */
export type QueuedDeployJob = FunctionDeployJob & { type: 'deploy.v1' };

export interface AwsFunctionDeployQueueOptions {
  /** `DEPLOY_QUEUE_URL`. */
  queueUrl: string;
  /** Default: the SDK's own retry (3 attempts, backoff) is enough for one small message. */
  client?: SQSClient;
}

/**
 * The deploy queue on SQS, read by the deploy worker function (`functions/deployer.ts`) a few at a
 * time. Sending answers nothing about the deployment: the hook stays `pending` until the worker marks it.
 *
 * @example
 * const deployments = createAwsFunctionDeployQueue({ queueUrl: env.DEPLOY_QUEUE_URL });
 * await deployments.send({ tenant: 'default', hookId, remove: [] });
 */
export function createAwsFunctionDeployQueue(options: AwsFunctionDeployQueueOptions): FunctionDeployQueue {
  const client = options.client ?? new SQSClient({});
  return {
    async send(job) {
      const message: QueuedDeployJob = { type: 'deploy.v1', ...job };
      try {
        await client.send(new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: JSON.stringify(message) }));
      } catch (error) {
        throw new EventHooksError(`SQS SendMessage of a deploy job failed (${awsErrorName(error)})`, { cause: error });
      }
      return undefined;
    },
  };
}

/** The job of one message of the deploy queue; `BadRequestError` for anything else. */
export function parseDeployMessage(body: string): FunctionDeployJob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new BadRequestError('deploy message is not JSON', { cause: error });
  }
  const job = parsed as Partial<QueuedDeployJob> | null;
  if (
    job?.type !== 'deploy.v1' ||
    typeof job.tenant !== 'string' ||
    typeof job.hookId !== 'string' ||
    !Array.isArray(job.remove) ||
    !job.remove.every((entry) => entry === null || typeof entry === 'string')
  ) {
    throw new BadRequestError('deploy message is not a deploy.v1 job');
  }
  return { tenant: job.tenant, hookId: job.hookId, remove: job.remove };
}

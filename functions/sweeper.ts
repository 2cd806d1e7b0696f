import type { ScheduledEvent } from 'aws-lambda';
import { createAwsFunctionDeployQueue } from '../shared/adapters/aws/functionDeployQueue.ts';
import { controlPlaneClient } from '../shared/adapters/aws/functionRunner.ts';
import { createFunctionSweeper, type SweepResult } from '../shared/adapters/aws/functionSweeper.ts';
import { ConfigError } from '../shared/config.ts';
import { requeuePendingDeployments } from '../shared/pipeline/functionDeployer.ts';
import { awsApp } from './currentApp.ts';
import { invocation } from './invocation.ts';

// The core alone: the stored hooks and the configuration.
const currentApp = awsApp({}, () => ({}));
let sweep: (() => Promise<SweepResult>) | undefined;

/**
 * On a schedule: deletes the user functions no stored hook uses (see `createFunctionSweeper`), and
 * queues a deploy job again for hooks still `pending` (see `requeuePendingDeployments`).
 */
export const handler = invocation(async (_event: ScheduledEvent) => {
  const app = await currentApp();
  const queueUrl = process.env.DEPLOY_QUEUE_URL;
  if (!queueUrl) throw new ConfigError('DEPLOY_QUEUE_URL must be set');
  sweep ??= createFunctionSweeper({
    prefix: app.config.userFunctionPrefix,
    client: controlPlaneClient(),
    hooks: app.hooks,
    logger: app.logger,
  });
  const requeued = await requeuePendingDeployments(
    app.hooks,
    app.config.tenant,
    createAwsFunctionDeployQueue({ queueUrl }),
  );
  return { ...(await sweep()), requeued };
});

import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { createAwsFunctionDeployQueue } from '../shared/adapters/aws/functionDeployQueue.ts';
import { createAwsFunctionRunner } from '../shared/adapters/aws/functionRunner.ts';
import { createKmsSecretCipher } from '../shared/adapters/aws/secretCipher.ts';
import { awsApp } from './currentApp.ts';
import { authModeFromEnv, httpHandler } from './http.ts';

/** The Admin API: every `/event-hooks…` and `/dead-letters…` route and `GET /health`. */
export const handler = httpHandler(
  awsApp({
    bus: createAwsEventBus,
    queue: createAwsDeliveryQueue,
    // The test route invokes user functions; deploying them is the deploy worker's (functions/deployer.ts).
    functions: createAwsFunctionRunner,
    deployments: createAwsFunctionDeployQueue,
    // Seals the secrets of hooks it writes, and opens them for answers, /test and /ping.
    secrets: createKmsSecretCipher,
  }),
  (app) => app.admin,
  // The tenant and scopes come from the authorizer's context only (see principalOf).
  { authMode: authModeFromEnv(process.env) },
);

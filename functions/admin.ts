import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { createAwsFunctionDeployQueue } from '../shared/adapters/aws/functionDeployQueue.ts';
import { createAwsFunctionInvoker } from '../shared/adapters/aws/functionInvoker.ts';
import { createKmsSecretCipher } from '../shared/adapters/aws/secretCipher.ts';
import { createAdminSurface } from '../shared/composition/adminSurface.ts';
import { consoleAssetsFromDir, isConsolePath } from '../shared/console/consoleSite.ts';
import { createHttpSender } from '../shared/http/httpSender.ts';
import { createLogger } from '../shared/logger.ts';
import { consoleHandler } from './console.ts';
import { awsApp } from './currentApp.ts';
import { authModeFromEnv, httpHandler } from './http.ts';

const adminApi = httpHandler(
  awsApp(
    {
      bus: createAwsEventBus,
      queue: createAwsDeliveryQueue,
      // The test route invokes user functions (a signed HTTP call, no Lambda client in this bundle);
      // deploying them is the deploy worker's (functions/deployer.ts).
      functions: createAwsFunctionInvoker,
      deployments: createAwsFunctionDeployQueue,
      // Seals the secrets of hooks it writes, and opens them for answers, /test and /ping.
      secrets: createKmsSecretCipher,
      // Pings, `/test` and the destination check of a hook's URL.
      http: createHttpSender,
    },
    // No deployer here: its deploy jobs go to the deploy queue (`deployments`).
    (core) => createAdminSurface(core),
  ),
  (app) => app.admin,
  // The tenant and scopes come from the authorizer's context only (see principalOf).
  { authMode: authModeFromEnv(process.env) },
);

// The bundle carries the console's files in `console/` beside it (infra/bundle.ts); read on first use.
const consoleFiles = consoleHandler(
  consoleAssetsFromDir(fileURLToPath(new URL('./console/', import.meta.url))),
  createLogger(),
);

/** The Admin API (every `/event-hooks…` and `/dead-letters…` route and `GET /health`) and the web console. */
export const handler = (event: APIGatewayProxyEventV2, context: Context) =>
  isConsolePath(event.rawPath) ? consoleFiles(event) : adminApi(event, context);

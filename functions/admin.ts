import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { createAwsFunctionRunner } from '../shared/adapters/aws/functionRunner.ts';
import type { App } from '../shared/app.ts';
import { awsApp } from './app.ts';
import { toApiRequest, toProxyResult } from './http.ts';

/** The Admin API entry point for a given app (the local runtime passes its own). */
export function createAdminHandler(app: () => Promise<App>) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(async (event) =>
    toProxyResult(await (await app()).admin(toApiRequest(event))),
  );
}

/** The Admin API: every `/event-hooks…` route and `GET /health`. */
export const handler = createAdminHandler(
  awsApp({ bus: createAwsEventBus, queue: createAwsDeliveryQueue, functions: createAwsFunctionRunner }),
);

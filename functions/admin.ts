import { createAwsDeliveryQueue } from '../shared/adapters/aws/deliveryQueue.ts';
import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { createAwsFunctionRunner } from '../shared/adapters/aws/functionRunner.ts';
import { awsApp } from './app.ts';
import { httpHandler } from './http.ts';

/** The Admin API: every `/event-hooks…` and `/dead-letters…` route and `GET /health`. */
export const handler = httpHandler(
  awsApp({ bus: createAwsEventBus, queue: createAwsDeliveryQueue, functions: createAwsFunctionRunner }),
  (app) => app.admin,
);

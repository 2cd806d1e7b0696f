import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import type { App } from '../shared/app.ts';
import { awsApp } from './app.ts';
import { toApiRequest, toProxyResult } from './http.ts';

/** The `POST /events` entry point for a given app (the local runtime passes its own). */
export function createIngestHandler(app: () => Promise<App>) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(async (event) =>
    toProxyResult(await (await app()).ingest(toApiRequest(event))),
  );
}

/** `POST /events`: validates events and puts them on the bus. */
export const handler = createIngestHandler(awsApp({ bus: createAwsEventBus }));

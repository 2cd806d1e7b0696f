import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { createIngestSurface } from '../shared/composition/ingestSurface.ts';
import { awsApp } from './currentApp.ts';
import { authModeFromEnv, httpHandler } from './http.ts';

/** `POST /events` and `POST /ingest/kong-http-log` (Kong http-log entries): validates events and puts them on the bus. */
export const handler = httpHandler(awsApp({ bus: createAwsEventBus }, createIngestSurface), (app) => app.ingest, {
  authMode: authModeFromEnv(process.env),
});

import { createAwsEventBus } from '../shared/adapters/aws/eventBus.ts';
import { awsApp } from './app.ts';
import { httpHandler } from './http.ts';

/** `POST /events`: validates events and puts them on the bus. */
export const handler = httpHandler(awsApp({ bus: createAwsEventBus }), (app) => app.ingest);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalDeliveryQueue } from '../../../shared/adapters/local/deliveryQueue.ts';
import { createLocalEventBus } from '../../../shared/adapters/local/eventBus.ts';
import { type App, createApp } from '../../../shared/compositionRoot.ts';
import { loadConfig } from '../../../shared/config.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { createHttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

/** The app on the test store, as the given runtime configures it (ports are the local ones). */
function appFor(runtime: 'aws' | 'local', store: TestStore, stops: (() => Promise<void>)[]): App {
  const logger = memoryLogger();
  const queue = createLocalDeliveryQueue({ logger });
  const http = createHttpSender();
  const bus = createLocalEventBus({ logger });
  stops.push(async () => {
    await bus?.stop();
    await queue.stop({ drainMs: 0 });
    http.close();
  });
  const app = createApp({
    config: loadConfig({
      TABLE_NAME: store.tableName,
      DYNAMODB_ENDPOINT: store.endpoint,
      RUNTIME: runtime,
      BLOCK_PRIVATE_NETWORKS: 'false',
      EVENT_BUS_NAME: 'unused',
      DELIVERY_QUEUE_URL: 'unused',
    }),
    client: store.client,
    clock: systemClock,
    logger,
    retryPolicy: LOCAL_RETRY_POLICY,
    ports: {
      bus,
      queue,
      functions: { deploy: async () => {}, remove: async () => {}, invoke: async () => null },
      http,
    },
  });
  bus.subscribe((event) => app.dispatch(event));
  return app;
}

describe('the ping after a webhook is created', () => {
  let store: TestStore;
  let receiver: Receiver;
  let answered = 0;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    store = await startTestStore();
    // A receiver that takes its time: a ping still under way when the answer goes out would be cut short.
    receiver = await startReceiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      answered++;
      return { status: 200 };
    });
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await receiver.close();
    await store.close();
  });

  const create = (app: App) =>
    app.admin({
      method: 'POST',
      path: '/event-hooks',
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'crud', event: 'consumers', handler: 'webhook', config: { url: receiver.url } }),
    });

  it('on AWS, has finished before the Admin API answers (Lambda may freeze right after)', async () => {
    // Prepare
    const app = appFor('aws', store, stops);
    const before = answered;

    // Act
    const res = await create(app);

    // Assess
    expect(res.statusCode).toBe(201);
    expect(answered).toBe(before + 1);
    expect(String(receiver.requests.at(-1)?.body)).toContain('"event":"ping"');
  });

  it('locally, still runs in the background and is awaited by settled()', async () => {
    // Prepare
    const app = appFor('local', store, stops);
    const before = answered;

    // Act
    const res = await create(app);
    const atAnswer = answered;
    await app.settled();

    // Assess
    expect(res.statusCode).toBe(201);
    expect(atAnswer).toBe(before);
    expect(answered).toBe(before + 1);
  });
});

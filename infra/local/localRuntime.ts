import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { httpHandler } from '../../functions/http.ts';
import { createAwsFunctionRunner } from '../../shared/adapters/aws/functionRunner.ts';
import { createLocalDeliveryQueue, type LocalDeliveryQueue } from '../../shared/adapters/local/deliveryQueue.ts';
import { createLocalEventBus, type LocalEventBus } from '../../shared/adapters/local/eventBus.ts';
import { createLocalFunctionRunner } from '../../shared/adapters/local/functionRunner.ts';
import { type App, createApp } from '../../shared/app.ts';
import { type Config, loadConfig } from '../../shared/config.ts';
import { LOCAL_RETRY_POLICY, retryPolicyFromEnv } from '../../shared/delivery/retryPolicy.ts';
import { createHttpSender } from '../../shared/http/httpSender.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { INGEST_ROUTE } from '../../shared/pipeline/ingest.ts';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import type { FunctionArgs } from '../../shared/ports/functionRunner.ts';
import { createDocumentClient, ensureTable } from '../../shared/store/dynamo.ts';
import { createApiGatewayServer, type HttpLambda } from './apiGateway.ts';
import { startDynalite } from './embeddedStore.ts';

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Folder for the store and the queue; ignored with `memory`. */
  dataDir?: string;
  /** Throwaway in-memory store and queue. */
  memory?: boolean;
  /** Use this DynamoDB-compatible endpoint (e.g. DynamoDB Local) instead of starting the embedded store. */
  dynamodbEndpoint?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
  /** How long `close()` waits for running deliveries before persisting the rest (default 5 s). */
  drainMs?: number;
}

export interface LocalRuntime {
  url: string;
  app: App;
  config: Config;
  queue: LocalDeliveryQueue;
  bus: LocalEventBus;
  /** Stops accepting requests and events, drains or persists queued deliveries, closes the store. */
  close(): Promise<void>;
}

/**
 * Existing Lambda functions named in `lambda` hooks are invoked through the Lambda Invoke API at
 * `LAMBDA_ENDPOINT` (e.g. `sam local start-lambda`), with the same adapter that runs on AWS.
 */
function lambdaEndpointInvoker(endpoint: string) {
  const runner = createAwsFunctionRunner({
    prefix: 'event-hooks-local',
    roleArn: 'arn:aws:iam::000000000000:role/unused-locally',
    client: new LambdaClient({
      endpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  return (name: string, args: FunctionArgs) => runner.invoke({ kind: 'lambda', name }, args);
}

/**
 * The whole service in one process: the embedded store, the in-process bus and queue, child-process
 * user code, and the API Gateway stand-in in front of the same Lambda handlers that run on AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  const dataDir = options.memory ? undefined : (options.dataDir ?? join(process.cwd(), '.data'));
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const external = options.dynamodbEndpoint ?? env.DYNAMODB_ENDPOINT;
  const store = external
    ? { endpoint: external, close: async () => undefined }
    : await startDynalite(dataDir ? { path: join(dataDir, 'store') } : {});
  const config = loadConfig({ ...env, RUNTIME: 'local', DYNAMODB_ENDPOINT: store.endpoint });
  const client = createDocumentClient({ endpoint: store.endpoint });
  await ensureTable(client, config.tableName);

  const http = createHttpSender({
    responseTimeoutMs: config.httpTimeoutMs,
    connectTimeoutMs: config.httpTimeoutMs,
    blockPrivateNetworks: config.blockPrivateNetworks,
  });
  const functions = createLocalFunctionRunner({
    timeoutMs: config.functionTimeoutMs,
    memoryMb: config.functionMemoryMb,
    logger,
    ...(config.lambdaEndpoint ? { lambdaInvoker: lambdaEndpointInvoker(config.lambdaEndpoint) } : {}),
  });
  const queue = createLocalDeliveryQueue({
    logger,
    clock,
    ...(dataDir ? { persistPath: join(dataDir, 'queue.json') } : {}),
    concurrency: config.deliveryConcurrency,
    // Jobs SQS would redrive go where the delivery worker's dead letters go, so /dead-letters shows both.
    onDeadLetter: async (entry) => {
      await app.deadLetters.put(entry);
    },
  });
  let bus: LocalEventBus | undefined;
  const app = createApp({
    config,
    client,
    clock,
    logger,
    retryPolicy: retryPolicyFromEnv(env, LOCAL_RETRY_POLICY),
    ports: {
      bus: (dispatch) => {
        bus = createLocalEventBus({ target: dispatch, logger, clock });
        return bus;
      },
      queue,
      functions,
      http,
    },
  });
  const current = () => Promise.resolve(app);
  queue.start(async (job) => {
    await app.deliver(job);
  });

  const server = createApiGatewayServer(
    [
      {
        method: INGEST_ROUTE.methods[0],
        path: INGEST_ROUTE.path,
        handler: httpHandler(current, (a) => a.ingest) as unknown as HttpLambda,
      },
      { method: '*', path: '*', handler: httpHandler(current, (a) => a.admin) as unknown as HttpLambda },
    ],
    {
      onError: (error) => logger.error('request failed', { error }),
      loopbackOnly: ['127.0.0.1', 'localhost', '::1'].includes(options.host ?? '127.0.0.1'),
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8001, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const localBus = bus as unknown as LocalEventBus;
  return {
    url: `http://${host}:${address.port}`,
    app,
    config,
    queue,
    bus: localBus,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await localBus.stop();
        await queue.stop({ drainMs: options.drainMs ?? 5_000 });
        await app.settled();
        server.closeAllConnections();
        await closed;
        await functions.close();
        http.close();
        client.destroy();
        await store.close();
      })();
      return closing;
    },
  };
}

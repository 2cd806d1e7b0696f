import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type App, createApp } from '../../compositionRoot.ts';
import type { Config } from '../../config.ts';
import { LOCAL_RETRY_POLICY, retryPolicyFromEnv } from '../../delivery/retryPolicy.ts';
import { createHttpSender, type HttpSender } from '../../http/httpSender.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/clock.ts';
import type { FunctionArgs } from '../../ports/functionRunner.ts';
import type { SecretCipher } from '../../ports/secretCipher.ts';
import { createAwsFunctionInvoker } from '../aws/functionInvoker.ts';
import { lambdaInvokeHttpApi } from '../aws/lambdaInvokeApi.ts';
import type { DeliveryJournal } from './deliveryJournal.ts';
import { createLocalDeliveryQueue, type LocalDeliveryQueue } from './deliveryQueue.ts';
import { createLocalEventBus, type LocalEventBus } from './eventBus.ts';
import type { LocalEventLog } from './eventLog.ts';
import { createLocalFunctionRunner, type LocalFunctionRunner } from './functionRunner.ts';
import type { LocalDeliveryLog } from './localDeliveryLog.ts';
import { createLocalMetrics, type LocalMetrics } from './metrics.ts';
import { keptElsewhere } from './queuePersistence.ts';

/** What the local runtime has opened before wiring: the store, the data folder's journal, event log and key. */
export interface LocalWiringOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  client: DynamoDBDocumentClient;
  clock: Clock;
  logger: Logger;
  /** The delivery journal in DATA_DIR (none in memory). */
  journal: DeliveryJournal | undefined;
  /** Where event records go (`GET /events/{id}`). */
  eventLog: LocalEventLog;
  /** Where delivery records go, when the delivery log is on (DELIVERY_LOG). */
  deliveryLog?: LocalDeliveryLog;
  secrets: SecretCipher;
  /** The store's endpoint: the service never sends to it. */
  storeEndpoint: string;
}

/** The app on the local adapters, with the adapters the runtime starts, drains and closes. */
export interface LocalWiring {
  app: App;
  bus: LocalEventBus;
  /** Not started: the runtime starts it once the previous run's jobs are back (see `startLocalRuntime`). */
  queue: LocalDeliveryQueue;
  http: HttpSender;
  functions: LocalFunctionRunner;
  metrics: LocalMetrics;
}

/**
 * Existing Lambda functions named in `lambda` hooks are invoked through the Lambda Invoke API at
 * `LAMBDA_ENDPOINT` (e.g. `sam local start-lambda`), with the same adapter that runs on AWS.
 */
function lambdaEndpointInvoker(endpoint: string) {
  const runner = createAwsFunctionInvoker({
    prefix: 'event-hooks-local',
    roleArn: 'arn:aws:iam::000000000000:role/unused-locally',
    invokeApi: lambdaInvokeHttpApi({ endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  });
  return (name: string, args: FunctionArgs) => runner.invoke({ kind: 'lambda', name }, args);
}

/**
 * The local counterpart of `awsWiring.ts`: the core wired to the in-process bus and queue,
 * child-process user code and the data folder's journal and event log. The bus is subscribed to the
 * dispatcher here, as the EventBridge rule is on AWS; the queue's worker is started by the runtime.
 */
export function wireLocalApp(options: LocalWiringOptions): LocalWiring {
  const { config, env, client, clock, logger, journal, eventLog, secrets } = options;
  const http = createHttpSender({
    responseTimeoutMs: config.httpTimeoutMs,
    connectTimeoutMs: config.httpTimeoutMs,
    blockPrivateNetworks: config.blockPrivateNetworks,
    // The service never calls itself: its store (embedded or DYNAMODB_ENDPOINT), its Lambda endpoint,
    // and (added once it listens) its API.
    ownEndpoints: [options.storeEndpoint, config.lambdaEndpoint],
  });
  const functions = createLocalFunctionRunner({
    timeoutMs: config.functionTimeoutMs,
    memoryMb: config.functionMemoryMb,
    network: config.functionNetwork,
    logger,
    ...(config.lambdaEndpoint ? { lambdaInvoker: lambdaEndpointInvoker(config.lambdaEndpoint) } : {}),
  });
  const metrics = createLocalMetrics();
  const queue = createLocalDeliveryQueue({
    logger,
    clock,
    concurrency: config.deliveryConcurrency,
    concurrencyPerHook: config.deliveryConcurrencyPerHook,
    // Received only once started, after the app exists.
    concurrencyPerTenant: (tenant) => app.quotas.peek(tenant).deliveries_in_flight ?? Number.POSITIVE_INFINITY,
    ...(journal ? { persistence: keptElsewhere(logger, 'journal') } : {}),
    // Jobs SQS would redrive go where the delivery worker's dead letters go, so /dead-letters shows both.
    onDeadLetter: async (entry) => {
      await app.deadLetters.put(entry);
      metrics.count('dead_letters', { cause: 'redriven' });
      await journal?.completed([entry.job.deliveryId]);
    },
  });
  const bus = createLocalEventBus({ logger, clock, ...(journal ? { journal } : {}) });
  const app = createApp({
    config,
    client,
    clock,
    logger,
    retryPolicy: retryPolicyFromEnv(env, LOCAL_RETRY_POLICY),
    metrics,
    ports: {
      bus,
      queue: journal ? journal.journaledQueue(queue) : queue,
      functions,
      http,
      events: eventLog,
      ...(options.deliveryLog ? { deliveryLog: options.deliveryLog } : {}),
      secrets,
    },
  });
  // The in-process stand-in for the EventBridge rule: every event on the bus goes to the dispatcher.
  bus.subscribe((event) => app.dispatch(event));
  metrics.gauge('queue_depth', () => queue.size());
  return { app, bus, queue, http, functions, metrics };
}

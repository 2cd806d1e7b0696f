import { chmodSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { consoleHandler } from '../../functions/console.ts';
import { httpHandler, toApiRequest } from '../../functions/http.ts';
import { DeliveryJournal } from '../../shared/adapters/local/deliveryJournal.ts';
import type { LocalDeliveryQueue } from '../../shared/adapters/local/deliveryQueue.ts';
import type { LocalEventBus } from '../../shared/adapters/local/eventBus.ts';
import { LocalEventLog } from '../../shared/adapters/local/eventLog.ts';
import type { LocalFunctionRunner } from '../../shared/adapters/local/functionRunner.ts';
import { LocalDeliveryLog } from '../../shared/adapters/local/localDeliveryLog.ts';
import { wireLocalApp } from '../../shared/adapters/local/localWiring.ts';
import { type LocalMetrics, PROMETHEUS_CONTENT_TYPE } from '../../shared/adapters/local/metrics.ts';
import { importQueueFile } from '../../shared/adapters/local/queueImport.ts';
import { createLocalSecretCipher, KEY_FILE_NAME } from '../../shared/adapters/local/secretCipher.ts';
import type { ApiRequest, ApiResponse } from '../../shared/admin/http.ts';
import { type Authenticate, authenticated, createAuthenticator } from '../../shared/auth/authenticate.ts';
import { type App, deliveryLogSettings } from '../../shared/compositionRoot.ts';
import { type Config, checkExposure, loadConfig } from '../../shared/config.ts';
import { CONSOLE_PATHS, loadOnce } from '../../shared/console/consoleSite.ts';
import type { HookEvent } from '../../shared/events/envelope.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { INGEST_ROUTES } from '../../shared/pipeline/ingest.ts';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import type { DeliveryJob } from '../../shared/ports/deliveryQueue.ts';
import { createDocumentClient, ensureTable } from '../../shared/store/dynamo.ts';
import { createApiGatewayServer, type HttpLambda } from './apiGateway.ts';
import { startDynalite } from './embeddedStore.ts';
import type { StoreCredentials } from './storeCredential.ts';
import { startSweeper, sweepIntervalFromEnv } from './sweeper.ts';

export interface LocalRuntimeOptions {
  port?: number;
  host?: string;
  /** Folder for the store and the delivery journal; ignored with `memory`. */
  dataDir?: string;
  /** Throwaway in-memory store and queue. */
  memory?: boolean;
  /** Use this DynamoDB-compatible endpoint (e.g. DynamoDB Local) instead of starting the embedded store. */
  dynamodbEndpoint?: string;
  /** The key to sign with at `dynamodbEndpoint` (an embedded store started by the caller); default a dummy key. */
  dynamodbCredentials?: StoreCredentials;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
  /** How long `close()` waits for running deliveries before leaving the rest to the next start (default 5 s). */
  drainMs?: number;
}

export interface LocalRuntime {
  url: string;
  app: App;
  config: Config;
  /** The key the store at `config.dynamodbEndpoint` accepts (for tools that open a client of their own). */
  storeCredentials: StoreCredentials | undefined;
  queue: LocalDeliveryQueue;
  bus: LocalEventBus;
  /** The delivery journal in DATA_DIR (none in memory). */
  journal: DeliveryJournal | undefined;
  /** What the pipeline counted since the start, served at `GET /metrics`. */
  metrics: LocalMetrics;
  /** Where user code runs (child processes). */
  functions: LocalFunctionRunner;
  /** Stops accepting requests and events, drains or persists queued deliveries, closes the store. */
  close(): Promise<void>;
}

/** JOURNAL_FSYNC=true syncs each group write to the disk: survives a power loss, not only a crash. */
function journalFsync(env: NodeJS.ProcessEnv): boolean {
  const value = env.JOURNAL_FSYNC ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(`JOURNAL_FSYNC must be true or false, got '${value}'`);
}

/** Queues again the jobs a previous run left, each when it is due, and dispatches again the events it had not dispatched. */
async function restore(
  queue: LocalDeliveryQueue,
  bus: LocalEventBus,
  jobs: { job: DeliveryJob; visibleAt: number }[],
  undispatched: HookEvent[],
  clock: Clock,
  logger: Logger,
): Promise<void> {
  const now = clock.now();
  for (const { job, visibleAt } of jobs) await queue.send([job], { delayMs: Math.max(0, visibleAt - now) });
  bus.redispatch(undispatched);
  if (jobs.length + undispatched.length > 0) {
    logger.info('journal replayed', { jobs: jobs.length, undispatched_events: undispatched.length });
  }
}

/** Where Prometheus scrapes the local runtime. */
export const METRICS_PATH = '/metrics';

function prometheusScrape(metrics: LocalMetrics, guard: Guard): HttpLambda {
  const scrape = guard(async () => ({
    statusCode: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: metrics.exposition(),
  }));
  return async (event) => scrape(toApiRequest(event));
}

type Guard = (router: (request: ApiRequest) => Promise<ApiResponse>) => (request: ApiRequest) => Promise<ApiResponse>;

/**
 * The local edge: with AUTH_MODE=api-keys every request passes the key check (shared/auth) before
 * its handler, as the Lambda authorizer does on AWS; with none, requests go through unchanged.
 */
function edgeGuard(authenticate: Authenticate | undefined, logger: Logger): Guard {
  return (router) => (authenticate ? authenticated(authenticate, router, logger) : router);
}

/**
 * One `request` line per API request, as API Gateway's access log writes on AWS: method, path
 * (without the query, which may carry anything), status, time taken and the request id.
 */
function accessLogged(handler: HttpLambda, logger: Logger, clock: Clock): HttpLambda {
  return async (event, context) => {
    const started = clock.now();
    const result = await handler(event, context);
    logger.info('request', {
      request_id: context.awsRequestId,
      method: event.requestContext.http.method,
      path: event.rawPath,
      status: result.statusCode,
      latency_ms: clock.now() - started,
    });
    return result;
  };
}

/**
 * The whole service in one process: the embedded store, the in-process bus and queue, child-process
 * user code, and the API Gateway stand-in in front of the same Lambda handlers that run on AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  // Settings are checked before anything starts, so a refused combination leaves nothing running.
  checkExposure(options.host ?? '127.0.0.1', loadConfig({ ...env, RUNTIME: 'local' }));
  const dataDir = options.memory ? undefined : (options.dataDir ?? join(process.cwd(), '.data'));
  const fsync = journalFsync(env); // before anything starts, so a bad value leaves nothing running
  // Owner-only: the store and the journal hold hook secrets and every accepted event's data.
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
  }
  const sweepIntervalMs = sweepIntervalFromEnv(env);
  // Before the store starts, so a bad key file leaves nothing running; in memory, the key is too.
  const secrets = createLocalSecretCipher(dataDir ? { keyFile: join(dataDir, KEY_FILE_NAME) } : {});

  const external = options.dynamodbEndpoint ?? env.DYNAMODB_ENDPOINT;
  const store = external
    ? { endpoint: external, credentials: options.dynamodbCredentials, close: async () => undefined }
    : await startDynalite(dataDir ? { path: join(dataDir, 'store') } : {});
  const config = loadConfig({ ...env, RUNTIME: 'local', DYNAMODB_ENDPOINT: store.endpoint });
  const client = createDocumentClient({
    endpoint: store.endpoint,
    ...(store.credentials ? { credentials: store.credentials } : {}),
  });
  await ensureTable(client, config.tableName);

  // The journal, not the queue, keeps what was accepted: the queue is memory only (see docs/storage.md).
  const journal = dataDir
    ? await DeliveryJournal.open({
        path: join(dataDir, 'journal.log'),
        logger,
        clock,
        fsync,
      })
    : undefined;
  // Event records (GET /events/{id}) in files of their own beside the journal, not in the store.
  const eventLog = await LocalEventLog.open({
    ...(dataDir ? { dir: join(dataDir, 'events') } : {}),
    logger,
    clock,
    fsync,
  });
  // The delivery log goes through the same group-committed file writes, in its own file.
  const deliveryLog = config.deliveryLog
    ? await LocalDeliveryLog.open({
        ...(dataDir ? { path: join(dataDir, 'deliveries.log') } : {}),
        settings: deliveryLogSettings(config),
        logger,
        clock,
        fsync,
        maxRecords: config.deliveryLogMaxRecords,
      })
    : undefined;
  const backlog = journal?.backlog();
  const { app, bus, queue, http, functions, metrics } = wireLocalApp({
    config,
    env,
    client,
    clock,
    logger,
    journal,
    eventLog,
    ...(deliveryLog ? { deliveryLog } : {}),
    secrets,
    storeEndpoint: store.endpoint,
  });
  // The embedded store has no TTL: expired items are deleted here (reads hide them meanwhile).
  const sweeper = startSweeper({
    client,
    tableName: config.tableName,
    clock,
    logger,
    intervalMs: sweepIntervalMs,
  });
  // Usage is written in batches: every METERING_FLUSH_MS, and once more at close.
  let meteringTimer: (() => void) | undefined;
  const scheduleMetering = () => {
    meteringTimer = clock.setTimer(Math.max(100, config.meteringFlushMs), () => {
      app.meter.flush().finally(() => {
        if (meteringTimer) scheduleMetering();
      });
    });
  };
  scheduleMetering();
  const current = () => Promise.resolve(app);
  const lostCompletion = (job: DeliveryJob, error: unknown) =>
    logger.warn('could not record a finished delivery; a restart sends it again', {
      hook_id: job.hookId,
      delivery_id: job.deliveryId,
      error,
    });
  // The version before the journal kept its queue in queue.json; its jobs and dead letters move over.
  const imported = journal
    ? await importQueueFile(
        join(dataDir as string, 'queue.json'),
        journal,
        (entry) => app.deadLetters.put(entry),
        logger,
      )
    : [];
  queue.start(async (job) => {
    const outcome = await app.deliver(job);
    // A retry is a new send (journaled as such); anything else ends the delivery. Not awaited: a
    // completion lost in a crash only means the delivery is sent again, under the same id.
    if (outcome !== 'retry') journal?.completed([job.deliveryId]).catch((error) => lostCompletion(job, error));
  });
  if (backlog) await restore(queue, bus, [...backlog.jobs, ...imported], backlog.undispatched, clock, logger);

  const consoleAssets = loadOnce(async () => (await import('../consoleBundle.ts')).buildConsole());
  const guard = edgeGuard(
    config.authMode === 'api-keys'
      ? createAuthenticator({ resolver: app.apiKeys, operatorKey: config.operatorKey as string })
      : undefined,
    logger,
  );
  const server = createApiGatewayServer(
    [
      ...INGEST_ROUTES.map((route) => ({
        method: route.methods[0],
        path: route.path,
        handler: accessLogged(
          httpHandler(current, (a) => guard(a.ingest)),
          logger,
          clock,
        ),
      })),
      // Local only, beside the Admin API rather than in it: on AWS the same metrics go to CloudWatch.
      { method: 'GET', path: METRICS_PATH, handler: prometheusScrape(metrics, guard) },
      // The web console, built from its sources on first use (esbuild is loaded only then): a clone
      // serves it with no build step, and a start that never opens it pays nothing.
      ...CONSOLE_PATHS.map((path) => ({
        method: '*',
        path,
        handler: accessLogged(consoleHandler(consoleAssets, logger), logger, clock),
      })),
      {
        method: '*',
        path: '*',
        handler: accessLogged(
          httpHandler(current, (a) => guard(a.admin)),
          logger,
          clock,
        ),
      },
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
  http.destinations.addOwnEndpoint(`http://${host}:${address.port}`);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    app,
    config,
    storeCredentials: store.credentials,
    queue,
    bus: bus,
    journal,
    metrics,
    functions,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await bus.stop();
        await queue.stop({ drainMs: options.drainMs ?? 5_000 });
        await app.settled();
        meteringTimer?.();
        meteringTimer = undefined;
        // After the queue and the bus stopped: nothing counts any more.
        await app.meter.flush();
        // What is left (not delivered within drainMs) stays in the journal for the next start.
        await journal?.close();
        await eventLog.close();
        await deliveryLog?.close();
        server.closeAllConnections();
        await closed;
        await functions.close();
        http.close();
        await sweeper.stop();
        client.destroy();
        await store.close();
      })();
      return closing;
    },
  };
}

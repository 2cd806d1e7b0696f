import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLocalSecretCipher } from './adapters/local/secretCipher.ts';
import { HookService } from './admin/hookService.ts';
import { createHookWriteEffects } from './admin/hookWriteEffects.ts';
import type { ApiRequest, ApiResponse } from './admin/http.ts';
import { createAdminRouter } from './admin/router.ts';
import type { TenantAdmin } from './admin/tenantRoutes.ts';
import { ApiKeyStore } from './auth/apiKeys.ts';
import type { Config } from './config.ts';
import type { RetryPolicy } from './delivery/retryPolicy.ts';
import type { DeliveryLog, DeliveryLogSettings } from './deliveryLog/record.ts';
import type { HookEvent } from './events/envelope.ts';
import type { EventRecords } from './events/eventRecord.ts';
import { createGate } from './gate/gate.ts';
import { createThresholdCounter } from './gate/threshold.ts';
import type { HandlerDeps } from './handlers/types.ts';
import { userCodeSyntaxError } from './hooks/userCode.ts';
import type { HttpSender } from './http/httpSender.ts';
import type { Logger } from './logger.ts';
import { createUsageMeter, type UsageMeter } from './metering/meter.ts';
import { UsageStore } from './metering/usageStore.ts';
import { createAutoDisable } from './pipeline/autoDisable.ts';
import { createDeadLetters } from './pipeline/deadLetters.ts';
import { createDeliveries } from './pipeline/deliveries.ts';
import { createDeliveryWorker, type DeliveryOutcome } from './pipeline/deliveryWorker.ts';
import { createDispatcher } from './pipeline/dispatcher.ts';
import { createFunctionDeployer, type FunctionDeployer } from './pipeline/functionDeployer.ts';
import { HookCache } from './pipeline/hookCache.ts';
import { createHookRunner } from './pipeline/hookRunner.ts';
import { createIngest } from './pipeline/ingest.ts';
import { KONG_HTTP_LOG_PATH, kongHttpLogEvents } from './pipeline/kongHttpLog.ts';
import type { Clock } from './ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from './ports/deliveryQueue.ts';
import type { EventBus } from './ports/eventBus.ts';
import type { FunctionDeployQueue } from './ports/functionDeployQueue.ts';
import type { FunctionRunner } from './ports/functionRunner.ts';
import type { Metrics } from './ports/metrics.ts';
import type { SecretCipher } from './ports/secretCipher.ts';
import { createHookQuotaCheck } from './quotas/hookQuota.ts';
import { createIngestQuota } from './quotas/ingestQuota.ts';
import { QuotaBook } from './quotas/quotaBook.ts';
import { memoryRateCounter, type RateCounter } from './quotas/rateCounter.ts';
import { createHookSecrets, hookOpener } from './secrets/hookSecrets.ts';
import { AuditStore } from './store/auditStore.ts';
import { DeadLetterStore } from './store/deadLetterStore.ts';
import { DeliveryLogStore } from './store/deliveryLogStore.ts';
import { EventRecordStore } from './store/eventRecordStore.ts';
import { setHookDeployment } from './store/hookDeployment.ts';
import { HookStore } from './store/hookStore.ts';
import { IdempotencyStore } from './store/idempotencyStore.ts';
import { SourceStore } from './store/sourceStore.ts';
import { deleteTenantItems, TenantStore } from './store/tenantStore.ts';

/** The adapters behind the ports; the only part that differs between AWS and the local runtime. */
export interface AppPorts {
  /**
   * Where accepted events and `event_hooks` changes go. Publish only: what reads the bus is wired by
   * the runtime after the app exists (the EventBridge rule on AWS, `subscribe(app.dispatch)` locally).
   */
  bus: EventBus;
  queue: DeliveryQueue;
  functions: FunctionRunner;
  http: HttpSender;
  /**
   * Where deploy jobs go, built with the job runner: an SQS queue read by the deploy worker on AWS.
   * Default: each job runs at once, inside the request (the local runtime, where deploying is instant).
   */
  deployments?: (run: FunctionDeployer) => FunctionDeployQueue;
  /**
   * The delivery log: locally a journal file (LocalDeliveryLog, built with `deliveryLogSettings`).
   * Default: the table (DeliveryLogStore). Unused when DELIVERY_LOG is off.
   */
  deliveryLog?: DeliveryLog;
  /**
   * Where event records go (`GET /events/{id}`). Default: the table, one item per event (AWS). The
   * local runtime keeps them in its event log instead (adapters/local/eventLog.ts).
   */
  events?: EventRecords;
  /**
   * Seals hook secrets at rest: KMS on AWS, the data folder's key file locally. Default: a key held
   * in memory only, which suits a store that lives no longer than the process.
   */
  secrets?: SecretCipher;
  /**
   * Counts each tenant's events per second: a counter item on the table on AWS, where many
   * instances share a quota. Default: in memory (the local runtime is one process).
   */
  rate?: RateCounter;
}

export interface AppOptions {
  config: Config;
  client: DynamoDBDocumentClient;
  clock: Clock;
  logger: Logger;
  retryPolicy: RetryPolicy;
  ports: AppPorts;
  /** Where the pipeline counts and times what it does; nothing is reported without it. */
  metrics?: Metrics;
}

export interface App {
  readonly config: Config;
  readonly service: HookService;
  readonly hooks: HookStore;
  readonly cache: HookCache;
  readonly bus: EventBus;
  readonly queue: DeliveryQueue;
  /** Final failures, served by `/dead-letters`. */
  readonly deadLetters: DeadLetterStore;
  /** Every delivery's attempts (issue 12); absent when DELIVERY_LOG is off. */
  readonly deliveryLog: DeliveryLog | undefined;
  /** Tenant API keys; also the `ApiKeyResolver` the edge authenticates with (docs/saas.md). */
  readonly apiKeys: ApiKeyStore;
  readonly tenants: TenantStore;
  /** Removes a tenant with everything it owns: keys, hooks and their user functions, sources, dead letters, idempotency records, gate windows. */
  deleteTenant(id: string): Promise<void>;
  /** Each event and its outcome per hook, served by `GET /events/{id}`. */
  readonly events: EventRecords;
  /** Every change through the Admin API, per tenant, served by `/audit` (see `recordChange` for other routes). */
  readonly audit: AuditStore;
  readonly logger: Logger;
  /** The Admin API. */
  admin(request: ApiRequest): Promise<ApiResponse>;
  /** `POST /events`, and `POST /ingest/kong-http-log` (Kong's http-log entries, turned into events). */
  ingest(request: ApiRequest): Promise<ApiResponse>;
  /** The dispatcher: one event from the bus → delivery jobs. */
  dispatch(event: HookEvent): Promise<DeliveryJob[]>;
  /** The delivery worker: one attempt of one job. */
  deliver(job: DeliveryJob): Promise<DeliveryOutcome>;
  /** The deploy worker: one job on the user functions of a hook (see `FunctionDeployJob`). */
  deployFunctions: FunctionDeployer;
  /** Each tenant's quotas (docs/saas.md § Quotas). */
  readonly quotas: QuotaBook;
  /** Usage per tenant and day, counted in memory; the runtime flushes it (docs/saas.md § Metering). */
  readonly meter: UsageMeter;
  /** Resolves when background work started by admin writes (pings) has finished. */
  settled(): Promise<void>;
}

/** What the delivery log keeps, from the configuration. */
export function deliveryLogSettings(config: Config): DeliveryLogSettings {
  return { captureBodies: config.captureBodies, retentionDays: config.deliveryLogRetentionDays };
}

/** The composition root: one core wired to whichever adapters the runtime provides. */
export function createApp(options: AppOptions): App {
  const { config, client, clock, logger, ports } = options;
  const metrics = options.metrics ? { metrics: options.metrics } : {};
  const tableName = config.tableName;
  const secrets = createHookSecrets(ports.secrets ?? createLocalSecretCipher());
  const hooks = new HookStore({ client, tableName, secrets });
  const sources = new SourceStore({ client, tableName });
  const cache = new HookCache({ hooks, sources, clock, checkIntervalMs: config.hookCacheCheckMs });
  const quotas = new QuotaBook({ client, tableName, defaults: config.quotas, clock });
  const usage = new UsageStore({ client, tableName, clock });
  const meter = createUsageMeter({ store: usage, clock, logger });
  const checkHookQuotas = createHookQuotaCheck({ hooks, quotas });
  const depsByTenant = new Map<string, HandlerDeps>();
  const handlerDeps = (tenant: string): HandlerDeps => {
    let deps = depsByTenant.get(tenant);
    if (!deps) {
      deps = {
        http: ports.http,
        // Every call of a user function (code or a named Lambda function) is metered to the tenant.
        functions: {
          deploy: (hook) => ports.functions.deploy(hook),
          remove: (hook) => ports.functions.remove(hook),
          invoke: (target, args) => {
            meter.add(tenant, 'function_invocations');
            return ports.functions.invoke(target, args);
          },
        },
        logger,
        tenant,
        templateMaxBytes: config.templateMaxBytes,
        clock,
      };
      depsByTenant.set(tenant, deps);
    }
    return deps;
  };
  const bus = ports.bus;
  const deployFunctions = createFunctionDeployer({
    hooks,
    functions: ports.functions,
    setDeployment: async (change) => {
      const marked = await setHookDeployment(client, tableName, change);
      // This process's deliveries see it at once; others within HOOK_CACHE_CHECK_MS (the version was bumped).
      if (marked) cache.invalidate(change.tenant);
      return marked;
    },
    logger,
  });
  const deployQueue = (ports.deployments ?? ((run) => ({ send: (job) => run(job) })))(deployFunctions);
  const writeEffects = createHookWriteEffects({
    functions: ports.functions,
    deployQueue,
    invalidate: (tenant) => cache.invalidate(tenant),
    bus,
    handlerDeps,
    checkQuotas: checkHookQuotas,
    awaitPing: config.runtime === 'aws',
    logger,
  });

  const service = new HookService({
    hooks,
    sources,
    clock,
    secrets,
    userCodeSyntaxError,
    reservedFunctionPrefix: config.userFunctionPrefix,
    destinationRefusal: (url) => ports.http.destinations.urlRefusal(url)?.message,
    verifyWrite: writeEffects.verifyWrite,
    beforeWrite: writeEffects.beforeWrite,
    afterWrite: writeEffects.afterWrite,
    afterCatalogWrite: (tenant) => cache.invalidate(tenant),
  });
  const deadLetterStore = new DeadLetterStore({
    client,
    tableName,
    retentionDays: config.deadLetterRetentionDays,
    clock,
  });
  const events: EventRecords = ports.events ?? new EventRecordStore({ client, tableName, clock });
  const dispatch = createDispatcher({
    events,
    recordPolicy: { captureBodies: config.captureBodies, retentionDays: config.eventRetentionDays },
    cache,
    gate: createGate({ client, tableName, clock }),
    threshold: createThresholdCounter({ client, tableName, clock }),
    queue: ports.queue,
    deadLetters: deadLetterStore,
    clock,
    logger,
    ...metrics,
  });
  const deliveryLog: DeliveryLog | undefined = config.deliveryLog
    ? (ports.deliveryLog ?? new DeliveryLogStore({ client, tableName, settings: deliveryLogSettings(config), clock }))
    : undefined;
  const autoDisable = deliveryLog
    ? createAutoDisable({
        failures: config.autoDisableFailures,
        windowMs: config.autoDisableWindowMs,
        log: deliveryLog,
        hooks,
        open: (tenant, hook) => secrets.open(tenant, hook),
        invalidate: (tenant) => cache.invalidate(tenant),
        bus: () => bus,
        clock,
        logger,
      })
    : undefined;
  const deliver = createDeliveryWorker({
    hooks: cache,
    // The one pipeline stage that opens secrets: the dispatcher matches and gates sealed hooks.
    open: hookOpener(secrets),
    queue: ports.queue,
    deadLetters: deadLetterStore,
    handlerDeps,
    policy: options.retryPolicy,
    clock,
    logger,
    meter,
    ...metrics,
    ...(deliveryLog ? { deliveryLog } : {}),
    ...(autoDisable
      ? { afterDead: async (tenant: string, hookId: string) => void (await autoDisable(tenant, hookId)) }
      : {}),
  });
  const apiKeys = new ApiKeyStore({ client, tableName, clock });
  const tenants = new TenantStore({ client, tableName, clock });
  const deleteTenant = async (tenant: string) => {
    // Keys first, so nothing new arrives for it; the tenant's own item last, so that a deletion cut
    // short (a table too large to scan in one request) can be sent again.
    await apiKeys.deleteAll(tenant);
    for (const hook of await hooks.listAll(tenant)) {
      await hooks.delete(tenant, hook.id);
      await writeEffects.removeFunctions(tenant, hook);
    }
    // Before its usage items go, so that no flush (this one, or one under way) writes them back.
    meter.forget(tenant);
    await meter.flush();
    const items = await deleteTenantItems(client, tableName, tenant);
    // The local runtime keeps event and delivery records in files of their own, which the table's deletion misses.
    await events.deleteTenant?.(tenant);
    await deliveryLog?.deleteTenant?.(tenant);
    cache.invalidate(tenant);
    depsByTenant.delete(tenant);
    await tenants.delete(tenant);
    logger.info('tenant deleted', { tenant, items });
  };
  const tenantAdmin: TenantAdmin = {
    tenants,
    keys: apiKeys,
    deleteTenant,
    ...(config.tenancy === 'single' ? { single: config.tenant } : {}),
  };
  const audit = new AuditStore({ client, tableName, retentionDays: config.auditRetentionDays, clock });
  // One count per tenant for events and replays alike (docs/saas.md § Quotas).
  const ingestQuota = createIngestQuota({ quotas, rate: ports.rate ?? memoryRateCounter(clock) });
  const admitReplays = (tenant: string, count: number) => ingestQuota.admitEvents(tenant, count);
  const admin = createAdminRouter({
    service,
    logger,
    tenant: config.tenant,
    runner: createHookRunner(handlerDeps),
    deadLetters: createDeadLetters({
      store: deadLetterStore,
      queue: ports.queue,
      clock,
      admit: admitReplays,
      ...(deliveryLog ? { log: deliveryLog } : {}),
    }),
    ...(deliveryLog
      ? {
          deliveries: createDeliveries({
            log: deliveryLog,
            queue: ports.queue,
            clock,
            deadLetters: deadLetterStore,
            admit: admitReplays,
          }),
        }
      : {}),
    // The operator routes exist only where someone can be the operator.
    ...(config.authMode === 'none' ? {} : { tenants: tenantAdmin }),
    events,
    audit,
    quotas,
    usage,
  });
  const ingestOptions = {
    bus,
    catalog: (tenant: string) => cache.catalog(tenant),
    logger,
    ...metrics,
    tenant: config.tenant,
    maxEventBytes: config.maxEventBytes,
    idempotency: new IdempotencyStore({ client, tableName, clock }),
    quota: ingestQuota,
    meter,
  };
  const ingestEvents = createIngest(ingestOptions);
  const ingestKongHttpLog = createIngest({ ...ingestOptions, toEvents: kongHttpLogEvents });
  // One entry point for both routes, so that one function (and one set of limits) serves them on AWS.
  const ingest = (request: ApiRequest) =>
    request.path.replace(/\/+$/, '') === KONG_HTTP_LOG_PATH ? ingestKongHttpLog(request) : ingestEvents(request);

  return {
    config,
    service,
    hooks,
    cache,
    bus,
    queue: ports.queue,
    deadLetters: deadLetterStore,
    deliveryLog,
    apiKeys,
    tenants,
    deleteTenant,
    events,
    audit,
    logger,
    admin,
    ingest,
    dispatch,
    deliver,
    deployFunctions,
    quotas,
    meter,
    settled: () => writeEffects.settled(),
  };
}

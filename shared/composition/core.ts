import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.ts';
import type { RetryPolicy } from '../delivery/retryPolicy.ts';
import type { DeliveryLog, DeliveryLogSettings } from '../deliveryLog/record.ts';
import type { EventRecords } from '../events/eventRecord.ts';
import type { HandlerDeps } from '../handlers/types.ts';
import type { HttpSender } from '../http/httpSender.ts';
import type { Logger } from '../logger.ts';
import { createUsageMeter, type UsageMeter } from '../metering/meter.ts';
import { UsageStore } from '../metering/usageStore.ts';
import type { FunctionDeployer } from '../pipeline/functionDeployer.ts';
import { HookCache } from '../pipeline/hookCache.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue } from '../ports/deliveryQueue.ts';
import type { EventBus } from '../ports/eventBus.ts';
import type { FunctionDeployQueue } from '../ports/functionDeployQueue.ts';
import type { FunctionRunner } from '../ports/functionRunner.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { SecretCipher } from '../ports/secretCipher.ts';
import { createIngestQuota, type IngestQuota } from '../quotas/ingestQuota.ts';
import { QuotaBook } from '../quotas/quotaBook.ts';
import { memoryRateCounter, type RateCounter } from '../quotas/rateCounter.ts';
import { createHookSecrets, type HookSecrets } from '../secrets/hookSecrets.ts';
import { DeadLetterStore } from '../store/deadLetterStore.ts';
import { DeliveryLogStore } from '../store/deliveryLogStore.ts';
import { EventRecordStore } from '../store/eventRecordStore.ts';
import { HookStore } from '../store/hookStore.ts';
import { SourceStore } from '../store/sourceStore.ts';

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
   * Seals hook secrets at rest: KMS on AWS, the data folder's key file locally. Default (in
   * `createApp`): a key held in memory only, which suits a store that lives no longer than the process.
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

/**
 * What every surface of the service shares: the configuration, the adapters, the stores of hooks and
 * sources and their cache, quotas and metering. Building it loads no surface (Admin API, ingest,
 * dispatcher, delivery worker, deploy worker): each Lambda function adds the one it serves
 * (shared/composition/*Surface.ts), so its bundle carries only that code; `createApp` adds them all.
 */
export interface Core {
  readonly config: Config;
  readonly client: DynamoDBDocumentClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How a failed delivery is retried (the delivery worker's). */
  readonly retryPolicy: RetryPolicy;
  readonly ports: AppPorts & { secrets: SecretCipher };
  /** `{ metrics }` when there are metrics, else `{}`: spread into what reports them. */
  readonly metrics: { metrics?: Metrics };
  readonly secrets: HookSecrets;
  readonly hooks: HookStore;
  readonly sources: SourceStore;
  readonly cache: HookCache;
  readonly bus: EventBus;
  readonly queue: DeliveryQueue;
  /** Final failures, served by `/dead-letters`. */
  readonly deadLetters: DeadLetterStore;
  /** Each event and its outcome per hook, served by `GET /events/{id}`. */
  readonly events: EventRecords;
  /** Every delivery's attempts (issue 12); absent when DELIVERY_LOG is off. */
  readonly deliveryLog: DeliveryLog | undefined;
  /** Each tenant's quotas (docs/saas.md § Quotas). */
  readonly quotas: QuotaBook;
  /** Events per second per tenant, one count for posted events and replays alike (docs/saas.md § Quotas). */
  readonly ingestQuota: IngestQuota;
  readonly usage: UsageStore;
  /** Usage per tenant and day, counted in memory; the runtime flushes it (docs/saas.md § Metering). */
  readonly meter: UsageMeter;
  /** What a handler of the tenant is built with (one object per tenant, kept). */
  handlerDeps(tenant: string): HandlerDeps;
  /** Forgets what was kept for a tenant (its handler deps), once it is deleted. */
  forgetTenant(tenant: string): void;
}

/** What the delivery log keeps, from the configuration. */
export function deliveryLogSettings(config: Config): DeliveryLogSettings {
  return { captureBodies: config.captureBodies, retentionDays: config.deliveryLogRetentionDays };
}

/** The shared part of the app; `ports.secrets` is required here (createApp gives the local default). */
export function createCore(options: AppOptions & { ports: { secrets: SecretCipher } }): Core {
  const { config, client, clock, logger, ports } = options;
  const tableName = config.tableName;
  const secrets = createHookSecrets(ports.secrets);
  const hooks = new HookStore({ client, tableName, secrets });
  const sources = new SourceStore({ client, tableName });
  const cache = new HookCache({ hooks, sources, clock, checkIntervalMs: config.hookCacheCheckMs });
  const quotas = new QuotaBook({ client, tableName, defaults: config.quotas, clock });
  const ingestQuota = createIngestQuota({ quotas, rate: ports.rate ?? memoryRateCounter(clock) });
  const usage = new UsageStore({ client, tableName, clock });
  const meter = createUsageMeter({ store: usage, clock, logger });
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
  const deadLetters = new DeadLetterStore({
    client,
    tableName,
    retentionDays: config.deadLetterRetentionDays,
    clock,
  });
  const events: EventRecords = ports.events ?? new EventRecordStore({ client, tableName, clock });
  const deliveryLog = config.deliveryLog
    ? (ports.deliveryLog ?? new DeliveryLogStore({ client, tableName, settings: deliveryLogSettings(config), clock }))
    : undefined;
  return {
    config,
    client,
    clock,
    logger,
    retryPolicy: options.retryPolicy,
    ports,
    metrics: options.metrics ? { metrics: options.metrics } : {},
    secrets,
    hooks,
    sources,
    cache,
    bus: ports.bus,
    queue: ports.queue,
    deadLetters,
    events,
    deliveryLog,
    quotas,
    ingestQuota,
    usage,
    meter,
    handlerDeps,
    forgetTenant: (tenant) => void depsByTenant.delete(tenant),
  };
}

import { Aws, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_USER_FUNCTION_PREFIX_LENGTH } from '../../shared/adapters/aws/userFunctionPackage.ts';
import { AWS_RETRY_POLICY } from '../../shared/delivery/retryPolicy.ts';
import { DEFAULT_TENANT } from '../../shared/hooks/hook.ts';
import type { LogLevel } from '../../shared/logger.ts';
import type { QuotaOverrides } from '../../shared/quotas/quotas.ts';
import { TABLE_SCHEMA } from '../../shared/store/table.ts';
import type { FunctionName } from '../bundle.ts';
import { EventHooksHttpApi } from './api.ts';
import {
  FUNCTION_DEFAULTS,
  FUNCTION_NAMES,
  type FunctionCodeProps,
  ServiceFunction,
  serviceFunctionCode,
} from './functions.ts';
import { Monitoring } from './monitoring.ts';
import { acknowledgeFindings } from './nag.ts';
import { grantLeastPrivilege } from './permissions.ts';
import { type AccessSettings, type AuthMode, accessSettings, type Tenancy } from './tenancy.ts';
import { UserFunctionDeployment } from './userFunctionDeployment.ts';

export interface EventHooksProps extends FunctionCodeProps {
  /** Prefix of every named resource and of the user-code functions. Letters, digits, `-`. Default `event-hooks`. */
  namePrefix?: string;
  /** The fixed tenant of a single-tenant deployment. Default `default`. */
  tenant?: string;
  /**
   * `TENANCY`: `single` (default) serves the one `tenant`; `multi` serves many, each request's tenant
   * decided by its API key, and lets only the service put events on the bus. Requires `authMode: 'api-keys'`.
   */
  tenancy?: Tenancy;
  /**
   * `AUTH_MODE`: `iam` (default) signs every route but `/health` with SigV4; `api-keys` checks tenant
   * keys with a Lambda authorizer; `none` leaves tenant routes open. Operator routes (`/tenants*`) are IAM in every mode.
   */
  authMode?: AuthMode;
  /** Retention of every log group. Default one month. */
  logRetention?: logs.RetentionDays;
  /** `LOG_LEVEL` of the service functions. Default `info`. */
  logLevel?: LogLevel;
  memorySizes?: Partial<Record<FunctionName, number>>;
  timeouts?: Partial<Record<FunctionName, Duration>>;
  /** `authMode: 'iam'` only: the Admin API requires SigV4-signed requests. Default true. */
  adminIamAuth?: boolean;
  /** `authMode: 'iam'` only: `POST /events` requires SigV4-signed requests. Default true. */
  ingestIamAuth?: boolean;
  /** Delivery retries (`RETRY_*`); defaults from `AWS_RETRY_POLICY`. */
  retry?: { maxAttempts?: number; maxAgeMs?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Receives of one delivery message before SQS moves it to the dead-letter queue (crashes, timeouts). Default 5. */
  maxReceiveCount?: number;
  /** EventBridge's retries of the dispatcher target, then the events dead-letter queue. Default 8. */
  busRetryAttempts?: number;
  /** Oldest event EventBridge still hands to the dispatcher. Default 6 hours. */
  busMaxEventAge?: Duration;
  /** Delete protection of the table (and it is then retained when the stack goes). Default true. */
  deletionProtection?: boolean;
  /**
   * ARNs of existing Lambda functions that `lambda` hooks may name and the service may invoke
   * (qualified ARNs for versions or aliases). Default none: only the deployment's own user-code functions.
   */
  invokableFunctionArns?: string[];
  /** Timeout of each user-code function. Default 5 s. */
  userFunctionTimeout?: Duration;
  /** Memory of each user-code function. Default 128 MB. */
  userFunctionMemorySize?: number;
  /** `HOOK_CACHE_CHECK_MS`: how often the dispatcher checks whether the hooks changed. Default 1000. */
  hookCacheCheckMs?: number;
  /** `BLOCK_PRIVATE_NETWORKS`: refuse webhook URLs that resolve to private addresses. Default true. */
  blockPrivateNetworks?: boolean;
  /** Messages per delivery invocation. Default 10. */
  deliveryBatchSize?: number;
  /**
   * Most concurrent delivery invocations (2–1000), so a backlog of deliveries cannot take the
   * account's whole concurrency from the API and the dispatcher. Default 50.
   */
  deliveryMaxConcurrency?: number;
  /**
   * Reserved concurrency of the functions that must answer even while deliveries are busy (the
   * Admin API, `POST /events`, the dispatcher), or `false` for none. AWS keeps at least 100 of an
   * account's concurrency unreserved, so an account with a low quota (new accounts start at 10)
   * cannot reserve anything: deploy there with `false` (`-c reservedConcurrency=off`).
   * Default `{ admin: 5, ingest: 20, dispatcher: 20 }`.
   */
  reservedConcurrency?: Partial<Record<ReservedFunction, number>> | false;
  /** HTTP API throttling. Default 100 requests per second, burst 200. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Most deploy workers of user functions at once (2–1000). Default 2, within Lambda's control-plane quota. */
  deployerMaxConcurrency?: number;
  /** How often unused user functions are swept. Default every hour. */
  sweepEvery?: Duration;
  /**
   * X-Ray active tracing of the service functions, by Lambda itself (no X-Ray SDK in the bundles).
   * Default false: at low traffic nearly every invocation is sampled, at $5 per million traces,
   * which alone could exceed the service's cost per million events; turn it on to investigate.
   */
  tracing?: boolean;
  /** Age of the oldest delivery message that raises the `DeliveryQueueAge` alarm. Default 30 minutes. */
  queueAgeAlarmThreshold?: Duration;
  /**
   * `CAPTURE_BODIES`: keep event data over 1 KB in event records (`GET /events/{id}`), and bodies in
   * the delivery log. Default true; false keeps only their size, and stores less.
   */
  captureBodies?: boolean;
  /** `EVENT_RETENTION_DAYS`: how long event records are kept (DynamoDB TTL, checked on read too). Default 7. */
  eventRetentionDays?: number;
  /**
   * Every tenant's quotas unless its operator set others (`QUOTA_*`, docs/saas.md § Quotas): a count
   * each, `null` for no limit. Default: those of the deployment's tenancy.
   */
  quotas?: QuotaOverrides;
  /**
   * The delivery log (docs/operations.md): `enabled` (`DELIVERY_LOG`, default true), `retentionDays`
   * (`DELIVERY_LOG_RETENTION_DAYS`, default 7); its bodies follow `captureBodies`. See docs/deploy.md
   * for what it costs per million deliveries.
   */
  deliveryLog?: { enabled?: boolean; retentionDays?: number };
  /** Auto-disable of failing hooks: after `failures` failed deliveries in a row (0: never; default 50) spanning `window` (default 5 days). */
  autoDisable?: { failures?: number; window?: Duration };
}

/** The `QUOTA_*` variables of the quotas set in props (`none` for no limit). */
export function quotaEnvironment(quotas: QuotaOverrides): Record<string, string> {
  return Object.fromEntries(
    Object.entries(quotas).map(([name, value]) => [
      `QUOTA_${name.toUpperCase()}`,
      value === null ? 'none' : String(value),
    ]),
  );
}

/** The functions that get reserved concurrency; delivery is capped by its event source instead. */
export type ReservedFunction = 'admin' | 'ingest' | 'dispatcher';

export const DEFAULT_RESERVED_CONCURRENCY: Record<ReservedFunction, number> = { admin: 5, ingest: 20, dispatcher: 20 };
export const DEFAULT_DELIVERY_MAX_CONCURRENCY = 50;
/** SQS's largest message (1 MiB since 2025); a queue's own `MaximumMessageSize` defaults to 256 KiB. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * Everything event-hooks needs on AWS, as one construct to drop into any CDK app: the HTTP API,
 * the four functions, the table, the bus and its rule, the delivery queue, the dead-letter queues
 * and the role of user-code functions.
 *
 * @example
 * new EventHooks(stack, 'EventHooks', { namePrefix: 'hooks', adminIamAuth: true });
 */
export class EventHooks extends Construct {
  readonly table: dynamodb.Table;
  /** Seals hook secrets at rest (envelope encryption; docs/saas.md, "Secrets at rest"). */
  readonly secretsKey: kms.Key;
  readonly bus: events.EventBus;
  readonly dispatchRule: events.Rule;
  readonly deliveryQueue: sqs.Queue;
  /** Final delivery failures (`deadLetter`) and messages SQS gave up on. */
  readonly deadLetterQueue: sqs.Queue;
  /** Events the dispatcher could not take (EventBridge target failures and failed async invocations). */
  readonly eventsDeadLetterQueue: sqs.Queue;
  /** The service functions; `authorizer` only with `authMode: 'api-keys'`. */
  readonly functions: Record<Exclude<FunctionName, 'authorizer'>, lambda.Function> & { authorizer?: lambda.Function };
  /** Tenancy and auth as the props resolved them. */
  readonly access: AccessSettings;
  readonly httpApi: EventHooksHttpApi;
  /** The role of every user-code function: no permission at all (see docs/user-code.md). */
  readonly userFunctionRole: iam.Role;
  /** Every user-code function is named `${userFunctionPrefix}-<hash>-<hash>` (from tenant, hook, index and code). */
  readonly userFunctionPrefix: string;
  /** The deploy queue, deploy worker and sweeper of user functions. */
  readonly userFunctionDeployment: UserFunctionDeployment;
  /** The alarms, their topic and the dashboard (see docs/operations.md). */
  readonly monitoring: Monitoring;
  /** Every alarm notifies this topic: subscribe to it. */
  readonly alarmTopic: sns.Topic;
  /** The CloudWatch namespace of the service's own metrics (EMF). */
  readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: EventHooksProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix ?? 'event-hooks';
    this.userFunctionPrefix = `${prefix}-user`;
    validate(prefix, this.userFunctionPrefix, props);
    this.access = accessSettings(props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const deliveryTimeout = props.timeouts?.delivery ?? FUNCTION_DEFAULTS.delivery.timeout;
    this.metricsNamespace = `EventHooks/${prefix}`;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: (props.deletionProtection ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.bySourceIndex.name,
      partitionKey: { name: TABLE_SCHEMA.bySourceIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.bySourceIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // Kept as long as the table: without it, the secrets the table holds could never be opened again.
    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `event-hooks ${prefix}: hook secrets at rest`,
      enableKeyRotation: true,
      removalPolicy: (props.deletionProtection ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${prefix}-bus` });
    const queueDefaults = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    this.eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      ...queueDefaults,
      queueName: `${prefix}-events-dlq`,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueDefaults,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      queueName: `${prefix}-delivery-dlq`,
      retentionPeriod: Duration.days(14),
    });
    this.deliveryQueue = new sqs.Queue(this, 'DeliveryQueue', {
      ...queueDefaults,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      queueName: `${prefix}-delivery`,
      // A message must not reappear while a delivery of its batch may still be running (AWS advises 6x).
      visibilityTimeout: Duration.seconds(deliveryTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    // No policy at all, not even CloudWatch Logs: a log group writable by every tenant's code would
    // let one tenant write into (or flood) what operators read as another's. The invoking function
    // writes each invocation's log tail to its own log, under the tenant's name (functionRunner.ts).
    this.userFunctionRole = new iam.Role(this, 'UserFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'event-hooks user code: no permission at all',
    });

    // User functions are deployed off the request path (see userFunctionDeployment.ts).
    this.userFunctionDeployment = new UserFunctionDeployment(this, 'UserFunctionDeployment', {
      namePrefix: prefix,
      deployerTimeout: props.timeouts?.deployer ?? FUNCTION_DEFAULTS.deployer.timeout,
    });

    const retry = { ...AWS_RETRY_POLICY, ...props.retry };
    const environment: Record<string, string> = {
      RUNTIME: 'aws',
      TENANT: props.tenant ?? DEFAULT_TENANT,
      TENANCY: this.access.tenancy,
      AUTH_MODE: this.access.authMode,
      TABLE_NAME: this.table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      DELIVERY_QUEUE_URL: this.deliveryQueue.queueUrl,
      USER_FUNCTION_PREFIX: this.userFunctionPrefix,
      USER_FUNCTION_ROLE_ARN: this.userFunctionRole.roleArn,
      FUNCTION_TIMEOUT_MS: String((props.userFunctionTimeout ?? Duration.seconds(5)).toMilliseconds()),
      FUNCTION_MEMORY_MB: String(props.userFunctionMemorySize ?? 128),
      RETRY_MAX_ATTEMPTS: String(retry.maxAttempts),
      RETRY_MAX_AGE_MS: String(retry.maxAgeMs),
      RETRY_BASE_DELAY_MS: String(retry.baseDelayMs),
      RETRY_MAX_DELAY_MS: String(retry.maxDelayMs),
      HOOK_CACHE_CHECK_MS: String(props.hookCacheCheckMs ?? 1000),
      BLOCK_PRIVATE_NETWORKS: String(props.blockPrivateNetworks ?? true),
      LOG_LEVEL: props.logLevel ?? 'info',
      CAPTURE_BODIES: String(props.captureBodies ?? true),
      EVENT_RETENTION_DAYS: String(props.eventRetentionDays ?? 7),
      METRICS_NAMESPACE: this.metricsNamespace,
      DELIVERY_LOG: String(props.deliveryLog?.enabled ?? true),
      DELIVERY_LOG_RETENTION_DAYS: String(props.deliveryLog?.retentionDays ?? 7),
      AUTO_DISABLE_FAILURES: String(props.autoDisable?.failures ?? 50),
      AUTO_DISABLE_WINDOW_SECONDS: String((props.autoDisable?.window ?? Duration.days(5)).toSeconds()),
      SECRETS_KEY_ARN: this.secretsKey.keyArn,
      ...quotaEnvironment(props.quotas ?? {}),
      ...this.userFunctionDeployment.environment,
    };

    const { code, release } = serviceFunctionCode(this, props);
    const reserved =
      props.reservedConcurrency === false ? {} : { ...DEFAULT_RESERVED_CONCURRENCY, ...props.reservedConcurrency };
    const built = {} as Record<FunctionName, ServiceFunction>;
    for (const name of FUNCTION_NAMES) {
      if (name === 'authorizer' && this.access.authMode !== 'api-keys') continue;
      built[name] = new ServiceFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}`, {
        name,
        code: code[name],
        functionName: `${prefix}-${name}`,
        environment,
        logRetention,
        memorySize: props.memorySizes?.[name],
        timeout: props.timeouts?.[name],
        reservedConcurrentExecutions: (reserved as Partial<Record<FunctionName, number>>)[name],
        ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      });
    }
    release();
    this.functions = {
      admin: built.admin.function,
      ingest: built.ingest.function,
      dispatcher: built.dispatcher.function,
      delivery: built.delivery.function,
      deployer: built.deployer.function,
      sweeper: built.sweeper.function,
      ...(built.authorizer ? { authorizer: built.authorizer.function } : {}),
    };

    const maxEventAge = props.busMaxEventAge ?? Duration.hours(6);
    this.dispatchRule = new events.Rule(this, 'DispatchRule', {
      eventBus: this.bus,
      description: 'Every event on the bus goes to the dispatcher',
      // The bus is this service's own: every event on it is for the dispatcher.
      eventPattern: { source: events.Match.prefix('') },
      targets: [
        new targets.LambdaFunction(this.functions.dispatcher, {
          deadLetterQueue: this.eventsDeadLetterQueue,
          retryAttempts: props.busRetryAttempts ?? 8,
          maxEventAge,
        }),
      ],
    });
    // EventBridge invokes asynchronously: a dispatcher that throws is retried by Lambda, then dead-lettered.
    this.functions.dispatcher.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge,
      onFailure: sendOnlyQueueDestination(this.eventsDeadLetterQueue),
    });

    this.functions.delivery.addEventSource(
      new SqsEventSource(this.deliveryQueue, {
        batchSize: props.deliveryBatchSize ?? 10,
        reportBatchItemFailures: true,
        maxConcurrency: props.deliveryMaxConcurrency ?? DEFAULT_DELIVERY_MAX_CONCURRENCY,
      }),
    );

    this.httpApi = new EventHooksHttpApi(this, 'HttpApi', {
      apiName: `${prefix}-api`,
      admin: this.functions.admin,
      ingest: this.functions.ingest,
      authMode: this.access.authMode,
      ...(this.functions.authorizer ? { authorizer: this.functions.authorizer } : {}),
      adminIamAuth: this.access.adminIamAuth,
      ingestIamAuth: this.access.ingestIamAuth,
      logRetention,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
    });

    const invokableFunctionArns = props.invokableFunctionArns ?? [];
    // Pseudo-parameters rather than the stack's env: the same ARN text whether or not the stack is env-agnostic.
    const userFunctionArnPattern = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${userFunctionNamePattern(this.userFunctionPrefix)}`;
    const roles = {
      admin: built.admin.role,
      ingest: built.ingest.role,
      dispatcher: built.dispatcher.role,
      delivery: built.delivery.role,
      deployer: built.deployer.role,
      sweeper: built.sweeper.role,
      ...(built.authorizer ? { authorizer: built.authorizer.role } : {}),
    };
    grantLeastPrivilege(this, { roles, userFunctionArnPattern, invokableFunctionArns });
    if (this.access.tenancy === 'multi') restrictPutEvents(this.bus, [roles.ingest, roles.admin]);
    // the same ARN as cdk-nag prints it, pseudo-parameters in angle brackets
    const nagUserFunctionArnPattern = `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${userFunctionNamePattern(this.userFunctionPrefix)}`;
    this.userFunctionDeployment.connect({
      deployer: this.functions.deployer,
      deployerRole: roles.deployer,
      sweeper: this.functions.sweeper,
      sweeperRole: roles.sweeper,
      senders: [roles.admin, roles.sweeper],
      table: this.table,
      userFunctionRole: this.userFunctionRole,
      userFunctionArnPattern,
      nagUserFunctionArnPattern,
      ...(props.deployerMaxConcurrency ? { deployerMaxConcurrency: props.deployerMaxConcurrency } : {}),
      ...(props.sweepEvery ? { sweepEvery: props.sweepEvery } : {}),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      namePrefix: prefix,
      metricsNamespace: this.metricsNamespace,
      dispatcher: this.functions.dispatcher,
      delivery: this.functions.delivery,
      deliveryQueue: this.deliveryQueue,
      deadLetterQueue: this.deadLetterQueue,
      eventsDeadLetterQueue: this.eventsDeadLetterQueue,
      table: this.table,
      api: this.httpApi.api,
      ...(props.queueAgeAlarmThreshold ? { queueAgeThreshold: props.queueAgeAlarmThreshold } : {}),
    });
    this.alarmTopic = this.monitoring.alarmTopic;
    acknowledgeFindings({
      tracedRoles: props.tracing ? Object.values(roles) : [],
      eventsDeadLetterQueue: this.eventsDeadLetterQueue,
      userFunctionRoles: [roles.admin, roles.delivery],
      userFunctionArnPattern: nagUserFunctionArnPattern,
      invokerRoles: [roles.admin, roles.delivery],
      invokableFunctionArns,
      openRoutes: this.httpApi.openRoutes,
    });
  }

  /** The HTTP API's base URL. */
  get apiUrl(): string {
    return this.httpApi.url;
  }
}

/**
 * The names user-code functions can have: the prefix, 16 characters of hash, then the rest of the hash. `?` matches
 * exactly one character, so the service's own functions (`<prefix>-admin`, …) never match it.
 */
export function userFunctionNamePattern(userFunctionPrefix: string): string {
  return `${userFunctionPrefix}-${'?'.repeat(16)}-*`;
}

/**
 * Multi-tenant: the bus takes events from the service's own ingest and admin roles only. Producers in
 * the account are allowed `PutEvents` by their identity policies, so an allow here would not keep
 * them out: an explicit deny to every other principal does, whatever their policies say. That makes
 * the tenant resource on an event (`event-hooks:tenant/<t>`) a field only ingest (and admin, for the
 * hooks' own change events) can set; producers go through `POST /events` with an `ingest` key.
 */
export function restrictPutEvents(bus: events.EventBus, putters: iam.IRole[]): void {
  bus.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyTheServicePutsEvents',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': putters.map((role) => role.roleArn) } },
    }),
  );
}

/** A failure destination that, unlike `SqsDestination`, grants `sqs:SendMessage` alone. */
function sendOnlyQueueDestination(queue: sqs.IQueue): lambda.IDestination {
  return {
    bind(_scope, fn) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      return { destination: queue.queueArn };
    },
  };
}

function validate(prefix: string, userFunctionPrefix: string, props: EventHooksProps): void {
  if (!Token.isUnresolved(prefix) && !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(prefix)) {
    throw new Error(`namePrefix must be letters, digits and '-', got '${prefix}'`);
  }
  if (userFunctionPrefix.length > MAX_USER_FUNCTION_PREFIX_LENGTH) {
    throw new Error(`namePrefix '${prefix}' is too long: at most ${MAX_USER_FUNCTION_PREFIX_LENGTH - 5} characters`);
  }
  const concurrency = props.deliveryMaxConcurrency;
  if (concurrency !== undefined && (concurrency < 2 || concurrency > 1000)) {
    throw new Error('deliveryMaxConcurrency must be between 2 and 1000');
  }
  // Values that synthesize but make every function fail at its first cold start.
  const wholeIn = (name: string, value: number | undefined, min: number, max: number, unit = '') => {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be a whole number from ${min} to ${max}${unit}, got ${value}`);
    }
  };
  const seconds = (name: string, value: Duration | undefined, min: number, max: number) => {
    if (value === undefined || value.isUnresolved()) return;
    const ms = value.toMilliseconds();
    if (ms < min * 1000 || ms > max * 1000 || ms % 1000 !== 0) {
      throw new Error(`${name} must be whole seconds from ${min} to ${max}, got ${value.toHumanString()}`);
    }
  };
  seconds('userFunctionTimeout', props.userFunctionTimeout, 1, 900);
  wholeIn('userFunctionMemorySize', props.userFunctionMemorySize, 128, 10_240, ' MB');
  for (const [name, size] of Object.entries(props.memorySizes ?? {})) {
    wholeIn(`memorySizes.${name}`, size, 128, 10_240, ' MB');
  }
  for (const [name, timeout] of Object.entries(props.timeouts ?? {})) seconds(`timeouts.${name}`, timeout, 1, 900);
  wholeIn('retry.maxAttempts', props.retry?.maxAttempts, 1, 100);
  wholeIn('retry.maxAgeMs', props.retry?.maxAgeMs, 1, 14 * 24 * 3600 * 1000, ' ms');
  wholeIn('retry.baseDelayMs', props.retry?.baseDelayMs, 0, 12 * 3600 * 1000, ' ms');
  wholeIn('retry.maxDelayMs', props.retry?.maxDelayMs, 0, 12 * 3600 * 1000, ' ms');
  wholeIn('maxReceiveCount', props.maxReceiveCount, 1, 1000);
  wholeIn('busRetryAttempts', props.busRetryAttempts, 0, 185);
  wholeIn('deliveryBatchSize', props.deliveryBatchSize, 1, 10);
  wholeIn('hookCacheCheckMs', props.hookCacheCheckMs, 0, 3_600_000, ' ms');
  if (props.reservedConcurrency) {
    for (const [name, value] of Object.entries(props.reservedConcurrency)) {
      if (!(name in DEFAULT_RESERVED_CONCURRENCY)) {
        throw new Error(`reservedConcurrency.${name}: only admin, ingest and dispatcher can be reserved`);
      }
      wholeIn(`reservedConcurrency.${name}`, value, 1, 1000);
    }
  }
}

import { DEFAULT_TENANT } from './hooks/hook.ts';
import { DEFAULT_TEMPLATE_MAX_BYTES } from './hooks/templates.ts';
import { DEFAULT_DELIVERY_CONCURRENCY, defaultConcurrencyPerHook } from './ports/deliveryQueue.ts';
import { MAX_QUOTA, type Quotas, quotaDefaults } from './quotas/quotas.ts';
import { DEFAULT_TABLE_NAME } from './store/table.ts';

/**
 * Configuration from environment variables, with defaults that make the local run work.
 * Every variable is documented in the README's configuration table.
 */
export interface Config {
  runtime: 'local' | 'aws';
  tenant: string;
  tableName: string;
  /** DynamoDB endpoint for local stores; unset on AWS. */
  dynamodbEndpoint: string | undefined;
  eventBusName: string | undefined;
  deliveryQueueUrl: string | undefined;
  userFunctionPrefix: string;
  userFunctionRoleArn: string | undefined;
  /**
   * How often the cached hooks are checked against the store's version item (0 = on every event).
   * Writes made in the same process invalidate the cache at once; this bounds how late others are seen.
   */
  hookCacheCheckMs: number;
  blockPrivateNetworks: boolean;
  httpTimeoutMs: number;
  maxEventBytes: number;
  functionTimeoutMs: number;
  functionMemoryMb: number;
  /** Whether local user code may use the network (`FUNCTION_NETWORK`); on AWS each function is its own Lambda. */
  functionNetwork: 'none' | 'allow';
  lambdaEndpoint: string | undefined;
  /** Deliveries the local queue runs at once (on AWS, the event source mapping's concurrency decides). */
  deliveryConcurrency: number;
  /** Of those, deliveries to one hook at once, so a slow endpoint only holds its own share. */
  deliveryConcurrencyPerHook: number;
  /** `single`: one tenant (`tenant`); `multi`: the API key decides the tenant of each request (docs/saas.md). */
  tenancy: Tenancy;
  /** How requests authenticate: none (loopback only), API keys, or IAM (AWS only). */
  authMode: AuthMode;
  /** The operator's key (`OPERATOR_KEY`): `/tenants*` and `/metrics` with api-keys; unset otherwise. */
  operatorKey: string | undefined;
  /** Days a dead letter is kept (DynamoDB TTL). */
  deadLetterRetentionDays: number;
  /** Days an audit entry is kept (DynamoDB TTL, also compared with now on read). */
  auditRetentionDays: number;
  /** Most bytes the templates of one `webhook-custom` delivery may render; past it the delivery fails for good. */
  templateMaxBytes: number;
  /** The delivery log (issue 12): on/off, days kept, records kept locally; its bodies follow `captureBodies`. */
  deliveryLog: boolean;
  deliveryLogRetentionDays: number;
  deliveryLogMaxRecords: number;
  /** A hook is disabled after this many failed deliveries in a row (0: never)… */
  autoDisableFailures: number;
  /** …spanning at least this long with no success. */
  autoDisableWindowMs: number;
  /** Keep bodies over 1 KB in the logs of events (and deliveries): `CAPTURE_BODIES`, default on. */
  captureBodies: boolean;
  /** Days an event's record (`GET /events/{id}`) is kept: `EVENT_RETENTION_DAYS`, default 7. */
  eventRetentionDays: number;
  /** Every tenant's quotas unless its operator set others (`QUOTA_*`; docs/saas.md § Quotas). */
  quotas: Quotas;
  /**
   * How often usage counters are written: locally on a timer (default 5 s); on AWS at the end of an
   * invocation once the last write is at least this old (default 0: every invocation that counted).
   */
  meteringFlushMs: number;
}

export class ConfigError extends Error {}

export const TENANCIES = ['single', 'multi'] as const;
export type Tenancy = (typeof TENANCIES)[number];
export const AUTH_MODES = ['none', 'api-keys', 'iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Shortest `OPERATOR_KEY` accepted: a guessable operator key would hand out every tenant. */
export const OPERATOR_KEY_MIN_LENGTH = 32;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got '${raw}'`);
}

/** A quota setting: a count, `none` (no limit, `null`), or unset (`undefined`: the default). */
function quotaSetting(env: NodeJS.ProcessEnv, name: string): number | null | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'none') return null;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_QUOTA) {
    throw new ConfigError(`${name} must be an integer from 0 to ${MAX_QUOTA} or 'none', got '${raw}'`);
  }
  return Number(raw);
}

function functionNetwork(env: NodeJS.ProcessEnv): 'none' | 'allow' {
  const raw = env.FUNCTION_NETWORK;
  if (raw === undefined || raw === '' || raw === 'none') return 'none';
  if (raw === 'allow') return 'allow';
  throw new ConfigError(`FUNCTION_NETWORK must be none or allow, got '${raw}'`);
}

function tenancy(env: NodeJS.ProcessEnv): Tenancy {
  const raw = env.TENANCY;
  if (raw === undefined || raw === '') return 'single';
  if ((TENANCIES as readonly string[]).includes(raw)) return raw as Tenancy;
  throw new ConfigError(`TENANCY must be single or multi, got '${raw}'`);
}

function authMode(env: NodeJS.ProcessEnv, runtime: 'local' | 'aws'): AuthMode {
  const raw = env.AUTH_MODE;
  if (raw === undefined || raw === '') return runtime === 'aws' ? 'iam' : 'none';
  if (raw === 'iam' && runtime === 'local') {
    throw new ConfigError("AUTH_MODE=iam is for AWS deployments; locally use 'none' or 'api-keys'");
  }
  if ((AUTH_MODES as readonly string[]).includes(raw)) return raw as AuthMode;
  throw new ConfigError(`AUTH_MODE must be none or api-keys${runtime === 'aws' ? ' or iam' : ''}, got '${raw}'`);
}

/**
 * The combinations that make sense: one deployment serving many tenants must know who calls
 * (a key decides the tenant), and the local operator routes need the operator's key.
 */
function checkTenancy(config: Pick<Config, 'runtime' | 'tenancy' | 'authMode' | 'operatorKey'>): void {
  if (config.tenancy === 'multi' && config.authMode !== 'api-keys') {
    throw new ConfigError(
      `TENANCY=multi requires AUTH_MODE=api-keys (got ${config.authMode}): only a tenant's key tells one tenant from another`,
    );
  }
  if (config.authMode === 'api-keys' && config.runtime === 'local') {
    if (config.operatorKey === undefined) {
      throw new ConfigError(
        'AUTH_MODE=api-keys requires OPERATOR_KEY: the operator key creates tenants and their keys ' +
          "(e.g. OPERATOR_KEY=$(node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"))",
      );
    }
    if (config.operatorKey.length < OPERATOR_KEY_MIN_LENGTH) {
      throw new ConfigError(`OPERATOR_KEY must be at least ${OPERATOR_KEY_MIN_LENGTH} characters of random text`);
    }
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether `host` (what the local API binds to) is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Refuses to expose an API without authentication: with `AUTH_MODE=none` anyone who reaches the
 * port is a full admin, which is acceptable on loopback only.
 */
export function checkExposure(host: string, config: Pick<Config, 'authMode'>): void {
  if (config.authMode === 'none' && !isLoopbackHost(host)) {
    throw new ConfigError(
      `HOST=${host} exposes the API beyond this machine, but AUTH_MODE=none lets anyone who reaches it ` +
        'change every hook; set AUTH_MODE=api-keys (with OPERATOR_KEY), or bind to 127.0.0.1',
    );
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const runtime = env.RUNTIME === 'aws' ? 'aws' : 'local';
  const deliveryConcurrency = integer(env, 'DELIVERY_CONCURRENCY', DEFAULT_DELIVERY_CONCURRENCY, 1);
  const config: Config = {
    runtime,
    tenant: env.TENANT || DEFAULT_TENANT,
    tenancy: tenancy(env),
    authMode: authMode(env, runtime),
    operatorKey: env.OPERATOR_KEY || undefined,
    tableName: env.TABLE_NAME || DEFAULT_TABLE_NAME,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    eventBusName: env.EVENT_BUS_NAME || undefined,
    deliveryQueueUrl: env.DELIVERY_QUEUE_URL || undefined,
    userFunctionPrefix: env.USER_FUNCTION_PREFIX || 'event-hooks-user',
    userFunctionRoleArn: env.USER_FUNCTION_ROLE_ARN || undefined,
    hookCacheCheckMs: integer(env, 'HOOK_CACHE_CHECK_MS', 1000),
    blockPrivateNetworks: boolean(env, 'BLOCK_PRIVATE_NETWORKS', runtime === 'aws'),
    httpTimeoutMs: integer(env, 'HTTP_TIMEOUT_MS', 10_000, 1),
    maxEventBytes: integer(env, 'MAX_EVENT_BYTES', 200 * 1024, 1),
    functionTimeoutMs: integer(env, 'FUNCTION_TIMEOUT_MS', 5_000, 1),
    functionMemoryMb: integer(env, 'FUNCTION_MEMORY_MB', 128, 16),
    functionNetwork: functionNetwork(env),
    lambdaEndpoint: env.LAMBDA_ENDPOINT || undefined,
    deadLetterRetentionDays: integer(env, 'DEAD_LETTER_RETENTION_DAYS', 14, 1),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 90, 1),
    deliveryConcurrency,
    deliveryConcurrencyPerHook: integer(
      env,
      'DELIVERY_CONCURRENCY_PER_HOOK',
      defaultConcurrencyPerHook(deliveryConcurrency),
      1,
    ),
    templateMaxBytes: integer(env, 'TEMPLATE_MAX_BYTES', DEFAULT_TEMPLATE_MAX_BYTES, 1),
    deliveryLog: boolean(env, 'DELIVERY_LOG', true),
    deliveryLogRetentionDays: integer(env, 'DELIVERY_LOG_RETENTION_DAYS', 7, 1),
    deliveryLogMaxRecords: integer(env, 'DELIVERY_LOG_MAX_RECORDS', 50_000, 1),
    autoDisableFailures: integer(env, 'AUTO_DISABLE_FAILURES', 50),
    autoDisableWindowMs: integer(env, 'AUTO_DISABLE_WINDOW_SECONDS', 5 * 24 * 60 * 60) * 1000,
    captureBodies: boolean(env, 'CAPTURE_BODIES', true),
    eventRetentionDays: integer(env, 'EVENT_RETENTION_DAYS', 7, 1),
    // The tenancy's defaults; TENANCY itself is read (and checked) with the auth settings.
    quotas: quotaDefaults(env.TENANCY === 'multi' ? 'multi' : 'single', deliveryConcurrency, (name) =>
      quotaSetting(env, name),
    ),
    meteringFlushMs: integer(env, 'METERING_FLUSH_MS', runtime === 'aws' ? 0 : 5_000),
  };
  checkTenancy(config);
  return config;
}

import type { TSchema } from '@sinclair/typebox';
import {
  AUTH_MODES,
  type AuthMode,
  type EnvName,
  envSchema,
  OPERATOR_KEY_MIN_LENGTH,
  TENANCIES,
  type Tenancy,
} from './configSchema.ts';
import { defaultConcurrencyPerHook } from './ports/deliveryQueue.ts';
import { MAX_QUOTA, type Quotas, quotaDefaults } from './quotas/quotas.ts';

export { AUTH_MODES, type AuthMode, OPERATOR_KEY_MIN_LENGTH, TENANCIES, type Tenancy };

/**
 * Configuration from environment variables, with defaults that make the local run work. Each
 * variable's type, bounds and default are declared once in configSchema.ts; every variable is
 * documented in the README's configuration table.
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

/**
 * One variable, read as its schema (configSchema.ts) says: empty or unset is the fallback given, else
 * the schema's default; integers and booleans are parsed from text and held to the schema's bounds.
 */
function read<T>(env: NodeJS.ProcessEnv, name: EnvName, fallback?: T): T {
  const schema = envSchema(name);
  const raw = env[name];
  if (raw === undefined || raw === '') return (fallback !== undefined ? fallback : schema.default) as T;
  if (schema.type === 'integer') {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < (schema.minimum as number)) {
      throw new ConfigError(`${name} must be an integer >= ${schema.minimum}, got '${raw}'`);
    }
    return value as T;
  }
  if (schema.type === 'boolean') {
    if (/^(1|true|yes)$/i.test(raw)) return true as T;
    if (/^(0|false|no)$/i.test(raw)) return false as T;
    throw new ConfigError(`${name} must be true or false, got '${raw}'`);
  }
  const allowed = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]).map((variant) => variant.const) : undefined;
  if (allowed && !allowed.includes(raw)) throw new ConfigError(`${name} must be ${allowed.join(' or ')}, got '${raw}'`);
  return raw as T;
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

/**
 * `AUTH_MODE` (declared in configSchema.ts): its default and its allowed values depend on the
 * runtime, which the schema cannot say, so it is read here rather than by `read`.
 */
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
  // Anything but `aws` is the local runtime (RUNTIME is set by the stack, not by hand).
  const runtime = env.RUNTIME === 'aws' ? 'aws' : 'local';
  const deliveryConcurrency = read<number>(env, 'DELIVERY_CONCURRENCY');
  const config: Config = {
    runtime,
    tenant: read(env, 'TENANT'),
    tenancy: read(env, 'TENANCY'),
    authMode: authMode(env, runtime),
    operatorKey: read(env, 'OPERATOR_KEY'),
    tableName: read(env, 'TABLE_NAME'),
    dynamodbEndpoint: read(env, 'DYNAMODB_ENDPOINT'),
    eventBusName: read(env, 'EVENT_BUS_NAME'),
    deliveryQueueUrl: read(env, 'DELIVERY_QUEUE_URL'),
    userFunctionPrefix: read(env, 'USER_FUNCTION_PREFIX'),
    userFunctionRoleArn: read(env, 'USER_FUNCTION_ROLE_ARN'),
    hookCacheCheckMs: read(env, 'HOOK_CACHE_CHECK_MS'),
    blockPrivateNetworks: read(env, 'BLOCK_PRIVATE_NETWORKS', runtime === 'aws'),
    httpTimeoutMs: read(env, 'HTTP_TIMEOUT_MS'),
    maxEventBytes: read(env, 'MAX_EVENT_BYTES'),
    functionTimeoutMs: read(env, 'FUNCTION_TIMEOUT_MS'),
    functionMemoryMb: read(env, 'FUNCTION_MEMORY_MB'),
    functionNetwork: read(env, 'FUNCTION_NETWORK'),
    lambdaEndpoint: read(env, 'LAMBDA_ENDPOINT'),
    deadLetterRetentionDays: read(env, 'DEAD_LETTER_RETENTION_DAYS'),
    auditRetentionDays: read(env, 'AUDIT_RETENTION_DAYS'),
    deliveryConcurrency,
    deliveryConcurrencyPerHook: read(
      env,
      'DELIVERY_CONCURRENCY_PER_HOOK',
      defaultConcurrencyPerHook(deliveryConcurrency),
    ),
    templateMaxBytes: read(env, 'TEMPLATE_MAX_BYTES'),
    deliveryLog: read(env, 'DELIVERY_LOG'),
    deliveryLogRetentionDays: read(env, 'DELIVERY_LOG_RETENTION_DAYS'),
    deliveryLogMaxRecords: read(env, 'DELIVERY_LOG_MAX_RECORDS'),
    autoDisableFailures: read(env, 'AUTO_DISABLE_FAILURES'),
    autoDisableWindowMs: read<number>(env, 'AUTO_DISABLE_WINDOW_SECONDS') * 1000,
    captureBodies: read(env, 'CAPTURE_BODIES'),
    eventRetentionDays: read(env, 'EVENT_RETENTION_DAYS'),
    // The tenancy's defaults; TENANCY itself is read (and checked) with the auth settings.
    quotas: quotaDefaults(env.TENANCY === 'multi' ? 'multi' : 'single', deliveryConcurrency, (name) =>
      quotaSetting(env, name),
    ),
    meteringFlushMs: read(env, 'METERING_FLUSH_MS', runtime === 'aws' ? 0 : 5_000),
  };
  checkTenancy(config);
  return config;
}

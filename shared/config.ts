import type { TSchema } from '@sinclair/typebox';
import { type EnvName, envSchema } from './configSchema.ts';
import { defaultConcurrencyPerHook } from './ports/deliveryQueue.ts';

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
  /** Days a dead letter is kept (DynamoDB TTL). */
  deadLetterRetentionDays: number;
  /** Most bytes the templates of one `webhook-custom` delivery may render; past it the delivery fails for good. */
  templateMaxBytes: number;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Anything but `aws` is the local runtime (RUNTIME is set by the stack, not by hand).
  const runtime = env.RUNTIME === 'aws' ? 'aws' : 'local';
  const deliveryConcurrency = read<number>(env, 'DELIVERY_CONCURRENCY');
  return {
    runtime,
    tenant: read(env, 'TENANT'),
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
    deliveryConcurrency,
    deliveryConcurrencyPerHook: read(
      env,
      'DELIVERY_CONCURRENCY_PER_HOOK',
      defaultConcurrencyPerHook(deliveryConcurrency),
    ),
    templateMaxBytes: read(env, 'TEMPLATE_MAX_BYTES'),
  };
}

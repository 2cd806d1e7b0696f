import type { TSchema } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { DEFAULT_TENANT } from './hooks/hook.ts';
import { DEFAULT_TEMPLATE_MAX_BYTES } from './hooks/templates.ts';
import { DEFAULT_DELIVERY_CONCURRENCY } from './ports/deliveryQueue.ts';
import { DEFAULT_TABLE_NAME } from './store/table.ts';

/**
 * The environment variables the service reads, declared once: each one's type once parsed from text,
 * its bounds and its default (absent when it depends on another variable; the description says how).
 * `loadConfig` (config.ts) reads them through this schema; the README's configuration table lists them.
 */
const int = (minimum: number, description: string, fallback?: number) =>
  Type.Integer({ minimum, description, ...(fallback !== undefined ? { default: fallback } : {}) });
const text = (description: string, fallback?: string) =>
  Type.String({ description, ...(fallback !== undefined ? { default: fallback } : {}) });

export const EnvSchema = Type.Object({
  RUNTIME: Type.Union([Type.Literal('local'), Type.Literal('aws')], {
    default: 'local',
    description: '`aws` on Lambda; anything else is the local runtime.',
  }),
  TENANT: text('Tenant of a single-tenant deployment.', DEFAULT_TENANT),
  TABLE_NAME: text('DynamoDB table.', DEFAULT_TABLE_NAME),
  DYNAMODB_ENDPOINT: Type.Optional(text('DynamoDB endpoint of a local store; unset on AWS.')),
  EVENT_BUS_NAME: Type.Optional(text('EventBridge bus (AWS).')),
  DELIVERY_QUEUE_URL: Type.Optional(text('SQS delivery queue (AWS).')),
  USER_FUNCTION_PREFIX: text('Name prefix of the functions deployed for user code.', 'event-hooks-user'),
  USER_FUNCTION_ROLE_ARN: Type.Optional(text('Role of the functions deployed for user code (AWS).')),
  HOOK_CACHE_CHECK_MS: int(0, 'How often cached hooks are checked against the store (0: on every event).', 1000),
  BLOCK_PRIVATE_NETWORKS: Type.Boolean({
    description: 'Refuse deliveries to private addresses; defaults to true on AWS, false locally.',
  }),
  HTTP_TIMEOUT_MS: int(1, 'Timeout of one outbound request.', 10_000),
  MAX_EVENT_BYTES: int(1, 'Largest event `data`, as JSON.', 200 * 1024),
  FUNCTION_TIMEOUT_MS: int(1, 'Timeout of one user function run.', 5_000),
  FUNCTION_MEMORY_MB: int(16, 'Memory of one user function.', 128),
  FUNCTION_NETWORK: Type.Union([Type.Literal('none'), Type.Literal('allow')], {
    default: 'none',
    description: 'Whether local user code may use the network.',
  }),
  LAMBDA_ENDPOINT: Type.Optional(text('Lambda endpoint (tests against a local Lambda).')),
  DEAD_LETTER_RETENTION_DAYS: int(1, 'Days a dead letter is kept.', 14),
  DELIVERY_CONCURRENCY: int(1, 'Deliveries the local queue runs at once.', DEFAULT_DELIVERY_CONCURRENCY),
  DELIVERY_CONCURRENCY_PER_HOOK: int(1, 'Of those, deliveries to one hook at once; defaults to a quarter.'),
  TEMPLATE_MAX_BYTES: int(1, 'Most bytes the templates of one delivery may render.', DEFAULT_TEMPLATE_MAX_BYTES),
});
export type EnvName = keyof typeof EnvSchema.properties;

/** The schema of one variable. */
export const envSchema = (name: EnvName): TSchema => EnvSchema.properties[name];

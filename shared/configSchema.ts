import type { TSchema } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { DEFAULT_TENANT } from './hooks/hook.ts';
import { DEFAULT_TEMPLATE_MAX_BYTES } from './hooks/templateLimits.ts';
import { DEFAULT_DELIVERY_CONCURRENCY } from './ports/deliveryQueue.ts';
import { MAX_QUOTA } from './quotas/quotas.ts';
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

const quota = (description: string) =>
  Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: MAX_QUOTA }), Type.Literal('none')], {
      description: `${description} \`none\`: no limit. Defaults to the tenancy's (docs/saas.md § Quotas).`,
    }),
  );

export const TENANCIES = ['single', 'multi'] as const;
export type Tenancy = (typeof TENANCIES)[number];
export const AUTH_MODES = ['none', 'api-keys', 'iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Shortest `OPERATOR_KEY` accepted: a guessable operator key would hand out every tenant. */
export const OPERATOR_KEY_MIN_LENGTH = 32;

export const EnvSchema = Type.Object({
  RUNTIME: Type.Union([Type.Literal('local'), Type.Literal('aws')], {
    default: 'local',
    description: '`aws` on Lambda; anything else is the local runtime.',
  }),
  TENANT: text('Tenant of a single-tenant deployment.', DEFAULT_TENANT),
  TENANCY: Type.Union(
    TENANCIES.map((value) => Type.Literal(value)),
    { default: 'single', description: '`multi`: the API key decides the tenant of each request.' },
  ),
  // Its default and allowed values depend on RUNTIME (iam on AWS only): config.ts checks that.
  AUTH_MODE: Type.Optional(
    Type.Union(
      AUTH_MODES.map((value) => Type.Literal(value)),
      { description: 'How requests authenticate; defaults to `iam` on AWS, `none` locally.' },
    ),
  ),
  // Required (locally) with AUTH_MODE=api-keys: config.ts checks that and the length.
  OPERATOR_KEY: Type.Optional(
    Type.String({
      minLength: OPERATOR_KEY_MIN_LENGTH,
      description: "The operator's key for `/tenants*` and `/metrics`.",
    }),
  ),
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
  AUDIT_RETENTION_DAYS: int(1, 'Days an audit entry is kept.', 90),
  DELIVERY_LOG: Type.Boolean({ default: true, description: 'Keep the delivery log.' }),
  DELIVERY_LOG_RETENTION_DAYS: int(1, "Days a delivery's record is kept after its last attempt.", 7),
  DELIVERY_LOG_MAX_RECORDS: int(1, 'Local runtime: delivery records kept (the oldest go first).', 50_000),
  AUTO_DISABLE_FAILURES: int(0, 'A hook is disabled after this many dead deliveries in a row (0: never).', 50),
  AUTO_DISABLE_WINDOW_SECONDS: int(0, '…spanning at least this long with no success.', 5 * 24 * 60 * 60),
  CAPTURE_BODIES: Type.Boolean({ default: true, description: 'Keep event data and bodies over 1 KB in the records.' }),
  EVENT_RETENTION_DAYS: int(1, "Days an event's record is kept.", 7),
  QUOTA_EVENTS_PER_SECOND: quota('Events a tenant may send per second.'),
  QUOTA_HOOKS: quota('Hooks a tenant may have.'),
  QUOTA_USER_FUNCTIONS: quota('User functions a tenant may have.'),
  QUOTA_BODY_BYTES: quota('Largest request body of a tenant.'),
  QUOTA_DELIVERIES_IN_FLIGHT: quota('Deliveries of a tenant at once.'),
  METERING_FLUSH_MS: int(0, 'How often counted usage is written; defaults to 5000 locally, 0 on AWS.'),
});
export type EnvName = keyof typeof EnvSchema.properties;

/** The schema of one variable. */
export const envSchema = (name: EnvName): TSchema => EnvSchema.properties[name];

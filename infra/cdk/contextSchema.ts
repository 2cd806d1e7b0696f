import { type TBoolean, type TInteger, type TString, Type } from '@sinclair/typebox';

/**
 * The CDK context keys the app reads (`cdk deploy -c key=value` or `cdk.json`), declared once: each
 * key's type as it is read (CLI values arrive as text and are parsed to it). `stackPropsFromContext`
 * (app.ts) can only read a key declared here, with the reader of its type; docs/deploy.md lists them.
 */
const int = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));
const bool = (description: string) => Type.Optional(Type.Boolean({ description }));
const text = (description: string) => Type.Optional(Type.String({ description }));

export const ContextSchema = Type.Object({
  stackName: text('Stack name (default `EventHooks`).'),
  entries: text('JSON: function name → entry file, over the defaults.'),
  bundleDir: text('Where the functions are bundled (default `dist`).'),
  nag: text('`false` turns the cdk-nag checks off.'),
  namePrefix: text('Prefix of every resource name.'),
  tenant: text('Tenant of a single-tenant deployment.'),
  tenancy: text('`single` or `multi` (also read as `TENANCY`).'),
  TENANCY: text('Alias of `tenancy`.'),
  authMode: text('`iam`, `api-keys` or `none` (also read as `AUTH_MODE`).'),
  AUTH_MODE: text('Alias of `authMode`.'),
  logRetentionDays: int("One of CloudWatch Logs' retention periods."),
  logLevel: text('debug, info, warn or error.'),
  adminIamAuth: bool('Sign Admin API requests with SigV4 (iam mode).'),
  ingestIamAuth: bool('Sign ingest requests with SigV4 (iam mode).'),
  deletionProtection: bool('Protect the table from deletion.'),
  maxReceiveCount: int('Deliveries of one message before it is a dead letter.'),
  busRetryAttempts: int('EventBridge retries to the dispatcher.'),
  userFunctionTimeoutSeconds: int('Timeout of a function deployed for user code.'),
  userFunctionMemorySize: int('Memory of a function deployed for user code (MB).'),
  hookCacheCheckMs: int('How often cached hooks are checked against the store.'),
  deliveryMaxConcurrency: int('Most delivery functions at once.'),
  reservedConcurrency: Type.Optional(
    Type.Union([Type.Literal(false), Type.Literal('off'), Type.Record(Type.String(), Type.Integer({ minimum: 0 }))], {
      description: '`off`, or JSON: function name → reserved concurrency.',
    }),
  ),
  tracing: bool('X-Ray tracing.'),
  queueAgeAlarmSeconds: int('Age of the oldest delivery that raises the alarm.'),
  captureBodies: bool('Keep event data and bodies over 1 KB in the records.'),
  eventRetentionDays: int("Days an event's record is kept."),
  quotas: Type.Optional(
    Type.Union([Type.String(), Type.Record(Type.String(), Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]))], {
      description: "JSON: every tenant's default quotas, quota name → count or `null` (no limit).",
    }),
  ),
  memorySizes: Type.Optional(
    Type.Record(Type.String(), Type.Integer({ minimum: 128 }), { description: 'JSON: function name → memory (MB).' }),
  ),
  invokableFunctionArns: Type.Optional(
    Type.Union([Type.Array(Type.String()), Type.String()], {
      description: 'Lambda functions hooks may invoke: a list, or ARNs separated by commas.',
    }),
  ),
  retryMaxAttempts: int('Delivery attempts of one event.'),
  retryMaxAgeMs: int('Oldest age of an event still retried.'),
  retryBaseDelayMs: int('First retry delay.'),
  retryMaxDelayMs: int('Longest retry delay.'),
});

type Keys = typeof ContextSchema.properties;
type KeysOf<T> = { [K in keyof Keys]: Keys[K] extends T ? K : never }[keyof Keys];
/** Context keys read as text, whole numbers and booleans: a reader takes only keys of its type. */
export type TextKey = KeysOf<TString>;
export type IntegerKey = KeysOf<TInteger>;
export type BooleanKey = KeysOf<TBoolean>;
export type ContextKey = keyof Keys;

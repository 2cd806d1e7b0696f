import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import cdkNag from 'cdk-nag';
import type { LogLevel } from '../../shared/logger.ts';
import { parseQuotaOverrides } from '../../shared/quotas/quotas.ts';
import { bundleFunctions, DEFAULT_ENTRIES, type FunctionName, PROJECT_ROOT } from '../bundle.ts';
import type { BooleanKey, ContextKey, IntegerKey, TextKey } from './contextSchema.ts';
import { EventHooksStack, type EventHooksStackProps } from './eventHooksStack.ts';
import type { AuthMode, Tenancy } from './tenancy.ts';

// cdk-nag is CommonJS; Node's ESM loader does not see all of its exports as named ones.
const { AwsSolutionsChecks } = cdkNag;

type Context = (key: ContextKey) => unknown;

/**
 * Stack props from CDK context (`cdk deploy -c key=value` or `cdk.json`), so a deployer changes
 * settings without code. Every key is optional and declared in contextSchema.ts (a reader takes only
 * keys of its type); see docs/deploy.md for the list.
 */
export function stackPropsFromContext(context: Context): EventHooksStackProps {
  const text = (key: TextKey | IntegerKey | BooleanKey | 'invokableFunctionArns') => {
    const value = context(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const int = (key: IntegerKey) => {
    const raw = text(key);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`context ${key} must be a whole number, got '${raw}'`);
    return value;
  };
  const bool = (key: BooleanKey) => {
    const raw = text(key);
    if (raw === undefined) return undefined;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new Error(`context ${key} must be true or false, got '${raw}'`);
  };
  const json = <T>(key: ContextKey): T | undefined => {
    const value = context(key);
    return typeof value === 'string' ? (JSON.parse(value) as T) : (value as T | undefined);
  };
  const retention = (key: IntegerKey) => {
    const value = int(key);
    if (value !== undefined && !Object.values(logs.RetentionDays).includes(value)) {
      throw new Error(
        `context ${key} must be one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, …), got ${value}`,
      );
    }
    return value as logs.RetentionDays | undefined;
  };
  const seconds = (key: IntegerKey) => {
    const value = int(key);
    return value === undefined ? undefined : Duration.seconds(value);
  };
  const retry = {
    maxAttempts: int('retryMaxAttempts'),
    maxAgeMs: int('retryMaxAgeMs'),
    baseDelayMs: int('retryBaseDelayMs'),
    maxDelayMs: int('retryMaxDelayMs'),
  };
  const reservedConcurrency = (): EventHooksStackProps['reservedConcurrency'] => {
    const raw = context('reservedConcurrency');
    if (raw === undefined || raw === null || raw === '') return undefined;
    if (raw === false || raw === 'off' || raw === 'false') return false;
    const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(
        `context reservedConcurrency must be off or a JSON object like {"admin":5}, got '${String(raw)}'`,
      );
    }
    return value as Record<string, number>;
  };
  const arns = context('invokableFunctionArns');
  const props: EventHooksStackProps = {
    namePrefix: text('namePrefix'),
    tenant: text('tenant'),
    // Checked when the construct is built (infra/cdk/tenancy.ts); the names of issue 11 work too.
    tenancy: (text('tenancy') ?? text('TENANCY')) as Tenancy | undefined,
    authMode: (text('authMode') ?? text('AUTH_MODE')) as AuthMode | undefined,
    logRetention: retention('logRetentionDays'),
    logLevel: text('logLevel') as LogLevel | undefined,
    adminIamAuth: bool('adminIamAuth'),
    ingestIamAuth: bool('ingestIamAuth'),
    deletionProtection: bool('deletionProtection'),
    maxReceiveCount: int('maxReceiveCount'),
    busRetryAttempts: int('busRetryAttempts'),
    userFunctionTimeout: seconds('userFunctionTimeoutSeconds'),
    userFunctionMemorySize: int('userFunctionMemorySize'),
    hookCacheCheckMs: int('hookCacheCheckMs'),
    deliveryMaxConcurrency: int('deliveryMaxConcurrency'),
    reservedConcurrency: reservedConcurrency(),
    tracing: bool('tracing'),
    queueAgeAlarmThreshold: seconds('queueAgeAlarmSeconds'),
    captureBodies: bool('captureBodies'),
    eventRetentionDays: int('eventRetentionDays'),
    memorySizes: json<Partial<Record<FunctionName, number>>>('memorySizes'),
    // `-c quotas='{"events_per_second":500,"hooks":null}'`, checked as the quotas route checks it.
    quotas: context('quotas') === undefined ? undefined : parseQuotaOverrides(json('quotas')),
    invokableFunctionArns: Array.isArray(arns)
      ? arns.map(String)
      : text('invokableFunctionArns')
          ?.split(',')
          .map((arn) => arn.trim())
          .filter(Boolean),
    retry: Object.values(retry).some((v) => v !== undefined)
      ? (Object.fromEntries(Object.entries(retry).filter(([, v]) => v !== undefined)) as EventHooksStackProps['retry'])
      : undefined,
  };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as EventHooksStackProps;
}

/**
 * Bundles the functions (the same `bundleFunctions` as `npm run build`), then defines the stack on
 * `app` with cdk-nag's AwsSolutions checks as a validation plugin: an unacknowledged finding stops synth.
 * Context `entries` (JSON, name → file) and `bundleDir` (default `dist`) change what is bundled and where.
 */
export async function defineApp(app: App): Promise<EventHooksStack> {
  const context: Context = (key) => app.node.tryGetContext(key);
  const entriesContext = context('entries');
  const entries = {
    ...DEFAULT_ENTRIES,
    ...(typeof entriesContext === 'string' ? JSON.parse(entriesContext) : (entriesContext ?? {})),
  } as Record<FunctionName, string>;
  const bundleDir = resolve(PROJECT_ROOT, String(context('bundleDir') ?? 'dist'));
  await bundleFunctions({ entries, outDir: bundleDir, minify: true });

  const stack = new EventHooksStack(app, String(context('stackName') ?? 'EventHooks'), {
    description: 'event-hooks: Kong-style event hooks on API Gateway, Lambda, EventBridge, SQS and DynamoDB',
    ...stackPropsFromContext(context),
    bundleDir,
  });
  if (String(context('nag') ?? 'true') !== 'false') {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return stack;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const app = new App();
  await defineApp(app);
  app.synth();
}

import { type Core, createCore } from '../../composition/core.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { AWS_RETRY_POLICY, retryPolicyFromEnv } from '../../delivery/retryPolicy.ts';
import type { createHttpSender, HttpSender } from '../../http/httpSender.ts';
import { createLogger } from '../../logger.ts';
import { systemClock } from '../../ports/clock.ts';
import type { DeliveryQueue } from '../../ports/deliveryQueue.ts';
import type { EventBus } from '../../ports/eventBus.ts';
import type { FunctionRunner } from '../../ports/functionRunner.ts';
import type { SecretCipher } from '../../ports/secretCipher.ts';
import { tableRateCounter } from '../../quotas/rateCounter.ts';
import { createDocumentClient } from '../../store/dynamo.ts';
import type { createAwsDeliveryQueue } from './deliveryQueue.ts';
import { createEmfMetrics } from './emfMetrics.ts';
import type { createAwsEventBus } from './eventBus.ts';
import type { createAwsFunctionDeployQueue } from './functionDeployQueue.ts';
import type { AwsFunctionOptions } from './functionInvoker.ts';
import type { createKmsSecretCipher } from './secretCipher.ts';

/**
 * The AWS adapters a function uses, passed in by its entry point so each bundle carries only the
 * AWS SDK clients it needs (the dispatcher never loads the Lambda client, for instance).
 */
export interface AwsAdapters {
  bus?: typeof createAwsEventBus;
  queue?: typeof createAwsDeliveryQueue;
  /** `createAwsFunctionInvoker` where user functions are only invoked; the deploy worker's `createAwsFunctionRunner` also deploys. */
  functions?: (options: AwsFunctionOptions) => FunctionRunner;
  /** Where the Admin API sends deploy jobs of user functions (the admin function only). */
  deployments?: typeof createAwsFunctionDeployQueue;
  /** Seals and opens hook secrets with KMS: the functions that write hooks or send with them (admin, delivery). */
  secrets?: typeof createKmsSecretCipher;
  /**
   * The outbound HTTP sender with its address policy: the functions that call receivers (delivery;
   * admin for pings, `/test` and the destination check). Others never load it (nor ipaddr.js).
   */
  http?: typeof createHttpSender;
}

/** The CloudWatch namespace of the metrics when `METRICS_NAMESPACE` is unset (the stack sets `EventHooks/<prefix>`). */
export const DEFAULT_METRICS_NAMESPACE = 'EventHooks';

class PortNotConfiguredError extends ConfigError {}

/** A port this function was not given: any use is a wiring mistake and fails loudly. */
function missing<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      if (property === 'then') return undefined;
      throw new PortNotConfiguredError(`this function has no ${port} adapter (tried to use ${String(property)})`);
    },
  });
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`${name} must be set`);
  return value;
}

/**
 * The core of the app as it runs in a deployed Lambda function, configured by the stack's environment.
 * Each function adds the surface it serves (functions/currentApp.ts), so its bundle carries no other.
 */
export function createAwsCore(env: NodeJS.ProcessEnv, adapters: AwsAdapters): Core {
  const config = loadConfig({ RUNTIME: 'aws', ...env });
  const logger = createLogger();
  const clock = systemClock;
  const { bus, queue, functions, deployments, secrets, http } = adapters;
  const client = createDocumentClient(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {});
  return createCore({
    config,
    client,
    clock,
    logger,
    retryPolicy: retryPolicyFromEnv(env, AWS_RETRY_POLICY),
    // Written as each invocation ends (functions/invocation.ts); the stack sets the namespace.
    metrics: createEmfMetrics({ namespace: env.METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE }),
    ports: {
      bus: bus
        ? bus({ busName: required('EVENT_BUS_NAME', config.eventBusName), clock })
        : missing<EventBus>('event bus'),
      queue: queue
        ? queue({
            queueUrl: required('DELIVERY_QUEUE_URL', config.deliveryQueueUrl),
            clock,
          })
        : missing<DeliveryQueue>('delivery queue'),
      functions: functions
        ? functions({
            prefix: config.userFunctionPrefix,
            roleArn: required('USER_FUNCTION_ROLE_ARN', config.userFunctionRoleArn),
            logger,
            timeoutSeconds: Math.ceil(config.functionTimeoutMs / 1000),
            memoryMb: config.functionMemoryMb,
            ...(config.lambdaEndpoint ? { endpoint: config.lambdaEndpoint } : {}),
          })
        : missing<FunctionRunner>('function runner'),
      http: http
        ? http({
            connectTimeoutMs: config.httpTimeoutMs,
            responseTimeoutMs: config.httpTimeoutMs,
            blockPrivateNetworks: config.blockPrivateNetworks,
            ownEndpoints: [config.dynamodbEndpoint],
          })
        : missing<HttpSender>('HTTP sender'),
      // Every instance of the ingest function shares a tenant's events per second: counted on the table.
      rate: tableRateCounter({ client, tableName: config.tableName, clock }),
      ...(deployments
        ? { deployments: () => deployments({ queueUrl: required('DEPLOY_QUEUE_URL', env.DEPLOY_QUEUE_URL) }) }
        : {}),
      // Never an in-memory key on AWS: another function could not open what it sealed.
      secrets: secrets
        ? secrets({ keyId: required('SECRETS_KEY_ARN', env.SECRETS_KEY_ARN), clock })
        : missing<SecretCipher>('secrets key'),
    },
  });
}

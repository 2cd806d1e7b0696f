import { type App, createApp } from '../../app.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { AWS_RETRY_POLICY, retryPolicyFromEnv } from '../../delivery/retryPolicy.ts';
import { createHttpSender } from '../../http/httpSender.ts';
import { createLogger } from '../../logger.ts';
import { systemClock } from '../../ports/clock.ts';
import { createDocumentClient } from '../../store/dynamo.ts';
import { createAwsDeliveryQueue } from './deliveryQueue.ts';
import { createAwsEventBus } from './eventBus.ts';
import { createAwsFunctionRunner } from './functionRunner.ts';

function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`${name} must be set`);
  return value;
}

/** The app as it runs in the deployed Lambda functions, configured by the stack's environment. */
export function createAwsApp(env: NodeJS.ProcessEnv = process.env): App {
  const config = loadConfig({ RUNTIME: 'aws', ...env });
  const logger = createLogger();
  const clock = systemClock;
  const queueUrl = required('DELIVERY_QUEUE_URL', config.deliveryQueueUrl);
  const deadLetterQueueUrl = required('DEAD_LETTER_QUEUE_URL', config.deadLetterQueueUrl);
  const busName = required('EVENT_BUS_NAME', config.eventBusName);
  return createApp({
    config,
    client: createDocumentClient(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    clock,
    logger,
    retryPolicy: retryPolicyFromEnv(env, AWS_RETRY_POLICY),
    ports: {
      bus: () => createAwsEventBus({ busName, clock }),
      queue: createAwsDeliveryQueue({ queueUrl, deadLetterQueueUrl, clock }),
      functions: createAwsFunctionRunner({
        prefix: config.userFunctionPrefix,
        roleArn: required('USER_FUNCTION_ROLE_ARN', config.userFunctionRoleArn),
        ...(env.USER_FUNCTION_LOG_GROUP ? { logGroup: env.USER_FUNCTION_LOG_GROUP } : {}),
        timeoutSeconds: Math.ceil(config.functionTimeoutMs / 1000),
        memoryMb: config.functionMemoryMb,
        clock,
      }),
      http: createHttpSender({
        connectTimeoutMs: config.httpTimeoutMs,
        responseTimeoutMs: config.httpTimeoutMs,
        blockPrivateNetworks: config.blockPrivateNetworks,
      }),
    },
  });
}

import { ConfigError } from '../../config.ts';
import { FunctionError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import {
  type FunctionArgs,
  type FunctionRunner,
  type FunctionTarget,
  lambdaFunctionName,
} from '../../ports/functionRunner.ts';
import { awsErrorName, awsFault, awsHttpStatus, backoffDelay, type RetryOptions, retrySettings } from './backoff.ts';
import { type LambdaInvokeApi, type LambdaInvokeResult, lambdaInvokeHttpApi } from './lambdaInvokeApi.ts';
import { userFunctionName } from './userFunctionPackage.ts';
import { userLogTail } from './userLogTail.ts';

/** What every Lambda function runner is given by `awsApp` (shared/adapters/aws/awsWiring.ts). */
export interface AwsFunctionOptions {
  /** `USER_FUNCTION_PREFIX`: every user-code function is named `${prefix}-…`; the IAM policies are scoped to it. */
  prefix: string;
  /** `USER_FUNCTION_ROLE_ARN`: the execution role, with no permission at all (not even to write logs). */
  roleArn: string;
  /**
   * Where the log tail of each user-code invocation goes, under the tenant's name, secrets masked
   * and size capped: the only way a user function's output is kept. Nowhere when absent.
   */
  logger?: Logger;
  /** Default 10 s. */
  timeoutSeconds?: number;
  /** Default 128 MB. */
  memoryMb?: number;
  /** Where Lambda's Invoke API is: `LAMBDA_ENDPOINT`; default `AWS_ENDPOINT_URL_LAMBDA`, then AWS's. */
  endpoint?: string;
}

export interface AwsFunctionInvokerOptions extends AwsFunctionOptions {
  /** Default `lambdaInvokeHttpApi({ endpoint })`. */
  invokeApi?: LambdaInvokeApi;
  /** Attempts at one invocation that Lambda throttled, failed with a 5xx, or that got no answer. Default: the SDK's (3). */
  retry?: RetryOptions;
}

/** The SDK's standard retry, which the invoke path had before it left the SDK: 3 attempts, 100 ms (throttled: 500 ms) base, 20 s cap. */
export const INVOKE_RETRY_DEFAULTS = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 20_000 } as const;
const THROTTLED_BASE_DELAY_MS = 500;

/** Invoke failures that another attempt can get past: the function is not ready, busy or throttled. */
const RETRYABLE_INVOKE = new Set([
  'ResourceNotReadyException',
  'ResourceConflictException',
  'TooManyRequestsException',
  'ServiceException',
  'EC2ThrottledException',
  'ENILimitReachedException',
  'SnapStartNotReadyException',
]);

/** Errors the SDK's standard retry strategy retries at once: throttling, 5xx, no answer at all. */
const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

function throttled(error: unknown): boolean {
  return THROTTLING.has(awsErrorName(error)) || awsHttpStatus(error) === 429;
}
function retriedAtOnce(error: unknown): boolean {
  const status = awsHttpStatus(error);
  return throttled(error) || (status !== undefined && TRANSIENT_STATUS.has(status)) || awsFault(error) === undefined;
}

/**
 * The `invoke` of the FunctionRunner port on Lambda, without the AWS SDK: what the admin function (the
 * test route) and the delivery function need. Deploying and removing are the deploy worker's
 * (`createAwsFunctionRunner` in functionRunner.ts, which adds them with the SDK's Lambda client).
 * A code entry is invoked as the function `userFunctionName` names; a named function as it is.
 */
export function createAwsFunctionInvoker(options: AwsFunctionInvokerOptions): FunctionRunner {
  const api = options.invokeApi ?? lambdaInvokeHttpApi(options.endpoint ? { endpoint: options.endpoint } : {});
  const retry = retrySettings(options.retry ?? {}, INVOKE_RETRY_DEFAULTS);

  async function invokeWithRetry(name: string, payload: Uint8Array): Promise<LambdaInvokeResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api.invoke(name, payload);
      } catch (error) {
        if (attempt >= retry.maxAttempts || !retriedAtOnce(error)) throw error;
        const baseDelayMs = throttled(error)
          ? Math.max(THROTTLED_BASE_DELAY_MS, retry.backoff.baseDelayMs)
          : retry.backoff.baseDelayMs;
        await retry.sleep(backoffDelay(attempt, { ...retry.backoff, baseDelayMs }));
      }
    }
  }

  const cannotDeploy = () =>
    Promise.reject(
      new ConfigError('this function cannot deploy user code (only the deploy worker deploys: functions/deployer.ts)'),
    );

  return {
    deploy: cannotDeploy,
    remove: cannotDeploy,

    async invoke(target: FunctionTarget, args: FunctionArgs): Promise<unknown> {
      // Validation refuses such names; this also covers hooks stored before it did.
      if (target.kind === 'lambda' && lambdaFunctionName(target.name).startsWith(`${options.prefix}-`)) {
        throw new FunctionError(`'${target.name}' is a function this service deploys for user code, not yours`);
      }
      const name =
        target.kind === 'code'
          ? userFunctionName(options.prefix, {
              tenant: target.tenant,
              hookId: target.hookId,
              index: target.index,
              code: target.code,
            })
          : target.name;
      let response: LambdaInvokeResult;
      try {
        response = await invokeWithRetry(name, Buffer.from(JSON.stringify(args)));
      } catch (error) {
        const errorName = awsErrorName(error);
        // A missing user-code function is still being deployed, or was replaced by a newer version of the
        // hook that the next attempt will read; a missing named function is a mistake.
        const retryable =
          RETRYABLE_INVOKE.has(errorName) ||
          (errorName === 'ResourceNotFoundException' && target.kind === 'code') ||
          awsFault(error) !== 'client';
        throw new FunctionError(`could not invoke ${name}: ${errorName}`, { retryable, cause: error });
      }
      if (target.kind === 'code') logUserTail(options.logger, target, name, response);
      const text = response.payload.toString('utf8');
      if (response.functionError) {
        const failure = parseJson(text) as { errorMessage?: unknown; errorType?: unknown } | undefined;
        const message =
          typeof failure?.errorMessage === 'string'
            ? failure.errorMessage
            : `function ${name} failed (${response.functionError})`;
        throw new FunctionError(message);
      }
      return text === '' ? null : parseJson(text);
    },
  };
}

/**
 * Writes a user function's log tail to the service's own log, one line per invocation, under the
 * tenant and hook it belongs to: operators read a tenant's user-code output there (filter on `tenant`).
 */
function logUserTail(
  logger: Logger | undefined,
  target: { tenant: string; hookId: string; index: number },
  name: string,
  response: LambdaInvokeResult,
): void {
  const tail = logger ? userLogTail(response.logResult) : undefined;
  if (!logger || tail === undefined) return;
  logger.info('user function log', {
    tenant: target.tenant,
    hook_id: target.hookId,
    function_index: target.index,
    function_name: name,
    ...(response.functionError ? { function_error: response.functionError } : {}),
    log: tail,
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { EventHooksError, FunctionError } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type FunctionArgs,
  type FunctionRunner,
  type FunctionTarget,
  type HookFunctions,
  isLambdaReference,
  lambdaFunctionName,
} from '../../ports/functionRunner.ts';
import { awsErrorName, awsFault, awsHttpStatus, backoffDelay, type RetryOptions, retrySettings } from './backoff.ts';
import { packageUserFunction, userFunctionName } from './userFunctionPackage.ts';

export const USER_FUNCTION_RUNTIME = 'nodejs24.x';
export const USER_FUNCTION_ARCHITECTURE = 'arm64';
export const USER_FUNCTION_HANDLER = 'index.handler';
export const HOOK_ID_TAG = 'event-hooks:hook-id';
export const TENANT_TAG = 'event-hooks:tenant';

/** Retries of control-plane calls when throttled or in conflict: 8 attempts by default. */
export interface AwsFunctionRunnerOptions extends RetryOptions {
  /** `USER_FUNCTION_PREFIX`: every user-code function is named `${prefix}-…`; the IAM policies are scoped to it. */
  prefix: string;
  /** `USER_FUNCTION_ROLE_ARN`: the execution role that can only write logs. */
  roleArn: string;
  /** `USER_FUNCTION_LOG_GROUP`: the log group (with retention) the functions write to; Lambda's default when absent. */
  logGroup?: string;
  /** Default 10 s. */
  timeoutSeconds?: number;
  /** Default 128 MB. */
  memoryMb?: number;
  client?: LambdaClient;
  clock?: Clock;
  /** How long `deploy` waits for its functions to become `Active`. Default 20 s (the Admin API answers within 30 s). */
  readyTimeoutMs?: number;
  /** Functions deployed or removed at once; the control-plane quota is shared by the account. Default 3. */
  concurrency?: number;
}

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
interface CodeEntry {
  name: string;
  index: number;
  code: string;
}

const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'ServiceException']);

/**
 * The FunctionRunner port on Lambda: each code entry of a hook becomes its own function
 * (`nodejs24.x`, arm64, the user-code role) whose name includes a hash of its code (see
 * `userFunctionName`). `deploy` only creates functions (blue/green: a new version of a hook gets new
 * functions next to the old ones) and awaits them until `Active`; `remove` deletes exactly the entries
 * it is given. Names and ARNs of existing functions are invoked as they are.
 *
 * @example
 * const runner = createAwsFunctionRunner({ prefix: env.USER_FUNCTION_PREFIX, roleArn: env.USER_FUNCTION_ROLE_ARN });
 * await runner.deploy({ tenant: 'default', id: hook.id, functions: hook.config.functions });
 */
export function createAwsFunctionRunner(options: AwsFunctionRunnerOptions): FunctionRunner {
  const client = options.client ?? new LambdaClient({});
  const clock = options.clock ?? systemClock;
  const { maxAttempts, sleep, backoff } = retrySettings(options, {
    maxAttempts: 8,
    baseDelayMs: 250,
    maxDelayMs: 5000,
  });
  const settings = {
    Role: options.roleArn,
    Runtime: USER_FUNCTION_RUNTIME,
    Handler: USER_FUNCTION_HANDLER,
    Timeout: options.timeoutSeconds ?? 10,
    MemorySize: options.memoryMb ?? 128,
    ...(options.logGroup ? { LoggingConfig: { LogFormat: 'JSON' as const, LogGroup: options.logGroup } } : {}),
  } as const;
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const nameOf = (tenant: string, hookId: string, index: number, code: string) =>
    userFunctionName(options.prefix, { tenant, hookId, index, code });

  /** One control-plane call, retried with backoff while throttled (and, if asked, while another update runs). */
  async function control<T>(call: () => Promise<T>, retryConflict: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const name = awsErrorName(error);
        const transient =
          THROTTLED.has(name) ||
          awsHttpStatus(error) === 429 ||
          (retryConflict && name === 'ResourceConflictException');
        if (!transient || attempt >= maxAttempts) throw error;
        await sleep(backoffDelay(attempt, backoff));
      }
    }
  }

  /** Polls until no creation or update is in progress; `Failed` is an error, running out of time is not. */
  async function settle(name: string, deadline: number): Promise<FunctionConfiguration> {
    for (let poll = 1; ; poll++) {
      const config = await control(
        () => client.send(new GetFunctionConfigurationCommand({ FunctionName: name })),
        false,
      );
      if (config.State === 'Failed' || config.LastUpdateStatus === 'Failed') {
        throw new EventHooksError(
          `Lambda function ${name} failed: ${config.StateReason ?? config.LastUpdateStatusReason ?? 'no reason given'}`,
        );
      }
      const busy = config.State === 'Pending' || config.LastUpdateStatus === 'InProgress';
      if (!busy || clock.now() >= deadline) return config;
      await sleep(backoffDelay(poll, backoff));
    }
  }

  async function deployOne(tenant: string, hookId: string, entry: CodeEntry, deadline: number) {
    const { name, index, code } = entry;
    try {
      await control(
        () =>
          client.send(
            new CreateFunctionCommand({
              FunctionName: name,
              ...settings,
              Architectures: [USER_FUNCTION_ARCHITECTURE],
              Code: { ZipFile: packageUserFunction(code).zip },
              Description: `event-hooks user code ${index} of hook ${hookId}`,
              Tags: { [HOOK_ID_TAG]: hookId, [TENANT_TAG]: tenant },
            }),
          ),
        false,
      );
      await settle(name, deadline);
      return;
    } catch (error) {
      if (awsErrorName(error) !== 'ResourceConflictException') throw deployError(name, error);
    }
    // The function exists, so it holds this code (the name says so); only its settings may be out of date.
    try {
      const config = await settle(name, deadline);
      if (!configurationDiffers(config, settings)) return;
      await control(
        () => client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...settings })),
        true,
      );
      await settle(name, deadline);
    } catch (error) {
      throw deployError(name, error);
    }
  }

  async function removeOne(name: string): Promise<void> {
    try {
      await control(() => client.send(new DeleteFunctionCommand({ FunctionName: name })), true);
    } catch (error) {
      if (awsErrorName(error) !== 'ResourceNotFoundException') throw deployError(name, error, 'delete');
    }
  }

  /** A hook's code entries and their function names, skipping left-out entries and named Lambda functions. */
  const codeNames = (hook: HookFunctions): CodeEntry[] =>
    hook.functions.flatMap((entry, index) =>
      entry === null || isLambdaReference(entry)
        ? []
        : [{ index, code: entry, name: nameOf(hook.tenant, hook.id, index, entry) }],
    );

  return {
    async deploy(hook) {
      const deadline = clock.now() + (options.readyTimeoutMs ?? 20_000);
      const tasks = codeNames(hook).map((entry) => () => deployOne(hook.tenant, hook.id, entry, deadline));
      await runLimited(tasks, concurrency);
    },

    async remove(hook) {
      const tasks = codeNames(hook).map(
        ({ name }) =>
          () =>
            removeOne(name),
      );
      await runLimited(tasks, concurrency);
    },

    async invoke(target: FunctionTarget, args: FunctionArgs): Promise<unknown> {
      // Validation refuses such names; this also covers hooks stored before it did.
      if (target.kind === 'lambda' && lambdaFunctionName(target.name).startsWith(`${options.prefix}-`)) {
        throw new FunctionError(`'${target.name}' is a function this service deploys for user code, not yours`);
      }
      const name =
        target.kind === 'code' ? nameOf(target.tenant, target.hookId, target.index, target.code) : target.name;
      let response: InvokeCommandOutput;
      try {
        response = await client.send(
          new InvokeCommand({
            FunctionName: name,
            InvocationType: 'RequestResponse',
            Payload: Buffer.from(JSON.stringify(args)),
          }),
        );
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
      const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
      if (response.FunctionError) {
        const failure = parseJson(text) as { errorMessage?: unknown; errorType?: unknown } | undefined;
        const message =
          typeof failure?.errorMessage === 'string'
            ? failure.errorMessage
            : `function ${name} failed (${response.FunctionError})`;
        throw new FunctionError(message);
      }
      return text === '' ? null : parseJson(text);
    },
  };
}

function configurationDiffers(
  config: FunctionConfiguration,
  wanted: {
    Role: string;
    Runtime: string;
    Handler: string;
    Timeout: number;
    MemorySize: number;
    LoggingConfig?: { LogGroup: string };
  },
): boolean {
  return (
    config.Role !== wanted.Role ||
    config.Runtime !== wanted.Runtime ||
    config.Handler !== wanted.Handler ||
    config.Timeout !== wanted.Timeout ||
    config.MemorySize !== wanted.MemorySize ||
    (wanted.LoggingConfig !== undefined && config.LoggingConfig?.LogGroup !== wanted.LoggingConfig.LogGroup)
  );
}

function deployError(name: string, error: unknown, verb = 'deploy'): EventHooksError {
  if (error instanceof EventHooksError) return error;
  return new EventHooksError(`could not ${verb} Lambda function ${name}: ${awsErrorName(error)}`, { cause: error });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs tasks with at most `limit` in flight; rejects with the first failure once all have settled. */
async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task().catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

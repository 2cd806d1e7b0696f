import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  LambdaClient,
  type LambdaClientConfig,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { ConfigError } from '../../config.ts';
import { EventHooksError } from '../../errors.ts';
import { type FunctionRunner, type HookFunctions, isLambdaReference } from '../../ports/functionRunner.ts';
import { awsErrorName } from './backoff.ts';
import { type AwsFunctionInvokerOptions, createAwsFunctionInvoker, parseJson } from './functionInvoker.ts';
import { userFunctionName } from './userFunctionPackage.ts';

export const USER_FUNCTION_RUNTIME = 'nodejs24.x';
export const USER_FUNCTION_ARCHITECTURE = 'arm64';
export const USER_FUNCTION_HANDLER = 'index.handler';
export const HOOK_ID_TAG = 'event-hooks:hook-id';
export const TENANT_TAG = 'event-hooks:tenant';

/** Attempts of one control-plane call, retries included: the SDK's own retry, in its adaptive mode. */
export const CONTROL_PLANE_MAX_ATTEMPTS = 8;

/**
 * The Lambda client for control-plane calls (create, update, delete, list): the SDK retries throttling
 * (`TooManyRequestsException`, 429) and 5xx itself with backoff, and in adaptive mode also slows its
 * own sending once throttled, since the account-wide quota (about 15 requests/s) cannot be raised.
 */
export function controlPlaneClient(config: LambdaClientConfig = {}): LambdaClient {
  return new LambdaClient({ maxAttempts: CONTROL_PLANE_MAX_ATTEMPTS, retryMode: 'adaptive', ...config });
}

export interface AwsFunctionRunnerOptions extends AwsFunctionInvokerOptions {
  /**
   * A log group for the functions' own logs; none by default, since their role may not write any:
   * their output reaches `logger` instead (see functionInvoker.ts).
   */
  logGroup?: string;
  /** Client of `deploy` and `remove`. Default `controlPlaneClient()`. */
  client?: LambdaClient;
  /**
   * Makes the deployment package (a zip) of one code entry: `packageUserFunction`, given by the deploy
   * worker, the only function that deploys. Injected rather than imported so that the admin and
   * delivery bundles, which never deploy, carry no zip writer.
   */
  packageCode?: (code: string) => Uint8Array;
  /**
   * The SDK waiters that await a function `Active` or its update done: longest wait per function
   * (default 60 s: five rounds of two fit the deploy worker's 5 minutes) and delays between polls (default 1 to 10 s).
   */
  waiter?: { maxWaitSeconds?: number; minDelaySeconds?: number; maxDelaySeconds?: number };
  /** Functions deployed or removed at once, per job; the control-plane quota is shared by the account. Default 2. */
  concurrency?: number;
}

interface CodeEntry {
  name: string;
  index: number;
  code: string;
}

/**
 * The FunctionRunner port on Lambda: each code entry of a hook becomes its own function
 * (`nodejs24.x`, arm64, the user-code role) whose name includes a hash of its code (see
 * `userFunctionName`). `deploy` only creates functions (blue/green: a new version of a hook gets new
 * functions next to the old ones) and awaits them `Active`; `remove` deletes exactly the entries it
 * is given. Both run in the deploy worker, never in an API request. Throttling is retried by the SDK
 * (see `controlPlaneClient`) and waiting is the SDK's waiters: no retry loop of our own on top.
 * Invoking is `createAwsFunctionInvoker`'s (a signed HTTP call, no SDK): the admin and delivery
 * functions, which only invoke, use that alone, and their bundles carry no Lambda client.
 *
 * @example
 * const runner = createAwsFunctionRunner({ prefix: env.USER_FUNCTION_PREFIX, roleArn: env.USER_FUNCTION_ROLE_ARN });
 * await runner.deploy({ tenant: 'default', id: hook.id, functions: hook.config.functions });
 */
export function createAwsFunctionRunner(options: AwsFunctionRunnerOptions): FunctionRunner {
  const control = options.client ?? controlPlaneClient();
  const { invoke } = createAwsFunctionInvoker(options);
  const waiter = {
    client: control,
    maxWaitTime: options.waiter?.maxWaitSeconds ?? 60,
    minDelay: options.waiter?.minDelaySeconds ?? 1,
    maxDelay: options.waiter?.maxDelaySeconds ?? 10,
  };
  const settings = {
    Role: options.roleArn,
    Runtime: USER_FUNCTION_RUNTIME,
    Handler: USER_FUNCTION_HANDLER,
    Timeout: options.timeoutSeconds ?? 10,
    MemorySize: options.memoryMb ?? 128,
    ...(options.logGroup ? { LoggingConfig: { LogFormat: 'JSON' as const, LogGroup: options.logGroup } } : {}),
  } as const;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const nameOf = (tenant: string, hookId: string, index: number, code: string) =>
    userFunctionName(options.prefix, { tenant, hookId, index, code });

  /** Until the function is `Active` (a `Failed` one is an error), with its configuration. */
  async function active(name: string): Promise<FunctionConfiguration | undefined> {
    const result = await waitUntilFunctionActiveV2(waiter, { FunctionName: name });
    return (result.reason as { Configuration?: FunctionConfiguration } | undefined)?.Configuration;
  }

  const packageOf = (code: string): Uint8Array => {
    if (!options.packageCode) {
      throw new ConfigError(
        'this function cannot deploy user code (no packageCode given: only the deploy worker deploys)',
      );
    }
    return options.packageCode(code);
  };

  async function deployOne(tenant: string, hookId: string, entry: CodeEntry) {
    const { name, index, code } = entry;
    let exists = false;
    try {
      await control.send(
        new CreateFunctionCommand({
          FunctionName: name,
          ...settings,
          Architectures: [USER_FUNCTION_ARCHITECTURE],
          Code: { ZipFile: packageOf(code) },
          Description: `event-hooks user code ${index} of hook ${hookId}`,
          Tags: { [HOOK_ID_TAG]: hookId, [TENANT_TAG]: tenant },
        }),
      );
    } catch (error) {
      if (awsErrorName(error) !== 'ResourceConflictException') throw deployError(name, error);
      exists = true;
    }
    try {
      const config = await active(name);
      // An existing function holds this code (its name says so); only its settings may be out of date.
      if (!exists || (config && !configurationDiffers(config, settings))) return;
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
      await control.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...settings }));
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
    } catch (error) {
      throw deployError(name, error);
    }
  }

  async function removeOne(name: string): Promise<void> {
    try {
      await control.send(new DeleteFunctionCommand({ FunctionName: name }));
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
      const tasks = codeNames(hook).map((entry) => () => deployOne(hook.tenant, hook.id, entry));
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

    invoke,
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
  return new EventHooksError(
    `could not ${verb} Lambda function ${name}: ${waiterReason(error) ?? awsErrorName(error)}`,
    {
      cause: error,
    },
  );
}

/**
 * What a waiter's error means, in one line: the SDK's waiters throw an `Error` whose message is their
 * whole result as JSON (a `TimeoutError`, or a plain `Error` when the function ended up `Failed`).
 */
function waiterReason(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error.name !== 'Error' && error.name !== 'TimeoutError')) return undefined;
  if (error.name === 'TimeoutError') return 'not ready within the waiter’s time (TimeoutError)';
  const result = parseJson(error.message) as
    | { state?: string; reason?: { Configuration?: FunctionConfiguration } }
    | undefined;
  if (result?.state !== 'FAILURE') return undefined;
  const config = result.reason?.Configuration;
  return `the function failed: ${config?.StateReason ?? config?.LastUpdateStatusReason ?? 'no reason given'}`;
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

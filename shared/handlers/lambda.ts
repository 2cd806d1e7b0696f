import type { Static } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { FunctionError } from '../errors.ts';
import type { ConfigOptions } from '../hooks/refinements.ts';
import { LIMITS, Text } from '../hooks/schemas.ts';
import {
  type FunctionContext,
  type FunctionTarget,
  isLambdaReference,
  lambdaFunctionName,
} from '../ports/functionRunner.ts';
import { addRefinement, failedAt } from '../schema/kongErrors.ts';
import { defineHandler } from './definition.ts';
import type { HandlerFactory } from './types.ts';

/**
 * Each entry is user code (a JavaScript function body returning a function) or an AWS Lambda name/ARN.
 * Built inside a call marked pure (reading `LIMITS` counts as a side effect to the bundler): the deploy
 * worker and the sweeper bundle this module for `lambdaUserCode` alone, and so leave the schema out.
 */
export const LambdaConfigSchema = /* @__PURE__ */ (() =>
  Type.Object(
    {
      functions: Type.Array(Text(LIMITS.functionLength), {
        minItems: 1,
        maxItems: LIMITS.functions,
        description: 'User code (a JavaScript function body returning a function) or an AWS Lambda name or ARN.',
      }),
    },
    { additionalProperties: false },
  ))();

declare module '../hooks/hook.ts' {
  interface HandlerConfigs {
    lambda: Static<typeof LambdaConfigSchema>;
  }
}

/**
 * `lambda`: `config.functions` run in order as a pipeline (docs/reference.md §2.4). Each is called with
 * `(data, event, source, pid, context)` and returns the data for the next; the last return value is
 * the result. The first failure stops the pipeline and is the rejection. `context` carries the
 * delivery id and attempt (null under `/test`); `pid` is the runner's own (Kong: the worker's pid),
 * never the service's, which user code has no business signalling.
 *
 * Entries that name an existing Lambda function are invoked by name; the others are user code that
 * the runner deployed for this hook, addressed by position.
 */
export const lambda: HandlerFactory<'lambda'> = (hook, deps) => {
  const targets: FunctionTarget[] = hook.config.functions.map((entry, index) =>
    isLambdaReference(entry)
      ? { kind: 'lambda', name: entry }
      : { kind: 'code', tenant: deps.tenant, hookId: hook.id, index, code: entry },
  );

  return {
    async callback(event, ctx) {
      // The deploy worker has not made the functions ready yet: try again later, as for a function
      // that is not Active. A failed deployment will not get better until the hook is changed.
      if (hook.deployment?.state === 'pending') {
        throw new FunctionError(`the functions of event hook ${hook.id} are still being deployed`, { retryable: true });
      }
      if (hook.deployment?.state === 'failed') {
        throw new FunctionError(
          `the functions of event hook ${hook.id} could not be deployed: ${hook.deployment.error ?? 'no reason given'}`,
        );
      }
      const context: FunctionContext = {
        deliveryId: ctx?.deliveryId ?? null,
        attempt: ctx?.attempt ?? null,
        eventId: ctx?.eventId ?? null,
      };
      let data: unknown = event.data;
      for (const target of targets) {
        try {
          data = await deps.functions.invoke(target, {
            data,
            event: event.event,
            source: event.source,
            pid: 0,
            context,
          });
        } catch (error) {
          if (error instanceof FunctionError) throw error;
          // The runner promises FunctionError for user failures; anything else is the platform failing.
          throw new FunctionError(`function runner failed: ${(error as Error).message}`, {
            retryable: true,
            cause: error,
          });
        }
      }
      return data;
    },
  };
};

/** Refinements of a `functions` entry the schema accepted: not a service-deployed function, user code that compiles. */
function functionError(entry: string, options: ConfigOptions): string | undefined {
  if (isLambdaReference(entry)) {
    const reserved =
      options.reservedFunctionPrefix !== undefined &&
      lambdaFunctionName(entry).startsWith(`${options.reservedFunctionPrefix}-`);
    return reserved ? 'names a function this service deploys for user code' : undefined;
  }
  return options.userCodeSyntaxError?.(entry);
}

/**
 * The resource hook of `lambda`: the function runner deploys its `functions` (it leaves the entries
 * that name an existing Lambda function alone). The registry lists it apart from the definition too
 * (`USER_CODE_HOOKS`), for the functions that read nothing else of a handler.
 */
export const lambdaUserCode = (config: Static<typeof LambdaConfigSchema>): readonly string[] => config.functions;

/**
 * `lambda` (docs/reference.md §2.4): the one handler that deploys something. Its `functions` are what
 * the function runner deploys for the hook (`userCode`): the write effects verify and deploy them, the
 * quota counts them, the sweeper keeps the functions they name.
 */
export const lambdaHandler = /* @__PURE__ */ defineHandler({
  name: 'lambda',
  config: LambdaConfigSchema,
  hooksFileConfig: ({ text }) =>
    Type.Object(
      {
        functions: Type.Array(text(LIMITS.functionLength), {
          minItems: 1,
          maxItems: LIMITS.functions,
          description:
            'JavaScript function bodies returning `function (data, event, source, pid)`, or AWS Lambda names/ARNs, run in order.',
        }),
      },
      { additionalProperties: false },
    ),
  refine(config, errors, options) {
    if (failedAt(errors, ['functions']) || !Array.isArray(config.functions)) return;
    config.functions.forEach((entry: unknown, index) => {
      if (typeof entry === 'string')
        addRefinement(errors, ['functions', String(index + 1)], functionError(entry, options));
    });
  },
  create: lambda,
  userCode: lambdaUserCode,
});

import { FunctionError } from '../errors.ts';
import { type FunctionContext, type FunctionTarget, isLambdaReference } from '../ports/functionRunner.ts';
import type { HandlerFactory } from './types.ts';

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

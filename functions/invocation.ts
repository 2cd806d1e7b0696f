import type { Context } from 'aws-lambda';
import { flushMetrics } from '../shared/adapters/aws/emfMetrics.ts';
import { withLogContext } from '../shared/logger.ts';

let coldStart = true;

/**
 * Work each invocation ends with on Lambda, registered by the modules that need it (functions/currentApp.ts
 * writes metered usage): a registry rather than an import, so that a function without an app (the
 * authorizer) does not bundle one.
 */
const finishers: (() => Promise<void>)[] = [];

/** Runs `finish` as every invocation on Lambda ends, after its metrics are written. */
export function afterEachInvocation(finish: () => Promise<void>): void {
  finishers.push(finish);
}

/**
 * Wraps a function handler so that every log line of one invocation carries the Lambda request id,
 * the function name and whether this invocation started the execution environment (`cold_start`),
 * and writes the invocation's metrics and metered usage as it ends, whether it succeeded or threw. The fields are
 * added on Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set there), not in the local runtime.
 */
export function invocation<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return (event: E, context: Context): Promise<R> => {
    // The local runtime calls the same handlers, many at once, and logs an access line per request
    // instead: there the async context's promise tracking would cost about a tenth of the throughput.
    if (!process.env.AWS_LAMBDA_FUNCTION_NAME) return handler(event, context).finally(flushMetrics);
    const fields = {
      aws_request_id: context.awsRequestId,
      function_name: context.functionName,
      cold_start: coldStart,
    };
    coldStart = false;
    return withLogContext(fields, () => handler(event, context)).finally(async () => {
      flushMetrics();
      await Promise.all(finishers.map((finish) => finish()));
    });
  };
}

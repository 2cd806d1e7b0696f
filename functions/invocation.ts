import type { Context } from 'aws-lambda';
import { flushMetrics } from '../shared/adapters/aws/emfMetrics.ts';
import { withLogContext } from '../shared/logger.ts';

let coldStart = true;

/**
 * Wraps a function handler so that every log line of one invocation carries the Lambda request id,
 * the function name and whether this invocation started the execution environment (`cold_start`),
 * and writes the invocation's metrics as it ends, whether it succeeded or threw.
 */
export function invocation<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return (event: E, context: Context): Promise<R> => {
    const fields = {
      aws_request_id: context.awsRequestId,
      function_name: context.functionName,
      cold_start: coldStart,
    };
    coldStart = false;
    return withLogContext(fields, () => handler(event, context)).finally(flushMetrics);
  };
}

import { describe, expect, it } from 'vitest';
import { FunctionError } from '../../../shared/errors.ts';
import { lambda } from '../../../shared/handlers/lambda.ts';
import type { FunctionRunner } from '../../../shared/ports/functionRunner.ts';
import { hookOf, recordingRunner, testDeps } from './fixtures.ts';

const HELLO = 'return function (data, event, source, pid) { return "HELLO" }';
const WORLD = 'return function (data, event, source, pid) { return data + " WORLD" }';
const FAIL = 'return function () { throw new Error("nope") }';

async function runPipeline(functions: string[], runner: FunctionRunner, data: Record<string, unknown> = { n: 1 }) {
  const deps = testDeps(runner);
  try {
    return await lambda(hookOf('lambda', { functions }), deps).callback({ source: 'crud', event: 'consumers', data });
  } finally {
    deps.http.close();
  }
}

describe('lambda handler', () => {
  it('runs the functions as a pipeline: "HELLO" then data + " WORLD" gives "HELLO WORLD"', async () => {
    // Prepare
    const runner = recordingRunner({ [HELLO]: () => 'HELLO', [WORLD]: ({ data }) => `${String(data)} WORLD` });

    // Act
    const result = await runPipeline([HELLO, WORLD], runner);

    // Assess
    expect(result).toBe('HELLO WORLD');
    expect(runner.calls.map((call) => call.args.data)).toEqual([{ n: 1 }, 'HELLO']);
  });

  it('passes (data, event, source, pid) and addresses code by tenant, hook and position', async () => {
    // Prepare
    const runner = recordingRunner({ [HELLO]: () => 'HELLO', 'my-existing-fn': ({ data }) => ({ wrapped: data }) });

    // Act
    const result = await runPipeline([HELLO, 'my-existing-fn'], runner);

    // Assess
    expect(result).toEqual({ wrapped: 'HELLO' });
    const [first, second] = runner.calls;
    expect(first?.target).toEqual({
      kind: 'code',
      tenant: 'acme',
      hookId: hookOf('lambda', { functions: [] }).id,
      index: 0,
      code: HELLO,
    });
    // Never the service's pid: user code has no business signalling it (the runner puts its own).
    expect(first?.args).toEqual({
      data: { n: 1 },
      event: 'consumers',
      source: 'crud',
      pid: 0,
      context: { deliveryId: null, attempt: null, eventId: null },
    });
    expect(second?.target).toEqual({ kind: 'lambda', name: 'my-existing-fn' });
  });

  it('gives each function the delivery id, attempt and event id of the delivery it runs for', async () => {
    // Prepare
    const runner = recordingRunner({ [HELLO]: () => 'HELLO', [WORLD]: ({ data }) => `${String(data)} WORLD` });
    const deps = testDeps(runner);
    const handler = lambda(hookOf('lambda', { functions: [HELLO, WORLD] }), deps);

    // Act
    try {
      await handler.callback(
        { source: 'crud', event: 'consumers', data: {} },
        { deliveryId: 'd-1', attempt: 3, eventId: 'e-1', strict: true },
      );
    } finally {
      deps.http.close();
    }

    // Assess
    const context = { deliveryId: 'd-1', attempt: 3, eventId: 'e-1' };
    expect(runner.calls.map((call) => call.args.context)).toEqual([context, context]);
  });

  it('invokes an ARN as an existing Lambda function', async () => {
    // Prepare
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:enrich:live';
    const runner = recordingRunner({ [arn]: () => 'done' });

    // Act
    await runPipeline([arn], runner);

    // Assess
    expect(runner.calls[0]?.target).toEqual({ kind: 'lambda', name: arn });
  });

  it('stops at the first failing function and rejects with its FunctionError', async () => {
    // Prepare
    const failure = new FunctionError('nope');
    const runner = recordingRunner({
      [HELLO]: () => 'HELLO',
      [FAIL]: () => {
        throw failure;
      },
      [WORLD]: ({ data }) => `${String(data)} WORLD`,
    });

    // Act
    const error = await runPipeline([HELLO, FAIL, WORLD], runner).catch((e: unknown) => e);

    // Assess
    expect(error).toBe(failure);
    expect(runner.calls.map((call) => call.target.kind === 'code' && call.target.index)).toEqual([0, 1]);
  });

  it('turns a failure of the runner itself into a retryable FunctionError', async () => {
    // Prepare
    const runner = recordingRunner({
      [HELLO]: () => {
        throw new Error('throttled');
      },
    });

    // Act
    const error = await runPipeline([HELLO], runner).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(FunctionError);
    expect((error as FunctionError).retryable).toBe(true);
    expect((error as FunctionError).cause).toBeInstanceOf(Error);
  });
});

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobLogFields } from '../../functions/delivery.ts';
import { invocation } from '../../functions/invocation.ts';
import { memoryLogger, withLogContext, withLogFields } from '../../shared/logger.ts';
import type { DeliveryJob } from '../../shared/ports/deliveryQueue.ts';

const context = (awsRequestId: string) => ({ awsRequestId, functionName: 'event-hooks-delivery' }) as Context;

describe('invocation', () => {
  // As Lambda sets it in every execution environment.
  const before = process.env.AWS_LAMBDA_FUNCTION_NAME;
  beforeAll(() => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'event-hooks-delivery';
  });
  afterAll(() => {
    if (before === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = before;
  });

  it('puts the request id and the cold-start flag on every line an invocation writes, through awaits', async () => {
    // Prepare
    const logger = memoryLogger();
    const handler = invocation(async (event: { n: number }) => {
      logger.info('before');
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.child({ hook_id: 'h' }).info('after', { n: event.n });
      return event.n;
    });

    // Act: two invocations overlap, as they may in one process with a shared logger
    const results = await Promise.all([handler({ n: 1 }, context('req-1')), handler({ n: 2 }, context('req-2'))]);
    logger.info('outside');

    // Assess
    expect(results).toEqual([1, 2]);
    const byRequest = (id: string) => logger.lines.filter((l) => l.aws_request_id === id);
    expect(byRequest('req-1').map((l) => [l.message, l.cold_start])).toEqual([
      ['before', true],
      ['after', true],
    ]);
    expect(byRequest('req-2').map((l) => [l.message, l.cold_start])).toEqual([
      ['before', false],
      ['after', false],
    ]);
    expect(byRequest('req-1')[1]).toMatchObject({ hook_id: 'h', n: 1, function_name: 'event-hooks-delivery' });
    expect(logger.lines.at(-1)).not.toHaveProperty('aws_request_id');
  });

  it('adds no async context outside Lambda (the local runtime), where it would slow every promise', async () => {
    const logger = memoryLogger();
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    try {
      await invocation(async () => logger.info('local'))({}, context('req-local'));
    } finally {
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'event-hooks-delivery';
    }
    expect(logger.lines[0]).not.toHaveProperty('aws_request_id');
  });

  it('lets nested contexts add fields without losing the outer ones', () => {
    const logger = memoryLogger();
    withLogContext({ a: 1 }, () => withLogContext({ b: 2 }, () => logger.info('x')));
    expect(logger.lines[0]).toMatchObject({ a: 1, b: 2 });
  });

  it('puts the tenant, hook, delivery and event of a job on every line written for it, on Lambda only', async () => {
    // Prepare
    const logger = memoryLogger();
    const job = {
      type: 'deliver.v1',
      deliveryId: 'd-1',
      tenant: 't-1',
      hookId: 'h-1',
      event: { id: 'e-1', time: 'x', tenant: 't-1', source: 's', event: 'e', data: {} },
      attempt: 1,
      firstQueuedAt: 0,
    } satisfies DeliveryJob;
    const work = () =>
      withLogFields(jobLogFields(job), async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.warn('receiver slow');
      });

    // Act
    await invocation(work)({}, context('req-job'));
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    try {
      await invocation(work)({}, context('req-local'));
    } finally {
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'event-hooks-delivery';
    }

    // Assess
    expect(logger.lines[0]).toMatchObject({
      aws_request_id: 'req-job',
      cold_start: expect.any(Boolean),
      tenant: 't-1',
      hook_id: 'h-1',
      delivery_id: 'd-1',
      event_id: 'e-1',
    });
    expect(logger.lines[1]).not.toHaveProperty('hook_id');
  });
});

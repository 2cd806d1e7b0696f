import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { findOne, refersTo, synth } from './synth.ts';

describe('user functions deployed off the request path (UserFunctionDeployment)', () => {
  const { json, template } = synth();
  const queueId = (name: string) => findOne(json, 'AWS::SQS::Queue', { QueueName: name })[0];
  const functionId = (name: string) => findOne(json, 'AWS::Lambda::Function', { FunctionName: name })[0];

  it('has a deploy queue, encrypted, with a dead-letter queue after 5 receives and 6x the worker timeout as visibility', () => {
    const [, queue] = findOne(json, 'AWS::SQS::Queue', { QueueName: 'event-hooks-deploy' });
    expect(queue.Properties.VisibilityTimeout).toBe(6 * 300);
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const redrive = queue.Properties.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    expect(redrive.maxReceiveCount).toBe(5);
    expect(refersTo(redrive.deadLetterTargetArn, queueId('event-hooks-deploy-dlq'))).toBe(true);
  });

  it('feeds the deploy worker one job at a time, at most 2 workers at once, reporting failures per job', () => {
    const [, mapping] = findOne(json, 'AWS::Lambda::EventSourceMapping', { BatchSize: 1 });
    expect(refersTo(mapping.Properties.EventSourceArn, queueId('event-hooks-deploy'))).toBe(true);
    expect(refersTo(mapping.Properties.FunctionName, functionId('event-hooks-deployer'))).toBe(true);
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('tells the functions where deploy jobs go and after how many receives a job is the last', () => {
    const [, admin] = findOne(json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-admin' });
    const env = (admin.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(refersTo(env.DEPLOY_QUEUE_URL, queueId('event-hooks-deploy'))).toBe(true);
    expect(env.DEPLOY_MAX_RECEIVES).toBe('5');
  });

  it('runs the sweeper every hour on a schedule', () => {
    const [, rule] = findOne(json, 'AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    const targets = rule.Properties.Targets as { Arn: unknown }[];
    expect(targets).toHaveLength(1);
    expect(refersTo(targets[0]!.Arn, functionId('event-hooks-sweeper'))).toBe(true);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
  });

  it('takes the worker concurrency and the sweep interval from the props, and refuses a concurrency SQS does not allow', () => {
    const custom = synth({ deployerMaxConcurrency: 3, sweepEvery: Duration.hours(6) });
    custom.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    expect(() => synth({ deployerMaxConcurrency: 1 })).toThrow(/deployerMaxConcurrency must be between 2 and 1000/);
  });
});

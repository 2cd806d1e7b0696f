import { Duration } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { EventHooksStack } from '../../../infra/cdk/eventHooksStack.ts';
import { METRICS } from '../../../shared/ports/metrics.ts';
import { type CfnResource, findOne, idsOf, refersTo, synth } from './synth.ts';

const { AwsSolutionsChecks } = cdkNag;

function nagFindings(stack: EventHooksStack): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

describe('monitoring', () => {
  const { json, stack } = synth();
  const queueId = (name: string) => findOne(json, 'AWS::SQS::Queue', { QueueName: name })[0];
  const functionId = (name: string) => findOne(json, 'AWS::Lambda::Function', { FunctionName: name })[0];
  const [tableId] = findOne(json, 'AWS::DynamoDB::Table');
  const [apiId] = findOne(json, 'AWS::ApiGatewayV2::Api');
  const [topicId] = findOne(json, 'AWS::SNS::Topic');
  const alarm = (id: string): CfnResource =>
    findOne(json, 'AWS::CloudWatch::Alarm', { AlarmName: `event-hooks-${id}` })[1];

  const expected: [id: string, namespace: string, metric: string, statistic: string, threshold: number, on: string][] =
    [
      [
        'DeliveryDeadLetters',
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'Maximum',
        1,
        queueId('event-hooks-delivery-dlq'),
      ],
      [
        'EventsDeadLetters',
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'Maximum',
        1,
        queueId('event-hooks-events-dlq'),
      ],
      ['DispatcherErrors', 'AWS/Lambda', 'Errors', 'Sum', 1, functionId('event-hooks-dispatcher')],
      ['DispatcherThrottles', 'AWS/Lambda', 'Throttles', 'Sum', 1, functionId('event-hooks-dispatcher')],
      ['DeliveryErrors', 'AWS/Lambda', 'Errors', 'Sum', 1, functionId('event-hooks-delivery')],
      ['DeliveryThrottles', 'AWS/Lambda', 'Throttles', 'Sum', 1, functionId('event-hooks-delivery')],
      ['Api5xx', 'AWS/ApiGateway', '5xx', 'Sum', 1, apiId],
      ['TableReadThrottles', 'AWS/DynamoDB', 'ReadThrottleEvents', 'Sum', 1, tableId],
      ['TableWriteThrottles', 'AWS/DynamoDB', 'WriteThrottleEvents', 'Sum', 1, tableId],
      [
        'DeliveryQueueAge',
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        'Maximum',
        1800,
        queueId('event-hooks-delivery'),
      ],
    ];

  it.each(expected)(
    'alarms %s on %s %s (%s ≥ %d) of the right resource',
    (id, namespace, metric, statistic, threshold, on) => {
      const { Properties: p } = alarm(id);
      expect(p).toMatchObject({
        Namespace: namespace,
        MetricName: metric,
        Statistic: statistic,
        Threshold: threshold,
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(refersTo(p.Dimensions, on)).toBe(true);
    },
  );

  it('has exactly these alarms, each notifying the exposed topic on alarm and on recovery', () => {
    expect(idsOf(json, 'AWS::CloudWatch::Alarm')).toHaveLength(expected.length);
    for (const [id] of expected) {
      const { Properties: p } = alarm(id);
      expect(p.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(p.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(stack.eventHooks.alarmTopic.node.path).toContain('AlarmTopic');
    expect(stack.resolve(stack.eventHooks.alarmTopic.topicArn)).toEqual({ Ref: topicId });
  });

  it('lets the topic be reached over TLS only', () => {
    const [, policy] = findOne(json, 'AWS::SNS::TopicPolicy');
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('takes the queue age threshold from the props', () => {
    const custom = synth({ queueAgeAlarmThreshold: Duration.minutes(10) });
    const [, age] = findOne(custom.json, 'AWS::CloudWatch::Alarm', { AlarmName: 'event-hooks-DeliveryQueueAge' });
    expect(age.Properties.Threshold).toBe(600);
  });

  it('draws deliveries by outcome, latency and queue age from the functions’ own metrics', () => {
    const [, dashboard] = findOne(json, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain(METRICS.deliveries.name);
    expect(body).toContain(METRICS.delivery_latency.name);
    expect(body).toContain('ApproximateAgeOfOldestMessage');
    expect(body).toContain(METRICS.dead_letters.name);
    expect(body).toContain(METRICS.events_suppressed.name);
    for (const outcome of ['delivered', 'retry', 'dead-letter', 'skipped'])
      expect(body).toContain(`outcome=\\\\\\"${outcome}`);
    // The namespace the functions write to is the one the dashboard reads.
    const [, delivery] = findOne(json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-delivery' });
    const namespace = (delivery.Properties.Environment as { Variables: Record<string, string> }).Variables
      .METRICS_NAMESPACE;
    expect(namespace).toBe('EventHooks/event-hooks');
    expect(body).toContain(`{${namespace},handler,outcome}`);
  });

  describe('tracing', () => {
    it('is off by default', () => {
      for (const id of idsOf(json, 'AWS::Lambda::Function')) {
        expect(json.Resources[id]!.Properties.TracingConfig).toBeUndefined();
      }
    });

    it('turns on Lambda active tracing of every service function, and cdk-nag stays clean', () => {
      const traced = synth({ tracing: true });
      const functions = ['admin', 'ingest', 'dispatcher', 'delivery', 'deployer', 'sweeper'];
      for (const name of functions) {
        const [, fn] = findOne(traced.json, 'AWS::Lambda::Function', { FunctionName: `event-hooks-${name}` });
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      }
      expect(nagFindings(traced.stack)).toEqual([]);
    });
  });
});

import { Duration, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../../shared/ports/metrics.ts';

export interface MonitoringProps {
  namePrefix: string;
  /** Where the functions write their EMF metrics (`METRICS_NAMESPACE`). */
  metricsNamespace: string;
  dispatcher: lambda.IFunction;
  delivery: lambda.IFunction;
  deliveryQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  eventsDeadLetterQueue: sqs.IQueue;
  table: dynamodb.ITable;
  api: apigwv2.IHttpApi;
  /** Age of the oldest delivery message that raises the alarm. Default 30 minutes. */
  queueAgeThreshold?: Duration;
}

/** One alarm's definition: what docs/operations.md explains, by the same name. */
interface AlarmSpec {
  id: string;
  description: string;
  metric: cloudwatch.IMetric;
  threshold: number;
}

const PERIOD = Duration.minutes(5);

/**
 * The service's alarms, the SNS topic they all notify, and a dashboard. Every alarm fires on one
 * five-minute period at or above its threshold, and treats missing data as fine (a function that
 * ran no invocation has no Errors data point). docs/operations.md says what each one means.
 */
export class Monitoring extends Construct {
  /** Every alarm notifies this topic, on alarm and on recovery: subscribe e-mail, chat or paging to it. */
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${props.namePrefix}-alarms`,
      displayName: `${props.namePrefix} alarms`,
      enforceSSL: true,
    });
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries CloudWatch alarm state changes only (alarm names, metric values), no user data. ' +
        'CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer key would cost more than the alarms.',
    });

    const sum = { statistic: cloudwatch.Stats.SUM, period: PERIOD };
    const max = { statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD };
    const queueAge = props.queueAgeThreshold ?? Duration.minutes(30);
    const specs: AlarmSpec[] = [
      {
        id: 'DeliveryDeadLetters',
        description: 'Deliveries are in the delivery dead-letter queue (SQS gave up on their messages).',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(max),
        threshold: 1,
      },
      {
        id: 'EventsDeadLetters',
        description: 'Events are in the events dead-letter queue: the dispatcher could not take them.',
        metric: props.eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible(max),
        threshold: 1,
      },
      {
        id: 'DispatcherErrors',
        description: 'The dispatcher failed invocations (events are retried by EventBridge, then dead-lettered).',
        metric: props.dispatcher.metricErrors(sum),
        threshold: 1,
      },
      {
        id: 'DispatcherThrottles',
        description: 'The dispatcher was throttled: events wait or are retried.',
        metric: props.dispatcher.metricThrottles(sum),
        threshold: 1,
      },
      {
        id: 'DeliveryErrors',
        description: 'Delivery invocations failed: every record of a batch failed for the service’s own reasons.',
        metric: props.delivery.metricErrors(sum),
        threshold: 1,
      },
      {
        id: 'DeliveryThrottles',
        description: 'The delivery function was throttled: deliveries wait in the queue.',
        metric: props.delivery.metricThrottles(sum),
        threshold: 1,
      },
      {
        id: 'Api5xx',
        description: 'The HTTP API answered 5xx: bad input is always a 4xx, so this is a defect or an outage.',
        metric: props.api.metricServerError(sum),
        threshold: 1,
      },
      {
        id: 'TableReadThrottles',
        description: 'DynamoDB throttled reads of the table.',
        metric: props.table.metric('ReadThrottleEvents', sum),
        threshold: 1,
      },
      {
        id: 'TableWriteThrottles',
        description: 'DynamoDB throttled writes to the table.',
        metric: props.table.metric('WriteThrottleEvents', sum),
        threshold: 1,
      },
      {
        id: 'DeliveryQueueAge',
        description: `The oldest delivery message is older than ${queueAge.toHumanString()}: deliveries fall behind.`,
        metric: props.deliveryQueue.metricApproximateAgeOfOldestMessage(max),
        threshold: queueAge.toSeconds(),
      },
    ];
    const action = new SnsAction(this.alarmTopic);
    for (const spec of specs) {
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmName: `${props.namePrefix}-${spec.id}`,
        alarmDescription: `${spec.description} See docs/operations.md#${spec.id.toLowerCase()}.`,
        metric: spec.metric,
        threshold: spec.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-service`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Deliveries by outcome',
        width: 12,
        left: ['delivered', 'retry', 'dead-letter', 'skipped'].map(
          (outcome) =>
            new cloudwatch.MathExpression({
              // Summed over every handler: one line per outcome, whatever handlers are in use.
              expression: `SUM(SEARCH('{${props.metricsNamespace},handler,outcome} MetricName="${METRICS.deliveries.name}" outcome="${outcome}"', 'Sum', 300))`,
              label: outcome,
              period: PERIOD,
            }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Delivery latency p50 / p95 (seconds, delivered, by handler)',
        width: 12,
        left: ['p50', 'p95'].map(
          (statistic) =>
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${props.metricsNamespace},handler,outcome} MetricName="${METRICS.delivery_latency.name}" outcome="delivered"', '${statistic}', 300)`,
              label: statistic,
              period: PERIOD,
            }),
        ),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Delivery queue: age of oldest message (s) and messages waiting',
        width: 12,
        left: [props.deliveryQueue.metricApproximateAgeOfOldestMessage(max)],
        right: [props.deliveryQueue.metricApproximateNumberOfMessagesVisible(max)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters and suppressed events',
        width: 12,
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'delivery DLQ' }),
          props.eventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'events DLQ' }),
        ],
        right: [
          new cloudwatch.MathExpression({
            // The worker's dead letters (kept in the table, listed by /dead-letters), not the queues'.
            expression: `SUM(SEARCH('{${props.metricsNamespace},cause} MetricName="${METRICS.dead_letters.name}"', 'Sum', 300))`,
            label: 'dead-lettered deliveries',
            period: PERIOD,
          }),
          new cloudwatch.MathExpression({
            expression: `SUM(SEARCH('{${props.metricsNamespace},handler,reason} MetricName="${METRICS.events_suppressed.name}"', 'Sum', 300))`,
            label: 'suppressed',
            period: PERIOD,
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }));
  }
}

import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EventHooks, type EventHooksProps } from './eventHooks.ts';

export interface EventHooksStackProps extends StackProps, EventHooksProps {}

/** The deployable stack: the `EventHooks` construct and the outputs a user needs after `cdk deploy`. */
export class EventHooksStack extends Stack {
  readonly eventHooks: EventHooks;

  constructor(scope: Construct, id: string, props: EventHooksStackProps = {}) {
    super(scope, id, props);
    this.eventHooks = new EventHooks(this, 'EventHooks', props);
    const hooks = this.eventHooks;
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', hooks.apiUrl, 'Base URL of the Admin API and POST /events');
    output(
      'EventBusName',
      hooks.bus.eventBusName,
      hooks.access.tenancy === 'multi'
        ? 'EventBridge bus: only the service puts events here; producers use POST /events with an ingest key'
        : 'EventBridge bus: producers may PutEvents here directly',
    );
    output('EventBusArn', hooks.bus.eventBusArn, 'ARN of the EventBridge bus');
    output('TableName', hooks.table.tableName, 'DynamoDB table of hooks, sources and gate items');
    output('DeliveryQueueUrl', hooks.deliveryQueue.queueUrl, 'SQS delivery queue');
    output('DeadLetterQueueUrl', hooks.deadLetterQueue.queueUrl, 'Deliveries that failed for good');
    output('EventsDeadLetterQueueUrl', hooks.eventsDeadLetterQueue.queueUrl, 'Events the dispatcher could not take');
    output('AlarmTopicArn', hooks.alarmTopic.topicArn, 'SNS topic every alarm notifies: subscribe to it');
    output('UserFunctionPrefix', hooks.userFunctionPrefix, 'Name prefix of the Lambda functions made from user code');
  }
}

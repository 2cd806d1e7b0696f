import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** What the deploy worker does with the Lambda control plane, on user-code functions only. */
export const DEPLOYER_LAMBDA_ACTIONS = [
  'lambda:CreateFunction',
  'lambda:TagResource',
  // the SDK's waiters (waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2) poll GetFunction
  'lambda:GetFunction',
  'lambda:UpdateFunctionConfiguration',
  'lambda:DeleteFunction',
];
/** What the sweeper does with them: list (an action that takes no resource), read tags, delete. */
export const SWEEPER_LAMBDA_ACTIONS = ['lambda:ListTags', 'lambda:DeleteFunction'];

export interface UserFunctionDeploymentProps {
  /** Prefix of the queues' names. */
  namePrefix: string;
  /** The deploy worker's timeout: the queue's visibility timeout is six times it, as AWS advises. */
  deployerTimeout: Duration;
  /** Receives of one deploy job before its hook is marked `failed` and SQS moves it to the dead-letter queue. Default 5. */
  maxReceiveCount?: number;
}

export interface UserFunctionDeploymentWiring {
  deployer: lambda.IFunction;
  deployerRole: iam.IRole;
  sweeper: lambda.IFunction;
  sweeperRole: iam.IRole;
  /** Roles that send deploy jobs (the admin function, and the sweeper for hooks still pending). */
  senders: iam.IRole[];
  table: dynamodb.ITable;
  userFunctionRole: iam.IRole;
  /** ARN pattern of the deployment's user-code functions, and the same as cdk-nag prints it. */
  userFunctionArnPattern: string;
  nagUserFunctionArnPattern: string;
  /** How often the sweeper runs. Default every hour. */
  sweepEvery?: Duration;
  /** Most deploy workers at once (2–1000). Default 2: the control-plane quota (~15 requests/s) is the account's. */
  deployerMaxConcurrency?: number;
}

/**
 * User functions deployed off the request path: the deploy queue (and its dead-letter queue) the
 * Admin API sends jobs to, the deploy worker reading it a couple at a time, and the scheduled sweeper
 * that deletes functions no stored hook uses. Built in two steps, since the queue URL goes into the
 * functions' environment before the functions exist: the construct, then `connect`.
 */
export class UserFunctionDeployment extends Construct {
  readonly deployQueue: sqs.Queue;
  readonly deployDeadLetterQueue: sqs.Queue;
  readonly maxReceiveCount: number;
  sweepRule?: events.Rule;

  constructor(scope: Construct, id: string, props: UserFunctionDeploymentProps) {
    super(scope, id);
    const queueDefaults = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    this.deployDeadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueDefaults,
      queueName: `${props.namePrefix}-deploy-dlq`,
      retentionPeriod: Duration.days(14),
    });
    this.deployQueue = new sqs.Queue(this, 'Queue', {
      ...queueDefaults,
      queueName: `${props.namePrefix}-deploy`,
      visibilityTimeout: Duration.seconds(props.deployerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deployDeadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });
  }

  /** The environment the functions need: where jobs go, and after how many receives a job is the last. */
  get environment(): Record<string, string> {
    return { DEPLOY_QUEUE_URL: this.deployQueue.queueUrl, DEPLOY_MAX_RECEIVES: String(this.maxReceiveCount) };
  }

  connect(wiring: UserFunctionDeploymentWiring): void {
    const concurrency = wiring.deployerMaxConcurrency ?? 2;
    if (concurrency < 2 || concurrency > 1000) throw new Error('deployerMaxConcurrency must be between 2 and 1000');
    wiring.deployer.addEventSource(
      new SqsEventSource(this.deployQueue, {
        batchSize: 1,
        maxConcurrency: concurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.sweepRule = new events.Rule(this, 'SweepSchedule', {
      description: 'Deletes the user functions no stored hook uses',
      schedule: events.Schedule.rate(wiring.sweepEvery ?? Duration.hours(1)),
      targets: [new targets.LambdaFunction(wiring.sweeper, { retryAttempts: 2 })],
    });

    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
    for (const sender of wiring.senders) allow(sender, ['sqs:SendMessage'], [this.deployQueue.queueArn]);
    // The hook as stored now, then its deployment state and the hooks version.
    allow(wiring.deployerRole, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [wiring.table.tableArn]);
    allow(wiring.deployerRole, DEPLOYER_LAMBDA_ACTIONS, [wiring.userFunctionArnPattern]);
    allow(wiring.deployerRole, ['iam:PassRole'], [wiring.userFunctionRole.roleArn], {
      StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    });
    // The hook a function is tagged with, and the tenant's hooks, for those still pending.
    allow(wiring.sweeperRole, ['dynamodb:GetItem', 'dynamodb:Query'], [wiring.table.tableArn]);
    allow(wiring.sweeperRole, SWEEPER_LAMBDA_ACTIONS, [wiring.userFunctionArnPattern]);
    allow(wiring.sweeperRole, ['lambda:ListFunctions'], ['*']);

    for (const role of [wiring.deployerRole, wiring.sweeperRole]) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${wiring.nagUserFunctionArnPattern}]`,
        reason:
          'User-code functions are created at run time, one per code string of a lambda hook, so their names are not known at deploy time. ' +
          'The pattern is the narrowest one: this deployment’s prefix, exactly 16 hash characters, an index; the service’s own functions never match it.',
      });
    }
    Validations.of(wiring.sweeperRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'lambda:ListFunctions supports no resource-level permission; it is the only action on `*`, and it lists, the sweeper deletes only within the user-function pattern.',
    });
  }
}

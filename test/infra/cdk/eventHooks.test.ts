import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '../../../shared/store/table.ts';
import { findOne, idsOf, permissionsOfRole, refersTo, synth } from './synth.ts';

describe('EventHooks construct', () => {
  const { template, json } = synth();
  const queueId = (name: string) => findOne(json, 'AWS::SQS::Queue', { QueueName: name })[0];
  const functionId = (name: string) => findOne(json, 'AWS::Lambda::Function', { FunctionName: name })[0];

  describe('table', () => {
    it('is on-demand with the keys and index of TABLE_SCHEMA, TTL on the gate expiry, PITR and deletion protection', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: TABLE_SCHEMA.bySourceIndex.name,
              KeySchema: [
                { AttributeName: TABLE_SCHEMA.bySourceIndex.partitionKey, KeyType: 'HASH' },
                { AttributeName: TABLE_SCHEMA.bySourceIndex.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
          TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        },
      });
    });

    it('can be deployed without deletion protection, and is then deleted with the stack', () => {
      const unprotected = synth({ deletionProtection: false });
      unprotected.template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Delete',
        Properties: { DeletionProtectionEnabled: false, TimeToLiveSpecification: { Enabled: true } },
      });
    });
  });

  describe('bus and dispatch rule', () => {
    it('sends every event on the dedicated bus to the dispatcher, with retries and a dead-letter queue', () => {
      // Prepare
      const [busId] = findOne(json, 'AWS::Events::EventBus', { Name: 'event-hooks-bus' });
      const [, rule] = findOne(json, 'AWS::Events::Rule', {
        Description: 'Every event on the bus goes to the dispatcher',
      });

      // Assess
      expect(refersTo(rule.Properties.EventBusName, busId)).toBe(true);
      expect(rule.Properties.EventPattern).toEqual({ source: [{ prefix: '' }] });
      const targets = rule.Properties.Targets as Record<string, unknown>[];
      expect(targets).toHaveLength(1);
      expect(refersTo(targets[0]!.Arn, functionId('event-hooks-dispatcher'))).toBe(true);
      expect(refersTo(targets[0]!.DeadLetterConfig, queueId('event-hooks-events-dlq'))).toBe(true);
      expect(targets[0]!.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 });
    });

    it('dead-letters events the dispatcher failed on after Lambda’s own async retries', () => {
      const [, config] = findOne(json, 'AWS::Lambda::EventInvokeConfig');
      expect(refersTo(config.Properties.FunctionName, functionId('event-hooks-dispatcher'))).toBe(true);
      expect(config.Properties.MaximumRetryAttempts).toBe(2);
      expect(refersTo(config.Properties.DestinationConfig, queueId('event-hooks-events-dlq'))).toBe(true);
    });

    it('lets only this rule put into the events dead-letter queue', () => {
      const [ruleId] = findOne(json, 'AWS::Events::Rule', {
        Description: 'Every event on the bus goes to the dispatcher',
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId('event-hooks-events-dlq') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    });
  });

  describe('delivery queue', () => {
    it('redrives to the dead-letter queue and hides a message six times as long as a delivery may run', () => {
      const [, queue] = findOne(json, 'AWS::SQS::Queue', { QueueName: 'event-hooks-delivery' });
      const [, fn] = findOne(json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-delivery' });
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn.Properties.Timeout as number));
      expect(queue.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId('event-hooks-delivery-dlq'), 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    });

    it('keeps the six-times rule when the delivery timeout is changed', () => {
      const custom = synth({ timeouts: { delivery: Duration.seconds(100) }, maxReceiveCount: 3 });
      custom.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'event-hooks-delivery',
        VisibilityTimeout: 600,
        RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
      });
    });

    it('keeps dead letters for 14 days', () => {
      for (const name of ['event-hooks-delivery-dlq', 'event-hooks-events-dlq']) {
        template.hasResourceProperties('AWS::SQS::Queue', { QueueName: name, MessageRetentionPeriod: 14 * 24 * 3600 });
      }
    });

    it('feeds the delivery function in batches that report partial failures', () => {
      const [, mapping] = findOne(json, 'AWS::Lambda::EventSourceMapping', { BatchSize: 10 });
      expect(refersTo(mapping.Properties.EventSourceArn, queueId('event-hooks-delivery'))).toBe(true);
      expect(refersTo(mapping.Properties.FunctionName, functionId('event-hooks-delivery'))).toBe(true);
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.Properties.BatchSize).toBe(10);
    });

    it('caps delivery concurrency by default, so a backlog cannot take the whole account', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 50 } });
    });

    it('takes messages as large as SQS allows (1 MiB), on the queue and its dead-letter queue', () => {
      for (const name of ['event-hooks-delivery', 'event-hooks-delivery-dlq']) {
        template.hasResourceProperties('AWS::SQS::Queue', { QueueName: name, MaximumMessageSize: 1_048_576 });
      }
    });

    it('caps delivery concurrency when asked', () => {
      synth({ deliveryMaxConcurrency: 5 }).template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    });

    it('refuses every queue request that is not over TLS', () => {
      for (const name of ['event-hooks-delivery', 'event-hooks-delivery-dlq', 'event-hooks-events-dlq']) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId(name) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });
  });

  describe('user-code role', () => {
    const roleIds = idsOf(json, 'AWS::IAM::Role').filter((id) => id.includes('UserFunctionRole'));

    it('can be assumed by Lambda only and carries no managed policy', () => {
      expect(roleIds).toHaveLength(1);
      const role = json.Resources[roleIds[0]!]!;
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      });
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('has no permission at all, not even to write logs: one tenant’s code reaches nothing of another’s', () => {
      const role = json.Resources[roleIds[0]!]!;
      expect(role.Properties.Policies).toBeUndefined();
      expect(permissionsOfRole(json, roleIds[0]!)).toEqual([]);
      // no policy of any kind is attached to it
      const attached = Object.values(json.Resources).filter(
        (r) =>
          (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
          refersTo(r.Properties.Roles ?? [], roleIds[0]!),
      );
      expect(attached).toEqual([]);
      expect(
        idsOf(json, 'AWS::Logs::LogGroup').filter((id) => id.includes('UserFunction')),
        'no log group for user code',
      ).toEqual([]);
    });
  });

  describe('environment', () => {
    it('gives every function the configuration the code reads', () => {
      // Prepare
      const [tableId] = findOne(json, 'AWS::DynamoDB::Table');
      const [busId] = findOne(json, 'AWS::Events::EventBus');
      const userRoleId = idsOf(json, 'AWS::IAM::Role').find((id) => id.includes('UserFunctionRole'))!;

      for (const name of ['admin', 'ingest', 'dispatcher', 'delivery']) {
        // Act
        const [, fn] = findOne(json, 'AWS::Lambda::Function', { FunctionName: `event-hooks-${name}` });
        const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

        // Assess
        expect(env).toMatchObject({
          RUNTIME: 'aws',
          TENANT: 'default',
          USER_FUNCTION_PREFIX: 'event-hooks-user',
          RETRY_MAX_ATTEMPTS: '10',
          RETRY_MAX_AGE_MS: String(24 * 3600 * 1000),
          RETRY_BASE_DELAY_MS: '5000',
          RETRY_MAX_DELAY_MS: String(3600 * 1000),
          HOOK_CACHE_CHECK_MS: '1000',
          BLOCK_PRIVATE_NETWORKS: 'true',
          LOG_LEVEL: 'info',
          FUNCTION_TIMEOUT_MS: '5000',
          FUNCTION_MEMORY_MB: '128',
          CAPTURE_BODIES: 'true',
          EVENT_RETENTION_DAYS: '7',
        });
        expect(env.TABLE_NAME).toEqual({ Ref: tableId });
        expect(env.EVENT_BUS_NAME).toEqual({ Ref: busId });
        expect(env.DELIVERY_QUEUE_URL).toEqual({ Ref: queueId('event-hooks-delivery') });
        expect(env.USER_FUNCTION_LOG_GROUP).toBeUndefined();
        expect(env.USER_FUNCTION_ROLE_ARN).toEqual({ 'Fn::GetAtt': [userRoleId, 'Arn'] });
      }
    });

    it('passes the props a deployer changes', () => {
      const custom = synth({
        namePrefix: 'acme-hooks',
        tenant: 'acme',
        logLevel: 'debug',
        retry: { maxAttempts: 3 },
        hookCacheCheckMs: 250,
        userFunctionTimeout: Duration.seconds(9),
        captureBodies: false,
        eventRetentionDays: 30,
      });
      custom.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-hooks-delivery',
        Environment: {
          Variables: Match.objectLike({
            TENANT: 'acme',
            LOG_LEVEL: 'debug',
            RETRY_MAX_ATTEMPTS: '3',
            RETRY_BASE_DELAY_MS: '5000',
            HOOK_CACHE_CHECK_MS: '250',
            USER_FUNCTION_PREFIX: 'acme-hooks-user',
            FUNCTION_TIMEOUT_MS: '9000',
            CAPTURE_BODIES: 'false',
            EVENT_RETENTION_DAYS: '30',
          }),
        },
      });
      custom.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'acme-hooks-bus' });
    });

    it('passes the delivery log switches and the auto-disable thresholds (defaults, then props)', () => {
      expect(
        (
          findOne(json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-delivery' })[1].Properties
            .Environment as {
            Variables: Record<string, unknown>;
          }
        ).Variables,
      ).toMatchObject({
        DELIVERY_LOG: 'true',
        DELIVERY_LOG_RETENTION_DAYS: '7',
        AUTO_DISABLE_FAILURES: '50',
        AUTO_DISABLE_WINDOW_SECONDS: String(5 * 24 * 3600),
      });
      const custom = synth({
        deliveryLog: { retentionDays: 3 },
        autoDisable: { failures: 10, window: Duration.hours(12) },
      });
      custom.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'event-hooks-delivery',
        Environment: {
          Variables: Match.objectLike({
            DELIVERY_LOG_RETENTION_DAYS: '3',
            AUTO_DISABLE_FAILURES: '10',
            AUTO_DISABLE_WINDOW_SECONDS: String(12 * 3600),
          }),
        },
      });
    });
  });

  describe('reserved concurrency', () => {
    const reservedOf = (j: typeof json) =>
      Object.fromEntries(
        Object.values(j.Resources)
          .filter((r) => r.Type === 'AWS::Lambda::Function')
          .map((r) => [r.Properties.FunctionName, r.Properties.ReservedConcurrentExecutions]),
      );

    it('keeps concurrency for the API, ingest and the dispatcher, so busy deliveries cannot starve them', () => {
      const reserved = reservedOf(json);
      expect(reserved).toMatchObject({
        'event-hooks-admin': 5,
        'event-hooks-ingest': 20,
        'event-hooks-dispatcher': 20,
      });
      // Delivery is capped by its event source instead; background workers need no reservation.
      const others = Object.entries(reserved).filter(([name]) => !/-(admin|ingest|dispatcher)$/.test(name));
      expect(others.length).toBeGreaterThanOrEqual(1);
      expect(others.every(([, value]) => value === undefined)).toBe(true);
    });

    it('takes other values, or none at all for accounts with a low concurrency quota', () => {
      expect(reservedOf(synth({ reservedConcurrency: { ingest: 100 } }).json)).toMatchObject({
        'event-hooks-admin': 5,
        'event-hooks-ingest': 100,
      });
      const none = Object.values(reservedOf(synth({ reservedConcurrency: false }).json));
      expect(none.length).toBeGreaterThanOrEqual(4);
      expect(none.every((reserved) => reserved === undefined)).toBe(true);
    });
  });

  describe('props checks', () => {
    it('refuses a name prefix Lambda or IAM could not use', () => {
      expect(() => synth({ namePrefix: 'has space' })).toThrow(/namePrefix/);
      expect(() => synth({ namePrefix: 'x'.repeat(40) })).toThrow(/too long/);
      expect(() => synth({ deliveryMaxConcurrency: 1 })).toThrow(/deliveryMaxConcurrency/);
    });

    it('refuses values that would synthesize but crash every function at its first cold start', () => {
      expect(() => synth({ userFunctionTimeout: Duration.seconds(0) })).toThrow(
        /userFunctionTimeout must be whole seconds from 1 to 900/,
      );
      expect(() => synth({ userFunctionTimeout: Duration.millis(1500) })).toThrow(/userFunctionTimeout/);
      expect(() => synth({ userFunctionMemorySize: 64 })).toThrow(
        /userFunctionMemorySize must be a whole number from 128 to 10240 MB, got 64/,
      );
      expect(() => synth({ retry: { maxAttempts: 0 } })).toThrow(/retry.maxAttempts must be a whole number from 1/);
      expect(() => synth({ timeouts: { delivery: Duration.seconds(0) } })).toThrow(/timeouts.delivery/);
      expect(() => synth({ memorySizes: { admin: 100 } })).toThrow(/memorySizes.admin/);
      expect(() => synth({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
      expect(() => synth({ deliveryBatchSize: 11 })).toThrow(/deliveryBatchSize/);
      expect(() => synth({ reservedConcurrency: { delivery: 5 } as never })).toThrow(
        /only admin, ingest and dispatcher/,
      );
      expect(() => synth({ reservedConcurrency: { admin: 0 } })).toThrow(/reservedConcurrency.admin/);
    });
  });
});

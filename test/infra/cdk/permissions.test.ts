import { describe, expect, it } from 'vitest';
import { SECRETS_KEY_CONDITIONS } from '../../../infra/cdk/permissions.ts';
import { findOne, idsOf, type Permission, permissionsOf, permissionsOfRole, synth } from './synth.ts';

const USER_FUNCTIONS = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':lambda:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':function:event-hooks-user-????????????????-*',
    ],
  ],
};
const NAMED = 'arn:aws:lambda:eu-west-1:123456789012:function:billing-enricher';

describe('least-privilege grants', () => {
  const { json } = synth({ invokableFunctionArns: [NAMED] });
  const [tableId] = findOne(json, 'AWS::DynamoDB::Table');
  const [busId] = findOne(json, 'AWS::Events::EventBus');
  const queue = (name: string) => ({ 'Fn::GetAtt': [findOne(json, 'AWS::SQS::Queue', { QueueName: name })[0], 'Arn'] });
  const table = { 'Fn::GetAtt': [tableId, 'Arn'] };
  const index = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/bySource']] };
  const bus = { 'Fn::GetAtt': [busId, 'Arn'] };
  const [keyId] = findOne(json, 'AWS::KMS::Key');
  const secretsKey = { 'Fn::GetAtt': [keyId, 'Arn'] };
  const userRole = {
    'Fn::GetAtt': [idsOf(json, 'AWS::IAM::Role').find((id) => id.includes('UserFunctionRole'))!, 'Arn'],
  };

  /** Permissions other than writing the function's own logs, as comparable strings. */
  const grants = (name: string) =>
    permissionsOf(json, `event-hooks-${name}`)
      .filter((p) => !p.action.startsWith('logs:'))
      .map(show)
      .sort();
  const show = (p: Permission) =>
    `${p.action} ${JSON.stringify(p.resource)}${p.condition ? ` if ${JSON.stringify(p.condition)}` : ''}`;
  const pairs = (actions: string[], resources: unknown[], condition?: unknown) =>
    actions.flatMap((action) =>
      resources.map((resource) => show({ action, resource, ...(condition ? { condition } : {}) })),
    );

  it('lets ingest read the catalog, write idempotency items, rate windows and usage only, and put events on the one bus, and nothing else', () => {
    expect(grants('ingest')).toEqual(
      [
        ...pairs(['dynamodb:GetItem', 'dynamodb:Query'], [table]),
        ...pairs(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [table], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#IDEM#*'] },
        }),
        ...pairs(['dynamodb:UpdateItem'], [table], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#RATE#*', 'T#*#USAGE'] },
        }),
        ...pairs(['events:PutEvents'], [bus]),
      ].sort(),
    );
  });

  it('lets the dispatcher read hooks, write gate items, count thresholds, enqueue deliveries and dead-letter its failures', () => {
    expect(grants('dispatcher')).toEqual(
      [
        ...pairs(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [table, index]),
        ...pairs(['sqs:SendMessage'], [queue('event-hooks-delivery'), queue('event-hooks-events-dlq')]),
      ].sort(),
    );
  });

  it('lets delivery consume its queue, read a hook, store dead letters, usage and its log, re-enqueue, disable a failing hook and say so, and invoke user code and named functions', () => {
    expect(grants('delivery')).toEqual(
      [
        ...pairs(
          [
            'sqs:ReceiveMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueUrl',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
          ],
          [queue('event-hooks-delivery')],
        ),
        ...pairs(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [table]),
        ...pairs(['dynamodb:UpdateItem'], [table], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#USAGE'] },
        }),
        ...pairs(['sqs:SendMessage'], [queue('event-hooks-delivery')]),
        ...pairs(['events:PutEvents'], [bus]),
        ...pairs(['lambda:InvokeFunction'], [USER_FUNCTIONS, NAMED]),
        ...pairs(['kms:Decrypt'], [secretsKey], SECRETS_KEY_CONDITIONS),
      ].sort(),
    );
  });

  it('lets admin manage hooks and dead letters, replay onto the queue, emit its events, queue deploy jobs and invoke (for /test), but not create user-code functions', () => {
    expect(grants('admin')).toEqual(
      [
        ...pairs(
          ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          [table, index],
        ),
        ...pairs(['events:PutEvents'], [bus]),
        ...pairs(['sqs:SendMessage'], [queue('event-hooks-delivery'), queue('event-hooks-deploy')]),
        ...pairs(['lambda:InvokeFunction'], [USER_FUNCTIONS, NAMED]),
        ...pairs(['kms:GenerateDataKey', 'kms:Decrypt'], [secretsKey], SECRETS_KEY_CONDITIONS),
      ].sort(),
    );
  });

  it('lets the deploy worker consume its queue, read a hook and mark it, manage only user-code functions and pass only their role', () => {
    expect(grants('deployer')).toEqual(
      [
        ...pairs(
          [
            'sqs:ReceiveMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueUrl',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
          ],
          [queue('event-hooks-deploy')],
        ),
        ...pairs(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]),
        ...pairs(
          [
            'lambda:CreateFunction',
            'lambda:TagResource',
            'lambda:GetFunction',
            'lambda:UpdateFunctionConfiguration',
            'lambda:DeleteFunction',
          ],
          [USER_FUNCTIONS],
        ),
        ...pairs(['iam:PassRole'], [userRole], { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } }),
      ].sort(),
    );
  });

  it('lets the sweeper list functions, read hooks, re-queue pending deployments, and read tags of and delete only user-code functions', () => {
    expect(grants('sweeper')).toEqual(
      [
        ...pairs(['dynamodb:GetItem', 'dynamodb:Query'], [table]),
        ...pairs(['sqs:SendMessage'], [queue('event-hooks-deploy')]),
        ...pairs(['lambda:ListTags', 'lambda:DeleteFunction'], [USER_FUNCTIONS]),
        ...pairs(['lambda:ListFunctions'], ['*']),
      ].sort(),
    );
  });

  it('lets each function write only to its own log group', () => {
    for (const name of ['admin', 'ingest', 'dispatcher', 'delivery']) {
      const [logGroupId] = findOne(json, 'AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/event-hooks-${name}` });
      const logs = permissionsOf(json, `event-hooks-${name}`).filter((p) => p.action.startsWith('logs:'));
      expect(logs.map((p) => p.action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const { resource } of logs) expect(resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    }
  });

  it('has no wildcard resource or action in any policy but ListFunctions (which takes no resource), and no managed policy', () => {
    for (const roleId of idsOf(json, 'AWS::IAM::Role')) {
      expect(json.Resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
      for (const { action, resource } of permissionsOfRole(json, roleId)) {
        if (resource === '*') expect(action).toBe('lambda:ListFunctions');
        expect(action).not.toContain('*');
      }
    }
  });

  it('never allows invoking any function but the user-code ones and those named in the props', () => {
    const everyInvoke = idsOf(json, 'AWS::IAM::Role')
      .flatMap((roleId) => permissionsOfRole(json, roleId))
      .filter((p) => p.action === 'lambda:InvokeFunction' || p.action === 'lambda:*');
    expect(everyInvoke.length).toBeGreaterThan(0);
    for (const { resource } of everyInvoke) expect([USER_FUNCTIONS, NAMED]).toContainEqual(resource);
  });

  it('grants no invoke on named functions by default', () => {
    const plain = synth();
    const invokes = permissionsOf(plain.json, 'event-hooks-delivery').filter(
      (p) => p.action === 'lambda:InvokeFunction',
    );
    expect(invokes.map((p) => p.resource)).toEqual([USER_FUNCTIONS]);
  });
});

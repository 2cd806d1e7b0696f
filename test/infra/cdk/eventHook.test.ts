import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import cdkNag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EventHook, EventHookAuth } from '../../../infra/cdk/eventHook.ts';

const { AwsSolutionsChecks } = cdkNag;

const SERVICE_URL = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com';
const CODE = { code: lambda.Code.fromInline('exports.handler = async () => {}') };
const SENTINEL = 'hunter2-must-never-be-in-the-template';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** An empty stack of a user's app. */
function stackWith() {
  const app = new App();
  return { app, stack: new Stack(app, 'Users', { env: { account: '111122223333', region: 'eu-west-1' } }) };
}

/** A user's stack: a webhook whose secret and receiver key are in Secrets Manager, over IAM or a key. */
function userStack(auth: 'iam' | 'api-key') {
  const app = new App();
  const stack = new Stack(app, 'Users', { env: { account: '111122223333', region: 'eu-west-1' } });
  const hookSecret = secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'HookSecret',
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook-secret-AbCdEf',
  );
  const receiverKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ReceiverKey', 'receiver-key');
  const apiKey = secretsmanager.Secret.fromSecretAttributes(stack, 'ApiKey', {
    secretCompleteArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:event-hooks-key-123456',
    encryptionKey: kms.Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ),
  });
  new EventHook(stack, 'Consumers', {
    serviceUrl: SERVICE_URL,
    auth: auth === 'iam' ? EventHookAuth.iam() : EventHookAuth.apiKey(apiKey, 'key'),
    hook: {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: 'https://example.com/hooks' },
      snooze: 60,
      filter: { entity: { username: [{ prefix: 'svc-' }] } },
    },
    secret: { secret: hookSecret },
    headerSecrets: { authorization: { secret: receiverKey, field: 'header' } },
    provider: CODE,
  });
  new EventHook(stack, 'Admins', {
    serviceUrl: SERVICE_URL,
    auth: auth === 'iam' ? EventHookAuth.iam() : EventHookAuth.apiKey(apiKey, 'key'),
    hook: { source: 'crud', event: 'admins', handler: 'log' },
    hookId: '6b9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b',
  });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as { Resources: Record<string, Resource> } };
}

const ofType = (json: { Resources: Record<string, Resource> }, type: string) =>
  Object.values(json.Resources).filter((r) => r.Type === type);

describe('EventHook construct', () => {
  it('declares each hook as a Custom::EventHook with its body and only references to its secrets', () => {
    const { json, stack } = userStack('iam');
    const hooks = ofType(json, 'Custom::EventHook');
    expect(hooks).toHaveLength(2);
    const consumers = hooks.find((h) => JSON.stringify(h.Properties).includes('consumers')) as Resource;
    const props = stack.resolve(consumers.Properties) as Record<string, unknown>;
    expect(props.ServiceUrl).toBe(SERVICE_URL);
    expect(JSON.parse(props.Hook as string)).toEqual({
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: 'https://example.com/hooks' },
      snooze: 60,
      filter: { entity: { username: [{ prefix: 'svc-' }] } },
    });
    expect(JSON.stringify(props.Secrets)).toMatch(/config\.secret.*hook-secret-AbCdEf/);
    expect(JSON.stringify(props.Secrets)).toMatch(
      /config\.headers\.authorization.*receiver-key.*"field\\?":\\?"header/,
    );
    // One provider function for the stack, whatever the number of hooks.
    expect(ofType(json, 'AWS::Lambda::Function')).toHaveLength(1);
  });

  it('keeps every secret value out of the template and refuses a hook that would put one there', () => {
    for (const auth of ['iam', 'api-key'] as const) {
      expect(JSON.stringify(userStack(auth).json)).not.toMatch(/hunter2|resolve:secretsmanager/);
    }
    const { stack } = stackWith();
    expect(
      () =>
        new EventHook(stack, 'Plain', {
          serviceUrl: SERVICE_URL,
          auth: EventHookAuth.iam(),
          hook: { source: 'crud', handler: 'webhook', config: { url: 'https://example.com', secret: SENTINEL } },
          provider: CODE,
        }),
    ).toThrow(/give the hook secret as `secret: \{ secret: ISecret \}`/);
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'x');
    expect(
      () =>
        new EventHook(stack, 'Dynamic', {
          serviceUrl: SERVICE_URL,
          auth: EventHookAuth.iam(),
          hook: {
            source: 'crud',
            handler: 'webhook',
            config: { url: 'https://example.com', headers: { authorization: secret.secretValue.unsafeUnwrap() } },
          },
          provider: CODE,
        }),
    ).toThrow(/secret value reference/);
  });

  it('refuses a credential header written in the hook, which would be in the template: headerSecrets is the way', () => {
    const { stack } = stackWith();
    for (const name of ['Authorization', 'X-Api-Key', 'cookie']) {
      expect(
        () =>
          new EventHook(stack, `Plain${name}`, {
            serviceUrl: SERVICE_URL,
            auth: EventHookAuth.iam(),
            hook: {
              source: 'crud',
              handler: 'webhook',
              config: { url: 'https://example.com', headers: { [name]: SENTINEL } },
            },
            provider: CODE,
          }),
      ).toThrow(new RegExp(`header ${name}.*headerSecrets`));
    }
    // Other headers are no secret, and stay in the hook.
    new EventHook(stack, 'Team', {
      serviceUrl: SERVICE_URL,
      auth: EventHookAuth.iam(),
      hook: {
        source: 'crud',
        handler: 'webhook',
        config: { url: 'https://example.com', headers: { 'x-team': 'payments' } },
      },
      provider: CODE,
    });
  });

  it('grants the provider only GetSecretValue on the named secrets and Invoke on three routes of that API and stage', () => {
    const { json, stack } = userStack('iam');
    const statements = ofType(json, 'AWS::IAM::Policy').flatMap(
      (p) => (stack.resolve(p.Properties.PolicyDocument) as { Statement: Record<string, unknown>[] }).Statement,
    );
    // `Fn::Join` of strings and pseudo parameters, written out as the ARN it becomes.
    const flat = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(flat);
      if (value && typeof value === 'object') {
        const v = value as Record<string, unknown>;
        if (v.Ref === 'AWS::Partition') return 'aws';
        if (v.Ref === 'AWS::AccountId') return '111122223333';
        if (Array.isArray(v['Fn::Join'])) {
          const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
          return parts.map(flat).join(sep);
        }
      }
      return value;
    };
    const render = (value: unknown) => JSON.stringify(flat(value));
    const byAction = (action: string) => statements.filter((s) => JSON.stringify(s.Action) === JSON.stringify(action));
    expect(byAction('execute-api:Invoke').map((s) => render(s.Resource))).toEqual([
      render([
        'arn:aws:execute-api:eu-west-1:111122223333:abc123def4/$default/POST/event-hooks',
        'arn:aws:execute-api:eu-west-1:111122223333:abc123def4/$default/PUT/event-hooks/*',
        'arn:aws:execute-api:eu-west-1:111122223333:abc123def4/$default/DELETE/event-hooks/*',
      ]),
    ]);
    const secretResources = byAction('secretsmanager:GetSecretValue').map((s) => render(s.Resource));
    expect(secretResources.sort()).toEqual(
      [
        '"arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook-secret-AbCdEf"',
        '"arn:aws:secretsmanager:eu-west-1:111122223333:secret:receiver-key-??????"',
      ].sort(),
    );
    // Nothing else: logs of its own group, no wildcard action, no managed policy.
    const others = statements.filter(
      (s) => !['execute-api:Invoke', 'secretsmanager:GetSecretValue'].includes(s.Action as string),
    );
    for (const s of others) expect(JSON.stringify(s.Action)).toMatch(/logs:/);
    expect(JSON.stringify(statements)).not.toMatch(/"Action":"\*"|:\*"/);
    for (const role of ofType(json, 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('with an API key, reads the key (and decrypts with its own KMS key) instead of signing', () => {
    const { json, stack } = userStack('api-key');
    const text = JSON.stringify(stack.resolve(json));
    expect(text).not.toMatch(/execute-api:Invoke/);
    expect(text).toMatch(/event-hooks-key-123456/);
    expect(text).toMatch(/kms:Decrypt/);
  });

  it('needs the API named when the URL is not a literal API Gateway URL', () => {
    const { stack } = stackWith();
    expect(
      () =>
        new EventHook(stack, 'Custom', {
          serviceUrl: 'https://hooks.example.com',
          auth: EventHookAuth.iam(),
          hook: { source: 'crud', handler: 'log' },
          provider: CODE,
        }),
    ).toThrow(/executeApiArn/);
    const named = new EventHook(stack, 'Named', {
      serviceUrl: 'https://hooks.example.com',
      auth: EventHookAuth.iam({ executeApiArn: 'arn:aws:execute-api:eu-west-1:111122223333:abc123def4/prod' }),
      hook: { source: 'crud', handler: 'log' },
      provider: CODE,
    });
    expect(named.hookId).toBeDefined();
  });

  it('is cdk-nag (AwsSolutions) clean', () => {
    for (const auth of ['iam', 'api-key'] as const) {
      const { stack } = userStack(auth);
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      const findings = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`),
      );
      expect(findings, auth).toEqual([]);
    }
  });

  it('bundles the real provider when no code is given', () => {
    const { stack } = stackWith();
    new EventHook(stack, 'Bundled', {
      serviceUrl: SERVICE_URL,
      auth: EventHookAuth.iam(),
      hook: { source: 'crud', handler: 'log' },
    });
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const [only] = Object.values(fn) as Resource[];
    expect(only?.Properties.Runtime).toBe('nodejs24.x');
    expect(only?.Properties.Handler).toBe('index.handler');
    expect(JSON.stringify(only?.Properties.Code)).toMatch(/S3Key/);
  });
});

import { App, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import cdkNag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../../infra/cdk/cdkApp.ts';
import { EventHooksStack } from '../../../infra/cdk/eventHooksStack.ts';
import { accessSettings } from '../../../infra/cdk/tenancy.ts';
import { FIXTURE_BUNDLE_DIR_ENV } from './fixtureEntries.ts';
import { findOne, idsOf, permissionsOf, refersTo, type Synthesized, synth } from './synth.ts';

const { AwsSolutionsChecks } = cdkNag;

const routeAuth = (s: Synthesized) =>
  Object.fromEntries(
    idsOf(s.json, 'AWS::ApiGatewayV2::Route').map((id) => {
      const p = s.json.Resources[id]!.Properties;
      return [p.RouteKey, p.AuthorizationType ?? 'NONE'];
    }),
  );
const env = (s: Synthesized, name: string) =>
  (
    findOne(s.json, 'AWS::Lambda::Function', { FunctionName: name })[1].Properties.Environment as {
      Variables: Record<string, unknown>;
    }
  ).Variables;

describe('tenancy and auth settings', () => {
  it('refuses, at synth, combinations that cannot work, saying what to change', () => {
    expect(() => accessSettings({ tenancy: 'multi' })).toThrow(/tenancy 'multi' requires authMode 'api-keys'/);
    expect(() => accessSettings({ tenancy: 'multi', authMode: 'none' })).toThrow(/requires authMode 'api-keys'/);
    expect(() => accessSettings({ authMode: 'api-keys', adminIamAuth: true })).toThrow(
      /adminIamAuth applies to authMode 'iam' only/,
    );
    expect(() => accessSettings({ authMode: 'keys' as never })).toThrow(/authMode must be one of none, api-keys, iam/);
    expect(() => synth({ tenancy: 'multi', authMode: 'iam' })).toThrow(/requires authMode 'api-keys'/);
  });

  it('defaults to one tenant behind IAM', () => {
    expect(accessSettings({})).toEqual({ tenancy: 'single', authMode: 'iam', adminIamAuth: true, ingestIamAuth: true });
  });

  it('reads both from CDK context, under their own names or issue 11’s', () => {
    const context = (values: Record<string, string>) => stackPropsFromContext((k) => values[k]);
    expect(context({ tenancy: 'multi', authMode: 'api-keys' })).toMatchObject({
      tenancy: 'multi',
      authMode: 'api-keys',
    });
    expect(context({ TENANCY: 'multi', AUTH_MODE: 'api-keys' })).toMatchObject({
      tenancy: 'multi',
      authMode: 'api-keys',
    });
  });
});

describe('api-keys, multi-tenant', () => {
  const s = synth({ tenancy: 'multi', authMode: 'api-keys' });

  it('has a REQUEST authorizer with no identity source and no API Gateway caching', () => {
    // An identity source missing from a request makes API Gateway answer 401 without calling the
    // authorizer: listing Authorization would refuse Kong-Admin-Token. Caching is the authorizer's own.
    s.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: Match.absent(),
    });
    const [, authorizer] = findOne(s.json, 'AWS::ApiGatewayV2::Authorizer');
    const [fnId] = findOne(s.json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-authorizer' });
    expect(refersTo(authorizer.Properties.AuthorizerUri, fnId)).toBe(true);
  });

  it('puts tenant routes behind the authorizer, operator routes behind IAM, and leaves /health and the console files open', () => {
    expect(routeAuth(s)).toEqual({
      'ANY /event-hooks': 'CUSTOM',
      'ANY /event-hooks/{proxy+}': 'CUSTOM',
      'ANY /dead-letters': 'CUSTOM',
      'ANY /dead-letters/{proxy+}': 'CUSTOM',
      'ANY /events/{proxy+}': 'CUSTOM',
      'ANY /deliveries/{proxy+}': 'CUSTOM',
      'ANY /audit': 'CUSTOM',
      'POST /events': 'CUSTOM',
      'POST /ingest/kong-http-log': 'CUSTOM',
      'GET /health': 'NONE',
      // The API's description (routeAccess: public), no data.
      'GET /openapi.json': 'NONE',
      'ANY /tenants': 'AWS_IAM',
      'ANY /tenants/{proxy+}': 'AWS_IAM',
      // The page asks for a key before its first API call, which carries it.
      'GET /console': 'NONE',
      'HEAD /console': 'NONE',
      'GET /console/{proxy+}': 'NONE',
      'HEAD /console/{proxy+}': 'NONE',
    });
  });

  it('tells every function the settings', () => {
    for (const name of ['admin', 'ingest', 'dispatcher', 'delivery', 'authorizer']) {
      expect(env(s, `event-hooks-${name}`)).toMatchObject({ TENANCY: 'multi', AUTH_MODE: 'api-keys' });
    }
  });

  it('lets the authorizer read the table and write its own log, nothing else', () => {
    const [tableId] = findOne(s.json, 'AWS::DynamoDB::Table');
    const grants = permissionsOf(s.json, 'event-hooks-authorizer');
    expect(grants.map((g) => g.action).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    for (const g of grants.filter((p) => p.action.startsWith('dynamodb:'))) {
      expect(g.resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    }
  });

  it('denies PutEvents on the bus to every principal but the ingest and admin roles', () => {
    const [, policy] = findOne(s.json, 'AWS::Events::EventBusPolicy');
    const statement = policy.Properties.Statement as Record<string, unknown>;
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    const allowed = (statement.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }).ArnNotEquals[
      'aws:PrincipalArn'
    ];
    const roleOf = (name: string) =>
      (
        findOne(s.json, 'AWS::Lambda::Function', { FunctionName: `event-hooks-${name}` })[1].Properties.Role as {
          'Fn::GetAtt': [string, string];
        }
      )['Fn::GetAtt'][0];
    expect(allowed).toHaveLength(2);
    expect(allowed).toEqual(
      expect.arrayContaining([{ 'Fn::GetAtt': [roleOf('ingest'), 'Arn'] }, { 'Fn::GetAtt': [roleOf('admin'), 'Arn'] }]),
    );
    expect(refersTo(policy.Properties.EventBusName, findOne(s.json, 'AWS::Events::EventBus')[0])).toBe(true);
  });

  it('says in the bus output that producers go through POST /events', () => {
    s.template.hasOutput('EventBusName', { Description: Match.stringLikeRegexp('POST /events') });
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const app = new App();
    new EventHooksStack(app, 'Nagged', {
      bundleDir: process.env[FIXTURE_BUNDLE_DIR_ENV],
      tenancy: 'multi',
      authMode: 'api-keys',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('single tenant', () => {
  it('leaves the bus open to direct producers (no bus policy) in every auth mode', () => {
    for (const authMode of ['iam', 'api-keys'] as const) {
      synth({ authMode }).template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    }
  });

  it('iam (default): no authorizer function, every route signed but /health and /openapi.json', () => {
    const s = synth();
    s.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    expect(idsOf(s.json, 'AWS::Lambda::Function').length).toBe(6);
    const auth = routeAuth(s);
    expect(auth['GET /health']).toBe('NONE');
    // The API's description is public in every mode (routeAccess), as /health is.
    expect(auth['GET /openapi.json']).toBe('NONE');
    for (const [route, type] of Object.entries(auth))
      if (route !== 'GET /health' && route !== 'GET /openapi.json') expect(type, route).toBe('AWS_IAM');
    expect(env(s, 'event-hooks-admin')).toMatchObject({ TENANCY: 'single', AUTH_MODE: 'iam' });
  });

  it('none passes the cdk-nag checks too: its open routes are acknowledged with the reason', () => {
    const app = new App();
    new EventHooksStack(app, 'Open', { bundleDir: process.env[FIXTURE_BUNDLE_DIR_ENV], authMode: 'none' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('none: tenant routes open, operator routes still IAM', () => {
    const auth = routeAuth(synth({ authMode: 'none' }));
    expect(auth['ANY /event-hooks']).toBe('NONE');
    expect(auth['POST /events']).toBe('NONE');
    expect(auth['ANY /tenants']).toBe('AWS_IAM');
    expect(auth['ANY /tenants/{proxy+}']).toBe('AWS_IAM');
  });
});

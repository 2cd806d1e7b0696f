import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { findOne, idsOf, refersTo, synth } from './synth.ts';

const ROUTE_KEYS = [
  'ANY /event-hooks',
  'ANY /event-hooks/{proxy+}',
  'ANY /dead-letters',
  'ANY /dead-letters/{proxy+}',
  'ANY /audit',
  'GET /health',
  'GET /openapi.json',
  'ANY /events/{proxy+}',
  'ANY /deliveries/{proxy+}',
  'ANY /tenants',
  'ANY /tenants/{proxy+}',
  'GET /console',
  'HEAD /console',
  'GET /console/{proxy+}',
  'HEAD /console/{proxy+}',
  'POST /events',
  'POST /ingest/kong-http-log',
];

describe('HTTP API', () => {
  const { template, json } = synth();
  const routes = () =>
    idsOf(json, 'AWS::ApiGatewayV2::Route').map((id) => json.Resources[id]!.Properties as Record<string, unknown>);
  const functionId = (name: string) => findOne(json, 'AWS::Lambda::Function', { FunctionName: name })[0];

  it('has the Admin API and console routes, POST /events and POST /ingest/kong-http-log, and nothing else', () => {
    expect(
      routes()
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual([...ROUTE_KEYS].sort());
  });

  it('sends Admin API routes to the admin function and both ingest routes to ingest, as payload 2.0', () => {
    for (const route of routes()) {
      const integrationId = (route.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string };
      const integration = json.Resources[integrationId.Ref]!.Properties;
      const ingest = ['POST /events', 'POST /ingest/kong-http-log'].includes(route.RouteKey as string);
      const target = ingest ? 'event-hooks-ingest' : 'event-hooks-admin';
      expect(refersTo(integration.IntegrationUri, functionId(target))).toBe(true);
      expect(integration.PayloadFormatVersion).toBe('2.0');
    }
  });

  it('lets API Gateway invoke the ingest function on the http-log route', () => {
    const ingestId = functionId('event-hooks-ingest');
    const sources = idsOf(json, 'AWS::Lambda::Permission')
      .map((id) => json.Resources[id]!.Properties)
      .filter((p) => refersTo(p.FunctionName, ingestId) && p.Principal === 'apigateway.amazonaws.com')
      .map((p) => JSON.stringify(p.SourceArn));
    expect(sources.some((arn) => arn.includes('/*/*/ingest/kong-http-log'))).toBe(true);
    expect(sources.some((arn) => arn.includes('/*/*/events'))).toBe(true);
  });

  it('requires IAM auth on every route but GET /health and GET /openapi.json (public, no data) by default', () => {
    for (const route of routes()) {
      const open = route.RouteKey === 'GET /health' || route.RouteKey === 'GET /openapi.json';
      expect(route.AuthorizationType, String(route.RouteKey)).toBe(open ? 'NONE' : 'AWS_IAM');
    }
  });

  it('opens the Admin API or ingest alone when the props say so', () => {
    const openAdmin = synth({ adminIamAuth: false });
    const auth = (s: ReturnType<typeof synth>) =>
      Object.fromEntries(
        idsOf(s.json, 'AWS::ApiGatewayV2::Route').map((id) => {
          const p = s.json.Resources[id]!.Properties;
          return [p.RouteKey, p.AuthorizationType ?? 'NONE'];
        }),
      );
    expect(auth(openAdmin)).toEqual({
      'ANY /event-hooks': 'NONE',
      'ANY /event-hooks/{proxy+}': 'NONE',
      'ANY /dead-letters': 'NONE',
      'ANY /dead-letters/{proxy+}': 'NONE',
      'ANY /audit': 'NONE',
      'GET /health': 'NONE',
      'GET /openapi.json': 'NONE',
      'ANY /events/{proxy+}': 'NONE',
      'ANY /deliveries/{proxy+}': 'NONE',
      'ANY /tenants': 'AWS_IAM',
      'ANY /tenants/{proxy+}': 'AWS_IAM',
      'GET /console': 'NONE',
      'HEAD /console': 'NONE',
      'GET /console/{proxy+}': 'NONE',
      'HEAD /console/{proxy+}': 'NONE',
      'POST /events': 'AWS_IAM',
      'POST /ingest/kong-http-log': 'AWS_IAM',
    });
    const openIngest = auth(synth({ ingestIamAuth: false }));
    // The http-log route is authenticated exactly as POST /events is.
    expect(openIngest['POST /events']).toBe('NONE');
    expect(openIngest['POST /ingest/kong-http-log']).toBe('NONE');
    expect(openIngest['ANY /event-hooks']).toBe('AWS_IAM');
  });

  it('serves a $default stage that deploys itself, throttles and writes JSON access logs', () => {
    const [logGroupId] = findOne(json, 'AWS::Logs::LogGroup', { RetentionInDays: 30, LogGroupName: undefined });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });
});

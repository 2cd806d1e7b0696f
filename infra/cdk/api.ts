import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ADMIN_ROUTES as SERVED_ROUTES } from '../../shared/admin/router.ts';
import { routeAccess } from '../../shared/auth/routeAccess.ts';
import type { AuthMode } from './tenancy.ts';

export interface HttpApiProps {
  apiName: string;
  admin: lambda.IFunction;
  ingest: lambda.IFunction;
  /** How tenant routes are authenticated; operator routes are IAM whatever it is, `/health` open. */
  authMode: AuthMode;
  /** The Lambda authorizer of tenant routes; required with `authMode: 'api-keys'`. */
  authorizer?: lambda.IFunction;
  /** `iam` mode: sign Admin API requests with SigV4 (IAM). */
  adminIamAuth: boolean;
  /** `iam` mode: sign `POST /events` and `POST /ingest/kong-http-log` with SigV4 (IAM). */
  ingestIamAuth: boolean;
  logRetention: logs.RetentionDays;
  /** Steady-state requests per second and burst for the whole API. */
  throttle: { rateLimit: number; burstLimit: number };
}

interface GatewayRoute {
  path: string;
  methods: readonly apigwv2.HttpMethod[];
}

/**
 * The API Gateway routes of the admin function, derived from the router's own table
 * (`ADMIN_ROUTES` of shared/admin/router.ts) and the access rule of shared/auth/routeAccess.ts, so a
 * route added to the router is routed here, behind the right authorizer, without a second list:
 * `/x` for a one-segment route, `/x/{proxy+}` for deeper ones (the router answers 404 and 405 in
 * Kong's shape). Grouped by who may call them: `public` (no auth), `operator` (IAM whatever the
 * mode), and the tenant's (the mode's authorizer). `/metrics` is not routed on AWS: the same
 * metrics are in CloudWatch.
 */
export function adminGatewayRoutes(): Record<'public' | 'operator' | 'tenant', GatewayRoute[]> {
  const groups: Record<'public' | 'operator' | 'tenant', GatewayRoute[]> = { public: [], operator: [], tenant: [] };
  const seen = new Set<string>();
  for (const route of SERVED_ROUTES) {
    const segments = route.path.split('/').filter((part) => part.length > 0);
    const first = segments[0] as string;
    if (first === 'metrics') continue;
    const path = segments.length === 1 ? `/${first}` : `/${first}/{proxy+}`;
    if (seen.has(path)) continue;
    seen.add(path);
    // A concrete path of the route decides its group; one prefix never mixes groups (routeAccess is by prefix).
    const concrete = `/${segments.map((part) => (part.startsWith('{') ? 'x' : part)).join('/')}`;
    const access = routeAccess('GET', concrete);
    const group = access === 'public' || access === 'operator' ? access : 'tenant';
    groups[group].push({
      path,
      methods: [group === 'public' ? apigwv2.HttpMethod.GET : apigwv2.HttpMethod.ANY],
    });
  }
  return groups;
}

const GATEWAY_ROUTES = adminGatewayRoutes();
/** The Admin API routes of a tenant, all answered by the admin function. */
export const ADMIN_ROUTES = GATEWAY_ROUTES.tenant;
/** Routes that need no auth in any mode, answered by the admin function. */
export const PUBLIC_ROUTES = GATEWAY_ROUTES.public;
/**
 * The operator's routes (tenants, their keys and usage), answered by the admin function and always
 * behind IAM: on AWS the operator is whoever the account lets call them.
 */
export const OPERATOR_ROUTES = GATEWAY_ROUTES.operator;
/**
 * The web console's files, answered by the admin function from its bundle (functions/admin.ts):
 * public with API keys (the page asks for a key and sends it with each API call), signed as the
 * Admin API is with IAM. A browser cannot sign with SigV4, so under IAM the console works only with
 * `adminIamAuth: false` (docs/console.md).
 */
export const CONSOLE_ROUTES = [
  { path: '/console', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD] },
  { path: '/console/{proxy+}', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD] },
] as const;
export const INGEST_ROUTE = { path: '/events', methods: [apigwv2.HttpMethod.POST] } as const;
/** Kong's http-log entries, turned into events by the same ingest function (docs/kong-integration.md). */
export const KONG_HTTP_LOG_ROUTE = { path: '/ingest/kong-http-log', methods: [apigwv2.HttpMethod.POST] } as const;

/**
 * The HTTP API (API Gateway v2): Admin API and console routes, `POST /events` and `POST /ingest/kong-http-log`, each optionally behind IAM
 * auth, with a `$default` stage that writes JSON access logs and throttles. Anything else is a 404
 * from API Gateway, without invoking a function.
 */
export class EventHooksHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly routes: apigwv2.HttpRoute[] = [];
  /** Routes without IAM auth (as the props asked). */
  readonly openRoutes: apigwv2.HttpRoute[] = [];

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.apiName,
      description: 'event-hooks: Admin API and event ingestion',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            // api-keys mode: whose key (its id, never the key) called
            tenant: '$context.authorizer.tenant',
            keyId: '$context.authorizer.keyId',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const iam = new HttpIamAuthorizer();
    const tenantAuthorizer = tenantRouteAuthorizer(props);
    const add = (
      route: { path: string; methods: readonly apigwv2.HttpMethod[] },
      integration: HttpLambdaIntegration,
      authorizer: apigwv2.IHttpRouteAuthorizer | undefined,
    ) => {
      const added = this.api.addRoutes({
        path: route.path,
        methods: [...route.methods],
        integration,
        ...(authorizer ? { authorizer } : {}),
      });
      this.routes.push(...added);
      if (!authorizer) this.openRoutes.push(...added);
    };
    const signedIf = (signed: boolean) => (signed ? iam : undefined);
    const adminAuth = props.authMode === 'iam' ? signedIf(props.adminIamAuth) : tenantAuthorizer;
    const ingestAuth = props.authMode === 'iam' ? signedIf(props.ingestIamAuth) : tenantAuthorizer;
    // With API keys the page must load before it can ask for a key: its files (no data) are public,
    // and every API call it makes carries the key. With IAM they are signed as the Admin API is.
    const consoleAuth = props.authMode === 'iam' ? signedIf(props.adminIamAuth) : undefined;

    const adminIntegration = new HttpLambdaIntegration('AdminIntegration', props.admin);
    for (const route of ADMIN_ROUTES) add(route, adminIntegration, adminAuth);
    for (const route of PUBLIC_ROUTES) add(route, adminIntegration, undefined);
    for (const route of OPERATOR_ROUTES) add(route, adminIntegration, iam);
    for (const route of CONSOLE_ROUTES) add(route, adminIntegration, consoleAuth);
    const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', props.ingest);
    add(INGEST_ROUTE, ingestIntegration, ingestAuth);
    // Authenticated as POST /events is.
    add(KONG_HTTP_LOG_ROUTE, ingestIntegration, ingestAuth);
    if (tenantAuthorizer instanceof HttpLambdaAuthorizer) {
      // Bound by the first route that uses it; the identity source is removed from the template
      // (CDK would otherwise write its default, `$request.header.Authorization`): see below.
      const cfn = this.api.node.findChild('KeyAuthorizer').node.defaultChild as apigwv2.CfnAuthorizer;
      cfn.addPropertyDeletionOverride('IdentitySource');
    }
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com/` */
  get url(): string {
    return this.stage.url;
  }
}

/**
 * The authorizer of tenant routes in `api-keys` mode (none otherwise): the Lambda authorizer, REQUEST
 * type, payload 2.0 with simple responses (see shared/auth/lambdaAuthorizer.ts for why).
 *
 * No identity source, and no caching by API Gateway (`resultsCacheTtl: 0`). API Gateway answers 401
 * without calling the authorizer when any identity source is missing from a request: listing
 * `Authorization` would refuse keys sent as `Kong-Admin-Token`, and listing both would require both.
 * API Gateway also caches only by identity source, which it cannot do without one; the authorizer
 * caches keys itself, for at most 60 s, which is what bounds revocation.
 */
function tenantRouteAuthorizer(props: HttpApiProps): apigwv2.IHttpRouteAuthorizer | undefined {
  if (props.authMode !== 'api-keys') return undefined;
  if (!props.authorizer) throw new Error("authMode 'api-keys' needs the authorizer function");
  return new HttpLambdaAuthorizer('KeyAuthorizer', props.authorizer, {
    authorizerName: 'api-keys',
    responseTypes: [HttpLambdaResponseType.SIMPLE],
    identitySource: [],
    resultsCacheTtl: Duration.seconds(0),
  });
}

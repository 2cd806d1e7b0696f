import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface HttpApiProps {
  apiName: string;
  admin: lambda.IFunction;
  ingest: lambda.IFunction;
  /** Sign Admin API requests with SigV4 (IAM). */
  adminIamAuth: boolean;
  /** Sign `POST /events` and `POST /ingest/kong-http-log` with SigV4 (IAM). */
  ingestIamAuth: boolean;
  logRetention: logs.RetentionDays;
  /** Steady-state requests per second and burst for the whole API. */
  throttle: { rateLimit: number; burstLimit: number };
}

/** The Admin API routes, all answered by the admin function. */
export const ADMIN_ROUTES = [
  { path: '/event-hooks', methods: [apigwv2.HttpMethod.ANY] },
  { path: '/event-hooks/{proxy+}', methods: [apigwv2.HttpMethod.ANY] },
  { path: '/dead-letters', methods: [apigwv2.HttpMethod.ANY] },
  { path: '/dead-letters/{proxy+}', methods: [apigwv2.HttpMethod.ANY] },
  { path: '/health', methods: [apigwv2.HttpMethod.GET] },
] as const;
/**
 * The web console's files, answered by the admin function from its bundle (functions/admin.ts). They
 * are authenticated as the Admin API is: a browser cannot sign with SigV4, so the console is for
 * deployments whose Admin API takes API keys (adminIamAuth false; docs/console.md).
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
    const add = (
      route: { path: string; methods: readonly apigwv2.HttpMethod[] },
      integration: HttpLambdaIntegration,
      signed: boolean,
    ) => {
      const added = this.api.addRoutes({
        path: route.path,
        methods: [...route.methods],
        integration,
        ...(signed ? { authorizer: iam } : {}),
      });
      this.routes.push(...added);
      if (!signed) this.openRoutes.push(...added);
    };
    const adminIntegration = new HttpLambdaIntegration('AdminIntegration', props.admin);
    for (const route of [...ADMIN_ROUTES, ...CONSOLE_ROUTES]) add(route, adminIntegration, props.adminIamAuth);
    const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', props.ingest);
    add(INGEST_ROUTE, ingestIntegration, props.ingestIamAuth);
    // Authenticated as POST /events is.
    add(KONG_HTTP_LOG_ROUTE, ingestIntegration, props.ingestIamAuth);
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com/` */
  get url(): string {
    return this.stage.url;
  }
}

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApiRequest, type ApiResponse, json } from '../shared/admin/http.ts';
import { principalFromContext } from '../shared/auth/lambdaAuthorizer.ts';
import { type Principal, SCOPES } from '../shared/auth/principal.ts';
import { mayCall, routeAccess } from '../shared/auth/routeAccess.ts';
import type { Config } from '../shared/config.ts';
import { withLogFields } from '../shared/logger.ts';
import { invocation } from './invocation.ts';

/** How a deployment authenticates its HTTP API (`AUTH_MODE`, set by the stack). */
export type AwsAuthMode = 'none' | 'api-keys' | 'iam';

/** What API Gateway's authorizers put in the request context; a client cannot write here. */
interface AuthorizerContexts {
  lambda?: Record<string, unknown>;
  iam?: unknown;
}

/**
 * The request's principal, from the request context that API Gateway fills in after its authorizer
 * ran: the Lambda authorizer's context (a tenant key), or an IAM caller. Never from headers, path
 * or body, which the client writes. An IAM caller is the operator: on an `iam` deployment also the
 * full admin of the one tenant (anyone with `execute-api:Invoke` is, as before keys); on an
 * `api-keys` deployment IAM guards the operator routes only, so it gets no tenant scope.
 */
export function principalOf(
  event: APIGatewayProxyEventV2,
  options: { tenant: string; authMode?: AwsAuthMode },
): Principal | undefined {
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContexts }).authorizer;
  if (authorizer?.lambda) return principalFromContext(authorizer.lambda);
  if (authorizer?.iam) {
    return { tenant: options.tenant, scopes: options.authMode === 'iam' ? [...SCOPES] : [], operator: true };
  }
  return undefined;
}

/** Whether the key authorizer (api-keys mode) ran for this request: API Gateway filled in its context. */
function hasKeyAuthorizer(event: APIGatewayProxyEventV2): boolean {
  return (event.requestContext as { authorizer?: AuthorizerContexts }).authorizer?.lambda !== undefined;
}

/** API Gateway HTTP API (v2) event → the core's request (its principal as `principalOf` says). */
export function toApiRequest(event: APIGatewayProxyEventV2, principal?: Principal): ApiRequest {
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers: event.headers ?? {},
    ...(body !== undefined ? { body } : {}),
    ...(principal ? { principal } : {}),
  };
}

/** The core's response → what API Gateway sends back. */
export function toProxyResult(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}

/**
 * On an `api-keys` deployment, whether this request may reach the router, answered in Kong's error
 * shape: `401` without a principal (the authorizer marked the key missing, unknown or revoked, or
 * the route was deployed without its authorizer: refused rather than served as the configured
 * tenant), `403` when the key's scopes do not meet the route (docs/saas.md).
 */
export function refusal(request: ApiRequest, authMode: AwsAuthMode | undefined): ApiResponse | undefined {
  if (authMode !== 'api-keys' || routeAccess(request.method, request.path) === 'public') return undefined;
  if (!request.principal) return json(401, { message: 'Unauthorized' });
  if (!mayCall(request.principal, request.method, request.path)) {
    return json(403, { message: 'Forbidden: this key lacks the scope this route needs' });
  }
  return undefined;
}

export interface HttpHandlerOptions {
  /** `AUTH_MODE` of the deployment; the AWS entry points pass it, the local runtime checks keys at its own edge. */
  authMode?: AwsAuthMode;
}

/** `AUTH_MODE` as the stack sets it; `undefined` when unset or unknown (then nothing is checked here). */
export function authModeFromEnv(env: NodeJS.ProcessEnv): AwsAuthMode | undefined {
  const mode = env.AUTH_MODE;
  return mode === 'none' || mode === 'api-keys' || mode === 'iam' ? mode : undefined;
}

/**
 * An HTTP API entry point: the v2 event becomes the core's request for one of the app's routers
 * (`admin` or `ingest`), and its answer the proxy result. The local runtime passes its own app.
 */
export function httpHandler<A extends { readonly config: Pick<Config, 'tenant'> }>(
  app: () => Promise<A>,
  router: (app: A) => (request: ApiRequest) => Promise<ApiResponse>,
  options: HttpHandlerOptions = {},
) {
  return invocation(async (event: APIGatewayProxyEventV2) => {
    const current = await app();
    const principal = principalOf(event, { tenant: current.config.tenant, authMode: options.authMode });
    const request = toApiRequest(event, principal);
    // The key authorizer lets every request through (its refusals are ours to answer, as 401), so
    // a request it saw is checked here even if `AUTH_MODE` is missing or wrong: fail closed.
    const authMode = hasKeyAuthorizer(event) ? 'api-keys' : options.authMode;
    // On Lambda every line of the request names its tenant (a no-op in the local runtime).
    const tenant = request.principal?.tenant ?? current.config.tenant;
    return toProxyResult(
      refusal(request, authMode) ?? (await withLogFields({ tenant }, () => router(current)(request))),
    );
  });
}

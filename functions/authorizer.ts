import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { type AuthorizerResult, createLambdaAuthorizer } from '../shared/auth/lambdaAuthorizer.ts';
import type { ApiKeyResolver } from '../shared/auth/principal.ts';
import { ConfigError } from '../shared/config.ts';
import { invocation } from './invocation.ts';

/**
 * Where the tenancy core's table-backed `ApiKeyResolver` is plugged in (one line, at integration):
 * it reads the hashed key items from `TABLE_NAME`, which this function's role may read.
 * Until then every request to a guarded route fails closed (API Gateway answers 500).
 */
export function apiKeyResolver(): ApiKeyResolver {
  throw new ConfigError('no ApiKeyResolver is wired into the authorizer (functions/authorizer.ts)');
}

/**
 * The HTTP API's Lambda authorizer on an `api-keys` deployment: key → tenant, scopes and key id in
 * the authorizer context, cached in this execution environment for at most 60 s.
 */
export const handler = invocation<APIGatewayRequestAuthorizerEventV2, AuthorizerResult>(
  createLambdaAuthorizer({ resolver: apiKeyResolver }),
);

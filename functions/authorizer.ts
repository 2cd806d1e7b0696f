import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { ApiKeyStore } from '../shared/auth/apiKeys.ts';
import { type AuthorizerResult, createLambdaAuthorizer } from '../shared/auth/lambdaAuthorizer.ts';
import type { ApiKeyResolver } from '../shared/auth/principal.ts';
import { ConfigError } from '../shared/config.ts';
import { createDocumentClient } from '../shared/store/dynamo.ts';
import { invocation } from './invocation.ts';

/**
 * The tenancy core's table-backed `ApiKeyResolver`: one strongly consistent GetItem of the key's
 * hashed item in `TABLE_NAME`, which this function's role may read (shared/auth/apiKeys.ts).
 */
export function apiKeyResolver(env: NodeJS.ProcessEnv = process.env): ApiKeyResolver {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new ConfigError('TABLE_NAME must be set for the authorizer');
  return new ApiKeyStore({ client: createDocumentClient(), tableName });
}

/**
 * The HTTP API's Lambda authorizer on an `api-keys` deployment: key → tenant, scopes and key id in
 * the authorizer context, cached in this execution environment for at most 60 s.
 */
export const handler = invocation<APIGatewayRequestAuthorizerEventV2, AuthorizerResult>(
  createLambdaAuthorizer({ resolver: () => apiKeyResolver() }),
);

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRequest, ApiResponse } from '../admin/http.ts';
import { errorResponse } from '../admin/http.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { presentedKey } from './lambdaAuthorizer.ts';
import type { ApiKeyResolver, Principal } from './principal.ts';
import { mayCall, routeAccess } from './routeAccess.ts';

export interface AuthenticatorOptions {
  /** Tenant keys (ApiKeyStore). */
  resolver: ApiKeyResolver;
  /**
   * The operator's key (`OPERATOR_KEY`), for `/tenants*` and `/metrics`. Absent where the operator
   * is authenticated otherwise (IAM on AWS): then no key opens those routes.
   */
  operatorKey?: string;
}

/** Who may call a route, decided from the headers: the authenticated principal, or why not. */
export type Authenticate = (request: Pick<ApiRequest, 'method' | 'path' | 'headers'>) => Promise<Principal | undefined>;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The edge's decision for one request (docs/saas.md), by `routeAccess`, the rule the AWS entry
 * points apply too: a public route needs nothing; any other needs a key (401 without one, or with an
 * unknown or revoked one); the operator's key opens the operator routes only, a tenant key its
 * scopes' routes only (403 otherwise). A path no route serves needs a key like any other, so a 401
 * says nothing of which paths exist. The key alone decides the tenant: nothing of the path, body or
 * other headers is read here.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const operatorDigest = options.operatorKey === undefined ? undefined : digest(options.operatorKey);
  return async (request) => {
    const access = routeAccess(request.method.toUpperCase(), request.path);
    if (access === 'public') return undefined;
    const key = presentedKey(request.headers);
    if (key === undefined) throw new UnauthorizedError('Unauthorized: send an API key as Authorization: Bearer <key>');
    // Equal-length digests compared in constant time: the timing says nothing of the operator key.
    if (operatorDigest && timingSafeEqual(digest(key), operatorDigest)) {
      const operator: Principal = { tenant: '', scopes: [], operator: true };
      if (mayCall(operator, request.method.toUpperCase(), request.path)) return operator;
      throw new ForbiddenError("the operator key manages tenants; use one of the tenant's keys for this route");
    }
    const principal = await options.resolver.resolve(key);
    if (!principal) throw new UnauthorizedError('Unauthorized: the API key is unknown or revoked');
    if (access === 'operator') throw new ForbiddenError("this route needs the operator's key");
    if (!mayCall(principal, request.method.toUpperCase(), request.path)) {
      throw new ForbiddenError(`this route needs a key with the '${access}' scope`);
    }
    return principal;
  };
}

/**
 * A router behind the edge's check: the request reaches it with `principal` set, or is answered
 * 401/403 in Kong's shape (`{"message"}`) without reaching it.
 */
export function authenticated(
  authenticate: Authenticate,
  router: (request: ApiRequest) => Promise<ApiResponse>,
  logger: Logger,
): (request: ApiRequest) => Promise<ApiResponse> {
  return async (request) => {
    let principal: Principal | undefined;
    try {
      principal = await authenticate(request);
    } catch (error) {
      const response = errorResponse(error, logger);
      if (error instanceof UnauthorizedError) response.headers['www-authenticate'] = 'Bearer';
      return response;
    }
    const { principal: _ignored, ...rest } = request;
    return router(principal ? { ...rest, principal } : rest);
  };
}

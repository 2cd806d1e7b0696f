import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRequest, ApiResponse } from '../admin/http.ts';
import { errorResponse } from '../admin/http.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ApiKeyResolver, Principal } from './principal.ts';
import { type Access, requiredAccess } from './routeAccess.ts';

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

function header(headers: ApiRequest['headers'], name: string): string | undefined {
  const found = Object.keys(headers).find((key) => key.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

/**
 * The presented key: `Authorization: Bearer <key>`, or `Kong-Admin-Token: <key>` (Kong's RBAC
 * header, so Kong tooling works unchanged). Authorization wins when both are sent.
 */
export function presentedKey(headers: ApiRequest['headers']): string | undefined {
  const authorization = header(headers, 'authorization');
  const bearer = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const token = header(headers, 'kong-admin-token')?.trim();
  return token ? token : undefined;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether a tenant principal holds what the access needs (operator access is checked apart). */
export function grants(principal: Principal, access: Exclude<Access, 'public' | 'operator'>): boolean {
  const { scopes } = principal;
  if (scopes.includes('admin')) return true;
  return access === 'read' ? scopes.includes('read') : access === 'ingest' ? scopes.includes('ingest') : false;
}

/**
 * The edge's decision for one request (docs/saas.md): a public route needs nothing; any other
 * needs a key (401 without one, or with an unknown or revoked one); the operator's key opens the
 * operator routes only, a tenant key its scopes' routes only (403 otherwise). The key alone decides
 * the tenant: nothing of the path, body or other headers is read here.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const operatorDigest = options.operatorKey === undefined ? undefined : digest(options.operatorKey);
  return async (request) => {
    const access = requiredAccess(request.method, request.path);
    if (access === 'public') return undefined;
    const key = presentedKey(request.headers);
    if (key === undefined) throw new UnauthorizedError('Unauthorized: send an API key as Authorization: Bearer <key>');
    // Equal-length digests compared in constant time: the timing says nothing of the operator key.
    if (operatorDigest && timingSafeEqual(digest(key), operatorDigest)) {
      if (access === 'operator' || access === 'authenticated') return { tenant: '', scopes: [], operator: true };
      throw new ForbiddenError("the operator key manages tenants; use one of the tenant's keys for this route");
    }
    const principal = await options.resolver.resolve(key);
    if (!principal) throw new UnauthorizedError('Unauthorized: the API key is unknown or revoked');
    if (access === 'authenticated') return principal;
    if (access === 'operator') throw new ForbiddenError("this route needs the operator's key");
    if (!grants(principal, access)) throw new ForbiddenError(`this route needs a key with the '${access}' scope`);
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

import { createHash } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { type Clock, systemClock } from '../ports/clock.ts';
import { type ApiKeyResolver, type Principal, SCOPES, type Scope } from './principal.ts';

/**
 * What the authorizer hands API Gateway for every request; the admin and ingest functions read it
 * as `event.requestContext.authorizer.lambda` and nothing else (see `principalFromContext`), a
 * place API Gateway fills in and the client cannot write. `authenticated` is `'true'` for a known
 * key only. Scopes are one comma-separated string: context values are kept flat on purpose, so the
 * reading side never depends on how API Gateway serialises arrays.
 */
export interface AuthorizerContext {
  [key: string]: string;
  authenticated: 'true' | 'false';
  tenant: string;
  scopes: string;
  keyId: string;
}

/** The context of a request without a known key: no tenant, no scope; the function answers 401. */
export const UNAUTHENTICATED_CONTEXT: AuthorizerContext = Object.freeze({
  authenticated: 'false',
  tenant: '',
  scopes: '',
  keyId: '',
});

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

/** At most this long between a key's revocation and the authorizer refusing it (issue 11: 60 s on AWS). */
export const AUTHORIZER_CACHE_TTL_MS = 60_000;
/** Longer than any key the service mints: refused without a lookup (a store key has a size limit too). */
export const MAX_KEY_LENGTH = 512;
/** Keys remembered per execution environment; the oldest goes first. */
export const AUTHORIZER_CACHE_MAX_ENTRIES = 1000;

export interface LambdaAuthorizerOptions {
  /** Resolves a presented key (the tenancy core's table-backed resolver on AWS). Created on first use. */
  resolver: ApiKeyResolver | (() => ApiKeyResolver | Promise<ApiKeyResolver>);
  clock?: Clock;
  /** Capped at `AUTHORIZER_CACHE_TTL_MS`: a longer cache would let a revoked key live longer. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, or Kong's own `Kong-Admin-Token: <key>`
 * so that Kong tooling with RBAC tokens works unchanged. API Gateway lower-cases header names.
 */
export function presentedKey(headers: Record<string, string | undefined> | undefined): string | undefined {
  const authorization = headers?.authorization?.trim();
  const bearer = authorization && /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (bearer) return bearer;
  const token = headers?.['kong-admin-token']?.trim();
  return token ? token : undefined;
}

interface Cached {
  principal: Principal;
  expires: number;
}

/**
 * The Lambda authorizer of the HTTP API (REQUEST type, payload 2.0, simple responses): a presented,
 * known, unrevoked key gets its tenant, scopes and key id as the context; a missing, unknown or
 * revoked key gets `UNAUTHENTICATED_CONTEXT`. Both are allowed: an HTTP API authorizer cannot choose
 * the status, and a deny is API Gateway's `403 {"message":"Forbidden"}`, where the contract wants
 * `401` in Kong's shape. So the function behind the route answers `401` for an unauthenticated
 * context and `403` for a missing scope (functions/http.ts `refusal`); the price is one function
 * invocation per refused request (docs/deploy.md).
 *
 * Simple responses rather than IAM policies: a policy could be cached by route ARN, but caching is
 * this function's own (below), so the policy's only advantage is gone and its size and wildcard
 * resource would be one more thing to get wrong.
 *
 * Accepted keys are cached here, in the execution environment's memory, by the key's SHA-256 (the
 * key itself is not kept), for at most 60 s: that bounds how long a revoked key keeps working.
 * Unknown keys are not cached, so a key minted a moment ago works at once.
 *
 * @example
 * export const handler = createLambdaAuthorizer({ resolver: () => tableKeyResolver(env) });
 */
export function createLambdaAuthorizer(options: LambdaAuthorizerOptions) {
  const clock = options.clock ?? systemClock;
  const ttlMs = Math.min(options.ttlMs ?? AUTHORIZER_CACHE_TTL_MS, AUTHORIZER_CACHE_TTL_MS);
  const maxEntries = Math.max(1, options.maxEntries ?? AUTHORIZER_CACHE_MAX_ENTRIES);
  const cache = new Map<string, Cached>();
  let resolver: Promise<ApiKeyResolver> | undefined;
  const currentResolver = () => {
    const given = options.resolver;
    resolver ??= Promise.resolve(typeof given === 'function' ? given() : given);
    return resolver;
  };

  async function principalOf(key: string): Promise<Principal | undefined> {
    const digest = createHash('sha256').update(key).digest('base64url');
    const now = clock.now();
    const hit = cache.get(digest);
    if (hit && hit.expires > now) return hit.principal;
    cache.delete(digest);
    const principal = await (await currentResolver()).resolve(key);
    if (!principal) return undefined;
    // A Map iterates in insertion order: the first key is the oldest entry.
    while (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(digest, { principal, expires: now + ttlMs });
    return principal;
  }

  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const key = presentedKey(event.headers);
    const principal = key === undefined || key.length > MAX_KEY_LENGTH ? undefined : await principalOf(key);
    // Operator principals are IAM callers on AWS; a key never makes one.
    if (!principal || principal.operator || principal.tenant === '') {
      return { isAuthorized: true, context: { ...UNAUTHENTICATED_CONTEXT } };
    }
    return {
      isAuthorized: true,
      context: {
        authenticated: 'true',
        tenant: principal.tenant,
        scopes: principal.scopes.join(','),
        keyId: principal.keyId ?? '',
      },
    };
  };
}

/**
 * The authorizer's context as the principal it stands for; `undefined` (401) when absent, marked
 * unauthenticated or malformed: only an explicit `authenticated: 'true'` with a tenant is a key.
 */
export function principalFromContext(context: Record<string, unknown> | undefined): Principal | undefined {
  if (context?.authenticated !== 'true') return undefined;
  if (typeof context.tenant !== 'string' || context.tenant === '') return undefined;
  const scopes = typeof context.scopes === 'string' ? context.scopes.split(',') : [];
  return {
    tenant: context.tenant,
    scopes: scopes.filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope)),
    ...(typeof context.keyId === 'string' && context.keyId !== '' ? { keyId: context.keyId } : {}),
  };
}

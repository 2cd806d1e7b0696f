import type { Principal, Scope } from './principal.ts';

/**
 * Who may call a request's route: anyone (`public`), the deployment's operator, or a tenant key
 * with a scope. The table of docs/saas.md, as a function of method and path so that it holds for
 * every route, those added later included: anything not listed is an `admin` route.
 */
export type RouteAccess = 'public' | 'operator' | Scope;

/** `/console/*`, `/openapi.json` and `/health` need no key. */
const PUBLIC = /^\/(health|openapi\.json|console(\/.*)?)$/;
/** `/tenants*` and `/metrics`: the operator's (IAM on AWS, `OPERATOR_KEY` locally). */
const OPERATOR = /^\/(tenants(\/.*)?|metrics)$/;
/** `POST /events` and `POST /ingest/*`: what an `ingest` key may call. */
const INGEST = /^\/(events|ingest\/.+)$/;
/** `GET …/ping` sends a request, so `read` does not cover it. */
const SENDS = /\/ping$/;
/** The audit log is served to the tenant's admin keys only. */
const ADMIN_ONLY = /^\/audit(\/.*)?$/;

/**
 * The path as the router sees it (shared/admin/router.ts): empty segments dropped, each segment
 * percent-decoded. Judging the raw path instead let `/%74enants` or `//tenants` past as a `read`
 * route while the router served `/tenants`. A slash decoded from `%2F` stays inside its segment
 * (encoded again), as it does for the router. `undefined` for a path the router refuses as malformed.
 */
function routedPath(path: string): string | undefined {
  try {
    const parts = path
      .split('/')
      .filter((part) => part.length > 0)
      .map((part) => decodeURIComponent(part).replaceAll('/', '%2F'));
    return `/${parts.join('/')}`;
  } catch {
    return undefined;
  }
}

export function routeAccess(method: string, path: string): RouteAccess {
  const normalized = routedPath(path);
  // Routes nowhere (the router answers 400): asks for the most a tenant key can have.
  if (normalized === undefined) return 'admin';
  if (PUBLIC.test(normalized)) return 'public';
  if (OPERATOR.test(normalized)) return 'operator';
  if (method === 'POST' && INGEST.test(normalized)) return 'ingest';
  if ((method === 'GET' || method === 'HEAD') && !SENDS.test(normalized) && !ADMIN_ONLY.test(normalized)) {
    return 'read';
  }
  return 'admin';
}

/**
 * May this principal call the route? `admin` covers every tenant route (`read` and `ingest` ones
 * too); `read` and `ingest` only their own; operator routes want the operator, who holds no
 * tenant scope, so an operator calls tenant routes only when its principal also carries scopes (as
 * an IAM caller of an IAM deployment does).
 */
export function mayCall(principal: Principal, method: string, path: string): boolean {
  const access = routeAccess(method, path);
  if (access === 'public') return true;
  if (access === 'operator') return principal.operator === true;
  return principal.scopes.includes('admin') || principal.scopes.includes(access);
}

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
 * The path as the Admin router matches it (shared/admin/router.ts `segments`): empty segments dropped
 * and each one percent-decoded, so `//audit` or `/%61udit` is judged as the `/audit` it reaches. A
 * segment that does not decode is kept as it is (the router refuses it with a 400).
 */
function asRouted(path: string): string {
  const parts = path.split('/').filter((part) => part.length > 0);
  return `/${parts
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    })
    .join('/')}`;
}

export function routeAccess(method: string, path: string): RouteAccess {
  const normalized = asRouted(path);
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

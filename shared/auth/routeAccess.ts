import { ADMIN_ROUTES, matchRoute, type RouteSpec } from '../admin/router.ts';
import { INGEST_ROUTES } from '../pipeline/ingest.ts';

/**
 * What a route needs: nothing (`public`), the operator's key (`operator`), or a tenant key with a
 * scope. `read` is met by a `read` or an `admin` key, `ingest` by an `ingest` or an `admin` key,
 * `admin` by an `admin` key only (docs/saas.md, "Scopes").
 */
export type Access = 'public' | 'operator' | 'admin' | 'read' | 'ingest';

/** `GET /metrics`, served beside the Admin API by the local runtime (CloudWatch on AWS). */
export const METRICS_ROUTE = { path: '/metrics', methods: ['GET'] } as const satisfies RouteSpec;

type RoutePath = (typeof ADMIN_ROUTES)[number]['path'] | (typeof INGEST_ROUTES)[number]['path'] | '/metrics';

/**
 * The route → access table, for every method of every route of the Admin API, the ingest function
 * and the metrics scrape. The type makes a route without an entry a compile error, and
 * test/shared/auth/routeAccess.test.ts checks each method and the table in docs/saas.md against it.
 * `read` is every GET but `/ping`, which sends a request.
 */
export const ROUTE_ACCESS: Record<RoutePath, Readonly<Record<string, Access>>> = {
  '/health': { '*': 'public' },
  '/event-hooks': { GET: 'read', POST: 'admin' },
  '/event-hooks/sources': { GET: 'read' },
  '/event-hooks/sources/{source}': { GET: 'read' },
  '/event-hooks/sources/{source}/{event}': { GET: 'read', PUT: 'admin', DELETE: 'admin' },
  '/event-hooks/{id}': { GET: 'read', PATCH: 'admin', PUT: 'admin', DELETE: 'admin' },
  '/event-hooks/{id}/test': { POST: 'admin' },
  '/event-hooks/{id}/ping': { GET: 'admin' },
  '/event-hooks/{id}/secret/rotate': { POST: 'admin' },
  '/dead-letters': { GET: 'read' },
  '/dead-letters/{id}': { GET: 'read', DELETE: 'admin' },
  '/dead-letters/{id}/replay': { POST: 'admin' },
  '/tenants': { GET: 'operator', POST: 'operator' },
  '/tenants/{id}': { GET: 'operator', DELETE: 'operator' },
  '/tenants/{id}/keys': { GET: 'operator', POST: 'operator' },
  '/tenants/{id}/keys/{key_id}': { DELETE: 'operator' },
  '/events': { POST: 'ingest' },
  '/ingest/kong-http-log': { POST: 'ingest' },
  '/metrics': { GET: 'operator' },
};

/** Served without a key: the console's static files and the API description (nothing of a tenant's). */
const PUBLIC_PATHS = [/^\/console(\/.*)?$/, /^\/openapi\.json$/];

/** Every route the access table covers, in matching order (the Admin API's order first). */
export const ACCESS_ROUTES: readonly RouteSpec[] = [...ADMIN_ROUTES, ...INGEST_ROUTES, METRICS_ROUTE];

/**
 * What a request needs. A path no route matches needs any valid key (tenant or operator), so that
 * without one the answer is 401 and says nothing of which paths exist; with one, the router
 * answers 404. A method the route does not have needs what its strictest method needs (then 405).
 */
export function requiredAccess(method: string, path: string): Access | 'authenticated' {
  if (PUBLIC_PATHS.some((pattern) => pattern.test(path))) return 'public';
  let parts: string[];
  try {
    parts = path
      .split('/')
      .filter((part) => part.length > 0)
      .map((part) => decodeURIComponent(part));
  } catch {
    return 'authenticated';
  }
  const found = matchRoute(ACCESS_ROUTES, parts);
  if (!found) return 'authenticated';
  const entry = ROUTE_ACCESS[found.route.path as RoutePath];
  const access = entry[method.toUpperCase()] ?? entry['*'];
  if (access) return access;
  const all = Object.values(entry);
  return all.includes('operator') ? 'operator' : all.includes('public') ? 'public' : 'admin';
}

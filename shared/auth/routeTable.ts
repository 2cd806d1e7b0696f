import { ADMIN_ROUTES, type RouteSpec } from '../admin/router.ts';
import { INGEST_ROUTES } from '../pipeline/ingest.ts';
import { type RouteAccess, routeAccess } from './routeAccess.ts';

/** `GET /metrics`, served beside the Admin API by the local runtime (CloudWatch on AWS). */
export const METRICS_ROUTE = { path: '/metrics', methods: ['GET'] } as const satisfies RouteSpec;

/** Every route the HTTP API serves: the Admin API's, the ingest function's, the metrics scrape. */
export const HTTP_ROUTES: readonly RouteSpec[] = [...ADMIN_ROUTES, ...INGEST_ROUTES, METRICS_ROUTE];

export interface RouteAccessRow {
  /** `any` for a route that takes every method (`/health`). */
  method: string;
  path: string;
  access: RouteAccess;
}

/**
 * The route → scope table: what `routeAccess` (the one decision, shared with the AWS entry points)
 * answers for each method of each route. docs/saas.md prints it, and
 * test/shared/auth/routeAccess.test.ts checks the two against each other, so a new route is
 * documented with its scope before it ships.
 */
export function routeAccessTable(routes: readonly RouteSpec[] = HTTP_ROUTES): RouteAccessRow[] {
  return routes.flatMap((route) =>
    route.methods.map((method) => ({
      method: method === '*' ? 'any' : method,
      path: route.path,
      // A parameter is one path segment: any value stands for it.
      access: routeAccess(method === '*' ? 'GET' : method, route.path.replace(/\{[^}]+\}/g, 'x')),
    })),
  );
}

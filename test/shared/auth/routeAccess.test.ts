import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../../shared/admin/router.ts';
import { grants } from '../../../shared/auth/authenticate.ts';
import { METRICS_ROUTE, ROUTE_ACCESS, requiredAccess } from '../../../shared/auth/routeAccess.ts';
import { INGEST_ROUTES } from '../../../shared/pipeline/ingest.ts';

const ROUTES = [...ADMIN_ROUTES, ...INGEST_ROUTES, METRICS_ROUTE];
const DOC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'saas.md'), 'utf8');

/** The rows of the scopes table in docs/saas.md: `| GET | /event-hooks | read |`. */
function documentedRows(): string[] {
  const section = DOC.split(/^## /m).find((part) => part.startsWith('Routes and scopes')) ?? '';
  return [...section.matchAll(/^\| (any|GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \|$/gm)].map(
    ([, method, path, access]) => `${method} ${path} ${access}`,
  );
}

describe('route → scope table', () => {
  it('has an entry for every method of every route the router and the ingest function serve', () => {
    for (const route of ROUTES) {
      const entry = ROUTE_ACCESS[route.path as keyof typeof ROUTE_ACCESS];
      expect(entry, route.path).toBeDefined();
      expect(Object.keys(entry).sort(), route.path).toEqual([...route.methods].sort());
    }
    expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(ROUTES.map((r) => r.path).sort());
  });

  it('matches the table in docs/saas.md row for row', () => {
    const code = ROUTES.flatMap((route) =>
      Object.entries(ROUTE_ACCESS[route.path as keyof typeof ROUTE_ACCESS]).map(
        ([method, access]) => `${method === '*' ? 'any' : method} ${route.path} ${access}`,
      ),
    );
    expect(documentedRows().sort()).toEqual(code.sort());
  });

  it('gives read every GET but /ping, ingest the two ingest routes, the operator /tenants* and /metrics', () => {
    for (const route of ROUTES) {
      for (const [method, access] of Object.entries(ROUTE_ACCESS[route.path as keyof typeof ROUTE_ACCESS])) {
        const where = `${method} ${route.path}`;
        if (route.path === '/health') expect(access, where).toBe('public');
        else if (route.path.startsWith('/tenants') || route.path === '/metrics') expect(access, where).toBe('operator');
        else if (INGEST_ROUTES.some((r) => r.path === route.path)) expect(access, where).toBe('ingest');
        else if (method === 'GET' && !route.path.endsWith('/ping')) expect(access, where).toBe('read');
        else expect(access, where).toBe('admin');
      }
    }
  });

  it('decides a request from its method and path, ids included', () => {
    expect(requiredAccess('GET', '/event-hooks/8c5e1d4f-0000-4000-8000-000000000000')).toBe('read');
    expect(requiredAccess('get', '/event-hooks/x/ping')).toBe('admin');
    expect(requiredAccess('HEAD', '/health')).toBe('public');
    expect(requiredAccess('POST', '/events')).toBe('ingest');
    expect(requiredAccess('DELETE', '/tenants/t1/keys/k1')).toBe('operator');
    // A method the route lacks needs the route's strictest (the router then answers 405).
    expect(requiredAccess('PUT', '/event-hooks/sources')).toBe('admin');
    expect(requiredAccess('PUT', '/tenants')).toBe('operator');
    // No route: any valid key, so that the 401 says nothing of which paths exist.
    expect(requiredAccess('GET', '/nothing/here')).toBe('authenticated');
    expect(requiredAccess('GET', '/%E0%A4%A')).toBe('authenticated');
    // The console and the API description are public.
    expect(requiredAccess('GET', '/console/')).toBe('public');
    expect(requiredAccess('GET', '/console/app.js')).toBe('public');
    expect(requiredAccess('GET', '/openapi.json')).toBe('public');
    expect(requiredAccess('GET', '/consoles')).toBe('authenticated');
  });

  it('lets admin do all of its tenant, read and ingest only theirs', () => {
    const as = (...scopes: ('admin' | 'read' | 'ingest')[]) => ({ tenant: 't', scopes });
    expect(['admin', 'read', 'ingest'].map((a) => grants(as('admin'), a as 'admin'))).toEqual([true, true, true]);
    expect(['admin', 'read', 'ingest'].map((a) => grants(as('read'), a as 'admin'))).toEqual([false, true, false]);
    expect(['admin', 'read', 'ingest'].map((a) => grants(as('ingest'), a as 'admin'))).toEqual([false, false, true]);
    expect(grants(as(), 'read')).toBe(false);
  });
});

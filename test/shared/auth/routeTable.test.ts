import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../../shared/admin/router.ts';
import { HTTP_ROUTES, METRICS_ROUTE, routeAccessTable } from '../../../shared/auth/routeTable.ts';
import { INGEST_ROUTES } from '../../../shared/pipeline/ingest.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'saas.md'), 'utf8');

/** The rows of the scopes table in docs/saas.md: `| GET | `/event-hooks` | read |`. */
function documentedRows(): string[] {
  const section = DOC.split(/^## /m).find((part) => part.startsWith('Routes and scopes')) ?? '';
  return [...section.matchAll(/^\| (any|GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \|$/gm)].map(
    ([, method, path, access]) => `${method} ${path} ${access}`,
  );
}

describe('route → scope table', () => {
  it('walks every method of every route of the Admin API, the ingest function and the metrics scrape', () => {
    expect(HTTP_ROUTES).toEqual([...ADMIN_ROUTES, ...INGEST_ROUTES, METRICS_ROUTE]);
    const rows = routeAccessTable();
    for (const route of HTTP_ROUTES) {
      for (const method of route.methods) {
        const row = rows.find((r) => r.path === route.path && r.method === (method === '*' ? 'any' : method));
        expect(row, `${method} ${route.path}`).toBeDefined();
      }
    }
  });

  it('matches the table in docs/saas.md row for row', () => {
    const code = routeAccessTable().map(({ method, path, access }) => `${method} ${path} ${access}`);
    expect(documentedRows().sort()).toEqual(code.sort());
  });

  it('gives read every GET but /ping and /audit, ingest the two ingest routes, the operator /tenants* and /metrics; /health and /openapi.json need no key', () => {
    for (const { method, path, access } of routeAccessTable()) {
      const where = `${method} ${path}`;
      if (path === '/health' || path === '/openapi.json') expect(access, where).toBe('public');
      else if (path.startsWith('/tenants') || path === '/metrics') expect(access, where).toBe('operator');
      else if (INGEST_ROUTES.some((r) => r.path === path)) expect(access, where).toBe('ingest');
      // The audit log is an admin's (issue 11); every other GET but /ping a reader's.
      else if (method === 'GET' && !path.endsWith('/ping') && path !== '/audit') expect(access, where).toBe('read');
      else expect(access, where).toBe('admin');
    }
  });
});

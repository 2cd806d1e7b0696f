import type { QuotaBook } from '../quotas/quotaBook.ts';
import { parseQuotaOverrides } from '../quotas/quotas.ts';
import { type ApiResponse, allow, json } from './http.ts';

/**
 * `GET|PUT /tenants/{id}/quotas` (operator only): the quotas in force for a tenant, the overrides
 * its operator set, and the deployment's defaults. `PUT` replaces the overrides with the body's
 * (`{"events_per_second": 500, "hooks": null}`: `null` is no limit, a name left out is the default).
 */
export async function quotaRoutes(
  quotas: QuotaBook,
  tenant: string,
  method: string,
  body: () => Promise<unknown>,
): Promise<ApiResponse> {
  allow(method, ['GET', 'PUT']);
  if (method === 'PUT') {
    const overrides = parseQuotaOverrides(await body());
    const data = await quotas.set(tenant, overrides);
    return json(200, { data, overrides, defaults: quotas.defaults });
  }
  const overrides = await quotas.overrides(tenant);
  // Read now rather than from the cache: the operator sees what the table holds.
  const data = { ...quotas.defaults, ...overrides };
  return json(200, { data, overrides, defaults: quotas.defaults });
}

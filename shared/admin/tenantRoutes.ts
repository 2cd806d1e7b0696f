import { type ApiKeyStore, parseScopes } from '../auth/apiKeys.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { parseTenantBody, type Tenant, type TenantStore } from '../store/tenantStore.ts';
import { type ApiResponse, allow, json, noContent } from './http.ts';

/** What the operator routes work on (built by the app with AUTH_MODE=api-keys). */
export interface TenantAdmin {
  tenants: TenantStore;
  keys: ApiKeyStore;
  /** Removes the tenant with everything it owns (hooks and their functions, sources, dead letters, keys…). */
  deleteTenant(id: string): Promise<void>;
  /**
   * With `TENANCY=single`, the one tenant's id (`default`): it exists from the start, and tenants
   * are neither added nor deleted. Absent with `TENANCY=multi`.
   */
  single?: string;
}

/**
 * `/tenants`, `/tenants/{id}`, `/tenants/{id}/keys`, `/tenants/{id}/keys/{key_id}` (docs/saas.md),
 * for the operator only (the edge checks that). A key is shown once, in the answer that creates it.
 */
export async function tenantRoutes(
  admin: TenantAdmin,
  method: string,
  rest: string[],
  body: () => Promise<unknown>,
): Promise<ApiResponse> {
  const [id, sub, keyId] = rest;
  // The single tenant exists implicitly: made on the first operator request, on either runtime.
  if (admin.single !== undefined) await admin.tenants.ensure(admin.single, admin.single);
  if (id === undefined) {
    if (method === 'GET') return json(200, { data: await admin.tenants.list(), next: null });
    if (admin.single !== undefined) {
      throw new BadRequestError(
        `TENANCY=single serves the one tenant '${admin.single}'; set TENANCY=multi to add tenants`,
      );
    }
    return json(201, await admin.tenants.create(parseTenantBody(await body()).name));
  }
  const tenant = await existing(admin, id);
  if (sub === undefined) {
    if (method === 'GET') return json(200, tenant);
    if (admin.single !== undefined) {
      throw new BadRequestError(`TENANCY=single serves the one tenant '${admin.single}', which cannot be deleted`);
    }
    // Marked first: from here on nothing of the tenant is usable, even if the deletion is cut short.
    await admin.tenants.markDeleting(tenant.id);
    await admin.deleteTenant(tenant.id);
    return noContent();
  }
  if (keyId === undefined) {
    if (method === 'GET') return json(200, { data: await admin.keys.list(tenant.id), next: null });
    // A key minted now would outlive the deletion (keys go first) or open a half-deleted tenant.
    if (tenant.deleting) {
      throw new ConflictError(
        `tenant '${tenant.id}' is being deleted; send DELETE /tenants/${tenant.id} again to finish`,
      );
    }
    return json(201, await admin.keys.create(tenant.id, parseScopes(await body())));
  }
  allow(method, ['DELETE']);
  if (!(await admin.keys.revoke(tenant.id, keyId))) throw new NotFoundError();
  return noContent();
}

async function existing(admin: TenantAdmin, id: string): Promise<Tenant> {
  const tenant = await admin.tenants.get(id);
  if (!tenant) throw new NotFoundError();
  return tenant;
}

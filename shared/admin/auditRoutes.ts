import type { Principal } from '../auth/principal.ts';
import { BadRequestError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AuditEntry, AuditStore } from '../store/auditStore.ts';
import type { ApiRequest, ApiResponse } from './http.ts';
import { json } from './http.ts';

/** Methods that change something; reads are never recorded. */
const CHANGE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes whose POST runs something without changing anything. */
const NOT_CHANGES = new Set(['/event-hooks/{id}/test']);

/** Who made a request, as the audit log names them: the key's id, never the key. */
export function actorOf(principal: Principal | undefined): string {
  if (principal?.keyId) return principal.keyId;
  return principal?.operator ? 'operator' : 'anonymous';
}

/** Whether a request to this route (matched, with a method it accepts) is a change to record. */
export function isAuditedChange(method: string, route: string): boolean {
  return CHANGE_METHODS.has(method) && !NOT_CHANGES.has(route);
}

/**
 * Records one change, whatever its outcome (a refused change is worth knowing about too). For routes
 * outside the Admin router (tenants, keys), the same call: the route pattern and the resource id.
 * A failed write is logged and does not fail the request: the change itself has happened.
 *
 * @example
 * await recordChange(audit, logger, tenant, request, { route: '/tenants/{id}/keys', resourceId: key.id, status: 201 });
 */
export async function recordChange(
  audit: Pick<AuditStore, 'record'>,
  logger: Logger,
  tenant: string,
  request: Pick<ApiRequest, 'method' | 'principal'>,
  change: { route: string; resourceId?: string | undefined; status: number },
): Promise<void> {
  const entry = {
    actor: actorOf(request.principal),
    method: request.method.toUpperCase(),
    route: change.route,
    ...(change.resourceId ? { resourceId: change.resourceId } : {}),
    status: change.status,
  };
  try {
    await audit.record(tenant, entry);
  } catch (error) {
    logger.error('could not record an audit entry', { tenant, ...entry, error });
  }
}

/**
 * What a change through the Admin router was about: the route's parameters (a hook id, a source and
 * event, a dead letter id), or for a create the id of what was created, read from the answer.
 */
export function resourceOf(params: readonly string[], response: ApiResponse): string | undefined {
  if (params.length > 0) return params.join('/');
  if (response.statusCode !== 201) return undefined;
  try {
    const { id } = JSON.parse(response.body) as { id?: unknown };
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** An audit entry as `GET /audit` shows it (in Kong's naming style). */
export function auditView(entry: AuditEntry) {
  return {
    id: entry.id,
    created_at: Math.floor(entry.at / 1000),
    actor: entry.actor,
    method: entry.method,
    route: entry.route,
    resource_id: entry.resourceId ?? null,
    status: entry.status,
  };
}

/**
 * `GET /audit?since=&size=&offset=`: the tenant's changes, newest first, paged like `/event-hooks`
 * (`data` and `next`). `since` is a Unix time in seconds.
 */
export async function auditRoutes(
  audit: Pick<AuditStore, 'list'>,
  tenant: string,
  request: ApiRequest,
  size: () => number,
): Promise<ApiResponse> {
  const since = request.query.get('since');
  if (since !== null && !/^\d{1,10}$/.test(since)) {
    throw new BadRequestError('since must be a Unix time in seconds');
  }
  const offset = request.query.get('offset') ?? undefined;
  const page = await audit.list(tenant, {
    size: size(),
    ...(offset !== undefined ? { offset } : {}),
    ...(since !== null ? { sinceMs: Number(since) * 1000 } : {}),
  });
  const query = new URLSearchParams();
  if (page.next !== undefined) query.set('offset', page.next);
  if (request.query.has('size')) query.set('size', String(size()));
  if (since !== null) query.set('since', since);
  return json(200, { data: page.entries.map(auditView), next: page.next !== undefined ? `/audit?${query}` : null });
}

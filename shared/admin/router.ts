import packageJson from '../../package.json' with { type: 'json' };
import { BadRequestError, DeliveryError, HookTestFailedError, NotFoundError, NotImplementedError } from '../errors.ts';
import type { EventRecords } from '../events/eventRecord.ts';
import { eventPayload } from '../handlers/webhook.ts';
import type { EventHook } from '../hooks/hook.ts';
import { isUuid } from '../hooks/validate.ts';
import { type Logger, redactConfig } from '../logger.ts';
import type { UsageStore } from '../metering/usageStore.ts';
import type { DeadLetters } from '../pipeline/deadLetters.ts';
import type { Deliveries } from '../pipeline/deliveries.ts';
import { INGEST_ROUTES } from '../pipeline/ingest.ts';
import type { QuotaBook } from '../quotas/quotaBook.ts';
import type { AuditStore } from '../store/auditStore.ts';
import { auditRoutes, isAuditedChange, recordChange, resourceOf } from './auditRoutes.ts';
import { deadLetterRoutes } from './deadLetterRoutes.ts';
import { deliveryEntity, hookDeliveries, hookHealthRoute, replayDelivery } from './deliveryRoutes.ts';
import { eventRoutes } from './eventRoutes.ts';
import type { HookService } from './hookService.ts';
import {
  type ApiRequest,
  type ApiResponse,
  allow,
  errorResponse,
  JSON_HEADERS,
  json,
  nextLink,
  noContent,
  parseBody,
  type RouteSpec,
} from './http.ts';
import { REQUEST_LIMITS } from './limits.ts';
import { openApiDocument } from './openapi.ts';
import { pageSize } from './query.ts';
import { quotaRoutes } from './quotaRoutes.ts';
import { type TenantAdmin, tenantRoutes } from './tenantRoutes.ts';
import { usageRoutes } from './usageRoutes.ts';

/** Runs a hook on demand (`/test`, `/ping`); comes with the event pipeline. */
export interface HookRunner {
  /** Runs the hook now with `data` as the event data; resolves with the handler's result. */
  test(tenant: string, hook: EventHook, data: Record<string, unknown>): Promise<unknown>;
  /** Pings a webhook; resolves with the ping body that was sent. */
  ping(tenant: string, hook: EventHook): Promise<unknown>;
}

export interface AdminRouterOptions {
  service: HookService;
  logger: Logger;
  /** The tenant of a request without a principal (auth off); a principal's tenant wins. */
  tenant: string;
  runner?: HookRunner;
  /** `/dead-letters`; answered 404 when absent. */
  deadLetters?: DeadLetters;
  /** The delivery log's routes (`/deliveries`, a hook's deliveries and health); answered 404 when absent. */
  deliveries?: Deliveries;
  /** `GET /events/{id}`; answered 404 when absent. */
  events?: EventRecords;
  /** Where every change is recorded, served by `GET /audit`; answered 404 and recorded nowhere when absent. */
  audit?: AuditStore;
  /** `/tenants/{id}/quotas`; answered 501 when absent. */
  quotas?: QuotaBook;
  /** `/tenants/{id}/usage`; answered 501 when absent. */
  usage?: UsageStore;
  /** Largest accepted request body (default 256 KiB). */
  maxBodyBytes?: number;
  /** The operator routes (`/tenants*`); answered 404 when absent (auth off). */
  tenants?: TenantAdmin;
}

function segments(path: string): string[] {
  const parts = path.split('/').filter((part) => part.length > 0);
  let decoded: string[];
  try {
    decoded = parts.map((part) => decodeURIComponent(part));
  } catch (error) {
    throw new BadRequestError('malformed URL path', { cause: error });
  }
  // An id or a name this long names nothing; refused before it reaches a store key (DynamoDB caps those).
  if (decoded.some((part) => part.length > REQUEST_LIMITS.pathSegment)) {
    throw new BadRequestError(`URL path segments must be at most ${REQUEST_LIMITS.pathSegment} characters`);
  }
  return decoded;
}

/**
 * Every route of the Admin API: a path pattern (`{name}` is one decoded path segment) and its
 * methods (`*`: any). The router dispatches through this table and nothing else, and the fuzz test
 * (test/e2e/fuzz.test.ts) enumerates it, so a route added here is fuzzed without anyone remembering.
 * Order matters: the first match wins, so literal segments come before parameters.
 */
export const ADMIN_ROUTES = [
  // Any method: load balancers and orchestrators probe with GET or HEAD.
  { path: '/health', methods: ['*'] },
  // Generated from this table, the ingest routes and the request schemas (openapi.ts); no auth.
  { path: '/openapi.json', methods: ['GET'] },
  { path: '/event-hooks', methods: ['GET', 'POST'] },
  { path: '/event-hooks/sources', methods: ['GET'] },
  { path: '/event-hooks/sources/{source}', methods: ['GET'] },
  { path: '/event-hooks/sources/{source}/{event}', methods: ['GET', 'PUT', 'DELETE'] },
  { path: '/event-hooks/{id}', methods: ['GET', 'PATCH', 'PUT', 'DELETE'] },
  { path: '/event-hooks/{id}/test', methods: ['POST'] },
  { path: '/event-hooks/{id}/ping', methods: ['GET'] },
  // Beyond Kong: a new secret, the old one kept for an overlap (Standard Webhooks).
  { path: '/event-hooks/{id}/secret/rotate', methods: ['POST'] },
  // Beyond Kong; only when the deployment has a dead-letter store.
  { path: '/dead-letters', methods: ['GET'] },
  { path: '/dead-letters/{id}', methods: ['GET', 'DELETE'] },
  { path: '/dead-letters/{id}/replay', methods: ['POST'] },
  // Beyond Kong (issue 12): the delivery log; only when the deployment keeps one.
  { path: '/event-hooks/{id}/deliveries', methods: ['GET'] },
  { path: '/event-hooks/{id}/health', methods: ['GET'] },
  { path: '/deliveries/{id}', methods: ['GET'] },
  { path: '/deliveries/{id}/replay', methods: ['POST'] },
  // Beyond Kong: an event and what became of it per hook ("why didn't my hook fire?").
  { path: '/events/{id}', methods: ['GET'] },
  // Beyond Kong: the tenant's changes (docs/saas.md, "Audit log").
  { path: '/audit', methods: ['GET'] },
  // Operator routes (docs/saas.md): a tenant's quotas and metering, the tenant named in the path.
  { path: '/tenants/{id}/quotas', methods: ['GET', 'PUT'] },
  { path: '/tenants/{id}/usage', methods: ['GET'] },
  // The operator's (docs/saas.md); only with AUTH_MODE=api-keys.
  { path: '/tenants', methods: ['GET', 'POST'] },
  { path: '/tenants/{id}', methods: ['GET', 'DELETE'] },
  { path: '/tenants/{id}/keys', methods: ['GET', 'POST'] },
  { path: '/tenants/{id}/keys/{key_id}', methods: ['DELETE'] },
] as const satisfies readonly RouteSpec[];

export type { RouteSpec } from './http.ts';

/** The operator's tenant and key routes: only where someone can be the operator (auth on). */
const TENANT_ADMIN_PATHS: ReadonlySet<string> = new Set([
  '/tenants',
  '/tenants/{id}',
  '/tenants/{id}/keys',
  '/tenants/{id}/keys/{key_id}',
]);

type AdminRoute = (typeof ADMIN_ROUTES)[number];
type AdminRoutePath = AdminRoute['path'];
type RouteHandler = (method: string, params: string[], request: ApiRequest, parts: string[]) => Promise<ApiResponse>;

/** The first route whose pattern matches the decoded path segments, with its parameters in order. */
export function matchRoute<R extends RouteSpec>(
  routes: readonly R[],
  parts: readonly string[],
): { route: R; params: string[] } | undefined {
  for (const route of routes) {
    const pattern = route.path.split('/').filter((part) => part.length > 0);
    if (pattern.length !== parts.length) continue;
    const params: string[] = [];
    const matches = pattern.every((segment, i) => {
      const part = parts[i] as string;
      if (segment.startsWith('{')) return params.push(part) > 0;
      return segment === part;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

let openApiText: string | undefined;
/** The OpenAPI document of every route the routers serve, generated once per process. */
export function openApiJson(): string {
  openApiText ??= JSON.stringify(openApiDocument([...ADMIN_ROUTES, ...INGEST_ROUTES], packageJson.version));
  return openApiText;
}

/**
 * `?dry_run=true` on `PUT /event-hooks/{id}` (beyond Kong): validate and answer what would be stored,
 * write nothing. Any other value is refused, so a typo never turns a dry run into a write.
 */
function dryRun(query: URLSearchParams): boolean {
  const value = query.get('dry_run');
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw new BadRequestError('dry_run must be true or false');
}

// Kong's ids are lower-case UUIDs; an upper-case spelling names the same hook.
const hookId = (id: string) => (isUuid(id) ? id.toLowerCase() : id);

/** Whether the caller may see secrets: a `read` key sees hooks with `secret` and credential-like headers masked. */
const readOnly = (request: ApiRequest) =>
  request.principal !== undefined && !request.principal.scopes.includes('admin');

/** A hook as this caller may see it (the logs' redaction rule, so one list of credential-like names). */
const visible = (request: ApiRequest, hook: EventHook): EventHook =>
  readOnly(request) ? ({ ...hook, config: redactConfig(hook.config) } as EventHook) : hook;

/**
 * The Admin API (docs/reference.md §5) as a function of a request. API Gateway's Lambda and the local
 * server both call it; it never knows which.
 */
export function createAdminRouter(options: AdminRouterOptions): (request: ApiRequest) => Promise<ApiResponse> {
  const { service, logger } = options;
  // The key alone decides the tenant: the edge's principal, else (auth off) the configured tenant.
  const tenantOf = (request: ApiRequest) => request.principal?.tenant ?? options.tenant;
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  // Generated at startup rather than on the first request.
  openApiJson();
  const body = (request: ApiRequest) => parseBody(request, maxBodyBytes);
  const runner = () => {
    if (!options.runner) throw new NotImplementedError('running hooks is not available in this deployment');
    return options.runner;
  };

  async function collection(method: string, request: ApiRequest): Promise<ApiResponse> {
    const tenant = tenantOf(request);
    if (method === 'POST') return json(201, await service.create(tenant, await body(request)));
    const size = pageSize(request.query);
    const offset = request.query.get('offset') ?? undefined;
    const page = await service.list(tenant, { size, ...(offset !== undefined ? { offset } : {}) });
    const next = nextLink('/event-hooks', page.next, request.query, size);
    // Kong adds the bare offset next to the link when there is a next page.
    return json(200, {
      data: page.hooks.map((hook) => visible(request, hook)),
      next,
      ...(page.next ? { offset: page.next } : {}),
    });
  }

  async function entity(method: string, id: string, request: ApiRequest): Promise<ApiResponse> {
    const tenant = tenantOf(request);
    switch (method) {
      case 'GET':
        return json(200, visible(request, await service.get(tenant, id)));
      case 'PATCH':
        return json(200, await service.patch(tenant, id, await body(request)));
      case 'PUT':
        // Kong's upserts answer 200 whether they created or replaced.
        return json(200, await service.put(tenant, id, await body(request), { dryRun: dryRun(request.query) }));
      default:
        await service.delete(tenant, id);
        return noContent();
    }
  }

  async function test(id: string, request: ApiRequest): Promise<ApiResponse> {
    const data = await body(request);
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      throw new BadRequestError('the test data must be a JSON object');
    }
    const tenant = tenantOf(request);
    const hook = await service.get(tenant, id);
    const active = runner();
    try {
      const result = await active.test(tenant, hook, data as Record<string, unknown>);
      const sent = eventPayload({ source: hook.source, event: hook.event, data: data as Record<string, unknown> });
      return json(200, { data: sent, result });
    } catch (error) {
      throw new HookTestFailedError(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  async function ping(id: string, request: ApiRequest): Promise<ApiResponse> {
    const tenant = tenantOf(request);
    const hook = await service.get(tenant, id);
    try {
      return json(200, await runner().ping(tenant, hook));
    } catch (error) {
      // Kong answers a ping that could not be sent with 400 and the reason.
      if (error instanceof DeliveryError) throw new BadRequestError(error.message, { cause: error });
      throw error;
    }
  }

  const deadLetters = (method: string, parts: string[], request: ApiRequest) =>
    deadLetterRoutes(options.deadLetters as DeadLetters, tenantOf(request), method, parts.slice(1), request, () =>
      pageSize(request.query),
    );

  const log = () => options.deliveries as Deliveries;
  const getHook = (t: string, id: string) => service.get(t, id);
  const required = <T>(part: T | undefined, what: string): T => {
    if (!part) throw new NotImplementedError(`${what} is not available in this deployment`);
    return part;
  };

  /**
   * Where tenants are managed (api-keys), a tenant's quotas and usage are 404 for a tenant that does
   * not exist, as `/tenants/{id}` is: a `PUT` would leave quotas no tenant deletion ever removes.
   * With auth off there is no tenant list to check against.
   */
  const knownTenant = async (id: string): Promise<string> => {
    const admin = options.tenants;
    if (!admin) return id;
    if (admin.single !== undefined ? id === admin.single : await admin.tenants.get(id)) return id;
    throw new NotFoundError();
  };

  // One handler per route of the table; the type makes a route without a handler a compile error.
  const handlers: Record<AdminRoutePath, RouteHandler> = {
    '/health': async () => json(200, { status: 'ok' }),
    '/openapi.json': async () => ({ statusCode: 200, headers: { ...JSON_HEADERS }, body: openApiJson() }),
    '/event-hooks': (method, _params, request) => collection(method, request),
    '/event-hooks/sources': async (_method, _params, request) =>
      json(200, { data: await service.catalog(tenantOf(request)) }),
    '/event-hooks/sources/{source}': async (_method, [source], request) =>
      json(200, { data: await service.source(tenantOf(request), source as string) }),
    '/event-hooks/sources/{source}/{event}': async (method, [source, event], request) => {
      const [s, e] = [source as string, event as string];
      const tenant = tenantOf(request);
      if (method === 'GET') return json(200, { data: await service.event(tenant, s, e) });
      if (method === 'PUT') return json(200, { data: await service.putEvent(tenant, s, e, await body(request)) });
      await service.deleteEvent(tenant, s, e);
      return noContent();
    },
    '/event-hooks/{id}': (method, [id], request) => entity(method, hookId(id as string), request),
    '/event-hooks/{id}/test': (_method, [id], request) => test(hookId(id as string), request),
    '/event-hooks/{id}/ping': (_method, [id], request) => ping(hookId(id as string), request),
    '/event-hooks/{id}/secret/rotate': async (_method, [id], request) =>
      json(200, await service.rotateSecret(tenantOf(request), hookId(id as string), await body(request))),
    '/dead-letters': (method, _params, request, parts) => deadLetters(method, parts, request),
    '/dead-letters/{id}': (method, _params, request, parts) => deadLetters(method, parts, request),
    '/dead-letters/{id}/replay': (method, _params, request, parts) => deadLetters(method, parts, request),
    '/event-hooks/{id}/deliveries': (_method, [id], request) =>
      hookDeliveries(log(), getHook, tenantOf(request), hookId(id as string), request, pageSize(request.query)),
    '/event-hooks/{id}/health': (_method, [id], request) =>
      hookHealthRoute(log(), getHook, tenantOf(request), hookId(id as string)),
    '/deliveries/{id}': (_method, [id], request) => deliveryEntity(log(), tenantOf(request), hookId(id as string)),
    '/deliveries/{id}/replay': (_method, [id], request) =>
      replayDelivery(log(), tenantOf(request), hookId(id as string)),
    '/events/{id}': (_method, [id], request) =>
      eventRoutes(options.events as EventRecords, tenantOf(request), id as string),
    '/audit': (_method, _params, request) =>
      auditRoutes(options.audit as AuditStore, tenantOf(request), request, () => pageSize(request.query)),
    '/tenants/{id}/quotas': async (method, [id], request) =>
      quotaRoutes(required(options.quotas, 'quotas'), await knownTenant(id as string), method, () => body(request)),
    '/tenants/{id}/usage': async (method, [id], request) =>
      usageRoutes(required(options.usage, 'metering'), await knownTenant(id as string), method, request),
    '/tenants': (method, _params, request, parts) => tenants(method, parts, request),
    '/tenants/{id}': (method, _params, request, parts) => tenants(method, parts, request),
    '/tenants/{id}/keys': (method, _params, request, parts) => tenants(method, parts, request),
    '/tenants/{id}/keys/{key_id}': (method, _params, request, parts) => tenants(method, parts, request),
  };
  const logRoutes = new Set<string>([
    '/event-hooks/{id}/deliveries',
    '/event-hooks/{id}/health',
    '/deliveries/{id}',
    '/deliveries/{id}/replay',
  ]);
  const tenants = (method: string, parts: string[], request: ApiRequest) =>
    tenantRoutes(options.tenants as TenantAdmin, method, parts.slice(1), () => body(request));
  // Without a dead-letter store, event records, an audit store, auth or a delivery log their routes
  // do not exist (404, not 405).
  const routes = ADMIN_ROUTES.filter(
    (route) =>
      (options.deadLetters || !route.path.startsWith('/dead-letters')) &&
      (options.events || !route.path.startsWith('/events')) &&
      (options.audit || route.path !== '/audit') &&
      (options.tenants || !TENANT_ADMIN_PATHS.has(route.path)) &&
      (options.deliveries || !logRoutes.has(route.path)),
  );

  /**
   * Whose audit log a change goes to: the request's tenant; for the operator's `/tenants*` routes,
   * the tenant they concern (the operator's principal has none, and wrote to a log of no tenant).
   * Not recorded: an operator change refused (its tenant may not exist) or a deleted tenant's.
   */
  const auditedTenant = (
    request: ApiRequest,
    change: { route: string; params: string[] },
    response: ApiResponse,
  ): string | undefined => {
    if (!(request.principal?.operator && change.route.startsWith('/tenants'))) return tenantOf(request);
    if (response.statusCode >= 400 || change.route === '/tenants/{id}') return undefined;
    return change.params[0] ?? resourceOf([], response);
  };

  return async (request) => {
    let change: { route: string; params: string[] } | undefined;
    let response: ApiResponse;
    try {
      const method = request.method.toUpperCase();
      const parts = segments(request.path);
      const found = matchRoute(routes, parts);
      if (!found) throw new NotFoundError();
      const methods: readonly string[] = found.route.methods;
      if (!methods.includes('*')) allow(method, [...methods]);
      const dryRunRoute = method === 'PUT' && found.route.path === '/event-hooks/{id}';
      // A dry run writes nothing, so it is no change to record (apply runs one per hook, every time).
      const dry = dryRunRoute && request.query.get('dry_run') === 'true';
      if (isAuditedChange(method, found.route.path) && !dry) change = { route: found.route.path, params: found.params };
      // Anywhere else `dry_run` would be ignored and the request would write: refused instead.
      if (!dryRunRoute && method !== 'GET' && method !== 'HEAD' && request.query.has('dry_run')) {
        throw new BadRequestError('dry_run is supported on PUT /event-hooks/{id} only');
      }
      response = await handlers[found.route.path](method, found.params, request, parts);
    } catch (error) {
      response = errorResponse(error, logger);
    }
    // One write per change, after the answer is known; reads record nothing.
    const auditTenant = change ? auditedTenant(request, change, response) : undefined;
    if (change && options.audit && auditTenant !== undefined) {
      const resourceId = resourceOf(change.params, response);
      await recordChange(options.audit, logger, auditTenant, request, {
        route: change.route,
        resourceId,
        status: response.statusCode,
      });
    }
    return response;
  };
}

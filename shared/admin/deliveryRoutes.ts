import {
  DELIVERY_STATUSES,
  type DeliveryQuery,
  type DeliveryStatus,
  deliverySummary,
  deliveryView,
} from '../deliveryLog/record.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { EventHook } from '../hooks/hook.ts';
import type { Deliveries } from '../pipeline/deliveries.ts';
import { type ApiRequest, type ApiResponse, json } from './http.ts';

/** `?status=`: one of the four statuses. */
function statusParam(query: URLSearchParams): DeliveryStatus | undefined {
  const raw = query.get('status');
  if (raw === null) return undefined;
  if (!(DELIVERY_STATUSES as readonly string[]).includes(raw)) {
    throw new BadRequestError(`status must be one of ${DELIVERY_STATUSES.join(', ')}`);
  }
  return raw as DeliveryStatus;
}

/** `?since=`: epoch seconds (as `created_at` is answered) or an ISO-8601 date; answered as epoch ms. */
function sinceParam(query: URLSearchParams): number | undefined {
  const raw = query.get('since');
  if (raw === null) return undefined;
  if (/^\d{1,12}$/.test(raw)) return Number(raw) * 1000;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw new BadRequestError('since must be epoch seconds or an ISO-8601 date');
  return ms;
}

/** The next page's link, keeping the filters (Kong's `next`). */
function nextLink(path: string, next: string | undefined, query: URLSearchParams): string | null {
  if (next === undefined) return null;
  const params = new URLSearchParams();
  for (const name of ['status', 'since', 'size']) {
    const value = query.get(name);
    if (value !== null) params.set(name, value);
  }
  params.set('offset', next);
  return `${path}?${params}`;
}

/**
 * `GET /event-hooks/{id}/deliveries`: a hook's deliveries, newest first. The hook is looked up
 * first (`getHook` throws 404), so another tenant's hook id answers 404 like an unknown one.
 */
export async function hookDeliveries(
  deliveries: Deliveries,
  getHook: (tenant: string, id: string) => Promise<EventHook>,
  tenant: string,
  hookId: string,
  request: ApiRequest,
  size: number,
): Promise<ApiResponse> {
  const status = statusParam(request.query);
  const since = sinceParam(request.query);
  const offset = request.query.get('offset');
  await getHook(tenant, hookId);
  const query: DeliveryQuery = { size };
  if (status) query.status = status;
  if (since !== undefined) query.since = since;
  if (offset !== null) query.offset = offset;
  const page = await deliveries.list(tenant, hookId, query);
  return json(200, {
    data: page.records.map(deliverySummary),
    next: nextLink(`/event-hooks/${encodeURIComponent(hookId)}/deliveries`, page.next, request.query),
  });
}

/** `GET /deliveries/{id}`: one delivery with its attempts; 404 when unknown in this tenant. */
export async function deliveryEntity(deliveries: Deliveries, tenant: string, id: string): Promise<ApiResponse> {
  const record = await deliveries.get(tenant, id);
  if (!record) throw new NotFoundError();
  return json(200, deliveryView(record));
}

/** `POST /deliveries/{id}/replay` → 202 with the delivery (pending, same id). */
export async function replayDelivery(deliveries: Deliveries, tenant: string, id: string): Promise<ApiResponse> {
  const record = await deliveries.replay(tenant, id);
  if (!record) throw new NotFoundError();
  return json(202, deliveryView(record));
}

/**
 * `GET /event-hooks/{id}/health`: figures from the hook's newest deliveries in the log.
 * `disabled_since`: when it was auto-disabled (marked in the log); for a hook disabled by hand,
 * which receives nothing since, its last attempt (null without one).
 */
export async function hookHealthRoute(
  deliveries: Deliveries,
  getHook: (tenant: string, id: string) => Promise<EventHook>,
  tenant: string,
  hookId: string,
): Promise<ApiResponse> {
  const hook = await getHook(tenant, hookId);
  const health = await deliveries.health(tenant, hookId);
  const enabled = hook.enabled !== false;
  return json(200, {
    hook_id: hook.id,
    enabled,
    disabled_since: enabled ? null : (health.auto_disabled_at ?? health.last_attempt_at),
    consecutive_failures: health.consecutive_failures,
    last_hour: health.last_hour,
    last_day: health.last_day,
    sampled: health.sampled,
  });
}

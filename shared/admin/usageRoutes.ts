import { BadRequestError } from '../errors.ts';
import { USAGE_COUNTERS, type UsageStore, zeroCounts } from '../metering/usageStore.ts';
import { type ApiRequest, type ApiResponse, allow, json } from './http.ts';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A `YYYY-MM-DD` that names a real day, or a `400` saying which bound is wrong. */
function dateParam(query: URLSearchParams, name: 'from' | 'to'): string | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const match = DATE.exec(raw);
  // Date.UTC rolls 2026-02-30 over to March: a real day reads back unchanged.
  const real =
    match !== null &&
    new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))).toISOString().slice(0, 10) === raw;
  if (!real) throw new BadRequestError(`${name} must be a date as YYYY-MM-DD, got '${raw.slice(0, 40)}'`);
  return raw;
}

/**
 * `GET /tenants/{id}/usage?from=YYYY-MM-DD&to=YYYY-MM-DD` (operator only): the tenant's counters per
 * UTC day, both bounds inclusive and optional, with their total. Counters are written in batches, so
 * the last few seconds (locally `METERING_FLUSH_MS`) may not show yet.
 */
export async function usageRoutes(
  usage: UsageStore,
  tenant: string,
  method: string,
  request: ApiRequest,
): Promise<ApiResponse> {
  allow(method, ['GET']);
  const from = dateParam(request.query, 'from');
  const to = dateParam(request.query, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new BadRequestError(`from (${from}) must not be after to (${to})`);
  }
  const data = await usage.list(tenant, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
  const total = zeroCounts();
  for (const day of data) for (const counter of USAGE_COUNTERS) total[counter] += day[counter];
  return json(200, { tenant, from: from ?? null, to: to ?? null, data, total });
}

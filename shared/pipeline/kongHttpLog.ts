/**
 * Kong's bundled `http-log` plugin → events, for gateways where the event-hooks-bridge plugin
 * cannot be installed. http-log posts one log entry per request (a JSON object), or an array of
 * them when its queue batches; most entries are ordinary traffic and produce nothing.
 *
 * - a `429` carrying a `ratelimit-*` or `x-ratelimit-*` header (a rate limiter's refusal) →
 *   `rate-limiting-advanced` / `rate-limit-exceeded`, mapped as the plugin maps it;
 * - an upstream `5xx` → `proxy` / `upstream-error`.
 */
import { BadRequestError, type FieldErrors, SchemaViolationError } from '../errors.ts';
import { setOwn } from '../records.ts';
import { KONG_HTTP_LOG_ROUTE } from './ingest.ts';

/** The route Kong's http-log plugin posts to. */
export const KONG_HTTP_LOG_PATH = KONG_HTTP_LOG_ROUTE.path;

/** What `POST /events` takes: one producer event. */
export interface ProducerEvent {
  source: string;
  event: string;
  data: Record<string, unknown>;
  id?: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** A header's value: http-log writes a repeated header as an array of its values. */
const headerValue = (value: unknown): string | undefined =>
  Array.isArray(value) ? text(value[0]) : typeof value === 'number' ? String(value) : text(value);

const WINDOW_SECONDS: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
};

export function isRateLimited(status: unknown, headers: Json): boolean {
  if (Number(status) !== 429) return false;
  return Object.keys(headers).some((name) => {
    const n = name.toLowerCase();
    return n.startsWith('ratelimit-') || n.startsWith('x-ratelimit-');
  });
}

/**
 * `limit` and `window` from `x-ratelimit-limit-<window>`: the window whose
 * `x-ratelimit-remaining-<window>` is 0 (the one that refused), else the shortest. Without such a
 * header, `limit` from `ratelimit-limit` and no window. The same choice as the Lua plugin's.
 */
export function limitAndWindow(headers: Json): { limit?: number; window?: string } {
  const limits = new Map<string, number>();
  const remaining = new Map<string, number>();
  for (const [name, raw] of Object.entries(headers)) {
    const n = name.toLowerCase();
    const value = Number(headerValue(raw));
    const limit = /^x-ratelimit-limit-(.+)$/.exec(n);
    if (limit?.[1] && Number.isFinite(value)) limits.set(limit[1], value);
    const left = /^x-ratelimit-remaining-(.+)$/.exec(n);
    if (left?.[1] && Number.isFinite(value)) remaining.set(left[1], value);
  }
  const seconds = (w: string) =>
    WINDOW_SECONDS[w] ?? (Number.isFinite(Number(w)) ? Number(w) : Number.POSITIVE_INFINITY);
  const ranked = [...limits.keys()].sort((a, b) => {
    const exhausted = Number(remaining.get(b) === 0) - Number(remaining.get(a) === 0);
    return exhausted || seconds(a) - seconds(b) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const window = ranked[0];
  if (window !== undefined) return { limit: limits.get(window) as number, window };
  for (const [name, raw] of Object.entries(headers)) {
    const value = Number(headerValue(raw));
    if (name.toLowerCase() === 'ratelimit-limit' && Number.isFinite(value)) return { limit: value };
  }
  return {};
}

/** An entity's name else its id (services, routes), or a consumer's username else its id. */
function nameOrId(entity: unknown, nameKey: string): string | undefined {
  if (!isObject(entity)) return undefined;
  return text(entity[nameKey]) ?? text(entity.id);
}

/** The upstream's own status: the last of `upstream_status` ("502, 504" after retries). */
function upstreamStatus(entry: Json): number | undefined {
  const raw = entry.upstream_status;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    const last = raw.split(/[,:]/).pop()?.trim();
    const status = Number(last);
    return Number.isInteger(status) ? status : undefined;
  }
  // Kong before 3.0 has no upstream_status: a 5xx that came from the upstream is one it proxied.
  const response = entry.response as Json;
  if (Array.isArray(entry.tries) && entry.tries.length > 0 && entry.source !== 'kong') return Number(response.status);
  return undefined;
}

/** Kong's request id (3.5+ `request.id`, else the `x-kong-request-id` response header), for event ids. */
function requestId(entry: Json, headers: Json): string | undefined {
  const request = isObject(entry.request) ? entry.request : {};
  const id = text(request.id) ?? headerValue(headers['x-kong-request-id']);
  return id !== undefined && /^[A-Za-z0-9._:-]{1,100}$/.test(id) ? id : undefined;
}

function problemsOf(entry: unknown): FieldErrors | undefined {
  if (!isObject(entry)) return { '@entity': 'expected an http-log entry (a JSON object)' };
  const response = entry.response;
  if (!isObject(response)) return { response: 'expected an object with status and headers' };
  const problems: FieldErrors = {};
  if (!Number.isInteger(response.status)) problems.status = 'expected an integer';
  if (response.headers !== undefined && !isObject(response.headers)) problems.headers = 'expected an object';
  return Object.keys(problems).length > 0 ? { response: problems } : undefined;
}

function eventsOf(entry: Json): ProducerEvent[] {
  const response = entry.response as Json;
  const headers = isObject(response.headers) ? response.headers : {};
  const status = response.status as number;
  const request = isObject(entry.request) ? entry.request : {};
  const id = requestId(entry, headers);
  const ip = text(entry.client_ip);
  const consumer = nameOrId(entry.consumer, 'username');
  const service = nameOrId(entry.service, 'name');
  const out: ProducerEvent[] = [];
  if (isRateLimited(status, headers)) {
    out.push({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      data: {
        ...(consumer !== undefined ? { consumer } : {}),
        ...(ip !== undefined ? { ip } : {}),
        ...(service !== undefined ? { service } : {}),
        ...limitAndWindow(headers),
      },
      ...(id !== undefined ? { id: `kong.${id}` } : {}),
    });
  }
  const upstream = upstreamStatus(entry);
  if (upstream !== undefined && upstream >= 500 && upstream <= 599) {
    const route = nameOrId(entry.route, 'name');
    const latencies = isObject(entry.latencies) ? entry.latencies : {};
    const tries = Array.isArray(entry.tries) ? entry.tries : [];
    const last = tries[tries.length - 1];
    const target = isObject(last) && text(last.ip) ? `${last.ip}${last.port ? `:${last.port}` : ''}` : undefined;
    const data: Json = {
      upstream_status: upstream,
      status,
      ...(service !== undefined ? { service } : {}),
      ...(route !== undefined ? { route } : {}),
      ...(consumer !== undefined ? { consumer } : {}),
      ...(ip !== undefined ? { ip } : {}),
      ...(text(request.method) ? { method: request.method } : {}),
      ...(text(request.uri) ? { uri: request.uri } : {}),
      ...(text(entry.upstream_uri) ? { upstream_uri: entry.upstream_uri } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(typeof latencies.proxy === 'number' ? { latency: latencies.proxy } : {}),
      ...(typeof entry.started_at === 'number' ? { started_at: entry.started_at } : {}),
    };
    out.push({ source: 'proxy', event: 'upstream-error', data, ...(id !== undefined ? { id: `kong.${id}` } : {}) });
  }
  return out;
}

/**
 * The events of one http-log post (an entry or an array of entries). Every entry is checked first:
 * one malformed entry refuses the whole post (a `400` keyed by its 1-based index), as `/events` does.
 */
export function kongHttpLogEvents(body: unknown, maxEntries: number): ProducerEvent[] {
  const batch = Array.isArray(body);
  const entries: unknown[] = batch ? body : [body];
  if (entries.length === 0) throw new BadRequestError('no log entries given');
  if (entries.length > maxEntries) {
    throw new BadRequestError(`at most ${maxEntries} log entries per request (http-log's queue.max_batch_size)`);
  }
  const errors: FieldErrors = {};
  entries.forEach((entry, index) => {
    const problems = problemsOf(entry);
    if (!problems) return;
    if (batch) errors[String(index + 1)] = problems;
    else for (const [key, problem] of Object.entries(problems)) setOwn(errors, key, problem);
  });
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return entries.flatMap((entry) => eventsOf(entry as Json));
}

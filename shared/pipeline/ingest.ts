import { createHash } from 'node:crypto';
import type { RouteSpec } from '../admin/http.ts';
import { type ApiRequest, type ApiResponse, errorResponse, JSON_HEADERS, json, parseJsonBody } from '../admin/http.ts';
import {
  BadRequestError,
  ConflictError,
  EventHooksError,
  type FieldErrors,
  SchemaViolationError,
  ServiceUnavailableError,
} from '../errors.ts';
import { IDEMPOTENCY_KEY } from '../events/envelope.ts';
import { PostedEventSchema } from '../events/schema.ts';
import { findEvent, type SourceCatalog } from '../hooks/catalog.ts';
import type { Logger } from '../logger.ts';
import type { UsageMeter } from '../metering/meter.ts';
import type { EventBus, NewEvent } from '../ports/eventBus.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { IngestQuota } from '../quotas/ingestQuota.ts';
import { setOwn } from '../records.ts';
import { compile, kongErrors } from '../schema/kongErrors.ts';
import type { IdempotencyStore } from '../store/idempotencyStore.ts';

export interface IngestOptions {
  bus: EventBus;
  catalog: (tenant: string) => Promise<SourceCatalog>;
  logger: Logger;
  /** Counts the events put on the bus (not those answered from an earlier request). */
  metrics?: Metrics;
  /** The tenant of a request without a principal (auth off); a principal's tenant wins. */
  tenant: string;
  /** Largest accepted `data` of one event, as JSON (EventBridge takes 256 KB per entry). */
  maxEventBytes: number;
  /** Most events in one request. */
  maxBatch?: number;
  /** Where `Idempotency-Key` answers and producer event ids are kept; without it both are refused. */
  idempotency?: IdempotencyStore;
  /**
   * Turns another producer's body into events before they are checked as `POST /events` checks
   * them (the http-log adapter). Gets the most entries it may take; may return no events.
   */
  toEvents?: (body: unknown, maxEntries: number) => unknown[];
  /** The tenant's body size and events per second (docs/saas.md § Quotas); none when absent. */
  quota?: IngestQuota;
  /** Counts the events accepted per tenant and day (docs/saas.md § Metering). */
  meter?: UsageMeter;
}

/** `422`: an `Idempotency-Key` used again with a different body (Kong's `{"message"}` shape). */
export class IdempotencyKeyReusedError extends EventHooksError {
  override readonly status = 422;
}

/** A valid posted event, with the producer's own id when it gave one. */
export interface ParsedEvent {
  event: NewEvent;
  id?: string;
}

const DEFAULT_MAX_BATCH = 100;

/** Compiled once: this check runs on every posted event. */
const EVENT_CHECK = compile(PostedEventSchema);

/** The ingest route, read by the local runtime's API Gateway stand-in and by the fuzz test. */
export const INGEST_ROUTE = { path: '/events', methods: ['POST'] } as const satisfies RouteSpec;
/** Kong's bundled http-log plugin posts here (see kongHttpLog.ts); served by the same ingest function. */
export const KONG_HTTP_LOG_ROUTE = { path: '/ingest/kong-http-log', methods: ['POST'] } as const satisfies RouteSpec;
/** Every route of the ingest function, for the HTTP front and for tools that enumerate routes (the fuzz test). */
export const INGEST_ROUTES = [INGEST_ROUTE, KONG_HTTP_LOG_ROUTE] as const;

/**
 * Checks a posted event or batch: `{source, event, data, id?}` or an array of them, `source`/`event`
 * registered, `data` a JSON object under the size limit, `id` the producer's own id. Collects every problem, keyed by index for
 * a batch, and accepts nothing unless everything is valid.
 */
export function parseEvents(
  body: unknown,
  catalog: SourceCatalog,
  tenant: string,
  limits: { maxEventBytes: number; maxBatch: number },
): ParsedEvent[] {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? body : [body];
  if (items.length === 0) throw new BadRequestError('no events given');
  if (items.length > limits.maxBatch) throw new BadRequestError(`at most ${limits.maxBatch} events per request`);
  const errors: FieldErrors = {};
  const events: ParsedEvent[] = [];
  items.forEach((item, index) => {
    const problems: FieldErrors = {};
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems['@entity'] = 'expected an object with source, event and data';
    } else {
      const { source, event, data, id } = item as Record<string, unknown>;
      if (!EVENT_CHECK.Check(item)) {
        // Copied key by key: `Object.assign` would set a `__proto__` key as the prototype.
        for (const [key, problem] of Object.entries(kongErrors(EVENT_CHECK, item))) setOwn(problems, key, problem);
      }
      // Refinements: the size of the data and the catalog, once the fields they read are valid.
      if (!Object.hasOwn(problems, 'data') && Buffer.byteLength(JSON.stringify(data)) > limits.maxEventBytes) {
        problems.data = `larger than ${limits.maxEventBytes} bytes`;
      }
      if (typeof source === 'string' && typeof event === 'string') {
        if (!Object.hasOwn(catalog, source)) problems['@entity'] = `source '${source}' is not registered`;
        else if (!findEvent(catalog, source, event)) problems['@entity'] = `source '${source}' has no '${event}' event`;
      }
      if (Object.keys(problems).length === 0) {
        events.push({
          event: { tenant, source: source as string, event: event as string, data: data as Record<string, unknown> },
          ...(typeof id === 'string' ? { id } : {}),
        });
      }
    }
    if (Object.keys(problems).length > 0) {
      if (batch) errors[String(index + 1)] = problems;
      else for (const [key, problem] of Object.entries(problems)) setOwn(errors, key, problem);
    }
  });
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return events;
}

interface Answer {
  id: string;
  time: string;
  source: string;
  event: string;
}

/**
 * `POST /events`: validate, hand to the bus, answer `202` with the assigned ids. It never delivers.
 * With an `Idempotency-Key` header, a retry gets the first answer back (same event ids, so the same
 * delivery ids); the key with another body is a `422`. An event with an `id` already accepted for
 * its source is answered with the first event id and not published again.
 */
export function createIngest(options: IngestOptions): (request: ApiRequest) => Promise<ApiResponse> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBodyBytes = options.maxEventBytes * Math.min(maxBatch, 5) + 64 * 1024;
  const { idempotency } = options;

  /** Claims each producer id once; answers for the ones seen before. Releases its claims if it fails. */
  const publish = async (tenant: string, parsed: ParsedEvent[]): Promise<Answer[]> => {
    const answers: (Answer | undefined)[] = parsed.map(() => undefined);
    const claims = new Map<string, { index: number; token?: string; answer?: Answer }>();
    const sameAs: [number, string][] = [];
    const scopeOf = ({ event, id }: ParsedEvent) => (id === undefined ? undefined : `EVT#${event.source}#${id}`);
    parsed.forEach((item, index) => {
      const scope = scopeOf(item);
      if (scope === undefined) return;
      if (claims.has(scope)) sameAs.push([index, scope]);
      else claims.set(scope, { index });
    });
    if (claims.size > 0 && !idempotency) throw new BadRequestError('event ids are not supported here');
    try {
      // Settled, not raced: a claim still in flight when another fails would never be released.
      const settled = await Promise.allSettled(
        [...claims].map(async ([scope, entry]) => {
          const claim = await (idempotency as IdempotencyStore).claim(tenant, scope, '');
          if (claim.status === 'claimed') entry.token = claim.token;
          else if (claim.status === 'done') entry.answer = JSON.parse(claim.answer) as Answer;
          else throw new ConflictError(`event '${parsed[entry.index]?.id}' is being accepted by another request`);
        }),
      );
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const fresh = parsed
        .map((item, index) => ({ item, index }))
        .filter(({ item, index }) => {
          const scope = scopeOf(item);
          return scope === undefined || (claims.get(scope)?.index === index && claims.get(scope)?.answer === undefined);
        });
      await options.quota?.admitEvents(tenant, fresh.length);
      const published = fresh.length > 0 ? await options.bus.publish(fresh.map(({ item }) => item.event)) : [];
      if (published.length > 0) {
        options.metrics?.count('events_accepted', {}, published.length);
        options.meter?.add(tenant, 'events_accepted', published.length);
      }
      published.forEach(({ id, time, source, event }, n) => {
        const { index, item } = fresh[n] as { index: number; item: ParsedEvent };
        answers[index] = { id, time, source, event };
        const scope = scopeOf(item);
        const entry = scope === undefined ? undefined : claims.get(scope);
        if (entry) entry.answer = answers[index];
      });
    } catch (error) {
      // Released only when nothing can have been published; otherwise the claims stay until their
      // lock passes, so a quick retry cannot publish the same events again under new ids.
      if (nothingPublished(error)) await releaseAll(tenant, claims);
      throw error;
    }
    for (const entry of claims.values()) answers[entry.index] = entry.answer;
    for (const [index, scope] of sameAs) answers[index] = claims.get(scope)?.answer;
    await Promise.all(
      [...claims].map(([scope, { token, answer }]) =>
        token === undefined ? undefined : completeQuietly(tenant, scope, token, JSON.stringify(answer)),
      ),
    );
    return answers as Answer[];
  };

  const releaseAll = async (tenant: string, claims: Map<string, { token?: string }>) => {
    await Promise.all(
      [...claims].map(([scope, { token }]) => (token === undefined ? undefined : releaseQuietly(tenant, scope, token))),
    );
  };

  /** The event was published: failing to record that must not fail the request (a retry may publish twice). */
  const releaseQuietly = (tenant: string, scope: string, token: string): Promise<void> =>
    (idempotency as IdempotencyStore)
      .release(tenant, scope, token)
      .catch((error) => options.logger.warn('could not release an idempotency claim', { scope, error }));

  const completeQuietly = async (tenant: string, scope: string, token: string, answer: string) => {
    try {
      if (!(await (idempotency as IdempotencyStore).complete(tenant, scope, token, answer))) {
        options.logger.warn('idempotency claim was taken over before it completed', { scope });
      }
    } catch (error) {
      options.logger.warn('could not record an idempotent answer', { scope, error });
    }
  };

  const accept = async (tenant: string, body: unknown): Promise<ApiResponse> => {
    const { toEvents } = options;
    const events = toEvents ? toEvents(body, maxBatch) : body;
    // An adapted post that holds nothing to send (ordinary traffic) is accepted as such.
    if (toEvents && Array.isArray(events) && events.length === 0) return json(202, { data: [] });
    const parsed = parseEvents(events, await options.catalog(tenant), tenant, {
      maxEventBytes: options.maxEventBytes,
      // An adapted entry may give two events.
      maxBatch: toEvents ? maxBatch * 2 : maxBatch,
    });
    return json(202, { data: await publish(tenant, parsed) });
  };

  return async (request) => {
    try {
      if (request.method.toUpperCase() !== 'POST') return json(405, { message: 'Method not allowed' });
      // The key alone decides the tenant (the configured one while auth is off): a `tenant` in the
      // body is an unknown field, not a choice.
      const tenant = request.principal?.tenant ?? options.tenant;
      const key = idempotencyKey(request);
      await options.quota?.admitBody(tenant, Buffer.byteLength(request.body ?? '', 'utf8'));
      const body = parseJsonBody(request, maxBodyBytes);
      if (key === undefined) return await accept(tenant, body);
      if (!idempotency) throw new BadRequestError('Idempotency-Key is not supported here');
      // The parsed body, so whitespace does not make a retry a different request.
      const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('base64url');
      const scope = `REQ#${key}`;
      const claim = await idempotency.claim(tenant, scope, fingerprint);
      if (claim.status === 'mismatch') {
        throw new IdempotencyKeyReusedError('Idempotency-Key was already used with a different request body');
      }
      if (claim.status === 'in-progress') {
        throw new ConflictError('a request with this Idempotency-Key is still being processed; retry later');
      }
      if (claim.status === 'done') {
        return { statusCode: 202, headers: { ...JSON_HEADERS, 'idempotent-replayed': 'true' }, body: claim.answer };
      }
      let response: ApiResponse;
      try {
        response = await accept(tenant, body);
      } catch (error) {
        // Nothing was accepted: the key is free again for a corrected or retried request. After a
        // failure that may have published part of the request, it stays claimed until its lock passes.
        if (nothingPublished(error)) await releaseQuietly(tenant, scope, claim.token);
        throw error;
      }
      await completeQuietly(tenant, scope, claim.token, response.body);
      return response;
    } catch (error) {
      return errorResponse(error, options.logger);
    }
  };
}

function idempotencyKey(request: ApiRequest): string | undefined {
  const name = Object.keys(request.headers).find((h) => h.toLowerCase() === 'idempotency-key');
  const value = name === undefined ? undefined : request.headers[name];
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new BadRequestError('Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return value;
}

/**
 * Whether a failed request certainly published nothing: it was refused (a 4xx), or the bus refused
 * it whole (shutting down, or the local journal could not be written, whose partial writes are cut
 * back). Anything else, an EventBridge failure after some entries were accepted say, may have
 * published part of it.
 */
function nothingPublished(error: unknown): boolean {
  return error instanceof ServiceUnavailableError || (error instanceof EventHooksError && error.status < 500);
}

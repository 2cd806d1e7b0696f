import { type ApiRequest, type ApiResponse, errorResponse, json, parseJsonBody } from '../admin/http.ts';
import type { RouteSpec } from '../admin/router.ts';
import { BadRequestError, type FieldErrors, SchemaViolationError } from '../errors.ts';
import { findEvent, type SourceCatalog } from '../hooks/catalog.ts';
import type { Logger } from '../logger.ts';
import type { EventBus, NewEvent } from '../ports/eventBus.ts';

export interface IngestOptions {
  bus: EventBus;
  catalog: (tenant: string) => Promise<SourceCatalog>;
  logger: Logger;
  tenant: string;
  /** Largest accepted `data` of one event, as JSON (EventBridge takes 256 KB per entry). */
  maxEventBytes: number;
  /** Most events in one request. */
  maxBatch?: number;
}

const DEFAULT_MAX_BATCH = 100;

/** The ingest route, read by the local runtime's API Gateway stand-in and by the fuzz test. */
export const INGEST_ROUTE = { path: '/events', methods: ['POST'] } as const satisfies RouteSpec;

/**
 * Checks a posted event or batch: `{source, event, data}` or an array of them, `source`/`event`
 * registered, `data` a JSON object under the size limit. Collects every problem, keyed by index for
 * a batch, and accepts nothing unless everything is valid.
 */
export function parseEvents(
  body: unknown,
  catalog: SourceCatalog,
  tenant: string,
  limits: { maxEventBytes: number; maxBatch: number },
): NewEvent[] {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? body : [body];
  if (items.length === 0) throw new BadRequestError('no events given');
  if (items.length > limits.maxBatch) throw new BadRequestError(`at most ${limits.maxBatch} events per request`);
  const errors: FieldErrors = {};
  const events: NewEvent[] = [];
  items.forEach((item, index) => {
    const problems: FieldErrors = {};
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems['@entity'] = 'expected an object with source, event and data';
    } else {
      const { source, event, data, ...rest } = item as Record<string, unknown>;
      for (const key of Object.keys(rest)) problems[key] = 'unknown field';
      if (source === undefined) problems.source = 'required field missing';
      else if (typeof source !== 'string') problems.source = 'expected a string';
      if (event === undefined) problems.event = 'required field missing';
      else if (typeof event !== 'string') problems.event = 'expected a string';
      if (data === undefined) problems.data = 'required field missing';
      else if (!data || typeof data !== 'object' || Array.isArray(data)) problems.data = 'expected an object';
      else if (Buffer.byteLength(JSON.stringify(data)) > limits.maxEventBytes) {
        problems.data = `larger than ${limits.maxEventBytes} bytes`;
      }
      if (typeof source === 'string' && typeof event === 'string') {
        if (!Object.hasOwn(catalog, source)) problems['@entity'] = `source '${source}' is not registered`;
        else if (!findEvent(catalog, source, event)) problems['@entity'] = `source '${source}' has no '${event}' event`;
      }
      if (Object.keys(problems).length === 0) {
        events.push({
          tenant,
          source: source as string,
          event: event as string,
          data: data as Record<string, unknown>,
        });
      }
    }
    if (Object.keys(problems).length > 0) {
      if (batch) errors[String(index + 1)] = problems;
      else Object.assign(errors, problems);
    }
  });
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return events;
}

/** `POST /events`: validate, hand to the bus, answer `202` with the assigned ids. It never delivers. */
export function createIngest(options: IngestOptions): (request: ApiRequest) => Promise<ApiResponse> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBodyBytes = options.maxEventBytes * Math.min(maxBatch, 5) + 64 * 1024;
  return async (request) => {
    try {
      if (request.method.toUpperCase() !== 'POST') return json(405, { message: 'Method not allowed' });
      const body = parseJsonBody(request, maxBodyBytes);
      const events = parseEvents(body, await options.catalog(options.tenant), options.tenant, {
        maxEventBytes: options.maxEventBytes,
        maxBatch,
      });
      const accepted = await options.bus.publish(events);
      return json(202, { data: accepted.map(({ id, time, source, event }) => ({ id, time, source, event })) });
    } catch (error) {
      return errorResponse(error, options.logger);
    }
  };
}

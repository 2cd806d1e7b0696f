import {
  BadRequestError,
  DeliveryError,
  HookTestFailedError,
  InvalidSizeError,
  NotFoundError,
  NotImplementedError,
} from '../errors.ts';
import { eventPayload } from '../handlers/webhook.ts';
import type { EventHook } from '../hooks/hook.ts';
import { isUuid } from '../hooks/validate.ts';
import type { Logger } from '../logger.ts';
import type { DeadLetters } from '../pipeline/deadLetters.ts';
import { deadLetterRoutes } from './deadLetterRoutes.ts';
import type { HookService } from './hookService.ts';
import {
  type ApiRequest,
  type ApiResponse,
  allow,
  errorResponse,
  json,
  nextLink,
  noContent,
  parseBody,
} from './http.ts';
import { REQUEST_LIMITS } from './limits.ts';

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
  tenant: string;
  runner?: HookRunner;
  /** `/dead-letters`; answered 404 when absent. */
  deadLetters?: DeadLetters;
  /** Largest accepted request body (default 256 KiB). */
  maxBodyBytes?: number;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

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

function pageSize(query: URLSearchParams): number {
  const raw = query.get('size');
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const size = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new InvalidSizeError(`size must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
}

/**
 * The Admin API (reference §5) as a function of a request. API Gateway's Lambda and the local
 * server both call it; it never knows which.
 */
export function createAdminRouter(options: AdminRouterOptions): (request: ApiRequest) => Promise<ApiResponse> {
  const { service, logger, tenant } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  const body = (request: ApiRequest) => parseBody(request, maxBodyBytes);
  const runner = () => {
    if (!options.runner) throw new NotImplementedError('running hooks is not available in this deployment');
    return options.runner;
  };

  async function sources(method: string, rest: string[], request: ApiRequest): Promise<ApiResponse> {
    const [source, event, ...extra] = rest;
    if (extra.length > 0) throw new NotFoundError();
    if (source === undefined) {
      allow(method, ['GET']);
      return json(200, { data: await service.catalog(tenant) });
    }
    if (event === undefined) {
      allow(method, ['GET']);
      return json(200, { data: await service.source(tenant, source) });
    }
    allow(method, ['GET', 'PUT', 'DELETE']);
    if (method === 'GET') return json(200, { data: await service.event(tenant, source, event) });
    if (method === 'PUT')
      return json(200, { data: await service.putEvent(tenant, source, event, await body(request)) });
    await service.deleteEvent(tenant, source, event);
    return noContent();
  }

  async function collection(method: string, request: ApiRequest): Promise<ApiResponse> {
    allow(method, ['GET', 'POST']);
    if (method === 'POST') return json(201, await service.create(tenant, await body(request)));
    const size = pageSize(request.query);
    const offset = request.query.get('offset') ?? undefined;
    const page = await service.list(tenant, { size, ...(offset !== undefined ? { offset } : {}) });
    const next = nextLink('/event-hooks', page.next, request.query, size);
    // Kong adds the bare offset next to the link when there is a next page.
    return json(200, { data: page.hooks, next, ...(page.next ? { offset: page.next } : {}) });
  }

  async function entity(method: string, id: string, request: ApiRequest): Promise<ApiResponse> {
    allow(method, ['GET', 'PATCH', 'PUT', 'DELETE']);
    switch (method) {
      case 'GET':
        return json(200, await service.get(tenant, id));
      case 'PATCH':
        return json(200, await service.patch(tenant, id, await body(request)));
      case 'PUT':
        // Kong's upserts answer 200 whether they created or replaced.
        return json(200, await service.put(tenant, id, await body(request)));
      default:
        await service.delete(tenant, id);
        return noContent();
    }
  }

  async function action(method: string, id: string, name: string, request: ApiRequest): Promise<ApiResponse> {
    if (name === 'test') {
      allow(method, ['POST']);
      const data = await body(request);
      if (!data || typeof data !== 'object' || Array.isArray(data)) {
        throw new BadRequestError('the test data must be a JSON object');
      }
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
    if (name === 'ping') {
      allow(method, ['GET']);
      const hook = await service.get(tenant, id);
      try {
        return json(200, await runner().ping(tenant, hook));
      } catch (error) {
        // Kong answers a ping that could not be sent with 400 and the reason.
        if (error instanceof DeliveryError) throw new BadRequestError(error.message, { cause: error });
        throw error;
      }
    }
    throw new NotFoundError();
  }

  return async (request) => {
    try {
      const method = request.method.toUpperCase();
      const parts = segments(request.path);
      if (parts[0] === 'health' && parts.length === 1) return json(200, { status: 'ok' });
      if (parts[0] === 'dead-letters' && options.deadLetters) {
        return await deadLetterRoutes(options.deadLetters, tenant, method, parts.slice(1), request, () =>
          pageSize(request.query),
        );
      }
      if (parts[0] !== 'event-hooks') throw new NotFoundError();
      const [, second, third, ...rest] = parts;
      if (second === undefined) return await collection(method, request);
      if (second === 'sources') return await sources(method, parts.slice(2), request);
      // Kong's ids are lower-case UUIDs; an upper-case spelling names the same hook.
      const id = isUuid(second) ? second.toLowerCase() : second;
      if (third === undefined) return await entity(method, id, request);
      if (rest.length === 0) return await action(method, id, third, request);
      if (third === 'secret' && rest.length === 1 && rest[0] === 'rotate') {
        allow(method, ['POST']);
        return json(200, await service.rotateSecret(tenant, id, await body(request)));
      }
      throw new NotFoundError();
    } catch (error) {
      return errorResponse(error, logger);
    }
  };
}

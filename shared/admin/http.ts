import type { Principal } from '../auth/principal.ts';
import {
  BadRequestError,
  EventHooksError,
  HookTestFailedError,
  InvalidSizeError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  QuotaExceededError,
  SchemaViolationError,
  ServiceUnavailableError,
} from '../errors.ts';
import type { Logger } from '../logger.ts';
import { InvalidOffsetError } from '../store/hookStore.ts';
import { mediaType, parseFormBody } from './formBody.ts';
import { jsonNestingExceeds, REQUEST_LIMITS } from './limits.ts';

/** An HTTP request as the core sees it: what API Gateway or the local server hands over. */
export interface ApiRequest {
  method: string;
  /** Path without the query string, e.g. `/event-hooks/123`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body?: string;
  /** Set by the edge that authenticated the request (shared/auth/principal.ts); absent when auth is off. */
  principal?: Principal;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function json(statusCode: number, value: unknown): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(value) };
}

/** `405` unless the route has the method. */
export function allow(method: string, allowed: string[]): void {
  if (!allowed.includes(method)) throw new MethodNotAllowedError();
}

/** Kong's `next` link of a paged list: the offset, and the size when the client chose one. */
export function nextLink(
  path: string,
  offset: string | undefined,
  query: URLSearchParams,
  size: number,
): string | null {
  if (offset === undefined) return null;
  return `${path}?offset=${encodeURIComponent(offset)}${query.has('size') ? `&size=${size}` : ''}`;
}

export function noContent(): ApiResponse {
  return { statusCode: 204, headers: {}, body: '' };
}

/**
 * Parses a request body: JSON, or a form (`application/x-www-form-urlencoded`, `multipart/form-data`)
 * as Kong's Admin API also accepts. An empty body is `{}` (Kong treats it as no fields).
 */
export async function parseBody(request: ApiRequest, maxBytes: number): Promise<unknown> {
  const media = mediaType(request.headers);
  // `curl -d '{…}'` without a content type says form-urlencoded; a body that is plainly JSON is read as JSON.
  const looksLikeJson = /^\s*[[{]/.test(request.body ?? '');
  if (media === 'multipart/form-data' || (media === 'application/x-www-form-urlencoded' && !looksLikeJson)) {
    const body = request.body ?? '';
    if (Buffer.byteLength(body, 'utf8') > maxBytes) {
      throw new PayloadTooLargeError(`request body is larger than ${maxBytes} bytes`);
    }
    return parseFormBody(body, request.headers['content-type'] as string);
  }
  return parseJsonBody(request, maxBytes);
}

/** Parses a JSON body; an empty body is `{}` (Kong treats it as no fields). */
export function parseJsonBody(request: ApiRequest, maxBytes: number): unknown {
  const body = request.body ?? '';
  if (Buffer.byteLength(body, 'utf8') > maxBytes) {
    throw new PayloadTooLargeError(`request body is larger than ${maxBytes} bytes`);
  }
  if (body.trim() === '') return {};
  if (jsonNestingExceeds(body, REQUEST_LIMITS.jsonDepth)) {
    throw new BadRequestError(`JSON body is nested deeper than ${REQUEST_LIMITS.jsonDepth} levels`);
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new BadRequestError('Cannot parse JSON body', { cause: error });
  }
}

/**
 * The one place an error becomes an answer, from its class alone: Kong's bodies for the errors of
 * the hierarchy, with the status each class states (a client's mistake is always a 4xx, a shutdown
 * a 503 with `Retry-After`). Anything else is a failure of the service: logged, and a 500 that
 * tells the client nothing of it.
 */
export function errorResponse(error: unknown, logger: Logger): ApiResponse {
  const throttled = throttledBy(error);
  if (throttled) {
    logger.warn('a dependency throttled the request', { error: throttled });
    return errorResponse(
      new ServiceUnavailableError('the service is busy: try again shortly', { cause: error }),
      logger,
    );
  }
  if (!(error instanceof EventHooksError) || error.status === 500) {
    if (error instanceof HookTestFailedError) {
      return json(500, { message: 'An unexpected error ocurred', err: error.message });
    }
    logger.error('unexpected error', { error });
    return json(500, { message: 'An unexpected error occurred' });
  }
  if (error instanceof SchemaViolationError) {
    return json(error.status, { code: 2, name: 'schema violation', message: error.message, fields: error.fields });
  }
  if (error instanceof InvalidOffsetError || error instanceof InvalidSizeError) {
    return json(error.status, { code: error.kongCode, name: error.kongName, message: error.message });
  }
  const response = json(error.status, { message: error.message });
  if (error instanceof ServiceUnavailableError || error instanceof QuotaExceededError) {
    response.headers['retry-after'] = String(error.retryAfterSeconds);
  }
  return response;
}

/** AWS error names that mean "too many requests right now": the client should retry, not give up. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'LimitExceededException',
  'SlowDown',
]);

/** The throttling AWS error inside `error` (itself or a cause), if there is one. */
function throttledBy(error: unknown, depth = 0): unknown {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  if (typeof name === 'string' && THROTTLING.has(name)) return error;
  return throttledBy(cause, depth + 1);
}

/** One route of a table (the Admin API's, the ingest function's): its path pattern and methods. */
export interface RouteSpec {
  path: string;
  methods: readonly string[];
}

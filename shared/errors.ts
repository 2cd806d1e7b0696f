/**
 * One error hierarchy for the whole core. Decisions (HTTP status, retry or not) are taken from an
 * error's class, never from its message text; every class states both. One presenter
 * (`errorResponse` in `admin/http.ts`) turns them into answers.
 *
 * The base class itself is a failure of the service (a store or AWS call that failed): `500`, and
 * not known to succeed if repeated.
 */
export class EventHooksError extends Error {
  /** HTTP status an API answer carries for this error. */
  readonly status: number = 500;
  /** Whether the same request (or delivery) may succeed if sent again unchanged. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Nested map of field path → message, Kong's `fields` shape (`{"config":{"url":"required field missing"}}`).
 * Entity-level messages sit under `"@entity"` as a list, as Kong returns them (`{"@entity":["source 'foo' is not registered"]}`).
 */
export type FieldErrors = { [key: string]: string | string[] | FieldErrors };

/** A body that breaks the schema: Kong's `{"code":2,"name":"schema violation",...}` answer. */
export class SchemaViolationError extends EventHooksError {
  override readonly status = 400;
  override readonly retryable = false;
  readonly fields: FieldErrors;

  constructor(fields: FieldErrors) {
    const messages = flattenFieldErrors(fields);
    const head = messages.length === 1 ? 'schema violation' : `${messages.length} schema violations`;
    super(`${head} (${messages.join('; ')})`);
    this.fields = fields;
  }
}

/** A request that is malformed in a way that is not a schema violation (bad JSON, bad offset). */
export class BadRequestError extends EventHooksError {
  override readonly status = 400;
  override readonly retryable = false;
}

/** Kong's "invalid size" error (code 9): a page `size` out of range. */
export class InvalidSizeError extends BadRequestError {
  readonly kongCode = 9;
  readonly kongName = 'invalid size';
}

export class NotFoundError extends EventHooksError {
  override readonly status = 404;
  override readonly retryable = false;
  constructor(message = 'Not found') {
    super(message);
  }
}

/** No API key, or one that is unknown or revoked (docs/saas.md): `401`, whatever the route. */
export class UnauthorizedError extends EventHooksError {
  override readonly status = 401;
  override readonly retryable = false;
  constructor(message = 'Unauthorized') {
    super(message);
  }
}

/** A valid key without the scope the route needs. Never for another tenant's ids: those are `404`. */
export class ForbiddenError extends EventHooksError {
  override readonly status = 403;
  override readonly retryable = false;
}

/** A write that lost a race, or that would break what depends on the entity; sent again, it may pass. */
export class ConflictError extends EventHooksError {
  override readonly status = 409;
  override readonly retryable = true;
}

export class PayloadTooLargeError extends EventHooksError {
  override readonly status = 413;
  override readonly retryable = false;
}

export class MethodNotAllowedError extends EventHooksError {
  override readonly status = 405;
  override readonly retryable = false;
  constructor(message = 'Method not allowed') {
    super(message);
  }
}

export class NotImplementedError extends EventHooksError {
  override readonly status = 501;
  override readonly retryable = false;
}

/**
 * The service cannot take the request now but will (it is shutting down, or briefly overloaded):
 * `503` with `Retry-After`, never a `500`.
 */
export class ServiceUnavailableError extends EventHooksError {
  override readonly status = 503;
  override readonly retryable = true;
  /** The `Retry-After` a client is given, in seconds. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/**
 * A tenant's quota refuses the request (events per second, hooks, user functions): `429` with
 * `Retry-After` in Kong's `{"message"}` shape, as Kong's own rate limiting answers. Retryable: the
 * window passes, or the tenant frees room (deletes a hook) or its operator raises the quota.
 */
export class QuotaExceededError extends EventHooksError {
  override readonly status = 429;
  override readonly retryable = true;
  /** Which quota (`events_per_second`, `hooks`, `user_functions`), for logs and tests. */
  readonly quota: string;
  /** The `Retry-After` a client is given, in seconds. */
  readonly retryAfterSeconds: number;

  constructor(quota: string, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.quota = quota;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * `POST /event-hooks/{id}/test` ran the hook and it failed. Kong answers `500` with its own message
 * (typo included) and the reason in `err`; scripts match on it, so this is the one deliberate 500.
 */
export class HookTestFailedError extends EventHooksError {
  override readonly status = 500;
  override readonly retryable = false;
}

/**
 * A delivery attempt that failed. `retryable` says whether the queue should try again;
 * `retryAfterMs` carries a receiver's `Retry-After` when it gave one.
 */
export class DeliveryError extends EventHooksError {
  /** The receiver failed, not this service: a gateway error if it ever reaches an API answer. */
  override readonly status = 502;
  override readonly retryable: boolean;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The receiver's answer when there was one, for the delivery log. */
  response: { headers: Record<string, string>; body: string } | undefined;

  constructor(
    message: string,
    options: { retryable: boolean; statusCode?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A `webhook-custom` template that cannot render: malformed, or over its output or work budget.
 * Rendering is a pure function of the hook and the event, so another attempt fails the same way:
 * never retried.
 */
export class TemplateError extends DeliveryError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}

/** User code in a `lambda` hook threw, returned an error, timed out or ran out of memory. */
export class FunctionError extends EventHooksError {
  override readonly status = 502;
  /** Whether another attempt could succeed (a cold or throttled function), as opposed to user code failing. */
  override readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** `{"config":{"url":"x"}}` → `["config.url: x"]`, in Kong's message style. */
export function flattenFieldErrors(fields: FieldErrors, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const path = key === '@entity' ? prefix.replace(/\.$/, '') : `${prefix}${key}`;
    if (typeof value === 'string') out.push(path ? `${path}: ${value}` : value);
    else if (Array.isArray(value)) out.push(...value.map((message) => (path ? `${path}: ${message}` : message)));
    else out.push(...flattenFieldErrors(value, `${path}.`));
  }
  return out;
}

/**
 * A sealed hook secret that does not open: the key (the data folder's key file, or the KMS key) is
 * not the one it was sealed with, or the value was altered or moved to another hook. Not retried:
 * the same key fails the same way until an operator restores the right one.
 */
export class SecretDecryptionError extends EventHooksError {
  override readonly status = 500;
  override readonly retryable = false;
}

import { generateWhsec, whsecError } from '../delivery/signing.ts';
import type { FieldErrors } from '../errors.ts';
import { isReservedHeader, RESERVED_HEADER_MESSAGE } from '../http/headerPolicy.ts';
import { isLambdaReference, lambdaFunctionName } from '../ports/functionRunner.ts';
import { isReservedName, reservedNameMessage } from '../records.ts';
import { addRefinement, compile, failedAt, kongErrors, REQUIRED } from '../schema/kongErrors.ts';
import type { HandlerConfigs, HandlerName } from './hook.ts';
import { CLIENT_CONFIG_SCHEMAS, LIMITS, withDefaults } from './schemas.ts';
import { templateSyntaxError } from './templates.ts';

/**
 * A hook's `config` checked against its handler's schema (schemas.ts), then the refinements a schema
 * cannot express, all reported in Kong's words by the one formatter (shared/schema/kongErrors.ts).
 * The small `check*` helpers remain for inputs outside the hook entity (the secret rotation body).
 */

/** One field's failure: a message, or nested messages for a record, map or array. */
export type FieldError = string | FieldErrors;
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: FieldError };

export { REQUIRED, UNKNOWN } from '../schema/kongErrors.ts';
export { HTTP_METHODS, LIMITS } from './schemas.ts';

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const fail = (error: FieldError): Outcome<never> => ({ ok: false, error });

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Assigns without ever touching a prototype: keys come from client JSON and may be `__proto__`. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function checkString(value: unknown, maxLength: number): Outcome<string> {
  if (typeof value !== 'string') return fail('expected a string');
  // Kong's strings are non-empty unless a schema says otherwise; none of ours does.
  if (value.length < 1) return fail('length must be at least 1');
  if (value.length > maxLength) return fail(`length must be at most ${maxLength}`);
  return ok(value);
}

export function checkBoolean(value: unknown): Outcome<boolean> {
  return typeof value === 'boolean' ? ok(value) : fail('expected a boolean');
}

export function checkInteger(value: unknown, min: number, max: number): Outcome<number> {
  if (typeof value !== 'number' || !Number.isInteger(value)) return fail('expected an integer');
  if (value < min || value > max) return fail(`value should be between ${min} and ${max}`);
  return ok(value);
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[]): Outcome<T> {
  if (typeof value !== 'string') return fail('expected a string');
  return (allowed as readonly string[]).includes(value)
    ? ok(value as T)
    : fail(`expected one of: ${allowed.join(', ')}`);
}

const CONTROL_OR_SPACE = /[\s\p{Cc}]/u;

/** An absolute http(s) URL with a host, stored exactly as given. */
export function checkUrl(value: unknown): Outcome<string> {
  const text = checkString(value, LIMITS.urlLength);
  if (!text.ok) return text;
  const url = text.value;
  // WHATWG parsing is lenient (it drops tabs, turns `http:host` into `http://host/`); a stored URL must mean what it says.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (CONTROL_OR_SPACE.test(url) || scheme === undefined) return fail('invalid url');
  if (scheme !== 'http' && scheme !== 'https') return fail(`unsupported scheme '${scheme}' (expected http or https)`);
  if (!/^[A-Za-z]+:\/\/[^/?#]/.test(url)) return fail('missing host in url');
  try {
    if (new URL(url).hostname === '') return fail('missing host in url');
  } catch {
    return fail('invalid url');
  }
  return ok(url);
}

// A stored map keyed `constructor` breaks the DynamoDB marshaller, and no header or field needs such a name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headerNameError(key: string): string | undefined {
  if (isReservedName(key)) return reservedNameMessage(key);
  if (!HEADER_NAME.test(key)) return 'invalid header name';
  if (key.length > LIMITS.mapKeyLength) return `header name length must be at most ${LIMITS.mapKeyLength}`;
  if (isReservedHeader(key)) return RESERVED_HEADER_MESSAGE;
  return undefined;
}

function payloadKeyError(key: string): string | undefined {
  if (isReservedName(key)) return reservedNameMessage(key);
  if (key.length < 1) return 'key length must be at least 1';
  if (key.length > LIMITS.mapKeyLength) return `key length must be at most ${LIMITS.mapKeyLength}`;
  return undefined;
}

/**
 * Refinement of a map the schema accepted as a map: each key's own error, else its value's template
 * error (when the map is a template), reported under the key as Kong does.
 */
function refineMap(
  errors: FieldErrors,
  path: string[],
  value: unknown,
  keyError: (key: string) => string | undefined,
  template: boolean,
): void {
  if (!isPlainObject(value) || (failedAt(errors, path) && typeof nestedError(errors, path) === 'string')) return;
  const keys: FieldErrors = {};
  for (const [key, item] of Object.entries(value)) {
    const error = keyError(key);
    if (error !== undefined) setOwn(keys, key, error);
    else if (template && typeof item === 'string') addRefinement(errors, [...path, key], templateSyntaxError(item));
  }
  // A key's own error replaces whatever the schema said of its value.
  addRefinement(errors, path, Object.keys(keys).length > 0 ? keys : undefined);
  // Messages in the order of the client's keys, as one pass over the map would give them.
  const found = nestedError(errors, path);
  const parent = nestedError(errors, path.slice(0, -1));
  if (isPlainObject(found) && isPlainObject(parent)) {
    const sorted: FieldErrors = {};
    for (const key of Object.keys(value)) if (Object.hasOwn(found, key)) setOwn(sorted, key, found[key] as FieldError);
    setOwn(parent, path.at(-1) as string, sorted);
  }
}

/** The error recorded at `path`, if any. */
function nestedError(errors: FieldErrors, path: string[]): unknown {
  let node: unknown = errors;
  for (const key of path) node = isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return node;
}

/** Options the `lambda` schema needs: how to tell whether user code compiles, and whose functions are not the user's. */
export interface ConfigOptions {
  userCodeSyntaxError?: (code: string) => string | undefined;
  /**
   * The prefix of the functions the service itself deploys for user code. A hook may not name one
   * directly: it would run another hook's (another tenant's) code under its own events.
   */
  reservedFunctionPrefix?: string;
  /**
   * Why the outbound sender would refuse a webhook URL (the service's own listeners; private
   * addresses when blocking is on), or `undefined`: refused at create rather than failing every delivery.
   */
  destinationRefusal?: (url: string) => string | undefined;
}

/** The refinements of a URL the schema accepted: {@link checkUrl}'s rules, then the sender's destination policy. */
function destinationError(url: string, options: ConfigOptions): string | undefined {
  const checked = checkUrl(url);
  if (!checked.ok) return checked.error as string;
  const refusal = options.destinationRefusal?.(url);
  return refusal === undefined ? undefined : `url ${refusal}`;
}

/** Refinements of `functions` entries the schema accepted: not a service-deployed function, user code that compiles. */
function functionError(entry: string, options: ConfigOptions): string | undefined {
  if (isLambdaReference(entry)) {
    const reserved =
      options.reservedFunctionPrefix !== undefined &&
      lambdaFunctionName(entry).startsWith(`${options.reservedFunctionPrefix}-`);
    return reserved ? 'names a function this service deploys for user code' : undefined;
  }
  return options.userCodeSyntaxError?.(entry);
}

/** Client config checks, compiled once per handler. */
const CONFIG_CHECKS = {
  webhook: compile(CLIENT_CONFIG_SCHEMAS.webhook),
  'webhook-custom': compile(CLIENT_CONFIG_SCHEMAS['webhook-custom']),
  log: compile(CLIENT_CONFIG_SCHEMAS.log),
  lambda: compile(CLIENT_CONFIG_SCHEMAS.lambda),
} as const;

/**
 * The checks JSON Schema cannot express, on the fields the schema accepted, reported through the
 * same formatter: URL rules and destination policy, header names (syntax, reserved), map keys,
 * template syntax (when the `*_format` flag that applies is on), `whsec_` secrets, user code syntax
 * and reserved function names.
 */
function refine(handler: HandlerName, config: Record<string, unknown>, errors: FieldErrors, options: ConfigOptions) {
  const ok = (key: string) => !failedAt(errors, [key]);
  const text = (key: string) => (ok(key) && typeof config[key] === 'string' ? (config[key] as string) : undefined);
  if (handler === 'webhook' || handler === 'webhook-custom') {
    const url = text('url');
    if (url !== undefined) addRefinement(errors, ['url'], destinationError(url, options));
    const custom = handler === 'webhook-custom';
    refineMap(errors, ['headers'], config.headers, headerNameError, custom && config.headers_format === true);
    if (custom) {
      refineMap(errors, ['payload'], config.payload, payloadKeyError, config.payload_format === true);
      const body = text('body');
      if (body !== undefined && config.body_format === true) addRefinement(errors, ['body'], templateSyntaxError(body));
    }
    const secret = text('secret');
    if (secret !== undefined && config.signing === 'standard-webhooks') {
      addRefinement(errors, ['secret'], whsecError(secret));
    }
  }
  if (handler === 'lambda' && ok('functions') && Array.isArray(config.functions)) {
    config.functions.forEach((entry: unknown, index) => {
      if (typeof entry === 'string')
        addRefinement(errors, ['functions', String(index + 1)], functionError(entry, options));
    });
  }
}

/**
 * Validates a hook's `config` for its handler and fills in defaults. An absent `config` counts as
 * `{}` (so `log` needs none and `webhook` reports `url` missing); `null` is `required field missing`.
 *
 * @example validateConfig('log', undefined, {}) // → { ok: true, value: {} }
 */
export function validateConfig<H extends HandlerName>(
  handler: H,
  raw: unknown,
  options: ConfigOptions,
): Outcome<HandlerConfigs[H]> {
  if (raw === null) return fail(REQUIRED);
  const input = raw === undefined ? {} : raw;
  if (!isPlainObject(input)) return fail('expected a record');
  const config = withDefaults(CLIENT_CONFIG_SCHEMAS[handler], input);
  // HTTP methods are case-insensitive on input; the stored form is upper-case so the sender can compare plainly.
  if (typeof config.method === 'string') config.method = config.method.toUpperCase();
  // `standard-webhooks` signs with a `whsec_…` secret, generated when none is given (and returned in the hook).
  if (config.signing === 'standard-webhooks' && config.secret === null) config.secret = generateWhsec();
  const errors = kongErrors(CONFIG_CHECKS[handler], config);
  refine(handler, config, errors, options);
  if (Object.keys(errors).length > 0) return fail(errors);
  const bytes = Buffer.byteLength(JSON.stringify(config), 'utf8');
  if (bytes > LIMITS.configBytes) return fail(`encoded size must be at most ${LIMITS.configBytes} bytes`);
  // The schema accepted every field.
  return ok(config as unknown as HandlerConfigs[H]);
}

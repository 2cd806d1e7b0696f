import type { FieldErrors } from '../errors.ts';
import { isReservedHeader, RESERVED_HEADER_MESSAGE } from '../http/headerPolicy.ts';
import { isReservedName, reservedNameMessage } from '../records.ts';
import { addRefinement, failedAt } from '../schema/kongErrors.ts';
import { LIMITS } from './schemas.ts';
import { templateSyntaxError } from './templates.ts';

/**
 * What the handlers' refinements share (the checks JSON Schema cannot express, run after a handler's
 * schema on the fields it accepted): URL rules and the destination policy, header names, map keys,
 * templates. Each handler module (shared/handlers/<name>.ts) calls what applies to its config. Also
 * the small `check*` helpers, for inputs outside the hook entity (the secret rotation body).
 */

/** One field's failure: a message, or nested messages for a record, map or array. */
export type FieldError = string | FieldErrors;
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: FieldError };

/** What a handler's refinements may need beyond the config itself; the service sets them from its configuration. */
export interface ConfigOptions {
  /** How to tell whether user code compiles. Without it, code is not checked. */
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

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (error: FieldError): Outcome<never> => ({ ok: false, error });

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

/** The refinements of a URL the schema accepted: {@link checkUrl}'s rules, then the sender's destination policy. */
export function destinationError(url: string, options: ConfigOptions): string | undefined {
  const checked = checkUrl(url);
  if (!checked.ok) return checked.error as string;
  const refusal = options.destinationRefusal?.(url);
  return refusal === undefined ? undefined : `url ${refusal}`;
}

// A stored map keyed `constructor` breaks the DynamoDB marshaller, and no header or field needs such a name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a header name may not be configured (syntax, length, a header the sender sets itself), or `undefined`. */
export function headerNameError(key: string): string | undefined {
  if (isReservedName(key)) return reservedNameMessage(key);
  if (!HEADER_NAME.test(key)) return 'invalid header name';
  if (key.length > LIMITS.mapKeyLength) return `header name length must be at most ${LIMITS.mapKeyLength}`;
  if (isReservedHeader(key)) return RESERVED_HEADER_MESSAGE;
  return undefined;
}

/** Why a key of a map of text (a form payload) may not be used, or `undefined`. */
export function mapKeyError(key: string): string | undefined {
  if (isReservedName(key)) return reservedNameMessage(key);
  if (key.length < 1) return 'key length must be at least 1';
  if (key.length > LIMITS.mapKeyLength) return `key length must be at most ${LIMITS.mapKeyLength}`;
  return undefined;
}

/**
 * The text of `config[key]` when the schema accepted it, for a refinement to look at; `undefined`
 * when the schema already reported the field (one message per field) or it is not text.
 */
export function acceptedText(config: Record<string, unknown>, errors: FieldErrors, key: string): string | undefined {
  return !failedAt(errors, [key]) && typeof config[key] === 'string' ? (config[key] as string) : undefined;
}

/**
 * Refinement of a map the schema accepted as a map: each key's own error, else its value's template
 * error (when the map is a template), reported under the key as Kong does.
 */
export function refineMap(
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

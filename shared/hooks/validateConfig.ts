import { generateWhsec, whsecError } from '../delivery/signing.ts';
import type { FieldErrors } from '../errors.ts';
import { isReservedHeader, RESERVED_HEADER_MESSAGE } from '../http/headerPolicy.ts';
import { isLambdaReference, lambdaFunctionName } from '../ports/functionRunner.ts';
import { isReservedName, reservedNameMessage } from '../records.ts';
import {
  type HandlerConfigs,
  type HandlerName,
  type LambdaConfig,
  SIGNING_SCHEMES,
  type SigningScheme,
  type WebhookConfig,
  type WebhookCustomConfig,
} from './hook.ts';
import { templateSyntaxError } from './templates.ts';

/**
 * Field checks in Kong's message style, and the per-handler `config` schemas (docs/reference.md §1).
 * Messages are Kong's where Kong has one (`expected a string`, `length must be at most N`,
 * `value should be between A and B`, `expected one of: …`); our extra bounds reuse the same wording.
 */

/** One field's failure: a message, or nested messages for a record, map or array. */
export type FieldError = string | FieldErrors;
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: FieldError };

/** Bounds beyond Kong's schema: they keep a hook well inside one DynamoDB item (400 KB) and a sane request. */
export const LIMITS = {
  nameLength: 256,
  urlLength: 2048,
  mapEntries: 50,
  mapKeyLength: 256,
  mapValueLength: 4096,
  bodyLength: 65536,
  secretLength: 1024,
  functions: 10,
  functionLength: 32768,
  configBytes: 262144,
  snoozeSeconds: 31536000,
} as const;

/** Methods `webhook-custom` accepts; given in any case, stored upper-case. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const REQUIRED = 'required field missing';
export const UNKNOWN = 'unknown field';

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

/** HTTP methods are case-insensitive on input; the stored form is upper-case so the sender can compare plainly. */
export function checkMethod(value: unknown): Outcome<string> {
  if (typeof value !== 'string') return fail('expected a string');
  return checkOneOf(value.toUpperCase(), HTTP_METHODS);
}

interface MapSpec {
  keyError: (key: string) => string | undefined;
  checkValue: (value: unknown) => Outcome<string>;
}

/** Kong's `map` of string → string: errors are reported under each offending key. */
function checkStringMap(value: unknown, spec: MapSpec): Outcome<Record<string, string>> {
  if (!isPlainObject(value)) return fail('expected a map');
  const entries = Object.entries(value);
  if (entries.length > LIMITS.mapEntries) return fail(`length must be at most ${LIMITS.mapEntries}`);
  const out: Record<string, string> = {};
  const errors: FieldErrors = {};
  for (const [key, item] of entries) {
    // A stored map keyed `constructor` breaks the DynamoDB marshaller, and no header or field needs such a name.
    const keyError = isReservedName(key) ? reservedNameMessage(key) : spec.keyError(key);
    const result = keyError === undefined ? spec.checkValue(item) : fail(keyError);
    if (result.ok) setOwn(out, key, result.value);
    else setOwn(errors, key, result.error);
  }
  return Object.keys(errors).length > 0 ? fail(errors) : ok(out);
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's HTTP client accepts in a header value: tab, visible ASCII, obs-text; never CR, LF or NUL.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkHeaderValue(value: unknown, template: boolean): Outcome<string> {
  const text = checkString(value, LIMITS.mapValueLength);
  if (!text.ok) return text;
  if (!HEADER_VALUE.test(text.value)) return fail('invalid header value');
  return template ? checkTemplate(text.value) : text;
}

function checkHeaders(value: unknown, template: boolean): Outcome<Record<string, string>> {
  return checkStringMap(value, {
    keyError: (key) => {
      if (!HEADER_NAME.test(key)) return 'invalid header name';
      if (key.length > LIMITS.mapKeyLength) return `header name length must be at most ${LIMITS.mapKeyLength}`;
      if (isReservedHeader(key)) return RESERVED_HEADER_MESSAGE;
      return undefined;
    },
    checkValue: (item) => checkHeaderValue(item, template),
  });
}

function checkPayload(value: unknown, template: boolean): Outcome<Record<string, string>> {
  return checkStringMap(value, {
    keyError: (key) => {
      if (key.length < 1) return 'key length must be at least 1';
      if (key.length > LIMITS.mapKeyLength) return `key length must be at most ${LIMITS.mapKeyLength}`;
      return undefined;
    },
    checkValue: (item) => {
      const text = checkString(item, LIMITS.mapValueLength);
      return text.ok && template ? checkTemplate(text.value) : text;
    },
  });
}

function checkBody(value: unknown, template: boolean): Outcome<string> {
  const text = checkString(value, LIMITS.bodyLength);
  return text.ok && template ? checkTemplate(text.value) : text;
}

function checkTemplate(template: string): Outcome<string> {
  const error = templateSyntaxError(template);
  return error === undefined ? ok(template) : fail(error);
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

/** {@link checkUrl}, then the sender's destination policy. */
function checkDestination(value: unknown, options: ConfigOptions): Outcome<string> {
  const url = checkUrl(value);
  if (!url.ok) return url;
  const refusal = options.destinationRefusal?.(url.value);
  return refusal === undefined ? url : fail(`url ${refusal}`);
}

/** Kong reports array elements under their 1-based index: `{"functions":{"2":"…"}}`. */
function checkFunctions(value: unknown, options: ConfigOptions): Outcome<string[]> {
  if (!Array.isArray(value)) return fail('expected an array');
  if (value.length < 1) return fail('length must be at least 1');
  if (value.length > LIMITS.functions) return fail(`length must be at most ${LIMITS.functions}`);
  const errors: FieldErrors = {};
  const out: string[] = [];
  value.forEach((item: unknown, index) => {
    const text = checkString(item, LIMITS.functionLength);
    const reference = text.ok && isLambdaReference(text.value);
    const syntax = text.ok && !reference ? options.userCodeSyntaxError?.(text.value) : undefined;
    const reserved =
      text.ok &&
      reference &&
      options.reservedFunctionPrefix !== undefined &&
      lambdaFunctionName(text.value).startsWith(`${options.reservedFunctionPrefix}-`);
    if (!text.ok) errors[String(index + 1)] = text.error;
    else if (reserved) errors[String(index + 1)] = 'names a function this service deploys for user code';
    else if (syntax !== undefined) errors[String(index + 1)] = syntax;
    else out.push(text.value);
  });
  return Object.keys(errors).length > 0 ? fail(errors) : ok(out);
}

/** How one field is checked; `absent` gives its value when missing or `null` (none: the field is required). */
export interface FieldSpec<T> {
  check: (value: unknown) => Outcome<T>;
  absent?: () => T;
}
export type RecordSpec<T> = { [K in keyof T]-?: FieldSpec<T[K]> };

/**
 * Checks every field of `spec` in order, collecting all errors; keys of `input` outside `spec` are
 * not looked at (see {@link reportUnknownFields}). `value` holds the fields that passed.
 */
export function checkFields<T>(
  input: Record<string, unknown>,
  spec: RecordSpec<T>,
): { value: Partial<T>; errors: FieldErrors } {
  const value: Partial<T> = {};
  const errors: FieldErrors = {};
  for (const key of Object.keys(spec) as (keyof T & string)[]) {
    const field = spec[key];
    const raw = Object.hasOwn(input, key) ? input[key] : undefined;
    if (raw === undefined || raw === null) {
      if (field.absent) value[key] = field.absent();
      else errors[key] = REQUIRED;
      continue;
    }
    const result = field.check(raw);
    if (result.ok) value[key] = result.value;
    else errors[key] = result.error;
  }
  return { value, errors };
}

/** Adds `unknown field` to `errors` for every key of `input` that is not in `allowed`. */
export function reportUnknownFields(
  errors: FieldErrors,
  input: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(input)) if (!allowed.includes(key)) setOwn(errors, key, UNKNOWN);
}

/** A `*_format` flag as it will end up, or `undefined` when it is invalid (then templates are not checked). */
function formatFlag(input: Record<string, unknown>, name: string, fallback: boolean): boolean | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null) return fallback;
  return typeof raw === 'boolean' ? raw : undefined;
}

const secret: FieldSpec<string | null> = {
  check: (value) => checkString(value, LIMITS.secretLength),
  absent: () => null,
};
/**
 * `standard-webhooks` signs with a `whsec_…` secret, generated when none is given (and returned in
 * the hook); `kong` takes any string, and no secret means no signature.
 */
function secretSpec(input: Record<string, unknown>): FieldSpec<string | null> {
  if (input.signing !== 'standard-webhooks') return secret;
  return {
    check: (value) => {
      const text = checkString(value, LIMITS.secretLength);
      if (!text.ok) return text;
      const error = whsecError(text.value);
      return error === undefined ? text : fail(error);
    },
    absent: generateWhsec,
  };
}
/** Absent unless given, so a hook that does not choose keeps Kong's config shape exactly. */
const signing: FieldSpec<SigningScheme | undefined> = {
  check: (value) => checkOneOf(value, SIGNING_SCHEMES),
  absent: () => undefined,
};
const sslVerify: FieldSpec<boolean> = { check: checkBoolean, absent: () => false };
const flag = (fallback: boolean): FieldSpec<boolean> => ({ check: checkBoolean, absent: () => fallback });

/** What a client may set: `previous_secret` is the service's own (set by a secret rotation). */
type ClientConfig<T> = Omit<T, 'previous_secret'>;

function webhookSpec(input: Record<string, unknown>, options: ConfigOptions): RecordSpec<ClientConfig<WebhookConfig>> {
  return {
    url: { check: (value) => checkDestination(value, options) },
    headers: { check: (value) => checkHeaders(value, false), absent: () => ({}) },
    secret: secretSpec(input),
    ssl_verify: sslVerify,
    signing,
  };
}

function webhookCustomSpec(
  input: Record<string, unknown>,
  options: ConfigOptions,
): RecordSpec<ClientConfig<WebhookCustomConfig>> {
  const payloadTemplate = formatFlag(input, 'payload_format', true) === true;
  const bodyTemplate = formatFlag(input, 'body_format', true) === true;
  const headersTemplate = formatFlag(input, 'headers_format', false) === true;
  return {
    url: { check: (value) => checkDestination(value, options) },
    method: { check: checkMethod },
    payload: { check: (value) => checkPayload(value, payloadTemplate), absent: () => null },
    payload_format: flag(true),
    body: { check: (value) => checkBody(value, bodyTemplate), absent: () => null },
    body_format: flag(true),
    headers: { check: (value) => checkHeaders(value, headersTemplate), absent: () => null },
    headers_format: flag(false),
    secret: secretSpec(input),
    ssl_verify: sslVerify,
    signing,
  };
}

function lambdaSpec(options: ConfigOptions): RecordSpec<LambdaConfig> {
  return { functions: { check: (value) => checkFunctions(value, options) } };
}

type SpecFactory<H extends HandlerName> = (
  input: Record<string, unknown>,
  options: ConfigOptions,
) => RecordSpec<ClientConfig<HandlerConfigs[H]>>;

/** One schema per handler; adding a handler means adding one entry here. */
const CONFIG_SPECS: { [H in HandlerName]: SpecFactory<H> } = {
  webhook: (input, options) => webhookSpec(input, options),
  'webhook-custom': (input, options) => webhookCustomSpec(input, options),
  log: () => ({}),
  lambda: (_input, options) => lambdaSpec(options),
};

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
  const spec = CONFIG_SPECS[handler](input, options);
  const { value, errors } = checkFields(input, spec);
  reportUnknownFields(errors, input, Object.keys(spec));
  if (Object.keys(errors).length > 0) return fail(errors);
  // Fields absent by design (`signing`) are left out, not stored as `undefined`.
  for (const key of Object.keys(value) as (keyof typeof value)[]) if (value[key] === undefined) delete value[key];
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > LIMITS.configBytes) return fail(`encoded size must be at most ${LIMITS.configBytes} bytes`);
  // Every field of the spec passed, so the partial value is complete.
  return ok(value as HandlerConfigs[H]);
}

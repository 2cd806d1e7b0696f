import { SchemaViolationError } from '../errors.ts';
import { patternError } from '../rules/eventPattern.ts';
import { findEvent, type SourceCatalog } from './catalog.ts';
import { type EventHook, type EventPattern, HANDLER_NAMES, type HandlerName, type Threshold } from './hook.ts';
import {
  checkBoolean,
  checkFields,
  checkInteger,
  checkOneOf,
  checkString,
  type FieldSpec,
  isPlainObject,
  LIMITS,
  type Outcome,
  type RecordSpec,
  reportUnknownFields,
  validateConfig,
} from './validateConfig.ts';

/**
 * Validation of event hook bodies (docs/reference.md §1, §4, §5), with Kong's error shapes: every field
 * error is collected into Kong's nested `fields` and thrown as one `SchemaViolationError`.
 */

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The fields a client may send (everything of EventHook but server-set ones), discriminated by `handler`. */
export type HookFields = DistributiveOmit<EventHook, 'id' | 'created_at'>;

export interface ValidateOptions {
  /** Built-in merged with user-defined sources (`mergeCatalog`). */
  catalog: SourceCatalog;
  /** `undefined` when the user code compiles, otherwise why not. Without it, code is not checked. */
  userCodeSyntaxError?: (code: string) => string | undefined;
  /** See `ConfigOptions.reservedFunctionPrefix`. */
  reservedFunctionPrefix?: string;
  /** See `ConfigOptions.destinationRefusal`. */
  destinationRefusal?: (url: string) => string | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form (any version, any case, as Kong's check). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

interface TopLevel {
  id: string | undefined;
  created_at: number | undefined;
  source: string;
  event: string | null;
  on_change: boolean | null;
  snooze: number | null;
  filter: EventPattern | null;
  threshold: Threshold | null;
  enabled: boolean;
  handler: HandlerName;
}

/** Bounds of a `threshold`: a window as long as the longest snooze. */
export const THRESHOLD_LIMITS = { count: 1_000_000, windowSeconds: LIMITS.snoozeSeconds } as const;

const THRESHOLD_SPEC: RecordSpec<Threshold> = {
  count: { check: (value) => checkInteger(value, 1, THRESHOLD_LIMITS.count) },
  window: { check: (value) => checkInteger(value, 1, THRESHOLD_LIMITS.windowSeconds) },
};

function checkThreshold(value: unknown): Outcome<Threshold> {
  if (!isPlainObject(value)) return { ok: false, error: 'expected a record' };
  const { value: threshold, errors } = checkFields(value, THRESHOLD_SPEC);
  reportUnknownFields(errors, value, Object.keys(THRESHOLD_SPEC));
  return Object.keys(errors).length > 0 ? { ok: false, error: errors } : { ok: true, value: threshold as Threshold };
}

/** A filter is an EventBridge pattern; the message says where it is wrong (`entity.username[0]: …`). */
function checkFilter(value: unknown): Outcome<EventPattern> {
  if (!isPlainObject(value)) return { ok: false, error: 'expected a record' };
  const error = patternError(value);
  return error === undefined ? { ok: true, value } : { ok: false, error };
}

const nullable = <T>(check: (value: unknown) => Outcome<T>): FieldSpec<T | null> => ({
  check,
  absent: () => null,
});

// Kong's field order, which is also the order of the messages.
const TOP_LEVEL: RecordSpec<TopLevel> = {
  id: {
    check: (value) => (isUuid(value) ? { ok: true, value } : { ok: false, error: 'expected a valid UUID' }),
    absent: () => undefined,
  },
  created_at: { check: (value) => checkInteger(value, 0, Number.MAX_SAFE_INTEGER), absent: () => undefined },
  source: { check: (value) => checkString(value, LIMITS.nameLength) },
  event: nullable((value) => checkString(value, LIMITS.nameLength)),
  on_change: nullable(checkBoolean),
  snooze: nullable((value) => checkInteger(value, 0, LIMITS.snoozeSeconds)),
  filter: nullable(checkFilter),
  threshold: nullable(checkThreshold),
  // `null` (or an empty form value) resets it to its default, as Kong reads `null` for a defaulted field.
  enabled: { check: checkBoolean, absent: () => true },
  handler: { check: (value) => checkOneOf(value, HANDLER_NAMES) },
};
const ALLOWED = [...Object.keys(TOP_LEVEL), 'config'];

const NOT_AN_OBJECT = (): SchemaViolationError => new SchemaViolationError({ '@entity': ['expected a record'] });

/**
 * Validates a full hook body (POST, PUT, or the result of {@link mergePatch}) and returns the
 * normalised fields with defaults filled in; unset optional fields are `null`, never omitted.
 * An `id` (UUID) and `created_at` (non-negative integer) may be given; they come back separately.
 *
 * @throws SchemaViolationError with every problem found, e.g. `{"config":{"url":"required field missing"}}`
 * @example
 * validateHook({ source: 'crud', event: 'consumers', handler: 'log' }, { catalog: BUILTIN_CATALOG })
 * // → { fields: { source: 'crud', event: 'consumers', handler: 'log', on_change: null, snooze: null, filter: null, threshold: null, enabled: true, config: {} } }
 */
export function validateHook(
  input: unknown,
  options: ValidateOptions,
): { fields: HookFields; id?: string; created_at?: number } {
  if (!isPlainObject(input)) throw NOT_AN_OBJECT();
  const { value: top, errors } = checkFields(input, TOP_LEVEL);

  // As in Kong, config is checked against its handler's schema only once the handler is known.
  let config: unknown;
  if (top.handler !== undefined) {
    const result = validateConfig(top.handler, input.config, options);
    if (result.ok) config = result.value;
    else errors.config = result.error;
  }
  reportUnknownFields(errors, input, ALLOWED);

  // Kong runs an entity check only when the fields it reads are valid themselves.
  const entityError =
    top.source !== undefined && top.event !== undefined
      ? registrationError(options.catalog, top.source, top.event)
      : undefined;
  if (entityError !== undefined) errors['@entity'] = [entityError];

  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  // With no errors every field of TOP_LEVEL and the config are set.
  const fields = {
    source: top.source,
    event: top.event,
    handler: top.handler,
    on_change: top.on_change,
    snooze: top.snooze,
    filter: top.filter,
    threshold: top.threshold,
    enabled: top.enabled,
    config,
  } as HookFields;
  return {
    fields,
    ...(top.id !== undefined ? { id: top.id } : {}),
    ...(top.created_at !== undefined ? { created_at: top.created_at } : {}),
  };
}

/** Kong's entity check: the source, and the event when one is given, must be in the catalog. */
function registrationError(catalog: SourceCatalog, source: string, event: string | null): string | undefined {
  if (!Object.hasOwn(catalog, source)) return `source '${source}' is not registered`;
  if (event !== null && findEvent(catalog, source, event) === undefined) {
    return `source '${source}' has no '${event}' event`;
  }
  return undefined;
}

/**
 * PATCH semantics: the patch's fields replace the stored ones, `config` is merged key by key, except
 * when the patch changes the handler: then the config comes from the patch alone (an old handler's
 * keys would be unknown fields of the new one). `null` in the patch clears a field (to `null` or to
 * its default). The result, still carrying the stored `id` and `created_at` unless the patch gives
 * its own, is meant for {@link validateHook}. Nothing is mutated.
 *
 * @throws SchemaViolationError when `patch` is not a JSON object
 * @example mergePatch(hook, { config: { secret: 'hunter2' } }) // hook's config with the secret replaced
 */
export function mergePatch(existing: EventHook, patch: unknown): unknown {
  if (!isPlainObject(patch)) throw NOT_AN_OBJECT();
  const merged: Record<string, unknown> = { ...existing, ...patch };
  const handlerChanged = Object.hasOwn(patch, 'handler') && patch.handler !== existing.handler;
  if (handlerChanged) {
    if (Object.hasOwn(patch, 'config')) merged.config = patch.config;
    else delete merged.config;
  } else if (Object.hasOwn(patch, 'config') && isPlainObject(patch.config)) {
    merged.config = { ...existing.config, ...patch.config };
  }
  return merged;
}

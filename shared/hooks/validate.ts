import type { TObject } from '@sinclair/typebox';
import { SchemaViolationError } from '../errors.ts';
import type { HandlerRegistry } from '../handlers/definition.ts';
import { HANDLERS } from '../handlers/registry.ts';
import { patternError } from '../rules/eventPattern.ts';
import { addRefinement, compile, failedAt, kongErrors, orderedLike, type SchemaCheck } from '../schema/kongErrors.ts';
import { findEvent, type SourceCatalog } from './catalog.ts';
import type { EventHook, EventPattern, Threshold } from './hook.ts';
import { HookInputSchema, hookInputSchema, THRESHOLD_LIMITS, withDefaults } from './schemas.ts';
import { isPlainObject, validateConfig } from './validateConfig.ts';

export { THRESHOLD_LIMITS };

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
  /** The handlers a hook may name; the service's own (shared/handlers/registry.ts) when absent. */
  handlers?: HandlerRegistry;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form (any version, any case, as Kong's check). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The hook body's schema and its check, per registry (its names are the `handler` field's); compiled on first use. */
const HOOK_CHECKS = new WeakMap<HandlerRegistry, { schema: TObject; check: SchemaCheck<TObject> }>();

function hookCheckOf(registry: HandlerRegistry): { schema: TObject; check: SchemaCheck<TObject> } {
  let entry = HOOK_CHECKS.get(registry);
  if (!entry) {
    const schema = registry === HANDLERS ? HookInputSchema : hookInputSchema(registry.names);
    entry = { schema, check: compile(schema) };
    HOOK_CHECKS.set(registry, entry);
  }
  return entry;
}

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
  const { schema, check } = hookCheckOf(options.handlers ?? HANDLERS);
  const top = withDefaults(schema, input);
  const errors = kongErrors(check, top);
  const valid = (key: string) => !failedAt(errors, [key]);
  // A filter is an EventBridge pattern; the message says where it is wrong (`entity.username[0]: …`).
  if (valid('filter') && isPlainObject(top.filter)) addRefinement(errors, ['filter'], patternError(top.filter));

  // As in Kong, config is checked against its handler's schema only once the handler is known.
  let config: unknown;
  if (valid('handler') && typeof top.handler === 'string') {
    const result = validateConfig(top.handler, input.config, options);
    if (result.ok) config = result.value;
    else errors.config = result.error;
  }
  const fields = orderedLike(schema, errors);

  // Kong runs an entity check only when the fields it reads are valid themselves.
  const entityError =
    valid('source') && valid('event')
      ? registrationError(options.catalog, top.source as string, top.event as string | null)
      : undefined;
  if (entityError !== undefined) fields['@entity'] = [entityError];

  if (Object.keys(fields).length > 0) throw new SchemaViolationError(fields);
  // With no errors every field of the schema and the config are set.
  const hook = {
    source: top.source,
    event: top.event,
    handler: top.handler,
    on_change: top.on_change,
    snooze: top.snooze,
    filter: top.filter as EventPattern | null,
    threshold: top.threshold as Threshold | null,
    enabled: top.enabled,
    config,
  } as HookFields;
  return {
    fields: hook,
    ...(typeof top.id === 'string' ? { id: top.id } : {}),
    ...(typeof top.created_at === 'number' ? { created_at: top.created_at } : {}),
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

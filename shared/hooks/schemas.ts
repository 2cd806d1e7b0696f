import type { Static, TLiteral, TSchema, TUnion } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { HANDLER_NAMES, SIGNING_SCHEMES } from './names.ts';

/**
 * The event hook entity, declared once (docs/reference.md §1), and the parts the handlers' config
 * schemas are built of (each handler declares its own in its module, shared/handlers/<name>.ts). The
 * same schemas check requests (through the Kong formatter, shared/schema/kongErrors.ts), give the
 * static types of hook.ts (`Static<>`), tell the form-body reader which fields are not text, and feed
 * the OpenAPI document. They describe a hook as stored: a field with a `default` is optional on input
 * (`withDefaults` fills it before the check), and `null` sent for it means the default, as in Kong.
 * What JSON Schema cannot say (URL rules, reserved headers, template syntax, whsec secrets, user code)
 * are each handler's refinements, run after the schema and reported the same way.
 */

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

/** Bounds of a `threshold`: a window as long as the longest snooze. */
export const THRESHOLD_LIMITS = { count: 1_000_000, windowSeconds: LIMITS.snoozeSeconds } as const;

/** `T | null`, defaulting to `null`: an optional field Kong answers as `null` when unset. */
export const Nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Union([schema, Type.Null()], { default: null, ...options });

/** One of a fixed set of strings (Kong's `one_of`). */
export const OneOf = <const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
): TUnion<TLiteral<T[number]>[]> =>
  Type.Union(values.map((value) => Type.Literal(value)) as TLiteral<T[number]>[], options);

/** Kong's strings are non-empty unless a schema says otherwise; none of ours does. */
export const Text = (maxLength: number, options: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, ...options });

/** A record keyed by any string (`[\s\S]` so that no key escapes the value schema). */
export const map = <T extends TSchema>(value: T, options: Record<string, unknown>) =>
  Type.Record(Type.String({ pattern: '^[\\s\\S]*$' }), value, {
    maxProperties: LIMITS.mapEntries,
    typeMessage: 'expected a map',
    ...options,
  });

// What Node's HTTP client accepts in a header value: tab, visible ASCII, obs-text; never CR, LF or NUL.
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header name → value. Names are checked by a refinement (syntax, reserved headers). */
export const headersSchema = (options: Record<string, unknown> = {}) =>
  map(Text(LIMITS.mapValueLength, { pattern: HEADER_VALUE.source, patternMessage: 'invalid header value' }), {
    description: 'Header name → value; names the sender sets itself are refused.',
    ...options,
  });
export const Url = Text(LIMITS.urlLength, { description: 'An absolute http or https URL.' });
export const Secret = Nullable(Text(LIMITS.secretLength), {
  description: 'Signs each request; `standard-webhooks` takes (or generates) a `whsec_…` secret.',
});
export const Signing = Type.Optional(
  OneOf(SIGNING_SCHEMES, { description: 'How requests are signed (absent: `kong`).' }),
);
export const SslVerify = Type.Boolean({ default: false });

export const PreviousSecretSchema = Type.Object(
  {
    secret: Type.String(),
    expires_at: Type.Integer({ description: 'Unix seconds.' }),
  },
  // `readOnly`: the service's own, never the client's; what a client may send leaves it out (clientConfigSchema).
  { description: 'Set by a secret rotation, never by the client.', readOnly: true },
);

export const ThresholdSchema = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: THRESHOLD_LIMITS.count }),
    window: Type.Integer({ minimum: 1, maximum: THRESHOLD_LIMITS.windowSeconds, description: 'Seconds.' }),
  },
  {
    additionalProperties: false,
    description: 'Fire once when `count` matching events arrive within `window` seconds.',
  },
);

/** An EventBridge pattern; its grammar is a refinement (shared/rules/eventPattern.ts). */
export const EventPatternSchema = Type.Record(Type.String({ pattern: '^[\\s\\S]*$' }), Type.Unknown(), {
  description: 'An EventBridge event pattern matched against the event data (docs/rules.md).',
});

// Kong's ids are UUIDs in canonical form, any version, any case.
export const UuidSchema = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  kongMessage: 'expected a valid UUID',
});

const Name = Text(LIMITS.nameLength);

/** The fields every hook has, in Kong's order (also the order of the messages), for the given handler names. */
export const hookFieldsSchema = <const T extends readonly string[]>(handlers: T) =>
  Type.Object({
    source: Name,
    event: Nullable(Name, { description: '`null`: every event of the source.' }),
    on_change: Nullable(Type.Boolean()),
    snooze: Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.snoozeSeconds }), { description: 'Seconds.' }),
    filter: Nullable(EventPatternSchema),
    threshold: Nullable(ThresholdSchema),
    enabled: Type.Boolean({ default: true }),
    handler: OneOf(handlers),
  });

/** A hook body as the client sends it, before its config is checked against its handler's schema. */
export const hookInputSchema = <const T extends readonly string[]>(handlers: T) =>
  Type.Object(
    {
      id: Type.Optional(UuidSchema),
      created_at: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
      ...hookFieldsSchema(handlers).properties,
      config: Type.Optional(Type.Unknown()),
    },
    { additionalProperties: false },
  );

/** The registered handlers' (shared/handlers/registry.ts checks that they are `HANDLER_NAMES`). */
export const HookFieldsSchema = hookFieldsSchema(HANDLER_NAMES);
export const HookInputSchema = hookInputSchema(HANDLER_NAMES);

export const HookDeploymentSchema = Type.Object(
  {
    state: OneOf(['pending', 'active', 'failed'] as const),
    error: Type.Optional(Type.String()),
  },
  { description: 'Where the user functions of a `lambda` hook with inline code stand; read-only.' },
);

/** The body of `PUT /event-hooks/sources/{source}/{event}`. */
export const SOURCE_DEFINITION_LIMITS = { fields: 100, fieldLength: 256, description: 1000 } as const;
const fieldList = (description: string, options: { default?: string[] } = {}) =>
  Type.Array(Type.String({ minLength: 1, maxLength: SOURCE_DEFINITION_LIMITS.fieldLength }), {
    maxItems: SOURCE_DEFINITION_LIMITS.fields,
    uniqueItems: true,
    description,
    ...options,
    // The wording these lists have always had, for the list as a whole.
    listMessages: {
      Array: 'expected an array of non-empty strings',
      String: 'expected an array of non-empty strings',
      StringMinLength: 'expected an array of non-empty strings',
      ArrayMaxItems: `at most ${SOURCE_DEFINITION_LIMITS.fields} entries`,
      StringMaxLength: `entries must be at most ${SOURCE_DEFINITION_LIMITS.fieldLength} characters`,
      ArrayUniqueItems: 'entries must be unique',
    },
  });
export const EventDefinitionSchema = Type.Object(
  {
    fields: fieldList('Data fields the event carries.', { default: [] }),
    unique: Type.Optional(
      fieldList('Fields that identify one occurrence (a subset of `fields`), for `on_change` and `snooze`.'),
    ),
    description: Type.Optional(Nullable(Type.String({ maxLength: SOURCE_DEFINITION_LIMITS.description }))),
  },
  { additionalProperties: false },
);

export type ThresholdFromSchema = Static<typeof ThresholdSchema>;
export type PreviousSecretFromSchema = Static<typeof PreviousSecretSchema>;
export type HookDeploymentFromSchema = Static<typeof HookDeploymentSchema>;
export type HookFieldsFromSchema = Static<typeof HookFieldsSchema>;
export type EventDefinitionFromSchema = Static<typeof EventDefinitionSchema>;

/**
 * `input` with every field of `schema` that is missing or `null` set to the field's default (a copy),
 * or removed when it has none (so a required one is `required field missing`). Keys outside the
 * schema are kept for the check to report. Only the top level: nested records have no defaults.
 */
/** A default of its own for each hook: defaults are JSON scalars or empty records and lists. */
const fresh = (value: unknown): unknown =>
  Array.isArray(value) ? [...value] : value !== null && typeof value === 'object' ? { ...value } : value;

export function withDefaults(schema: TSchema, input: Record<string, unknown>): Record<string, unknown> {
  const { fields, known } = planOf(schema);
  const out: Record<string, unknown> = {};
  // The schema's order first: it is the order a stored hook keeps (Kong's). Its keys are plain names.
  for (const field of fields) {
    const value = Object.hasOwn(input, field.key) ? input[field.key] : undefined;
    if (value !== undefined && value !== null) out[field.key] = value;
    else if (field.hasDefault) out[field.key] = fresh(field.fallback);
  }
  for (const key in input) {
    // Client keys may be `__proto__`: defined, never assigned.
    if (Object.hasOwn(input, key) && !known.has(key)) {
      Object.defineProperty(out, key, { value: input[key], enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

interface DefaultsPlan {
  fields: { key: string; hasDefault: boolean; fallback: unknown }[];
  known: Set<string>;
}
const PLANS = new WeakMap<TSchema, DefaultsPlan>();

/** What `withDefaults` needs of a schema, read once per schema (it runs on every admin write). */
function planOf(schema: TSchema): DefaultsPlan {
  let plan = PLANS.get(schema);
  if (!plan) {
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    plan = {
      fields: Object.entries(properties).map(([key, property]) => ({
        key,
        hasDefault: 'default' in property,
        fallback: property.default,
      })),
      known: new Set(Object.keys(properties)),
    };
    PLANS.set(schema, plan);
  }
  return plan;
}

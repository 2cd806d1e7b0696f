import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type HANDLER_NAMES, SIGNING_SCHEMES } from './hook.ts';
import { THRESHOLD_LIMITS } from './validate.ts';
import { HTTP_METHODS, LIMITS } from './validateConfig.ts';

/**
 * The JSON Schema of a hooks file (`event-hooks apply -f`, `export`): a list of hooks in the Admin
 * API's own shape, ids required. Written in TypeBox and emitted as `schemas/hooks-file.schema.json`
 * (`npx tsx tools/hooksFileSchema.ts`) for editors; a test keeps the two equal.
 *
 * It is the editor's check, not the service's: `apply` has every hook validated by the service
 * itself (the catalog, user code, templates), which also knows the tenant's own sources. So the
 * schema checks shapes and bounds, and leaves names, code and templates to the service.
 */

/** `${NAME}`: an environment reference `apply` resolves (`export` writes secrets this way). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the reference syntax itself, shown to the user
const REFERENCE_NOTE = 'A `${NAME}` reference is replaced by the environment variable NAME when applied.';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });
const stringMap = Type.Record(Type.String({ maxLength: LIMITS.mapKeyLength }), Type.String(), {
  maxProperties: LIMITS.mapEntries,
});

const url = text(LIMITS.urlLength, `The receiver's http or https URL. ${REFERENCE_NOTE}`);
const secret = nullable(text(LIMITS.secretLength, `Signs each request. ${REFERENCE_NOTE}`));
const signing = Type.Union(
  SIGNING_SCHEMES.map((scheme) => Type.Literal(scheme)),
  { description: 'How requests are signed (beyond Kong): kong (x-kong-signature) or standard-webhooks.' },
);

const webhookConfig = Type.Object(
  {
    url,
    headers: Type.Optional(stringMap),
    secret: Type.Optional(secret),
    ssl_verify: Type.Optional(Type.Boolean()),
    signing: Type.Optional(signing),
  },
  { additionalProperties: false },
);

const methods = [...HTTP_METHODS, ...HTTP_METHODS.map((method) => method.toLowerCase())];
const webhookCustomConfig = Type.Object(
  {
    url,
    method: Type.Union(methods.map((method) => Type.Literal(method))),
    payload: Type.Optional(nullable(stringMap)),
    payload_format: Type.Optional(Type.Boolean()),
    body: Type.Optional(nullable(Type.String({ maxLength: LIMITS.bodyLength }))),
    body_format: Type.Optional(Type.Boolean()),
    headers: Type.Optional(nullable(stringMap)),
    headers_format: Type.Optional(Type.Boolean()),
    secret: Type.Optional(secret),
    ssl_verify: Type.Optional(Type.Boolean()),
    signing: Type.Optional(signing),
  },
  { additionalProperties: false },
);

const logConfig = Type.Object({}, { additionalProperties: false });

const lambdaConfig = Type.Object(
  {
    functions: Type.Array(text(LIMITS.functionLength), {
      minItems: 1,
      maxItems: LIMITS.functions,
      description:
        'JavaScript function bodies returning `function (data, event, source, pid)`, or AWS Lambda names/ARNs, run in order.',
    }),
  },
  { additionalProperties: false },
);

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** The fields every hook has, whatever its handler. */
const common = {
  id: Type.String({ pattern: UUID_PATTERN, description: 'The hook is created or updated by this id.' }),
  created_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix seconds; kept when absent.' })),
  source: text(LIMITS.nameLength, 'A registered source, e.g. crud.'),
  event: Type.Optional(nullable(text(LIMITS.nameLength, 'An event of the source; null: every event.'))),
  on_change: Type.Optional(nullable(Type.Boolean())),
  snooze: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: LIMITS.snoozeSeconds }))),
  enabled: Type.Optional(Type.Boolean({ description: 'A disabled hook is skipped (beyond Kong). Default true.' })),
  filter: Type.Optional(
    nullable(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "An EventBridge event pattern matched against the event's data (docs/rules.md).",
      }),
    ),
  ),
  threshold: Type.Optional(
    nullable(
      Type.Object(
        {
          count: Type.Integer({ minimum: 1, maximum: THRESHOLD_LIMITS.count }),
          window: Type.Integer({ minimum: 1, maximum: THRESHOLD_LIMITS.windowSeconds }),
        },
        { additionalProperties: false, description: 'Fire once when count events arrive within window seconds.' },
      ),
    ),
  ),
};

const hookOf = <H extends (typeof HANDLER_NAMES)[number], C extends TSchema>(handler: H, config: C, optional = false) =>
  Type.Object(
    { ...common, handler: Type.Literal(handler), config: optional ? Type.Optional(config) : config },
    { additionalProperties: false, title: `${handler} hook` },
  );

export const HookFileEntry = Type.Union([
  hookOf('webhook', webhookConfig),
  hookOf('webhook-custom', webhookCustomConfig),
  hookOf('log', logConfig, true),
  hookOf('lambda', lambdaConfig),
]);

export const HooksFile = Type.Array(HookFileEntry, {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'event-hooks hooks file',
  description:
    'The hooks `event-hooks apply -f` creates or updates by id, in the Admin API shape (`event-hooks export` writes one).',
});

export type HooksFile = Static<typeof HooksFile>;

/** The JSON Schema document, as committed in schemas/hooks-file.schema.json. */
export function hooksFileJsonSchema(): string {
  // TypeBox's own markers are symbols, which JSON leaves out: what remains is plain JSON Schema.
  return `${JSON.stringify(HooksFile, null, 2)}\n`;
}

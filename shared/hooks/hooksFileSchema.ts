import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import {
  clientConfigSchema,
  type HandlerDefinition,
  type HandlerRegistry,
  type HooksFileParts,
} from '../handlers/definition.ts';
import { HANDLERS } from '../handlers/registry.ts';
import { SIGNING_SCHEMES } from './hook.ts';
import { LIMITS, THRESHOLD_LIMITS } from './schemas.ts';

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

/** What a handler's `hooksFileConfig` builds its config from. */
const PARTS: HooksFileParts = { url, secret, signing, stringMap, nullable, text };

/** A handler's config in a hooks file: its own, else its client config as sent, every defaulted field optional. */
function configOf(definition: HandlerDefinition): TObject {
  if (definition.hooksFileConfig) return definition.hooksFileConfig(PARTS);
  const client = clientConfigSchema(definition);
  const fields = { ...client.properties, ...definition.sentFields };
  return Type.Object(
    Object.fromEntries(
      Object.entries(fields).map(([key, field]) => [key, 'default' in field ? Type.Optional(field) : field]),
    ),
    { additionalProperties: false },
  );
}

/** One handler's hooks: its config may be left out when it has no required field (`log`). */
const hookOf = (definition: HandlerDefinition) => {
  const config = configOf(definition);
  const optional = (config.required ?? []).length === 0;
  return Type.Object(
    { ...common, handler: Type.Literal(definition.name), config: optional ? Type.Optional(config) : config },
    { additionalProperties: false, title: `${definition.name} hook` },
  );
};

/** The hooks-file schema of the handlers of `registry`, one variant each in its order. */
export function hooksFileSchema(registry: HandlerRegistry) {
  return Type.Array(Type.Union(registry.definitions.map(hookOf)), {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'event-hooks hooks file',
    description:
      'The hooks `event-hooks apply -f` creates or updates by id, in the Admin API shape (`event-hooks export` writes one).',
  });
}

export const HooksFile = hooksFileSchema(HANDLERS);
export const HookFileEntry = HooksFile.items;

/** A hooks file as read: each entry a hook in the Admin API's shape (its config checked by the service). */
export type HooksFile = Static<typeof HooksFile>;

/** The JSON Schema document, as committed in schemas/hooks-file.schema.json. */
export function hooksFileJsonSchema(): string {
  // TypeBox's own markers are symbols, which JSON leaves out: what remains is plain JSON Schema.
  return `${JSON.stringify(HooksFile, null, 2)}\n`;
}

import type { TSchema } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { SCOPES } from '../auth/principal.ts';
import { AcceptedEventSchema, PostEventsBodySchema } from '../events/schema.ts';
import { clientConfigSchema, type HandlerDefinition, type HandlerRegistry } from '../handlers/definition.ts';
import { HANDLERS } from '../handlers/registry.ts';
import { SIGNING_SCHEMES } from '../hooks/hook.ts';
import {
  EventDefinitionSchema,
  HookDeploymentSchema,
  HookFieldsSchema,
  hookInputSchema,
  OneOf,
} from '../hooks/schemas.ts';
import { MAX_QUOTA, QUOTA_NAMES } from '../quotas/quotas.ts';
import { MAX_NAME_LENGTH } from '../store/tenantStore.ts';
import { PageQuerySchema, PutHookQuerySchema } from './query.ts';

/**
 * The OpenAPI 3.1 document of the service, generated from the route tables (every route and method
 * the routers serve, nothing more) and the schemas that validate requests; never written by hand.
 * Routes without a description here (added later, by other modules) still appear, with a generic
 * but valid operation, so the document never omits what the service answers.
 */

export interface DocumentedRoute {
  path: string;
  methods: readonly string[];
}

/** What is known of one operation; every part is optional. */
interface OperationDoc {
  summary: string;
  description?: string;
  /** The request body's schema, when the operation takes one. */
  body?: TSchema | { $ref: string };
  /** The paged list's `size` and `offset`. */
  paged?: boolean;
  /** Other query parameters, as an object schema. */
  query?: TSchema & { properties: Record<string, TSchema> };
  /** The success status and its body (none: `204`). */
  status?: number;
  answer?: TSchema | { $ref: string };
  /** The operation may answer Kong's schema violation (400). */
  validates?: boolean;
}

/** The methods OpenAPI can describe: what a route served for any method (`*`) is documented with. */
const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const list = (items: TSchema | { $ref: string }) =>
  Type.Object({
    data: Type.Array(items as TSchema),
    next: Type.Union([Type.String(), Type.Null()], { description: 'The next page, `null` after the last.' }),
    offset: Type.Optional(Type.String({ description: 'The next page’s offset, when there is one.' })),
  });
const data = (inner: TSchema | { $ref: string }) => Type.Object({ data: inner as TSchema });
const anyObject = Type.Object({}, { additionalProperties: true });

/** A handler's config as sent: its client config with the fields it takes more loosely (a method in any case). */
const sentConfig = (definition: HandlerDefinition) => {
  const client = clientConfigSchema(definition);
  if (!definition.sentFields) return client;
  return Type.Object({ ...client.properties, ...definition.sentFields }, { additionalProperties: false });
};

/** A hook body as sent: one variant per handler, fields with a default optional. */
const hookBody = (handlers: HandlerRegistry, required: boolean) =>
  Type.Union(
    handlers.definitions.map((definition) => {
      const { config: _config, handler: _handler, ...fields } = hookInputSchema(handlers.names).properties;
      const body = Type.Object(
        {
          ...fields,
          handler: Type.Literal(definition.name),
          config: Type.Optional(sentConfig(definition)),
        },
        { additionalProperties: false },
      );
      if (required) return body;
      const optional = Object.entries(body.properties).map(([key, schema]) => [key, Type.Optional(schema)]);
      return Type.Object(Object.fromEntries(optional), { additionalProperties: false });
    }),
  );

/** The entity as the Admin API answers it, one variant per handler, its config as stored. */
const eventHook = (handlers: HandlerRegistry) =>
  Type.Union(
    handlers.definitions.map((definition) =>
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        created_at: Type.Integer({ description: 'Unix seconds.' }),
        ...HookFieldsSchema.properties,
        handler: Type.Literal(definition.name),
        config: definition.config,
        deployment: Type.Optional(HookDeploymentSchema),
      }),
    ),
  );

/** Schemas named in `components`, referred to by `$ref`. */
const components = (handlers: HandlerRegistry): Record<string, TSchema> => ({
  EventHook: eventHook(handlers),
  HookBody: hookBody(handlers, true),
  HookPatch: hookBody(handlers, false),
  EventDefinition: EventDefinitionSchema,
  PostEvents: PostEventsBodySchema,
  AcceptedEvent: AcceptedEventSchema,
  Error: Type.Object({ message: Type.String() }),
  SchemaViolation: Type.Object({
    code: Type.Literal(2),
    name: Type.Literal('schema violation'),
    message: Type.String(),
    fields: Type.Object({}, { additionalProperties: true, description: "Field path → message (Kong's shape)." }),
  }),
});

const ROTATE_BODY = Type.Object(
  {
    secret: Type.Optional(Type.String({ description: 'The new secret (generated when absent).' })),
    overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, description: 'How long the old secret still signs.' })),
  },
  { additionalProperties: false },
);
const ROTATE_ANSWER = Type.Object({
  signing: OneOf(SIGNING_SCHEMES),
  secret: Type.String(),
  overlap_seconds: Type.Integer(),
  previous_secret_expires_at: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.String(),
});

// The operator's bodies, as tenantStore.ts, apiKeys.ts and quotas.ts check them.
const TENANT_BODY = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'Not blank.' }) },
  { additionalProperties: false },
);
const KEY_BODY = Type.Object(
  { scopes: Type.Array(OneOf(SCOPES), { minItems: 1, description: 'What the key may do.' }) },
  { additionalProperties: false },
);
const QUOTAS_BODY = Type.Object(
  Object.fromEntries(
    QUOTA_NAMES.map((name) => [
      name,
      Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: MAX_QUOTA }), Type.Null()])),
    ]),
  ),
  {
    additionalProperties: false,
    description: "Replaces the tenant's overrides: `null` is no limit, a quota left out takes the default.",
  },
);

/** Operations by `METHOD path` (`* path` for a route served on any method). */
const OPERATIONS: Record<string, OperationDoc> = {
  '* /health': { summary: 'Liveness: answers on any method', answer: Type.Object({ status: Type.Literal('ok') }) },
  'GET /openapi.json': { summary: 'This document', answer: anyObject },
  'GET /event-hooks': { summary: 'List hooks', paged: true, answer: list(ref('EventHook')) },
  'POST /event-hooks': {
    summary: 'Create a hook',
    body: ref('HookBody'),
    status: 201,
    answer: ref('EventHook'),
    validates: true,
  },
  'GET /event-hooks/sources': {
    summary: 'The source catalog: built-in and user-defined sources with their events',
    answer: data(anyObject),
  },
  'GET /event-hooks/sources/{source}': { summary: 'The events of one source', answer: data(anyObject) },
  'GET /event-hooks/sources/{source}/{event}': {
    summary: 'One event of a source',
    answer: data(ref('EventDefinition')),
  },
  'PUT /event-hooks/sources/{source}/{event}': {
    summary: 'Define (or replace) a user-defined event',
    body: ref('EventDefinition'),
    answer: data(ref('EventDefinition')),
    validates: true,
  },
  'DELETE /event-hooks/sources/{source}/{event}': { summary: 'Remove a user-defined event' },
  'GET /event-hooks/{id}': { summary: 'Read a hook', answer: ref('EventHook') },
  'PATCH /event-hooks/{id}': {
    summary: 'Change some fields of a hook (config merged key by key)',
    body: ref('HookPatch'),
    answer: ref('EventHook'),
    validates: true,
  },
  'PUT /event-hooks/{id}': {
    summary: 'Create or replace a hook',
    body: ref('HookBody'),
    query: PutHookQuerySchema,
    answer: ref('EventHook'),
    validates: true,
  },
  'DELETE /event-hooks/{id}': { summary: 'Delete a hook' },
  'POST /event-hooks/{id}/test': {
    summary: 'Run the hook now with the body as event data',
    body: anyObject,
    answer: Type.Object({ data: anyObject, result: Type.Unknown() }),
  },
  'GET /event-hooks/{id}/ping': { summary: 'Send a ping to a webhook', answer: anyObject },
  'POST /event-hooks/{id}/secret/rotate': {
    summary: 'Rotate the signing secret, the old one kept for an overlap',
    body: ROTATE_BODY,
    answer: ROTATE_ANSWER,
    validates: true,
  },
  'POST /tenants': { summary: 'Create a tenant', body: TENANT_BODY, status: 201, answer: anyObject, validates: true },
  'POST /tenants/{id}/keys': {
    summary: "Create a tenant's API key (its secret is answered once)",
    body: KEY_BODY,
    status: 201,
    answer: anyObject,
    validates: true,
  },
  'PUT /tenants/{id}/quotas': {
    summary: "Set a tenant's quotas",
    body: QUOTAS_BODY,
    answer: anyObject,
    validates: true,
  },
  'GET /dead-letters': {
    summary: 'List dead letters',
    description: 'Only when the deployment keeps dead letters.',
    paged: true,
    answer: list(anyObject),
  },
  'GET /dead-letters/{id}': { summary: 'Read a dead letter', answer: anyObject },
  'DELETE /dead-letters/{id}': { summary: 'Delete a dead letter' },
  'POST /dead-letters/{id}/replay': { summary: 'Deliver a dead letter again', answer: anyObject },
  'POST /events': {
    summary: 'Publish an event, or a batch of them',
    description: 'With an `Idempotency-Key` header, a retry gets the first answer back.',
    body: ref('PostEvents'),
    status: 202,
    answer: data(Type.Array(ref('AcceptedEvent') as unknown as TSchema)),
    validates: true,
  },
  'POST /ingest/kong-http-log': {
    summary: "Kong's http-log plugin entries, turned into events",
    body: Type.Union([anyObject, Type.Array(anyObject)]),
    status: 202,
    answer: data(Type.Array(ref('AcceptedEvent') as unknown as TSchema)),
    validates: true,
  },
};

/** Keywords the Kong formatter reads; not JSON Schema, so not in the document. */
const PRIVATE_KEYWORDS = new Set(['kongMessage', 'patternMessage', 'typeMessage', 'listMessages']);

/** A TypeBox schema as plain JSON Schema (TypeBox's own symbols and the formatter's keywords dropped). */
function toJsonSchema(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema, (key, value) => (PRIVATE_KEYWORDS.has(key) ? undefined : value)));
}

/** A body a client sends: a field with a default may be left out. */
function optionalDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(optionalDefaults);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = optionalDefaults(value);
  const properties = out.properties as Record<string, { default?: unknown }> | undefined;
  if (properties && Array.isArray(out.required)) {
    out.required = (out.required as string[]).filter((name) => !('default' in (properties[name] ?? {})));
    if ((out.required as string[]).length === 0) delete out.required;
  }
  return out;
}

const json = (schema: unknown) => ({ 'application/json': { schema: toJsonSchema(schema) } });
const ERROR = { description: 'An error (Kong\'s `{"message"}` shape)', content: json(ref('Error')) };

function operation(method: string, path: string, doc: OperationDoc | undefined, id: string): Record<string, unknown> {
  const known: OperationDoc = doc ?? {
    summary: `${method.toUpperCase()} ${path}`,
    description: 'Answers JSON; see docs/reference.md.',
    answer: anyObject,
    ...(['post', 'put', 'patch'].includes(method) ? { body: anyObject } : {}),
  };
  const status = known.status ?? (known.answer ? 200 : 204);
  const responses: Record<string, unknown> = {
    [String(status)]: known.answer
      ? { description: 'Success', content: json(known.answer) }
      : { description: 'Success, no content' },
  };
  if (known.validates) {
    responses['400'] = { description: "Kong's schema violation", content: json(ref('SchemaViolation')) };
  }
  responses.default = ERROR;
  const query = { ...(known.paged ? PageQuerySchema.properties : {}), ...known.query?.properties };
  const parameters =
    Object.keys(query).length > 0
      ? Object.entries(query).map(([name, schema]) => ({
          name,
          in: 'query',
          required: false,
          schema: toJsonSchema(schema),
        }))
      : undefined;
  return {
    operationId: id,
    summary: known.summary,
    ...(known.description ? { description: known.description } : {}),
    ...(parameters ? { parameters } : {}),
    ...(known.body
      ? { requestBody: { required: method !== 'patch', content: json(optionalDefaults(toJsonSchema(known.body))) } }
      : {}),
    responses,
  };
}

/** `GET /event-hooks/{id}` → `getEventHooksId`, unique per method and path. */
function operationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1));
  return `${method}${words.join('')}`;
}

/**
 * The document for `routes` (the Admin API's table and the ingest function's), in their order.
 * A route served on any method (`*`) is listed under every method OpenAPI has.
 */
export function openApiDocument(
  routes: readonly DocumentedRoute[],
  version: string,
  handlers: HandlerRegistry = HANDLERS,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
    if (params.length > 0) {
      item.parameters = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    }
    for (const method of route.methods) {
      const methods = method === '*' ? OPENAPI_METHODS : [method.toLowerCase()];
      for (const m of methods) {
        const doc = OPERATIONS[`${method === '*' ? '*' : method.toUpperCase()} ${route.path}`];
        item[m] = operation(m, route.path, doc, operationId(m, route.path));
      }
    }
    paths[route.path] = item;
  }
  const all = components(handlers);
  const schemas = Object.fromEntries(
    Object.entries(all).map(([name, schema]) => [name, optionalDefaults(toJsonSchema(schema))]),
  );
  // Request bodies leave defaulted fields out; answers always carry them.
  schemas.EventHook = toJsonSchema(all.EventHook as TSchema);
  return {
    openapi: '3.1.0',
    info: {
      title: 'event-hooks',
      version,
      description:
        "Kong Gateway's Event Hooks as a service: the Admin API (`/event-hooks`), event ingestion (`POST /events`) and what is beyond Kong. Generated from the route tables and the request schemas.",
    },
    paths,
    components: { schemas },
  };
}

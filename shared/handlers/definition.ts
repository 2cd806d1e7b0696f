import type { TObject, TProperties, TSchema } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import type { FieldErrors } from '../errors.ts';
import type { ConfigOf, HookEntity } from '../hooks/hook.ts';
import type { ConfigOptions } from '../hooks/refinements.ts';
import type { HandlerDeps, HookHandler } from './types.ts';

/**
 * What a handler is, in one value: each handler module (shared/handlers/<name>.ts) exports one, and
 * the registry (registry.ts) lists them. Everything that depends on which handlers exist (names,
 * config validation, form bodies, the OpenAPI document, the hooks-file schema, building a runnable
 * hook, the functions a hook deploys) reads the registry and never branches on a handler's name.
 */
export interface HandlerDefinition<N extends string = string, C = unknown, R = unknown> {
  /** The `handler` field of a hook. */
  readonly name: N;
  /**
   * The config as stored (TypeBox): a field with a `default` is optional on input; a field marked
   * `readOnly` is the service's own (a rotation's `previous_secret`) and refused from clients.
   */
  readonly config: TObject;
  /**
   * Fields a client may write more loosely than they are stored (a method in any case, which
   * `normalise` upper-cases): the OpenAPI document and the default hooks-file config take these.
   */
  readonly sentFields?: TProperties;
  /**
   * The config as a hooks file writes it (`event-hooks apply`, editors: shapes and bounds, `${NAME}`
   * references), built from the parts shared/hooks/hooksFileSchema.ts passes in, so that they stay out
   * of the Lambda bundles. When absent: the client config with every defaulted field optional.
   */
  hooksFileConfig?(parts: HooksFileParts): TObject;
  /**
   * The handler signs its requests with `config.secret` by `config.signing` (docs/signatures.md): its
   * secret can be rotated (`previous_secret`). Sealing at rest does not depend on it: `secret`,
   * `previous_secret` and credential-like `headers` values are sealed whatever the handler
   * (shared/secrets/hookSecrets.ts).
   */
  readonly signed?: boolean;
  /** Input normalisation, on the config with defaults filled, before the schema's check (mutates it). */
  normalise?(config: Record<string, unknown>): void;
  /**
   * The checks JSON Schema cannot express, on the fields the schema accepted, reported with
   * `addRefinement` (shared/schema/kongErrors.ts; helpers in shared/hooks/refinements.ts).
   */
  refine?(config: Record<string, unknown>, errors: FieldErrors, options: ConfigOptions): void;
  /** Makes a hook of this handler runnable: its callback and, if it can be pinged, its ping. */
  create(hook: HookEntity<N, C>, deps: HandlerDeps): HookHandler<R>;
  /**
   * Resource hook, for a handler that deploys something: the entries the function runner deploys for
   * the hook, by position (user code, or the name of an existing function, which the runner leaves
   * alone). Read by the hook write effects, the deploy worker, the hook quota and the AWS sweeper,
   * through the registry's `USER_CODE_HOOKS`, which lists it once more (see `lambdaUserCode`).
   */
  userCode?(config: C): readonly string[] | undefined;
}

/** The building blocks of the hooks-file schema a handler's `hooksFileConfig` uses (shared/hooks/hooksFileSchema.ts). */
export interface HooksFileParts {
  /** A receiver's URL, or a `${NAME}` reference. */
  url: TSchema;
  /** A signing secret or `null`, or a `${NAME}` reference. */
  secret: TSchema;
  /** One of the signing schemes. */
  signing: TSchema;
  /** Header or field name → text. */
  stringMap: TSchema;
  nullable<T extends TSchema>(schema: T): TSchema;
  /** Non-empty text of at most `maxLength`. */
  text(maxLength: number, description?: string): TSchema;
}

/**
 * Declares a handler; the types of `create` and `userCode` follow from its name: its entry of
 * `HandlerConfigs`, which its module adds from its schema (a plain record for a handler no module
 * registers there, as a test's).
 *
 * @example
 * export const logHandler = defineHandler({
 *   name: 'log',
 *   config: Type.Object({}, { additionalProperties: false }),
 *   create: (hook, deps) => ({ async callback(event) { deps.logger.info('event hook', { ...event }); return { logged: true }; } }),
 * });
 */
export function defineHandler<const N extends string, R>(
  definition: HandlerDefinition<N, ConfigOf<N>, R>,
): HandlerDefinition<N, ConfigOf<N>, R> {
  return definition;
}

/** The handlers one service knows, looked up by name. */
export interface HandlerRegistry {
  readonly definitions: readonly HandlerDefinition[];
  readonly names: readonly string[];
  get(name: string): HandlerDefinition | undefined;
}

/**
 * A registry of `definitions`, in their order (the order of `expected one of:` and of the OpenAPI
 * variants). Production has one (registry.ts); tests may make their own with more handlers.
 *
 * @throws Error when two definitions share a name
 */
export function createRegistry(definitions: readonly HandlerDefinition[]): HandlerRegistry {
  const byName = new Map<string, HandlerDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new Error(`two handlers are named '${definition.name}'`);
    byName.set(definition.name, definition);
  }
  return { definitions, names: definitions.map((definition) => definition.name), get: (name) => byName.get(name) };
}

const CLIENT_CONFIGS = new WeakMap<HandlerDefinition, TObject>();

/** What a client may send as a handler's config: its schema without the service's own (`readOnly`) fields. Cached. */
export function clientConfigSchema(definition: HandlerDefinition): TObject {
  let schema = CLIENT_CONFIGS.get(definition);
  if (!schema) {
    const properties = Object.entries(definition.config.properties).filter(([, property]) => !isReadOnly(property));
    schema =
      properties.length === Object.keys(definition.config.properties).length
        ? definition.config
        : Type.Object(Object.fromEntries(properties), { additionalProperties: false });
    CLIENT_CONFIGS.set(definition, schema);
  }
  return schema;
}

const isReadOnly = (schema: TSchema): boolean => schema.readOnly === true;

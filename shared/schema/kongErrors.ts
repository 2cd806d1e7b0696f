import type { Static, TSchema } from '@sinclair/typebox';
import { Errors, type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Check } from '@sinclair/typebox/value';
import type { FieldErrors } from '../errors.ts';
import { setOwn } from '../records.ts';

/**
 * The one formatter from schema errors to Kong's `fields` (`{"config":{"url":"required field missing"}}`),
 * with Kong's wording (`expected a string`, `length must be at most N`, `value should be between A and B`,
 * `expected one of: …`, `unknown field`). Every input schema of the service reports through it, and
 * so do the checks a schema cannot express (refinements), so a client sees one style everywhere.
 */

export const REQUIRED = 'required field missing';
export const UNKNOWN = 'unknown field';

/**
 * A message a schema node gives for a failed `pattern` (Kong's own words for what the pattern means,
 * e.g. `invalid header value`), or for any failure of the node (`kongMessage`).
 */
export interface KongAnnotations {
  patternMessage?: string;
  /**
   * A list judged as a whole: any error of the list or of an entry is reported on the list, with
   * the message given here for its kind (`ArrayMaxItems`, `StringMaxLength`, …), else Kong's.
   */
  listMessages?: Partial<Record<keyof typeof ValueErrorType, string>>;
  /** For a record of the wrong type: `expected a map` for Kong's maps (default `expected a record`). */
  typeMessage?: string;
  kongMessage?: string;
}

/** One field's failure: a message, or nested messages for a record, map or array. */
export type FieldError = string | FieldErrors;

/** A schema's checker: `Check` for the verdict, `Errors` walked only for invalid input. */
export interface SchemaCheck<T extends TSchema> {
  Check(value: unknown): value is Static<T>;
  Errors(value: unknown): Iterable<ValueError>;
  Schema(): T;
}

/**
 * The checker of a schema, by TypeBox's own walk of it (`Value.Check`, and `Errors` only for invalid
 * input) rather than by code compiled from it (`TypeCompiler`): for these schemas the walk is within
 * half a microsecond of the compiled check (0.7 against 0.4 µs for an event), while the compiler
 * would add about 20 KB to every bundle that checks input and generate code for each schema as its
 * module loads or is first used, which a Lambda cold start pays for.
 */
export function compile<T extends TSchema>(schema: T): SchemaCheck<T> {
  return {
    Check: (value): value is Static<T> => Check(schema, value),
    Errors: (value) => Errors(schema, value),
    Schema: () => schema,
  };
}

const isNullSchema = (schema: TSchema) => schema.type === 'null';
const literals = (schema: TSchema): string[] | undefined => {
  if (typeof schema.const === 'string') return [schema.const];
  if (!Array.isArray(schema.anyOf)) return undefined;
  const all = (schema.anyOf as TSchema[]).map(literals);
  return all.every((list) => list !== undefined) ? all.flat() : undefined;
};

const between = (schema: TSchema) => `value should be between ${schema.minimum} and ${schema.maximum}`;

/** Kong's message for one schema error, or `undefined` to look at a union's own variant. */
function message(error: ValueError): string {
  const schema = error.schema as TSchema & KongAnnotations;
  if (schema.kongMessage !== undefined) return schema.kongMessage;
  switch (error.type) {
    case ValueErrorType.String:
      return 'expected a string';
    case ValueErrorType.StringMinLength:
      return `length must be at least ${schema.minLength}`;
    case ValueErrorType.StringMaxLength:
      return `length must be at most ${schema.maxLength}`;
    case ValueErrorType.StringPattern:
      return schema.patternMessage ?? `must match ${schema.pattern}`;
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
      return 'expected an integer';
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return between(schema);
    case ValueErrorType.Boolean:
      return 'expected a boolean';
    case ValueErrorType.Object:
      return schema.typeMessage ?? 'expected a record';
    case ValueErrorType.ObjectRequiredProperty:
      return REQUIRED;
    case ValueErrorType.ObjectAdditionalProperties:
      return UNKNOWN;
    case ValueErrorType.ObjectMaxProperties:
      return `length must be at most ${schema.maxProperties}`;
    case ValueErrorType.ObjectMinProperties:
      return `length must be at least ${schema.minProperties}`;
    case ValueErrorType.Array:
      return 'expected an array';
    case ValueErrorType.ArrayMinItems:
      return `length must be at least ${schema.minItems}`;
    case ValueErrorType.ArrayMaxItems:
      return `length must be at most ${schema.maxItems}`;
    case ValueErrorType.ArrayUniqueItems:
      return 'entries must be unique';
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return unionMessage(error);
    default:
      return error.message;
  }
}

/** A set of allowed strings: `expected one of: …`, or `expected a string` for another type, as Kong's `one_of`. */
function unionMessage(error: ValueError): string {
  const allowed = literals(error.schema);
  if (allowed === undefined) return error.message;
  return typeof error.value === 'string' ? `expected one of: ${allowed.join(', ')}` : 'expected a string';
}

/**
 * The errors to report for one error of the schema: a nullable field (`T | null`) fails as `T`
 * does, with `T`'s own paths (a field of a nullable record); anything else is itself.
 */
function* expand(error: ValueError): Generator<ValueError> {
  const variants = error.type === ValueErrorType.Union ? (error.schema.anyOf as TSchema[]) : [];
  const index = variants.findIndex((variant) => !isNullSchema(variant));
  if (literals(error.schema) !== undefined || index < 0 || !variants.some(isNullSchema)) {
    yield error;
    return;
  }
  for (const inner of error.errors[index] ?? []) yield* expand(inner);
}

/** `/config/functions/1` → `['config', 'functions', '1']` (RFC 6901, as TypeBox writes paths). */
const segmentsOf = (path: string): string[] =>
  path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));

/** Kong reports array elements under their 1-based index: `{"functions":{"2":"…"}}`. */
function kongPath(value: unknown, segments: string[]): string[] {
  const out: string[] = [];
  let node = value;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      out.push(String(Number(segment) + 1));
      node = node[Number(segment)];
    } else {
      out.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}

/** The list around `segments` whose errors are reported on the list itself (`listMessages`), if any. */
function listAround(
  schema: TSchema,
  segments: string[],
): { depth: number; schema: TSchema & KongAnnotations } | undefined {
  let node: TSchema | undefined = schema;
  for (let depth = 0; node !== undefined && depth <= segments.length; depth++) {
    if ((node as KongAnnotations).listMessages) return { depth, schema: node };
    const segment = segments[depth];
    if (segment === undefined) return undefined;
    const variants: TSchema[] = Array.isArray(node.anyOf)
      ? (node.anyOf as TSchema[]).filter((v) => !isNullSchema(v))
      : [node];
    const inner: TSchema | undefined = variants.length === 1 ? variants[0] : undefined;
    node = inner?.properties?.[segment] ?? inner?.items;
  }
  return undefined;
}

/** Sets `message` at `path` of `tree`, keeping the first message of a field and of its ancestors. */
function place(tree: FieldErrors, path: string[], error: FieldError, override = false): void {
  if (path.length === 0) return;
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next === 'string' || Array.isArray(next)) return;
    if (next === undefined) {
      const created: FieldErrors = {};
      setOwn(node, key, created);
      node = created;
    } else node = next;
  }
  const leaf = path.at(-1) as string;
  if (!override && Object.hasOwn(node, leaf)) return;
  setOwn(node, leaf, error);
}

/** Orders the keys of each nested error record as the schema lists its properties (Kong's order), others after. */
export function orderedLike(schema: TSchema | undefined, errors: FieldErrors): FieldErrors {
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
  const out: FieldErrors = {};
  const keys = [...Object.keys(properties).filter((key) => Object.hasOwn(errors, key)), ...Object.keys(errors)];
  for (const key of new Set(keys)) {
    const error = errors[key] as FieldError | string[];
    const child = properties[key];
    setOwn(out, key, typeof error === 'string' || Array.isArray(error) ? error : orderedLike(child, error));
  }
  return out;
}

/**
 * Kong's field errors of `value` against a compiled schema: one message per field (the first the
 * schema finds, nothing beneath a field that already failed), keyed by Kong's paths, in the schema's
 * field order. `{}` when the value passes.
 */
export function kongErrors<T extends TSchema>(check: SchemaCheck<T>, value: unknown): FieldErrors {
  const tree: FieldErrors = {};
  if (check.Check(value)) return tree;
  const root = check.Schema();
  for (const error of [...check.Errors(value)].flatMap((found) => [...expand(found)])) {
    const segments = segmentsOf(error.path);
    const list = listAround(root, segments);
    if (list) {
      const text = list.schema.listMessages?.[ValueErrorType[error.type] as keyof typeof ValueErrorType];
      place(tree, kongPath(value, segments.slice(0, list.depth)), text ?? message(error));
      continue;
    }
    const path = kongPath(value, segments);
    if (path.length === 0) {
      // The whole value is of the wrong type: Kong reports that on the entity.
      tree['@entity'] = [message(error)];
      break;
    }
    place(tree, path, message(error));
  }
  return orderedLike(check.Schema(), tree);
}

/**
 * Adds a refinement's finding (a check the schema cannot express: URL rules, reserved headers,
 * template syntax…) to `errors`: under `path`, unless that field, or one around it, already failed.
 * A record of messages (a map's keys) replaces what the schema said about those entries.
 */
export function addRefinement(errors: FieldErrors, path: string[], error: FieldError | undefined): void {
  if (error === undefined) return;
  if (typeof error === 'string') {
    place(errors, path, error);
    return;
  }
  for (const [key, child] of Object.entries(error)) {
    if (typeof child === 'string') place(errors, [...path, key], child, true);
    else if (!Array.isArray(child)) addRefinement(errors, [...path, key], child);
  }
}

/** Whether an error is recorded at `path` or at a field around it. */
export function failedAt(errors: FieldErrors, path: string[]): boolean {
  let node: FieldErrors | string | string[] | undefined = errors;
  for (const key of path) {
    if (node === undefined || typeof node === 'string' || Array.isArray(node)) return node !== undefined;
    node = Object.hasOwn(node, key) ? node[key] : undefined;
  }
  return node !== undefined;
}

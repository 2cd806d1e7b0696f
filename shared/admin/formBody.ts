import type { TSchema } from '@sinclair/typebox';
import { BadRequestError } from '../errors.ts';
import { clientConfigSchema, type HandlerRegistry } from '../handlers/definition.ts';
import { HANDLERS } from '../handlers/registry.ts';
import { EventDefinitionSchema, HookInputSchema } from '../hooks/schemas.ts';
import { emptyRecord, getOwn, setOwn } from '../records.ts';
import { REQUEST_LIMITS } from './limits.ts';

/**
 * Kong's Admin API also takes form bodies (`curl -d source=crud -d config.url=…`), with dotted keys
 * for nesting, repeated keys or `[n]` for arrays, and the schema deciding the types. Which fields are
 * not text is read from the schemas of the bodies that take forms (a hook, every registered handler's
 * config, a source definition); everything else stays as text and the validator judges it as it judges JSON.
 */
interface FormTypes {
  booleans: Set<string>;
  integers: Set<string>;
  arrays: Set<string>;
  /** Fields with a default, which an empty form value resets (to `null` or the default), as Kong reads `-d event=`. */
  nullable: Set<string>;
}

/** `T | null` is `T` for coercion. */
function unwrap(schema: TSchema): TSchema {
  const variants = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]) : [];
  const values = variants.filter((variant) => variant.type !== 'null');
  return values.length === 1 && values.length < variants.length ? (values[0] as TSchema) : schema;
}

function collectTypes(types: FormTypes, schema: TSchema, prefix: string): void {
  for (const [key, property] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const path = `${prefix}${key}`;
    const inner = unwrap(property);
    if ('default' in property) types.nullable.add(path);
    if (inner.type === 'boolean') types.booleans.add(path);
    else if (inner.type === 'integer') types.integers.add(path);
    else if (inner.type === 'array') types.arrays.add(path);
    else if (inner.type === 'object' && inner.properties) collectTypes(types, inner, `${path}.`);
  }
}

const FORM_TYPES = new WeakMap<HandlerRegistry, FormTypes>();

/** The field types of the form bodies, with the configs of `registry`'s handlers; read once per registry. */
function formTypesOf(registry: HandlerRegistry): FormTypes {
  let types = FORM_TYPES.get(registry);
  if (!types) {
    types = { booleans: new Set(), integers: new Set(), arrays: new Set(), nullable: new Set() };
    collectTypes(types, HookInputSchema, '');
    for (const definition of registry.definitions) collectTypes(types, clientConfigSchema(definition), 'config.');
    collectTypes(types, EventDefinitionSchema, '');
    FORM_TYPES.set(registry, types);
  }
  return types;
}

const MAX_DEPTH = 5;

type Tree = { [key: string]: Tree | unknown };

function coerce(types: FormTypes, path: string, value: string): unknown {
  if (value === '' && types.nullable.has(path)) return null;
  if (types.booleans.has(path) && (value === 'true' || value === 'false')) return value === 'true';
  if (types.integers.has(path) && /^-?\d{1,15}$/.test(value)) return Number(value);
  return value;
}

const shortKey = (key: string) => (key.length > 100 ? `${key.slice(0, 100)}…` : key);

/** `config.functions[2]` → `['config', 'functions']` and index 1 (Kong's indexes start at 1). */
function parseKey(key: string): { parts: string[]; index?: number } {
  const indexed = /^(.*)\[(\d*)\]$/.exec(key);
  const name = indexed ? (indexed[1] as string) : key;
  const parts = name.split('.');
  if (parts.length > MAX_DEPTH || parts.some((part) => part === '')) {
    throw new BadRequestError(`invalid form field name '${shortKey(key)}'`);
  }
  const digits = indexed?.[2];
  if (!digits) return { parts };
  // An index is where the array's length comes from: `fields[300000000]` must not build a huge sparse array.
  const index = digits.length <= 6 ? Number(digits) : Number.POSITIVE_INFINITY;
  if (index < 1 || index > REQUEST_LIMITS.formIndex) {
    throw new BadRequestError(`form field '${shortKey(key)}': array indexes run from 1 to ${REQUEST_LIMITS.formIndex}`);
  }
  return { parts, index: index - 1 };
}

/**
 * Builds the JSON-shaped body from form pairs, in order. Keys are user-chosen, so every object of
 * the tree is prototype-less (`constructor` or `__proto__` are plain keys the validator reports as
 * unknown fields). At most `REQUEST_LIMITS.formFields` pairs, array indexes within
 * `REQUEST_LIMITS.formIndex` and no gaps, so the work is bounded by the body's size.
 */
export function formToBody(
  pairs: Iterable<[string, string]>,
  handlers: HandlerRegistry = HANDLERS,
): Record<string, unknown> {
  const types = formTypesOf(handlers);
  const root: Tree = emptyRecord();
  const indexedArrays = new Map<unknown[], string>();
  let count = 0;
  for (const [key, raw] of pairs) {
    if (++count > REQUEST_LIMITS.formFields) {
      throw new BadRequestError(`a form body may have at most ${REQUEST_LIMITS.formFields} fields`);
    }
    const { parts, index } = parseKey(key);
    const path = parts.join('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = getOwn(node, part);
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
        next = emptyRecord();
        setOwn(node, part, next);
      }
      node = next as Tree;
    }
    const leaf = parts.at(-1) as string;
    const value = coerce(types, path, raw);
    if (types.arrays.has(path)) {
      const current = getOwn(node, leaf);
      const list = Array.isArray(current) ? current : [];
      if (index === undefined) list.push(value);
      else {
        list[index] = value;
        indexedArrays.set(list, path);
      }
      setOwn(node, leaf, list);
    } else {
      setOwn(node, leaf, value);
    }
  }
  // `fields[1]=a&fields[3]=c`: a gap is refused rather than read as a missing (or `null`) entry.
  for (const [list, path] of indexedArrays) {
    for (let i = 0; i < list.length; i++) {
      if (!Object.hasOwn(list, i)) throw new BadRequestError(`form field '${path}' has no entry [${i + 1}]`);
    }
  }
  return root;
}

/** The media type of a request, lower-case, without parameters. */
export function mediaType(headers: Record<string, string | undefined>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads an `application/x-www-form-urlencoded` or `multipart/form-data` body into a JSON-shaped one. */
export async function parseFormBody(
  body: string,
  contentType: string,
  handlers: HandlerRegistry = HANDLERS,
): Promise<Record<string, unknown>> {
  if (mediaType({ 'content-type': contentType }) === 'application/x-www-form-urlencoded') {
    return formToBody(new URLSearchParams(body), handlers);
  }
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new BadRequestError('Cannot parse multipart form body', { cause: error });
  }
  const pairs: [string, string][] = [];
  for (const [key, value] of form.entries()) pairs.push([key, typeof value === 'string' ? value : await value.text()]);
  return formToBody(pairs, handlers);
}

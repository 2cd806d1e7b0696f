import { BadRequestError } from '../errors.ts';
import { emptyRecord, getOwn, setOwn } from '../records.ts';
import { REQUEST_LIMITS } from './limits.ts';

/**
 * Kong's Admin API also takes form bodies (`curl -d source=crud -d config.url=…`), with dotted keys
 * for nesting, repeated keys or `[n]` for arrays, and the schema deciding the types. These are the
 * fields of an event hook whose type is not a string; everything else stays as text and the
 * validator judges it as it judges JSON.
 */
const BOOLEANS = new Set([
  'on_change',
  'enabled',
  'config.ssl_verify',
  'config.payload_format',
  'config.body_format',
  'config.headers_format',
]);
const INTEGERS = new Set(['snooze', 'created_at', 'threshold.count', 'threshold.window']);
const ARRAYS = new Set(['config.functions', 'fields', 'unique']);
/** Optional fields an empty form value clears, as Kong reads it (`-d event=`). */
const NULLABLE = new Set([
  'event',
  'on_change',
  'snooze',
  'filter',
  'threshold',
  'enabled',
  'config.secret',
  'config.body',
  'config.payload',
  'config.headers',
  'description',
]);

const MAX_DEPTH = 5;

type Tree = { [key: string]: Tree | unknown };

function coerce(path: string, value: string): unknown {
  if (value === '' && NULLABLE.has(path)) return null;
  if (BOOLEANS.has(path) && (value === 'true' || value === 'false')) return value === 'true';
  if (INTEGERS.has(path) && /^-?\d{1,15}$/.test(value)) return Number(value);
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
export function formToBody(pairs: Iterable<[string, string]>): Record<string, unknown> {
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
    const value = coerce(path, raw);
    if (ARRAYS.has(path)) {
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
export async function parseFormBody(body: string, contentType: string): Promise<Record<string, unknown>> {
  if (mediaType({ 'content-type': contentType }) === 'application/x-www-form-urlencoded') {
    return formToBody(new URLSearchParams(body));
  }
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new BadRequestError('Cannot parse multipart form body', { cause: error });
  }
  const pairs: [string, string][] = [];
  for (const [key, value] of form.entries()) pairs.push([key, typeof value === 'string' ? value : await value.text()]);
  return formToBody(pairs);
}

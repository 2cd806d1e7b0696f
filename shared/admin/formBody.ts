import { BadRequestError } from '../errors.ts';

/**
 * Kong's Admin API also takes form bodies (`curl -d source=crud -d config.url=…`), with dotted keys
 * for nesting, repeated keys or `[n]` for arrays, and the schema deciding the types. These are the
 * fields of an event hook whose type is not a string; everything else stays as text and the
 * validator judges it as it judges JSON.
 */
const BOOLEANS = new Set([
  'on_change',
  'config.ssl_verify',
  'config.payload_format',
  'config.body_format',
  'config.headers_format',
]);
const INTEGERS = new Set(['snooze', 'created_at']);
const ARRAYS = new Set(['config.functions', 'fields', 'unique']);
/** Optional fields an empty form value clears, as Kong reads it (`-d event=`). */
const NULLABLE = new Set([
  'event',
  'on_change',
  'snooze',
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

/** `config.functions[2]` → `['config', 'functions']` and index 1 (Kong's indexes start at 1). */
function parseKey(key: string): { parts: string[]; index?: number } {
  const indexed = /^(.*)\[(\d*)\]$/.exec(key);
  const name = indexed ? (indexed[1] as string) : key;
  const parts = name.split('.');
  if (parts.length > MAX_DEPTH || parts.some((part) => part === '' || part === '__proto__')) {
    throw new BadRequestError(`invalid form field name '${key}'`);
  }
  const index = indexed?.[2] ? Number(indexed[2]) - 1 : undefined;
  return index === undefined ? { parts } : { parts, index };
}

/** Builds the JSON-shaped body from form pairs, in order. */
export function formToBody(pairs: Iterable<[string, string]>): Record<string, unknown> {
  const root: Tree = {};
  for (const [key, raw] of pairs) {
    const { parts, index } = parseKey(key);
    const path = parts.join('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
      node = node[part] as Tree;
    }
    const leaf = parts.at(-1) as string;
    const value = coerce(path, raw);
    if (ARRAYS.has(path)) {
      const list = Array.isArray(node[leaf]) ? (node[leaf] as unknown[]) : [];
      if (index === undefined) list.push(value);
      else list[index] = value;
      node[leaf] = list;
    } else {
      node[leaf] = value;
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

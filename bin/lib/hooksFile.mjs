// Hooks as code: the file `apply` reads and `export` writes (a YAML or JSON list of hooks in the
// Admin API's own shape, ids required), its environment references, and Kong's entity shape.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { UsageError } from './client.mjs';

/** The fields of Kong's own event hook entity; everything else a hook carries is this service's. */
export const KONG_FIELDS = ['id', 'created_at', 'source', 'event', 'handler', 'on_change', 'snooze', 'config'];

/** Set by the service, never by a client: not written by `export`, not compared by a plan. */
const READ_ONLY = ['deployment'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `${NAME}`: a reference to an environment variable, resolved by `apply`. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Parses a hooks file: JSON when the name ends in `.json`, else YAML (which reads JSON too). Only the
 * file's shape is checked here (a list of objects, each with a UUID `id`, no id twice); every hook
 * is then validated by the service itself.
 * @param {string} text @param {string} name
 * @returns {Record<string, unknown>[]}
 */
export function parseHooksFile(text, name) {
  let value;
  try {
    value = name.endsWith('.json') ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid ${name.endsWith('.json') ? 'JSON' : 'YAML'}: ${messageOf(error)}`);
  }
  // An empty file (or one of comments only) is an empty list: with --prune it deletes every hook.
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new UsageError(`${name}: expected a list of hooks, found ${describe(value)}`);
  const seen = new Map();
  value.forEach((hook, i) => {
    const where = `${name}: hook ${i + 1}`;
    if (!isObject(hook)) throw new UsageError(`${where}: expected an object, found ${describe(hook)}`);
    // A YAML alias inside its own anchor (`&c {x: *c}`) makes a cycle no request can carry.
    if (hasCycle(hook)) throw new UsageError(`${where} refers to itself (a YAML alias inside its own anchor)`);
    if (hook.id === undefined) throw new UsageError(`${where}: id is required (export writes it; any UUID will do)`);
    if (typeof hook.id !== 'string' || !UUID.test(hook.id))
      throw new UsageError(`${where}: id must be a UUID, found ${JSON.stringify(hook.id)}`);
    const id = hook.id.toLowerCase();
    if (seen.has(id)) throw new UsageError(`${where}: id ${id} is already hook ${seen.get(id)}`);
    seen.set(id, i + 1);
  });
  return value;
}

/** Reads and parses a hooks file (`-`: stdin). */
export function readHooksFile(file) {
  let text;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${messageOf(error)}`);
  }
  return parseHooksFile(text, file === '-' ? 'stdin' : file);
}

/**
 * The places a reference is resolved: the secret (the whole value), and inside the URL and header
 * values (anywhere in the string, e.g. a Slack URL's token). Never in user code or templates, where
 * `${…}` is the code's or the template's own.
 */
function* referencePlaces(hook) {
  const config = hook.config;
  if (!isObject(config)) return;
  if (typeof config.secret === 'string') yield ['config.secret', config.secret, (v) => (config.secret = v)];
  if (typeof config.url === 'string') yield ['config.url', config.url, (v) => (config.url = v)];
  if (isObject(config.headers)) {
    for (const [name, value] of Object.entries(config.headers))
      if (typeof value === 'string') yield [`config.headers.${name}`, value, (v) => (config.headers[name] = v)];
  }
}

/**
 * A copy of the hooks with every `${NAME}` replaced by the environment's value. Every reference is
 * checked before any is used: a missing variable is a usage error naming it and the hook.
 */
export function resolveReferences(hooks, env = process.env) {
  const copies = structuredClone(hooks);
  const missing = [];
  copies.forEach((hook, i) => {
    for (const [path, value, set] of referencePlaces(hook)) {
      set(
        value.replace(REFERENCE, (whole, name) => {
          if (Object.hasOwn(env, name) && env[name] !== undefined) return env[name];
          missing.push(`hook ${i + 1} (${hook.id}) ${path}: environment variable ${name} is not set`);
          return whole;
        }),
      );
    }
  });
  if (missing.length > 0) throw new UsageError(missing.join('\n'));
  return copies;
}

/**
 * Header names whose values are credentials: the rule of the service's logs and of what it seals at
 * rest (`SECRET_KEY` in shared/logger.ts), so export never writes what the service keeps secret.
 */
const CREDENTIAL_NAME = /secret|password|authorization|signature|token|api[-_]?key|credential|cookie/i;

/**
 * The variable `export` names a hook's secret by: `HOOK_` and the first 8 hex digits of its id,
 * upper-case (`HOOK_6B9A4F0E_SECRET`); the whole id if two hooks of one export share those 8.
 */
export function secretVariables(hooks) {
  const short = (id) => id.slice(0, 8).toUpperCase();
  const counts = new Map();
  for (const hook of hooks) counts.set(short(hook.id), (counts.get(short(hook.id)) ?? 0) + 1);
  return new Map(
    hooks.map((hook) => {
      const part = counts.get(short(hook.id)) > 1 ? hook.id.replace(/-/g, '').toUpperCase() : short(hook.id);
      return [hook.id, `HOOK_${part}_SECRET`];
    }),
  );
}

/**
 * The hooks as `export` writes them: the service's read-only fields and rotation state removed,
 * each secret replaced by a reference (unless `showSecrets`). Returns the hooks and the variables
 * that `apply` will need.
 */
export function exportable(hooks, { showSecrets = false } = {}) {
  const names = secretVariables(hooks);
  const variables = [];
  const out = hooks.map((hook) => {
    const copy = withoutReadOnly(hook);
    if (isObject(copy.config)) {
      // The previous secret is rotation state: a file that sets it could not be applied.
      delete copy.config.previous_secret;
      if (typeof copy.config.secret === 'string' && !showSecrets && !WHOLE_REFERENCE.test(copy.config.secret)) {
        const name = names.get(hook.id);
        copy.config.secret = `\${${name}}`;
        variables.push(name);
      }
      // Credential headers are secrets too (the service seals them at rest): `HOOK_<id>_HEADER_<NAME>`.
      if (isObject(copy.config.headers) && !showSecrets) {
        const headers = { ...copy.config.headers };
        for (const [header, value] of Object.entries(headers)) {
          if (typeof value !== 'string' || !CREDENTIAL_NAME.test(header) || WHOLE_REFERENCE.test(value)) continue;
          const name = `${names.get(hook.id).replace(/_SECRET$/, '')}_HEADER_${header.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
          Object.defineProperty(headers, header, {
            value: `\${${name}}`,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          variables.push(name);
        }
        copy.config.headers = headers;
      }
    }
    return copy;
  });
  return { hooks: out, variables };
}

/**
 * Kong's entity shape: only Kong's fields, and in `config` no `signing`. Returns the hooks and what
 * Kong would do differently with each, for a warning (Kong has no filter, no threshold, no
 * disabled hooks, and runs Lua where this service runs JavaScript).
 */
export function kongShape(hooks) {
  const notes = [];
  const out = hooks.map((hook) => {
    const copy = Object.fromEntries(KONG_FIELDS.filter((k) => Object.hasOwn(hook, k)).map((k) => [k, hook[k]]));
    if (isObject(copy.config)) {
      const { signing, previous_secret: _previous, ...config } = copy.config;
      copy.config = config;
      if (signing !== undefined && signing !== 'kong')
        notes.push(`hook ${hook.id}: signs the ${signing} way here; Kong signs with x-kong-signature only`);
    }
    if (hook.enabled === false)
      notes.push(`hook ${hook.id}: disabled here; Kong has no enabled field and would run it`);
    if (hook.filter != null)
      notes.push(`hook ${hook.id}: its filter is dropped; Kong would fire it on every ${hook.source} event`);
    if (hook.threshold != null)
      notes.push(`hook ${hook.id}: its threshold is dropped; Kong would fire it on every event`);
    if (hook.handler === 'lambda')
      notes.push(`hook ${hook.id}: its functions are JavaScript here; Kong runs Lua, they need rewriting`);
    return copy;
  });
  return { hooks: out, notes };
}

/** The hook without the fields the service sets itself. */
export function withoutReadOnly(hook) {
  const copy = structuredClone(hook);
  for (const key of READ_ONLY) delete copy[key];
  return copy;
}

/** YAML (the default) or JSON text of a list of hooks. */
export function formatHooks(hooks, json) {
  if (json) return `${JSON.stringify(hooks, null, 2)}\n`;
  // No folding: user code and templates stay as written (multi-line strings become block scalars).
  return hooks.length === 0 ? '[]\n' : stringify(hooks, { lineWidth: 0 });
}

const SECRET_PATH = /(^|\.)(secret|previous_secret)(\.|$)/;

/**
 * The differences between two hooks as `[path, before, after]`, paths dotted (`config.url`);
 * objects are compared key by key, anything else (arrays included) as a whole.
 */
export function fieldDiff(before, after, prefix = '') {
  const rows = [];
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of [...keys].sort()) {
    const path = prefix ? `${prefix}.${key}` : key;
    const a = before?.[key];
    const b = after?.[key];
    if (isObject(a) && isObject(b)) rows.push(...fieldDiff(a, b, path));
    else if (JSON.stringify(a) !== JSON.stringify(b)) rows.push([path, a, b]);
  }
  return rows;
}

/** The secret and a credential header's value (`config.headers.Authorization`): sealed at rest, never printed. */
function isSecretPath(path) {
  if (SECRET_PATH.test(path)) return true;
  const header = /^config\.headers\.(.+)$/.exec(path)?.[1];
  return header !== undefined && CREDENTIAL_NAME.test(header);
}

/** A value with the credentials inside it hidden (a whole `headers` map added or removed). */
function masked(value) {
  if (Array.isArray(value)) return value.map(masked);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, CREDENTIAL_NAME.test(k) && v !== null ? '(hidden)' : masked(v)]),
  );
}

/** One diff row for a person: secrets are never printed, only that they changed. */
export function describeChange([path, before, after]) {
  if (isSecretPath(path)) {
    const state = (v) => (v === undefined ? 'absent' : v === null ? 'null' : 'set');
    return `${path}: ${state(before) === state(after) ? '(changed)' : `${state(before)} → ${state(after)}`}`;
  }
  const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(masked(v)));
  return `${path}: ${show(before)} → ${show(after)}`;
}

/** A change row for machine output, the secrets' values left out. */
export function changeJson([path, before, after]) {
  if (isSecretPath(path)) return { field: path, secret: true };
  return { field: path, before: masked(before) ?? null, after: masked(after) ?? null };
}

/** Whether a parsed value contains itself (only YAML aliases can make one). */
function hasCycle(value, path = new Set()) {
  if (value === null || typeof value !== 'object') return false;
  if (path.has(value)) return true;
  path.add(value);
  const found = Object.values(value).some((child) => hasCycle(child, path));
  path.delete(value);
  return found;
}

function describe(value) {
  return value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'an object'
        : typeof value;
}

function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

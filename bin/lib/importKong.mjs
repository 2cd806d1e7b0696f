// `event-hooks import --from-kong`: reads Kong's `GET /event-hooks` (every page, following `next`)
// and turns it into the list `apply` writes, ids and `created_at` kept. Kong's `lambda` hooks run
// Lua, which this service does not run: they are never dropped silently, only skipped on request
// (`--lua=skip`) or imported with a JavaScript replacement (`--replace <id>=file.js`).
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { ServiceError, UsageError } from './client.mjs';
import { KONG_FIELDS } from './hooksFile.mjs';

/** More pages than any Kong holds (1,000 hooks a page): a `next` that never ends is an error, not a hang. */
const MAX_PAGES = 1000;
/** More bytes than a page of 1,000 Kong hooks takes: a larger answer is refused before it fills the memory. */
const MAX_PAGE_BYTES = 32 * 1024 * 1024;

/** @param {import('commander').Command} command */
export function importOptions(command) {
  return command
    .option('--token <token>', 'sent as Kong-Admin-Token (Kong Gateway RBAC) and as a bearer token (Konnect)')
    .option('--workspace <name>', "the workspace's hooks (/<workspace>/event-hooks); default Kong's default one")
    .addOption(new Option('--lua <what>', "Kong's lambda hooks run Lua: skip them").choices(['skip']))
    .option(
      '--replace <id=file>',
      "import Kong's lambda hook <id> with this JavaScript file as its function (repeat for a pipeline)",
      (value, previous) => [...previous, value],
      [],
    );
}

/** Every event hook of the Kong Admin API, in Kong's order. */
export async function readKongHooks(adminUrl, { token, workspace } = {}) {
  const base = new URL(adminUrl.replace(/\/+$/, ''));
  const prefix = base.pathname.replace(/\/+$/, '');
  // Kong Gateway (RBAC) reads Kong-Admin-Token; Konnect reads a bearer token. Both are sent.
  const headers = token ? { 'kong-admin-token': token, authorization: `Bearer ${token}` } : {};
  const workspacePath = workspace ? `/${encodeURIComponent(workspace)}` : '';
  let next = `${prefix}${workspacePath}/event-hooks?size=1000`;
  const hooks = [];
  const read = new Set();
  for (let pages = 0; next; pages++) {
    if (pages === MAX_PAGES) throw new ServiceError(0, `Kong ${adminUrl}: more than ${MAX_PAGES} pages of event hooks`);
    const url = new URL(next, base.origin);
    // A path such as `//host/…` or `/\host/…` resolves to another host: the token goes to Kong only.
    if (url.origin !== base.origin) throw new ServiceError(0, `Kong's next page is on another host (${url.origin})`);
    if (read.has(url.href)) throw new ServiceError(0, `Kong ${adminUrl}: next points at a page already read (${next})`);
    read.add(url.href);
    const body = await getJson(url, headers, adminUrl);
    hooks.push(...body.data);
    next = nextPath(body.next, prefix, base.origin);
  }
  return hooks;
}

/**
 * Kong's `next` is a path (`/event-hooks?offset=…`) as Kong saw the request. Behind a proxy that
 * adds a path prefix Kong does not see it, so it is put back; a full URL is followed only on the
 * same origin, so the token is never sent anywhere else.
 */
function nextPath(next, prefix, origin) {
  if (typeof next !== 'string' || next === '') return undefined;
  if (/^https?:\/\//i.test(next)) {
    const url = new URL(next);
    if (url.origin !== origin) throw new ServiceError(0, `Kong's next page is on another host (${url.origin})`);
    return url.pathname + url.search;
  }
  if (!next.startsWith('/')) return undefined;
  return prefix && !next.startsWith(`${prefix}/`) ? `${prefix}${next}` : next;
}

async function getJson(url, headers, adminUrl) {
  let res;
  try {
    // Not followed: a redirect would carry Kong-Admin-Token (which fetch does not drop) to wherever it points.
    res = await fetch(url, { headers, redirect: 'manual' });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new ServiceError(0, `cannot reach Kong at ${adminUrl}: ${cause}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new ServiceError(
      res.status,
      `Kong ${url.pathname} answered a redirect (to ${res.headers.get('location') ?? 'nowhere'}), which is not followed: give the Admin API's own URL`,
    );
  }
  const text = await boundedText(res, url);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) throw new ServiceError(res.status, `Kong ${url.pathname}: ${body?.message ?? text}`);
  if (!Array.isArray(body?.data))
    throw new ServiceError(res.status, `Kong ${url.pathname}: not a list ({data: [...]})`);
  return body;
}

/** The answer's text, refused once it passes `MAX_PAGE_BYTES` (read no further). */
async function boundedText(res, url) {
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () =>
    new ServiceError(res.status, `Kong ${url.pathname}: a page larger than ${MAX_PAGE_BYTES} bytes`);
  if (declared > MAX_PAGE_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks = [];
  let bytes = 0;
  for await (const chunk of res.body ?? []) {
    bytes += chunk.byteLength;
    if (bytes > MAX_PAGE_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `id=file` pairs, the files read: `{id → [code, …]}` in the order given. */
function replacements(pairs) {
  const byId = new Map();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new UsageError(`--replace takes <id>=<file.js>, not '${pair}'`);
    const id = pair.slice(0, at).toLowerCase();
    const file = pair.slice(at + 1);
    let code;
    try {
      code = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : error}`);
    }
    byId.set(id, [...(byId.get(id) ?? []), code]);
  }
  return byId;
}

/**
 * Kong's hooks as the list `apply` takes: Kong's fields only, `lambda` hooks replaced or skipped.
 * Without a decision for every `lambda` hook, nothing is imported and they are listed.
 */
export function fromKong(kongHooks, { lua, replace = new Map() }, warn = (line) => process.stderr.write(`${line}\n`)) {
  const lambdaIds = new Set(kongHooks.filter((h) => h.handler === 'lambda').map((h) => String(h.id).toLowerCase()));
  for (const id of replace.keys()) {
    if (!lambdaIds.has(id)) throw new UsageError(`--replace ${id}: Kong has no lambda hook with this id`);
  }
  const undecided = kongHooks.filter((h) => h.handler === 'lambda' && !replace.has(String(h.id).toLowerCase()));
  if (undecided.length > 0 && lua !== 'skip') {
    const rows = undecided.map(
      (h) => `  ${h.id}  ${h.source}/${h.event ?? '*'}  ${h.config?.functions?.length ?? 0} Lua function(s)`,
    );
    throw new UsageError(
      [
        `${undecided.length} Kong hook${undecided.length === 1 ? '' : 's'} with handler lambda run${undecided.length === 1 ? 's' : ''} Lua code, which this service does not run:`,
        ...rows,
        'give --replace <id>=<file.js> with a JavaScript replacement (repeat for a pipeline), or --lua=skip',
        'to import the other hooks without them. Nothing was imported. See docs/migrating-from-kong.md.',
      ].join('\n'),
    );
  }
  const hooks = [];
  for (const kong of kongHooks) {
    const id = String(kong.id).toLowerCase();
    const hook = Object.fromEntries(KONG_FIELDS.filter((k) => Object.hasOwn(kong, k)).map((k) => [k, kong[k]]));
    if (kong.handler === 'lambda') {
      const code = replace.get(id);
      if (!code) {
        warn(`skipped ${kong.id} (${kong.source}/${kong.event ?? '*'}, lambda): its Lua code does not run here`);
        continue;
      }
      hook.config = { ...kong.config, functions: code };
    }
    hooks.push(hook);
  }
  return hooks;
}

/** Reads Kong and converts: what `import --from-kong` plans. */
export async function kongHooks(options) {
  const replace = replacements(options.replace ?? []);
  const read = await readKongHooks(options.fromKong, { token: options.token, workspace: options.workspace });
  return fromKong(read, { lua: options.lua, replace });
}

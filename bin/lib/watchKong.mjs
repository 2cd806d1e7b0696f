// `event-hooks watch-kong`: change capture over Kong's Admin API, for Kong Konnect or any Kong where
// neither the plugin nor http-log fits (docs/kong-integration.md). Each poll lists the entities,
// compares them with the last snapshot and sends one `crud` event per change, in the mapping the
// README documents. The snapshot lives in a state file replaced atomically (temp file, then rename),
// and each event carries an `id` derived from entity, id and version, so a restart or a retry after
// a crash between sending and saving is answered with the first event and not delivered again.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { client, describeError, ServiceError, UsageError } from './client.mjs';
import { common, parseDuration } from './options.mjs';

/** The entities watched; targets are listed per upstream, as Kong's Admin API serves them. */
export const ENTITIES = ['consumers', 'services', 'routes', 'plugins', 'upstreams', 'targets', 'certificates'];

/** Accepted by POST /events in one request. */
const MAX_BATCH = 100;

/** JSON with keys sorted, so that two equal entities compare (and hash) equal. */
function stable(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stable(value[k])}`).join(',')}}`;
}

/**
 * The event id: entity type, operation, id and version (`updated_at`, else `created_at`, plus a
 * short content hash, since two updates within one second share an `updated_at`). Within
 * POST /events' rules: ≤ 128 of [A-Za-z0-9._:-].
 */
export function eventId(type, operation, entity) {
  const hash = createHash('sha256').update(stable(entity)).digest('hex').slice(0, 12);
  const version = `${entity.updated_at ?? entity.created_at ?? 0}.${hash}`;
  return `kong:${type}:${operation}:${entity.id}:${version}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 128);
}

/** The `crud` events between two snapshots (`{type: {id: entity}}`), creations, then updates, then deletions. */
export function diff(before, after) {
  const events = [];
  for (const type of ENTITIES) {
    const old = before[type] ?? {};
    const now = after[type] ?? {};
    const event = (operation, entity, oldEntity) => ({
      source: 'crud',
      event: `${type}:${operation}`,
      id: eventId(type, operation, entity),
      // `old_entity` only on updates, as Kong's own event hooks send it.
      data: { operation, entity, ...(oldEntity ? { old_entity: oldEntity } : {}), schema: type },
    });
    for (const [id, entity] of Object.entries(now)) {
      if (!Object.hasOwn(old, id)) events.push(event('create', entity));
      else if (stable(old[id]) !== stable(entity)) events.push(event('update', entity, old[id]));
    }
    for (const [id, entity] of Object.entries(old)) if (!Object.hasOwn(now, id)) events.push(event('delete', entity));
  }
  return events;
}

/** Reads Kong's Admin API: every page of every watched entity. */
function kongReader(adminUrl, token) {
  const base = adminUrl.replace(/\/+$/, '');
  // Kong Gateway (RBAC) reads Kong-Admin-Token; Konnect reads a bearer token. Both are sent.
  const headers = token ? { 'kong-admin-token': token, authorization: `Bearer ${token}` } : {};
  async function page(path, offset) {
    const url = `${base}${path}?size=1000${offset ? `&offset=${encodeURIComponent(offset)}` : ''}`;
    let res;
    try {
      // Not followed: a redirect would carry Kong-Admin-Token (which fetch does not drop) to wherever it points.
      res = await fetch(url, { headers, redirect: 'manual' });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new ServiceError(0, `cannot reach Kong at ${base}: ${cause}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new ServiceError(
        res.status,
        `Kong ${path} answered a redirect (to ${res.headers.get('location') ?? 'nowhere'}), which is not followed: give the Admin API's own URL`,
      );
    }
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) throw new ServiceError(res.status, `Kong ${path}: ${body?.message ?? text}`);
    if (!Array.isArray(body?.data))
      throw new ServiceError(res.status, `Kong ${path}: not a list ({data: [...]}) answer`);
    return body;
  }
  /** Every row of a collection, following Kong's `offset` (its `next` carries the same cursor). */
  async function list(path) {
    const rows = [];
    const given = new Set();
    let offset;
    do {
      const body = await page(path, offset);
      rows.push(...body.data);
      offset = typeof body.offset === 'string' && body.offset ? body.offset : undefined;
      // An offset given before would page forever.
      if (offset !== undefined && given.has(offset))
        throw new ServiceError(0, `Kong ${path}: offset ${offset} was already given; stopped paging`);
      if (offset !== undefined) given.add(offset);
    } while (offset);
    return rows;
  }
  return async function snapshot() {
    const result = {};
    for (const type of ENTITIES) {
      if (type === 'targets') continue;
      result[type] = Object.fromEntries((await list(`/${type}`)).map((e) => [e.id, e]));
    }
    result.targets = {};
    for (const upstream of Object.values(result.upstreams)) {
      for (const target of await list(`/upstreams/${encodeURIComponent(upstream.id)}/targets`))
        result.targets[target.id] = target;
    }
    return result;
  };
}

async function loadState(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const state = JSON.parse(text);
    if (state && typeof state.entities === 'object') return state;
  } catch {}
  throw new UsageError(`${file} is not a watch-kong state file (remove it to take a new baseline)`);
}

/** Write, then rename: a crash leaves the old file or the new one, never half of one. */
async function saveState(file, entities) {
  const temp = `${file}.${process.pid}.tmp`;
  // Owner-only: the snapshot holds whatever the Admin API returns, certificates' keys included.
  await writeFile(temp, `${JSON.stringify({ version: 1, saved_at: new Date().toISOString(), entities })}\n`, {
    mode: 0o600,
  });
  await rename(temp, file);
}

/** One poll: list, diff, send, then save. The state is saved only once every event was accepted. */
async function poll(read, api, stateFile, log) {
  const state = await loadState(stateFile);
  const now = await read();
  if (!state) {
    // No state: the first run takes a baseline. Emitting every existing entity as "created" would
    // flood the hooks with changes that did not just happen.
    await saveState(stateFile, now);
    const count = Object.values(now).reduce((n, byId) => n + Object.keys(byId).length, 0);
    log({ baseline: count }, `baseline taken: ${count} entities, nothing sent`);
    return;
  }
  const events = diff(state.entities, now);
  for (let i = 0; i < events.length; i += MAX_BATCH)
    await api.request('POST', '/events', events.slice(i, i + MAX_BATCH));
  await saveState(stateFile, now);
  for (const e of events)
    log({ event: e.event, id: e.data.entity.id, event_id: e.id }, `${e.event} ${e.data.entity.id}`);
  if (events.length === 0) log(undefined, undefined);
}

/** @param {import('commander').Command} program */
export function addWatchKongCommand(program) {
  common(
    program
      .command('watch-kong')
      .description("poll Kong's Admin API and send a crud event per created, updated or deleted entity")
      .requiredOption('--admin-url <url>', "Kong's Admin API, e.g. http://127.0.0.1:8001 of the gateway")
      .option('--token <token>', 'sent as Kong-Admin-Token and as a bearer token (Konnect)')
      .option('--interval <duration>', 'time between polls, e.g. 10s, 1m', '10s')
      .option('--state <file>', 'where the last snapshot is kept', 'watch-kong.state.json')
      .option('--once', 'poll once and exit'),
  ).action(async (options) => {
    const interval = parseDuration(options.interval);
    const read = kongReader(options.adminUrl, options.token);
    const api = client(options);
    const log = (json, text) => {
      if (options.json && json) process.stdout.write(`${JSON.stringify(json)}\n`);
      else if (!options.json && text) process.stdout.write(`${text}\n`);
    };
    if (options.once) return poll(read, api, options.state, log);
    let stopping = false;
    const abort = new AbortController();
    const stop = () => {
      stopping = true;
      abort.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    while (!stopping) {
      try {
        await poll(read, api, options.state, log);
      } catch (error) {
        // A failed poll is retried at the next tick with the same ids, so nothing is lost or doubled.
        if (error instanceof UsageError) throw error;
        process.stderr.write(`poll failed: ${describeError(error)}\n`);
      }
      await sleep(interval, undefined, { signal: abort.signal }).catch(() => {});
    }
  });
}

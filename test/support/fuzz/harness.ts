import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TENANT } from '../../../shared/hooks/hook.ts';
import { DeadLetterStore } from '../../../shared/store/deadLetterStore.ts';
import { keys } from '../../../shared/store/table.ts';
import type { FuzzCase, FuzzFixtures } from './corpus.ts';
import { type RawResponse, sendRaw } from './rawHttp.ts';

export interface FuzzFailure {
  n: number;
  kind: string;
  route: string;
  /** Shortened for the report; the case number and seed regenerate it whole. */
  target: string;
  status: number;
  body: string;
  reason: '5xx' | 'no answer' | 'wrote though refused';
  known?: string;
  detail?: string;
}

export interface FuzzResult {
  sent: number;
  failures: FuzzFailure[];
  /** `/health` round trips measured all through the run, in ms. */
  health: number[];
  /** `/health` probes that failed or took longer than the limit. */
  healthFailures: string[];
  statuses: Record<string, number>;
  routes: Record<string, number>;
  durationMs: number;
  /** Time spent in snapshots and in putting fixtures back, in ms (the harness's own cost). */
  overheadMs: { snapshot: number; fixtures: number };
}

export interface FuzzRunOptions {
  url: string;
  cases: FuzzCase[];
  /** Per-request limit; a request not answered in time is a failure (the service hung on it). */
  timeoutMs?: number;
  /** `/health` must answer within this (default 2 s), probed every `healthEveryMs` (default 50). */
  healthLimitMs?: number;
  healthEveryMs?: number;
  /** Headers for the `/health` probes (an admin key, once keys exist). */
  healthHeaders?: Record<string, string>;
  /** A comparable picture of everything stored; compared around each refused write. */
  snapshot?: () => Promise<string>;
  /** After an accepted write: put back the fixtures it may have changed. */
  afterAccepted?: (c: FuzzCase) => Promise<void>;
  /** Requests that cannot write in flight at once (default 4). */
  concurrency?: number;
  /** Called after each case (progress, debugging). */
  onCase?: (c: FuzzCase, status: number, ms: number) => void;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const short = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);

/**
 * Sends the cases one at a time while a poller probes `/health`, and collects every 5xx, every
 * request left unanswered, and every refused write that changed the store.
 */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzResult> {
  const port = Number(new URL(options.url).port);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const healthLimitMs = options.healthLimitMs ?? 2_000;
  const failures: FuzzFailure[] = [];
  const health: number[] = [];
  const healthFailures: string[] = [];
  const statuses: Record<string, number> = {};
  const routes: Record<string, number> = {};
  const started = performance.now();
  const concurrency = options.concurrency ?? 4;
  const failure = (c: FuzzCase, res: RawResponse, reason: FuzzFailure['reason'], detail?: string) =>
    failures.push({
      n: c.n,
      kind: c.kind,
      route: c.route,
      target: short(c.target, 120),
      status: res.status,
      body: short(res.body, 300),
      reason,
      ...(c.known ? { known: c.known } : {}),
      ...(detail ? { detail } : {}),
    });
  const overheadMs = { snapshot: 0, fixtures: 0 };
  const timed = async <T>(what: keyof typeof overheadMs, action: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await action();
    } finally {
      overheadMs[what] += performance.now() - t0;
    }
  };

  const poller = pollHealth(options.url, {
    limitMs: healthLimitMs,
    everyMs: options.healthEveryMs ?? 50,
    headers: options.healthHeaders ?? {},
  });
  try {
    const snapshot = options.snapshot;
    let baseline = snapshot ? await snapshot() : '';
    let stale = false;
    const send = async (c: FuzzCase) => {
      const res = await sendRaw(port, c, timeoutMs);
      statuses[String(res.status)] = (statuses[String(res.status)] ?? 0) + 1;
      routes[c.route] = (routes[c.route] ?? 0) + 1;
      options.onCase?.(c, res.status, res.ms);
      if (res.status >= 500) failure(c, res, '5xx');
      else if (res.status === 0) failure(c, res, 'no answer', `${res.error} after ${res.ms.toFixed(0)} ms`);
      return res;
    };
    // Requests that cannot write run `concurrency` at a time; each write runs alone between two
    // snapshots, so that a change is pinned on the request that made it.
    let reads: FuzzCase[] = [];
    const flush = async () => {
      const queue = reads;
      reads = [];
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let c = queue.shift(); c; c = queue.shift()) await send(c);
        }),
      );
    };
    for (const c of options.cases) {
      if (!snapshot || !WRITE_METHODS.has(c.method)) {
        reads.push(c);
        if (reads.length >= 4 * concurrency) await flush();
        continue;
      }
      await flush();
      if (stale) baseline = await timed('snapshot', snapshot);
      stale = false;
      const res = await send(c);
      if (res.status === 0) {
        // Unanswered: it may still write once it runs, so it cannot be judged, and the next write
        // compares against a fresh baseline.
        stale = true;
      } else if (res.status >= 200 && res.status < 400) {
        await timed('fixtures', async () => options.afterAccepted?.(c));
        baseline = await timed('snapshot', snapshot);
      } else {
        const after = await timed('snapshot', snapshot);
        const changes = diff(baseline, after);
        if (changes) failure(c, res, 'wrote though refused', changes);
        baseline = after;
      }
    }
    await flush();
  } finally {
    const probed = await poller.stop();
    health.push(...probed.samples);
    healthFailures.push(...probed.failures);
  }
  return {
    sent: options.cases.length,
    failures,
    health,
    healthFailures,
    statuses,
    routes,
    durationMs: performance.now() - started,
    overheadMs,
  };
}

/**
 * What changed between two snapshots, or '' when nothing did. A dead letter that appeared is not a
 * change: deliveries of earlier accepted events dead-letter in the background, and no request
 * writes one.
 */
/**
 * Probes `/health` one request at a time, `everyMs` apart, until stopped: each round trip in ms, and
 * every probe that failed or took longer than `limitMs`.
 */
export function pollHealth(
  url: string,
  options: { limitMs: number; everyMs: number; headers?: Record<string, string> },
): { stop(): Promise<{ samples: number[]; failures: string[] }> } {
  const samples: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/health`, {
          headers: options.headers ?? {},
          signal: AbortSignal.timeout(options.limitMs),
        });
        await res.text();
        const ms = performance.now() - t0;
        samples.push(ms);
        if (res.status !== 200) failures.push(`status ${res.status} after ${ms.toFixed(0)} ms`);
        else if (ms > options.limitMs) failures.push(`answered after ${ms.toFixed(0)} ms`);
      } catch (error) {
        failures.push(`no answer within ${options.limitMs} ms: ${(error as Error).message}`);
        samples.push(performance.now() - t0);
      }
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, failures };
    },
  };
}

function diff(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const added = [...b]
    .filter((line) => !a.has(line) && !line.includes(DEAD_LETTER_MARK))
    .map((line) => `+ ${short(line)}`);
  const removed = [...a].filter((line) => !b.has(line)).map((line) => `- ${short(line)}`);
  return [...removed, ...added].slice(0, 6).join('\n');
}

const DEAD_LETTER_MARK = `"pk":"${keys.deadLetter(DEFAULT_TENANT, '').pk}"`;

/**
 * Every item of the table but the gate's windows (which events legitimately write) and audit entries, one JSON line
 * each with what a write changes, sorted: equal strings mean nothing was written.
 */
export function storeSnapshot(client: DynamoDBDocumentClient, tableName: string): () => Promise<string> {
  return async () => {
    const lines: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          // Keys and what every write changes (a hook's revision, the version item, a source's
          // definition; dead letters are only put or deleted), not whole items: the cost of this
          // snapshot decides how long the fuzz test runs.
          ProjectionExpression: '#pk, #sk, #rev, #v, #def',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#rev': 'rev', '#v': 'v', '#def': 'definition' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        // The audit log records refused changes too, by design (docs/saas.md, "Audit log"); usage is
        // written by the runtime's metering timer (METERING_FLUSH_MS), whenever it fires.
        const partition = String(item.pk);
        if (partition.includes('#GATE#') || partition.endsWith('#AUDIT') || partition.endsWith('#USAGE')) continue;
        // pk first, so that a line names its partition where `diff` looks for it.
        const { pk, ...rest } = item;
        lines.push(JSON.stringify({ pk, ...rest }));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return lines.sort().join('\n');
  };
}

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; text: string }>;

/** A JSON client for the fixtures, with the admin headers every request carries. */
export function jsonClient(url: string, headers: () => Record<string, string> = () => ({})): Call {
  return async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers() },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  };
}

/**
 * A user source with one event, a `webhook` and a `webhook-custom` hook on it (both to `receiverUrl`,
 * which answers 200, so no delivery dead-letters in the background), and three dead letters.
 * Calling it again puts back whatever a fuzz request deleted or replaced.
 */
export async function ensureFixtures(
  call: Call,
  store: { client: DynamoDBDocumentClient; tableName: string },
  receiverUrl: string,
  existing?: FuzzFixtures,
  /** With `existing`: put back only these (a request named them); default all. */
  only?: { source?: boolean; hooks?: string[]; deadLetters?: string[] },
): Promise<FuzzFixtures> {
  const source = 'fuzz';
  const event = 'thing';
  const expect = async (what: string, pending: Promise<{ status: number; text: string }>, ok: number[]) => {
    const res = await pending;
    if (!ok.includes(res.status)) throw new Error(`fixture ${what} answered ${res.status}: ${res.text}`);
    return res.text;
  };
  if (!only || only.source) {
    await expect('source', call('PUT', `/event-hooks/sources/${source}/${event}`, { fields: ['a', 'b'] }), [200]);
  }
  const hookBodies = {
    webhook: { source, event, handler: 'webhook', config: { url: receiverUrl, headers: { 'x-a': 'b' } } },
    custom: {
      source,
      event,
      handler: 'webhook-custom',
      config: { url: receiverUrl, method: 'POST', payload: { a: '{{a}}' }, payload_format: true },
    },
  };
  const hookId = existing?.hookId ?? randomUUID();
  const customHookId = existing?.customHookId ?? randomUUID();
  // PUT is an upsert: it restores a hook a fuzz request deleted or patched.
  if (!only || only.hooks?.includes(hookId)) {
    await expect('webhook hook', call('PUT', `/event-hooks/${hookId}`, hookBodies.webhook), [200]);
  }
  if (!only || only.hooks?.includes(customHookId)) {
    await expect('webhook-custom hook', call('PUT', `/event-hooks/${customHookId}`, hookBodies.custom), [200]);
  }
  const deadLetters = new DeadLetterStore(store);
  // A dead letter's id is its time and delivery id, so one a fuzz request replayed or deleted comes back the same.
  const deadLetterIds =
    existing?.deadLetterIds ??
    Array.from({ length: 3 }, (_, i) => `${String(Date.now() + i).padStart(13, '0')}-${randomUUID()}`);
  for (const id of deadLetterIds) {
    if (only && !only.deadLetters?.includes(id)) continue;
    if (await deadLetters.get(DEFAULT_TENANT, id)) continue;
    await deadLetters.put({
      job: {
        type: 'deliver.v1',
        deliveryId: id.slice(14),
        tenant: DEFAULT_TENANT,
        hookId,
        event: {
          id: randomUUID(),
          time: new Date(0).toISOString(),
          tenant: DEFAULT_TENANT,
          source,
          event,
          data: { a: 1 },
        },
        attempt: 3,
        firstQueuedAt: 0,
      },
      reason: 'fuzz fixture',
      deadLetteredAt: Number(id.slice(0, 13)),
    });
  }
  return { hookId, customHookId, deadLetterIds, source, event, receiverUrl };
}

/** The environment that gives a runtime child (bench/runtimeHost.ts) the key of a store the caller owns. */
export function storeKey(store: {
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Record<string, string> {
  return {
    STORE_ACCESS_KEY_ID: store.credentials.accessKeyId,
    STORE_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
  };
}

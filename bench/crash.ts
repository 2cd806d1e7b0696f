import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deliveryIdFor } from '../shared/pipeline/dispatcher.ts';
import { createClient } from './http.ts';
import { type RuntimeProcess, spawnRuntime } from './runtimeProcess.ts';
import { type Figure, figure } from './stats.ts';

/**
 * The crash test (test/e2e/crash.test.ts) and its figures in `npm run bench -- --full`: rounds of
 * start the runtime on one DATA_DIR, send a burst of events to a slow, a flaky and a failing
 * receiver, SIGKILL it at a random moment; then one last start that finishes the work. Counts, per
 * accepted (202) event and hook, whether it was delivered, more than once, or never.
 */
export interface CrashOptions {
  rounds: number;
  seed: number;
  eventsPerRound: number;
  /** Requests in flight during a burst. */
  concurrency?: number;
  /** The kill comes this long after the burst starts, at random below it (ms). */
  maxKillAfterMs?: number;
  /** How long the last run may take to deliver or dead-letter everything (ms). */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface CrashResult {
  rounds: number;
  kills: number;
  /** Events answered 202. */
  accepted: number;
  /** (event, hook) pairs owed: accepted events × hooks. */
  owed: number;
  /** Pairs delivered (a 2xx from the receiver) or dead-lettered (the failing receiver). */
  delivered: number;
  /** Pairs whose receiver got more than one request ending in 2xx. */
  duplicated: number;
  /** Pairs neither delivered nor dead-lettered: lost. */
  never: { eventId: string; hook: string }[];
  /** Requests for one (event, hook) whose delivery id was not the one derived from them. */
  wrongIds: number;
  /** Deliveries of events whose 202 never arrived (killed between write and answer): allowed. */
  unacknowledgedDelivered: number;
  durationMs: number;
}

/** The retry settings of the runtime under test: short, so that failures settle in seconds. */
export const CRASH_RUNTIME_ENV = {
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '50',
  RETRY_MAX_DELAY_MS: '200',
  RETRY_MAX_AGE_MS: '600000',
  HTTP_TIMEOUT_MS: '2000',
};

type Kind = 'slow' | 'flaky' | 'failing';
const KINDS: Kind[] = ['slow', 'flaky', 'failing'];

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Received {
  kind: Kind;
  deliveryId: string;
  seq: number;
  ok: boolean;
}

/**
 * One server, three receivers by path: `slow` answers 200 after 10–150 ms, `flaky` answers 500 to
 * a first attempt and 200 after, `failing` always answers 500 (so its deliveries end as dead letters).
 */
async function startReceivers(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const kind = (req.url ?? '').slice(1) as Kind;
      const deliveryId = req.headers['x-event-hooks-delivery'];
      const answer = (status: number) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'no');
      };
      if (typeof deliveryId !== 'string') return answer(200); // a ping on hook creation
      const seq = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq: number }).seq;
      const ok = kind === 'slow' || (kind === 'flaky' && req.headers['x-event-hooks-attempt'] !== '1');
      received.push({ kind, deliveryId, seq, ok });
      if (kind === 'slow') setTimeout(() => answer(200), 10 + Math.floor(Math.random() * 140));
      else answer(ok ? 200 : 500);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Delivery ids listed by `/dead-letters`, every page. */
async function deadLetterIds(client: ReturnType<typeof createClient>, url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let next: string | null = '/dead-letters?size=1000';
  while (next) {
    const res = await client.call('GET', `${url}${next}`);
    if (res.status !== 200) throw new Error(`GET /dead-letters answered ${res.status}: ${res.text}`);
    const page = JSON.parse(res.text) as { data: { delivery_id: string }[]; next: string | null };
    for (const entry of page.data) ids.add(entry.delivery_id);
    next = page.next;
  }
  return ids;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runCrashRounds(options: CrashOptions): Promise<CrashResult> {
  const started = performance.now();
  const random = seeded(options.seed);
  const log = options.log ?? (() => undefined);
  const dataDir = await mkdtemp(join(tmpdir(), 'event-hooks-crash-'));
  const receivers = await startReceivers();
  const client = createClient(options.concurrency ?? 16);
  const hooks = new Map<Kind, string>();
  /** seq → event id, for the events answered 202. */
  const accepted = new Map<number, string>();
  /** Each accepted event's time: delivery ids name it (shared/deliveryLog/deliveryId.ts). */
  const times = new Map<string, string>();
  let kills = 0;
  let runtime: RuntimeProcess | undefined;
  const spawn = () => spawnRuntime({ dataDir, env: CRASH_RUNTIME_ENV, quiet: true });
  try {
    for (let round = 0; round < options.rounds; round++) {
      const spawnStarted = performance.now();
      runtime = await spawn();
      const spawnMs = Math.round(performance.now() - spawnStarted);
      const url = runtime.url;
      if (hooks.size === 0) {
        for (const kind of KINDS) {
          const res = await client.call('POST', `${url}/event-hooks`, {
            source: 'balancer',
            event: 'health',
            handler: 'webhook',
            config: { url: `${receivers.url}/${kind}` },
          });
          if (res.status !== 201) throw new Error(`creating a hook answered ${res.status}: ${res.text}`);
          hooks.set(kind, (JSON.parse(res.text) as { id: string }).id);
        }
      }
      const killAfter = Math.floor(random() * (options.maxKillAfterMs ?? 1_000));
      const first = round * 100_000;
      let next = 0;
      let killed = false;
      const lane = async () => {
        while (!killed && next < options.eventsPerRound) {
          const seq = first + next++;
          try {
            const res = await client.post(
              `${url}/events`,
              JSON.stringify({ source: 'balancer', event: 'health', data: { seq, round } }),
            );
            if (res.status === 202) {
              const answer = (JSON.parse(res.text) as { data: { id: string; time: string }[] }).data[0];
              accepted.set(seq, answer?.id ?? '');
              if (answer) times.set(answer.id, answer.time);
            }
          } catch {
            // The connection died with the process: not accepted.
          }
        }
      };
      const burst = Promise.all(Array.from({ length: options.concurrency ?? 16 }, lane));
      await sleep(killAfter);
      killed = true;
      await runtime.kill();
      kills++;
      await burst;
      log(
        `round ${round + 1}: started in ${spawnMs} ms, killed after ${killAfter} ms, ${accepted.size} accepted so far`,
      );
    }

    // The last start finishes the work: everything owed is delivered or dead-lettered, or time is up.
    const settleStarted = performance.now();
    runtime = await spawn();
    log(`last run started in ${Math.round(performance.now() - settleStarted)} ms`);
    const owed = [...accepted.values()].flatMap((eventId) =>
      KINDS.map((kind) => ({
        eventId,
        kind,
        deliveryId: deliveryIdFor({ id: eventId, time: times.get(eventId) ?? '' }, hooks.get(kind) as string),
      })),
    );
    const deadline = performance.now() + (options.settleMs ?? 60_000);
    let dead = new Set<string>();
    const delivered = () => {
      const ok = new Set(receivers.received.filter((r) => r.ok).map((r) => r.deliveryId));
      return owed.filter((o) => (o.kind === 'failing' ? dead.has(o.deliveryId) : ok.has(o.deliveryId)));
    };
    while (performance.now() < deadline) {
      dead = await deadLetterIds(client, runtime.url);
      if (delivered().length === owed.length) break;
      await sleep(250);
    }
    log(`all owed settled after ${Math.round(performance.now() - settleStarted)} ms`);
    await runtime.idle(30_000).catch(() => undefined);
    dead = await deadLetterIds(client, runtime.url);
    log(`idle after ${Math.round(performance.now() - settleStarted)} ms`);
    await runtime.close();
    runtime = undefined;
    log(`last run settled in ${Math.round(performance.now() - settleStarted)} ms`);

    const done = new Set(delivered().map((o) => o.deliveryId));
    const okCount = new Map<string, number>();
    for (const r of receivers.received) if (r.ok) okCount.set(r.deliveryId, (okCount.get(r.deliveryId) ?? 0) + 1);
    let wrongIds = 0;
    let unacknowledgedDelivered = 0;
    const idsBySeqKind = new Map<string, Set<string>>();
    for (const r of receivers.received) {
      const eventId = accepted.get(r.seq);
      const hookId = hooks.get(r.kind) as string;
      if (
        eventId !== undefined &&
        r.deliveryId !== deliveryIdFor({ id: eventId, time: times.get(eventId) ?? '' }, hookId)
      )
        wrongIds++;
      if (eventId === undefined) {
        if (r.ok) unacknowledgedDelivered++;
        const key = `${r.seq}/${r.kind}`;
        const ids = idsBySeqKind.get(key) ?? new Set();
        ids.add(r.deliveryId);
        idsBySeqKind.set(key, ids);
      }
    }
    // An event killed before its 202 arrived may be delivered, but always under one id per hook.
    for (const ids of idsBySeqKind.values()) wrongIds += ids.size - 1;
    return {
      rounds: options.rounds,
      kills,
      accepted: accepted.size,
      owed: owed.length,
      delivered: done.size,
      duplicated: owed.filter((o) => (okCount.get(o.deliveryId) ?? 0) > 1).length,
      never: owed.filter((o) => !done.has(o.deliveryId)).map((o) => ({ eventId: o.eventId, hook: o.kind })),
      wrongIds,
      unacknowledgedDelivered,
      durationMs: performance.now() - started,
    };
  } finally {
    client.close();
    await runtime?.kill();
    await receivers.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The crash run's figures for the benchmark table. */
export function crashFigures(result: CrashResult): Figure[] {
  const note = `${result.kills} SIGKILLs over ${result.rounds} rounds; ${result.accepted} events accepted (202) × 3 hooks (slow, flaky, failing); ${result.unacknowledgedDelivered} deliveries of events killed before their 202 arrived`;
  return [
    figure({ name: 'crash: deliveries owed (accepted × hooks)', unit: 'count', value: result.owed, note }),
    figure({
      name: 'crash: delivered or dead-lettered',
      unit: 'count',
      value: result.delivered,
      baseline: result.owed,
      target: { text: 'ratio = 1', met: ({ ratio }) => ratio === 1 },
      note,
    }),
    figure({ name: 'crash: delivered more than once', unit: 'count', value: result.duplicated, baseline: result.owed }),
    figure({
      name: 'crash: never delivered',
      unit: 'count',
      value: result.never.length,
      target: { text: '= 0', met: ({ value }) => value === 0 },
    }),
    figure({
      name: 'crash: duplicates under another delivery id',
      unit: 'count',
      value: result.wrongIds,
      target: { text: '= 0', met: ({ value }) => value === 0 },
    }),
  ];
}

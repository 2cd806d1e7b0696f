import { randomUUID } from 'node:crypto';
import { startDynalite } from '../infra/local/embeddedStore.ts';
import { createDocumentClient, ensureTable } from '../shared/store/dynamo.ts';
import { DEFAULT_SEED, generateCorpus, serviceRoutes } from '../test/support/fuzz/corpus.ts';
import { ensureFixtures, jsonClient, pollHealth, runFuzz, storeKey } from '../test/support/fuzz/harness.ts';
import { startReceiver } from './http.ts';
import { spawnRuntime } from './runtimeProcess.ts';
import { type Figure, figure, summarize } from './stats.ts';

export interface FuzzBenchOptions {
  /** How long `/health` is probed with nothing else running, ms. */
  idleMs: number;
  /** Generated fuzz requests (the test's seed) sent while `/health` is probed. */
  requests: number;
}

const PROBE = { limitMs: 2_000, everyMs: 20 };

/**
 * Figure 8: `/health` round trips while the fuzz corpus of test/e2e/fuzz.test.ts runs against the
 * runtime (in its own process, four requests in flight, no store snapshots), next to the same probe
 * with the runtime idle. The test bounds every probe at 2 s; this is the tighter figure.
 */
export async function benchFuzz(options: FuzzBenchOptions): Promise<Figure[]> {
  const store = await startDynalite();
  const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
  const tableName = `bench-fuzz-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  const receiver = await startReceiver();
  const runtime = await spawnRuntime({
    quiet: true,
    env: { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: tableName, RETRY_MAX_ATTEMPTS: '1', ...storeKey(store) },
  });
  let idle: number[];
  let busy: number[];
  let sent: number;
  let failures: number;
  try {
    const fixtures = await ensureFixtures(jsonClient(runtime.url), { client, tableName }, receiver.url);
    const probe = pollHealth(runtime.url, PROBE);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    idle = (await probe.stop()).samples;
    const cases = generateCorpus({ seed: DEFAULT_SEED, count: options.requests, routes: serviceRoutes(), fixtures });
    const result = await runFuzz({ url: runtime.url, cases, healthEveryMs: PROBE.everyMs, concurrency: 4 });
    busy = result.health;
    sent = result.sent;
    failures = result.failures.length + result.healthFailures.length;
  } finally {
    await runtime.close();
    await receiver.close();
    client.destroy();
    await store.close();
  }
  const a = summarize(busy);
  const b = summarize(idle);
  const note = `${a.count} probes (one at a time, ${PROBE.everyMs} ms apart) during ${sent} fuzz requests, 4 in flight, ${failures} failures; baseline: ${b.count} probes with the runtime idle`;
  return [
    figure({ name: '/health p50 under fuzz', unit: 'ms', value: a.p50, baseline: b.p50, note }),
    figure({
      name: '/health p99 under fuzz',
      unit: 'ms',
      value: a.p99,
      baseline: b.p99,
      note,
      target: { text: 'value < 2000', met: ({ value }) => value < 2_000 },
    }),
  ];
}

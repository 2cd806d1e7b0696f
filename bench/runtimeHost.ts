/**
 * Child-process entry for the benchmarks: runs the local runtime alone in its own process, so its
 * RSS is its own and its event loop does not share time with the benchmark's client and receiver.
 * Talks to the parent over the IPC channel (see runtimeProcess.ts for the protocol).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalRuntime } from '../infra/local/localRuntime.ts';
import { createLogger } from '../shared/logger.ts';

export type HostCommand =
  | { id: number; cmd: 'idle' }
  | { id: number; cmd: 'memory'; resetPeak?: boolean }
  | { id: number; cmd: 'close' };

export type HostMessage =
  | { type: 'ready'; url: string; rss: number; tenantUrl?: string }
  | { type: 'reply'; id: number; rss?: number; peakRss?: number; maxRss?: number; cpuMs?: number; error?: string };

const SAMPLE_MS = 25;

const send = (message: HostMessage) => process.send?.(message);

// On DATA_DIR when the parent gives one (the store and the delivery journal on disk), else in memory.
const dataDir = process.env.DATA_DIR || undefined;
// The key of a store the parent owns and names in DYNAMODB_ENDPOINT (the fuzz test's, which it scans).
const { STORE_ACCESS_KEY_ID: accessKeyId, STORE_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
delete process.env.STORE_ACCESS_KEY_ID;
delete process.env.STORE_SECRET_ACCESS_KEY;
const runtime = await startLocalRuntime({
  port: 0,
  ...(dataDir ? { dataDir } : { memory: true }),
  ...(accessKeyId && secretAccessKey ? { dynamodbCredentials: { accessKeyId, secretAccessKey } } : {}),
  env: process.env,
  logger: createLogger({ level: 'warn' }),
  drainMs: 5_000,
});

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
}, SAMPLE_MS);

/** Nothing in flight anywhere: no dispatch running, no job queued or delivering, no ping pending. */
async function idle(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await runtime.bus.idle();
    await runtime.queue.idle();
    await runtime.app.settled();
  }
}

process.on('message', (raw: HostCommand) => {
  const reply = (fields: Omit<Extract<HostMessage, { type: 'reply' }>, 'type' | 'id'> = {}) =>
    send({ type: 'reply', id: raw.id, ...fields });
  const fail = (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) });
  switch (raw.cmd) {
    case 'idle':
      idle().then(() => reply(), fail);
      break;
    case 'memory': {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      const cpu = process.cpuUsage();
      reply({ rss, peakRss, maxRss: process.resourceUsage().maxRSS * 1024, cpuMs: (cpu.user + cpu.system) / 1000 });
      if (raw.resetPeak) peakRss = rss;
      break;
    }
    case 'close':
      clearInterval(sampler);
      tenantFront?.closeAllConnections();
      tenantFront?.close();
      runtime.close().then(
        () => {
          reply();
          // Let the reply flush, then exit normally so --cpu-prof can write its profile.
          process.disconnect?.();
        },
        (error: unknown) => {
          fail(error);
          process.exitCode = 1;
          process.disconnect?.();
        },
      );
      break;
  }
});

/**
 * With BENCH_TENANT_FRONT=1, a second listener for benchmarks that need several tenants before API
 * keys exist: `POST /t/{tenant}/events` and `POST /t/{tenant}/event-hooks` call the app as the
 * edge would once it has checked a tenant's key (`request.principal`), and `DELETE
 * /t/{tenant}/event-hooks/{id}` removes a hook. Bench only: the service itself has no such route.
 */
let tenantFront: import('node:http').Server | undefined;
async function startTenantFront(): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const answer = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      try {
        const [, t, tenant, route, id] = (req.url ?? '').split('/');
        const body = Buffer.concat(chunks).toString('utf8');
        if (t !== 't' || !tenant) return answer(404, '{}');
        if (route === 'events') {
          const principal = { tenant, scopes: ['ingest' as const] };
          const headers = { 'content-type': 'application/json' };
          const result = await runtime.app.ingest({
            method: 'POST',
            path: '/events',
            query: new URLSearchParams(),
            headers,
            body,
            principal,
          });
          return answer(result.statusCode, result.body);
        }
        if (route === 'event-hooks' && req.method === 'DELETE' && id) {
          await runtime.app.service.delete(tenant, id);
          return answer(204, '');
        }
        if (route === 'event-hooks')
          return answer(201, JSON.stringify(await runtime.app.service.create(tenant, JSON.parse(body))));
        return answer(404, '{}');
      } catch (error) {
        answer(500, JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tenantFront = server;
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const tenantUrl = process.env.BENCH_TENANT_FRONT === '1' ? await startTenantFront() : undefined;
send({ type: 'ready', url: runtime.url, rss: process.memoryUsage.rss(), ...(tenantUrl ? { tenantUrl } : {}) });

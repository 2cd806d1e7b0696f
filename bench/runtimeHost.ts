/**
 * Child-process entry for the benchmarks: runs the local runtime alone in its own process, so its
 * RSS is its own and its event loop does not share time with the benchmark's client and receiver.
 * Talks to the parent over the IPC channel (see runtimeProcess.ts for the protocol).
 */
import { startLocalRuntime } from '../infra/local/localRuntime.ts';
import { createLogger } from '../shared/logger.ts';

export type HostCommand =
  | { id: number; cmd: 'idle' }
  | { id: number; cmd: 'memory'; resetPeak?: boolean }
  | { id: number; cmd: 'close' };

export type HostMessage =
  | { type: 'ready'; url: string; rss: number }
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

send({ type: 'ready', url: runtime.url, rss: process.memoryUsage.rss() });

/**
 * `npm run cost`: what a million events cost on AWS, computed from what the service's own code does,
 * not typed by hand. The shared core runs here exactly as the Lambda functions run it (the same
 * `createApp`, configured with `RUNTIME=aws`), on the embedded DynamoDB (in a process of its own), with counting stand-ins for
 * the two AWS transports (EventBridge `PutEvents`, SQS) and a real receiver on 127.0.0.1:
 *
 * - every DynamoDB call is counted with the capacity units it consumed (`ReturnConsumedCapacity`,
 *   which dynalite computes as DynamoDB does; queries, which it does not report, from the size of
 *   what they return);
 * - every event put on the bus and every message sent to the queue is counted in 64 KB chunks;
 * - every log line the functions write (application lines and EMF metrics) is counted in bytes;
 * - the CPU time each invocation spends in our code is measured, scaled to the CPU share Lambda gives
 *   the function's memory size, and the receiver's answer time is added to delivery.
 *
 * It prints, per scenario, which calls the capacity units come from (function, command, item kind).
 * Prices, the Lambda platform's own log lines and the receiver's answer time are the only typed-in
 * numbers (list prices, us-east-1, without free tiers). `DELIVERY_LOG`, `CAPTURE_BODIES` and
 * `METERING_FLUSH_MS` in the environment are applied as the functions would. Options:
 *   --events=N         events per scenario (default 2000)
 *   --receiver-ms=N    how long the receiver takes to answer, billed to delivery (default 200)
 *   --json             machine output
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FUNCTION_DEFAULTS } from '../infra/cdk/functions.ts';
import { createEmfMetrics, flushMetrics } from '../shared/adapters/aws/emfMetrics.ts';
import { type App, createApp } from '../shared/compositionRoot.ts';
import { loadConfig } from '../shared/config.ts';
import { AWS_RETRY_POLICY } from '../shared/delivery/retryPolicy.ts';
import type { HookEvent } from '../shared/events/envelope.ts';
import { createHttpSender } from '../shared/http/httpSender.ts';
import { createLogger } from '../shared/logger.ts';
import { systemClock } from '../shared/ports/clock.ts';
import type { DeliveryJob } from '../shared/ports/deliveryQueue.ts';
import type { EventBus, NewEvent } from '../shared/ports/eventBus.ts';
import type { FunctionRunner } from '../shared/ports/functionRunner.ts';
import { createDocumentClient, ensureTable } from '../shared/store/dynamo.ts';
import { EVENT, eventData, SOURCE } from './events.ts';

/** us-east-1 list prices (USD), free tiers left out. */
export const PRICES = {
  apiGatewayPerMillion: 1.0, // HTTP API, per request (512 KB chunks)
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecond: 0.0000133334, // arm64
  eventBridgePerMillion: 1.0, // custom events, per 64 KB chunk
  sqsPerMillion: 0.4, // standard queue, per request, per 64 KB chunk
  dynamoWriteUnitPerMillion: 0.625, // on-demand
  dynamoReadUnitPerMillion: 0.125,
  logsPerGb: 0.5, // CloudWatch Logs ingestion
} as const;

/** START, END and REPORT: the lines Lambda itself writes per invocation (about this many bytes). */
const PLATFORM_LOG_BYTES = 330;
/** Lambda gives one full vCPU at 1,769 MB and a proportional share below. */
const FULL_CPU_MB = 1769;
const CHUNK = 64 * 1024;

export interface Scenario {
  name: string;
  /** Events per `POST /events`. */
  perRequest: number;
  /** Messages per SQS receive (1 at low traffic, 10 when the queue is busy). */
  sqsBatch: number;
  /** Hook fields beyond a plain webhook. */
  hook?: Record<string, unknown>;
}

export const SCENARIOS: Scenario[] = [
  { name: 'one event per request, one webhook, quiet queue', perRequest: 1, sqsBatch: 1 },
  { name: '10 events per request, one webhook, busy queue', perRequest: 10, sqsBatch: 10 },
  {
    name: 'one event per request, one on_change webhook, quiet queue',
    perRequest: 1,
    sqsBatch: 1,
    hook: { on_change: true },
  },
];

/** What one scenario used, summed over its events. */
export interface Usage {
  events: number;
  apiRequests: number;
  ingestMs: number[];
  dispatchMs: number[];
  deliveryMs: number[];
  busChunks: number;
  sqsSends: number;
  sqsMessages: number;
  readUnits: number;
  writeUnits: number;
  logBytes: number;
  logBytesByMessage: Record<string, number>;
  invocations: { ingest: number; dispatcher: number; delivery: number };
  /**
   * Which calls the capacity units come from, keyed `<function> <command> <item>` (the item named
   * by its partition key's kind, `T#<tenant>#HOOK` → `HOOK`): the instrument behind the cost figures.
   */
  unitsByCall: Record<string, { reads: number; writes: number; calls: number }>;
}

type Phase = keyof Usage['invocations'] | 'setup';

interface Line {
  item: string;
  arithmetic: string;
  cost: number;
}

function newUsage(): Usage {
  return {
    events: 0,
    apiRequests: 0,
    ingestMs: [],
    dispatchMs: [],
    deliveryMs: [],
    busChunks: 0,
    sqsSends: 0,
    sqsMessages: 0,
    readUnits: 0,
    writeUnits: 0,
    logBytes: 0,
    logBytesByMessage: {},
    invocations: { ingest: 0, dispatcher: 0, delivery: 0 },
    unitsByCall: {},
  };
}

/**
 * CPU time of this process, ms. Durations are measured in CPU time rather than on the wall clock,
 * which on a shared machine mostly measures the wait for a core. The embedded store runs in a
 * process of its own (`startStoreProcess`), so its work is not counted; the SDK's is.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / CHUNK));

/** The kind of item a call touches, from its partition key: `T#acme#HDLV#<hook>` → `HDLV`. */
export function itemKind(input: Record<string, unknown>): string {
  const key = (input.Key ?? input.Item) as { pk?: unknown; sk?: unknown } | undefined;
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  const pk = key?.pk ?? values?.[':pk'];
  if (typeof pk !== 'string') return input.IndexName ? `index ${String(input.IndexName)}` : '?';
  const parts = pk.split('#');
  const kind = (parts[0] === 'T' ? parts[2] : parts.slice(0, 2).join('#')) ?? '?';
  // The tenant's META partition holds several items: name the one read.
  return kind === 'META' && typeof key?.sk === 'string' ? `META ${key.sk}` : kind;
}

/** Counts the capacity every DynamoDB call consumed, read off the responses. */
function meterStore(client: ReturnType<typeof createDocumentClient>, usage: () => Usage, phase: () => Phase): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const isWrite = /Put|Update|Delete|Write/.test(context.commandName ?? '');
      const name = `${phase()} ${(context.commandName ?? '?').replace(/Command$/, '')} ${itemKind(input)}`;
      const count = (reads: number, writes: number) => {
        usage().readUnits += reads;
        usage().writeUnits += writes;
        const entry = usage().unitsByCall[name] ?? { reads: 0, writes: 0, calls: 0 };
        usage().unitsByCall[name] = entry;
        entry.reads += reads;
        entry.writes += writes;
        entry.calls++;
      };
      try {
        const result = await next(args);
        const output = result.output as {
          ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
          Items?: unknown[];
        };
        const consumed = output.ConsumedCapacity;
        const units = Array.isArray(consumed)
          ? consumed.reduce((total, c) => total + (c.CapacityUnits ?? 0), 0)
          : consumed?.CapacityUnits;
        if (units !== undefined) {
          count(isWrite ? 0 : units, isWrite ? units : 0);
        } else if (output.Items) {
          // Queries and scans, which dynalite does not meter: 4 KB per read unit, strongly consistent (the worst case).
          const bytes = output.Items.reduce<number>((total, item) => total + JSON.stringify(item).length, 0);
          count(Math.max(1, Math.ceil(bytes / 4096)), 0);
        } else {
          count(0, isWrite ? 1 : 0);
        }
        return result;
      } catch (error) {
        // A refused conditional write still consumes a write unit.
        count(0, (error as { name?: string }).name === 'ConditionalCheckFailedException' ? 1 : 0);
        throw error;
      }
    },
    { step: 'initialize', name: 'costMeter' },
  );
}

async function startReceiver(): Promise<{ server: Server; url: string; received: () => number }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received: () => received };
}

const noFunctions: FunctionRunner = new Proxy({} as FunctionRunner, {
  get: (_t, property) => {
    if (property === 'then') return undefined;
    throw new Error(`the cost model runs no user code (tried ${String(property)})`);
  },
});

export async function runScenario(
  scenario: Scenario,
  events: number,
  endpoint: string,
  credentials: object,
  receiverUrl: string,
) {
  let usage = newUsage();
  let phase: Phase = 'setup';
  const tableName = `cost-${randomUUID().slice(0, 8)}`;
  const client = createDocumentClient({ endpoint, credentials } as Parameters<typeof createDocumentClient>[0]);
  await ensureTable(client, tableName);
  meterStore(
    client,
    () => usage,
    () => phase,
  );
  const writeLog = (line: string) => {
    const bytes = Buffer.byteLength(line) + 1;
    usage.logBytes += bytes;
    // Which lines the volume comes from: application lines by message, metrics lines as one.
    const message = line.startsWith('{"_aws"') ? '(EMF metrics)' : (/"message":"([^"]*)"/.exec(line)?.[1] ?? '(other)');
    usage.logBytesByMessage[message] = (usage.logBytesByMessage[message] ?? 0) + bytes;
  };
  const config = loadConfig({
    RUNTIME: 'aws',
    TABLE_NAME: tableName,
    BLOCK_PRIVATE_NETWORKS: 'false',
    // Every event re-checks the hooks' version: the worst case of many cold or idle instances.
    HOOK_CACHE_CHECK_MS: '0',
    // `DELIVERY_LOG=false npm run cost` shows what the delivery log adds (docs/deploy.md).
    DELIVERY_LOG: process.env.DELIVERY_LOG ?? 'true',
    CAPTURE_BODIES: process.env.CAPTURE_BODIES ?? 'true',
    // `METERING_FLUSH_MS=60000 npm run cost`: usage written at most once a minute per function (docs/saas.md § Metering).
    METERING_FLUSH_MS: process.env.METERING_FLUSH_MS ?? '0',
  });
  // As functions/currentApp.ts flushes usage at the end of an invocation: only once the last write
  // of that function's environment is METERING_FLUSH_MS old (0: every invocation that counted).
  const lastFlush = { ingest: Number.NEGATIVE_INFINITY, delivery: Number.NEGATIVE_INFINITY };
  const flushUsage = async (fn: keyof typeof lastFlush) => {
    const now = Date.now();
    if (now - lastFlush[fn] < config.meteringFlushMs) return;
    lastFlush[fn] = now;
    await app.meter.flush();
  };
  const logger = createLogger({ write: writeLog });
  const pending: DeliveryJob[] = [];
  const published: HookEvent[] = [];
  const bus: EventBus = {
    async publish(batch: NewEvent[]) {
      const accepted: HookEvent[] = batch.map((event) => ({
        ...event,
        id: randomUUID(),
        time: new Date().toISOString(),
      }));
      for (const event of accepted) usage.busChunks += chunks(JSON.stringify(event).length);
      published.push(...accepted);
      return accepted;
    },
  };
  const app: App = createApp({
    config,
    client,
    clock: systemClock,
    logger,
    retryPolicy: AWS_RETRY_POLICY,
    metrics: createEmfMetrics({ namespace: 'EventHooks/cost', write: writeLog }),
    ports: {
      bus,
      queue: {
        async send(jobs) {
          // SendMessageBatch: 10 entries and 256 KB per request, billed per 64 KB.
          for (let i = 0; i < jobs.length; i += 10) {
            const bytes = jobs.slice(i, i + 10).reduce((sum, job) => sum + JSON.stringify(job).length, 0);
            usage.sqsSends += chunks(bytes);
          }
          usage.sqsMessages += jobs.length;
          pending.push(...jobs);
        },
      },
      functions: noFunctions,
      http: createHttpSender({ connectTimeoutMs: 5_000, responseTimeoutMs: 5_000, blockPrivateNetworks: false }),
    },
  });
  const created = await app.admin({
    method: 'POST',
    path: '/event-hooks',
    query: new URLSearchParams(),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      source: SOURCE,
      event: EVENT,
      handler: 'webhook',
      config: { url: receiverUrl },
      ...scenario.hook,
    }),
  });
  if (created.statusCode !== 201) throw new Error(`could not create the hook: ${created.body}`);
  await app.settled();
  published.length = 0;
  pending.length = 0;
  usage = newUsage();

  let seq = 0;
  while (seq < events) {
    const batch = Array.from({ length: Math.min(scenario.perRequest, events - seq) }, () => ({
      source: SOURCE,
      event: EVENT,
      // on_change sees a change on every event (the health flips), so nothing is suppressed.
      data: eventData(seq++, seq % 2 === 0 ? 'HEALTHY' : 'UNHEALTHY'),
    }));
    const body = JSON.stringify(batch.length === 1 ? batch[0] : batch);
    phase = 'ingest';
    let started = cpuMs();
    const answer = await app.ingest({
      method: 'POST',
      path: '/events',
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      body,
    });
    // As functions/invocation.ts ends an invocation: its metrics, and the usage it counted.
    await flushUsage('ingest');
    usage.ingestMs.push(cpuMs() - started);
    flushMetrics();
    usage.apiRequests++;
    usage.invocations.ingest++;
    if (answer.statusCode >= 300) throw new Error(`ingest answered ${answer.statusCode}: ${answer.body}`);
    phase = 'dispatcher';
    for (const event of published.splice(0)) {
      started = cpuMs();
      await app.dispatch(event);
      usage.dispatchMs.push(cpuMs() - started);
      usage.invocations.dispatcher++;
      flushMetrics();
    }
    phase = 'delivery';
    while (pending.length > 0) {
      const jobs = pending.splice(0, scenario.sqsBatch);
      started = cpuMs();
      // As the delivery function runs a batch: every record at once (functions/delivery.ts, processBatch).
      const outcomes = await Promise.all(jobs.map((job) => app.deliver(job)));
      const failed = outcomes.find((outcome) => outcome !== 'delivered');
      if (failed) throw new Error(`a delivery ended ${failed}`);
      await flushUsage('delivery');
      usage.deliveryMs.push(cpuMs() - started);
      usage.invocations.delivery++;
      flushMetrics();
    }
  }
  usage.events = events;
  phase = 'setup';
  await app.settled();
  return usage;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The bill for a million events at the usage measured. */
export function bill(usage: Usage, receiverMs: number): { lines: Line[]; total: number } {
  const perMillion = 1_000_000 / usage.events;
  const lines: Line[] = [];
  const add = (item: string, arithmetic: string, cost: number) => lines.push({ item, arithmetic, cost });
  const m = (n: number) => n * perMillion;
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

  const api = m(usage.apiRequests);
  add(
    'API Gateway',
    `${fmt(api / 1e6)} M requests × $${PRICES.apiGatewayPerMillion}/M`,
    (api / 1e6) * PRICES.apiGatewayPerMillion,
  );
  const invocations = m(usage.invocations.ingest + usage.invocations.dispatcher + usage.invocations.delivery);
  add(
    'Lambda requests',
    `${fmt(invocations / 1e6)} M invocations (ingest ${fmt(m(usage.invocations.ingest) / 1e6)}, dispatcher ${fmt(m(usage.invocations.dispatcher) / 1e6)}, delivery ${fmt(m(usage.invocations.delivery) / 1e6)}) × $${PRICES.lambdaRequestPerMillion}/M`,
    (invocations / 1e6) * PRICES.lambdaRequestPerMillion,
  );
  const duration = (name: 'ingest' | 'dispatcher' | 'delivery', samples: number[], extraMs: number) => {
    const memory = FUNCTION_DEFAULTS[name].memorySize;
    const scale = Math.max(1, FULL_CPU_MB / memory);
    // Billed per started millisecond.
    const billedMs = samples.reduce((total, ms) => total + Math.ceil(ms * scale + extraMs), 0);
    const gbSeconds = m(billedMs / 1000) * (memory / 1024);
    const meanMs = billedMs / Math.max(1, samples.length);
    add(
      `Lambda ${name}`,
      `${fmt(m(samples.length) / 1e6)} M × ${meanMs.toFixed(1)} ms at ${memory} MB (our code ×${scale.toFixed(1)} for the CPU share${extraMs ? `, + ${extraMs} ms receiver` : ''}) = ${fmt(gbSeconds)} GB-s`,
      gbSeconds * PRICES.lambdaGbSecond,
    );
  };
  duration('ingest', usage.ingestMs, 0);
  duration('dispatcher', usage.dispatchMs, 0);
  // A batch's records are delivered at once, so the receivers' answer time is billed once per invocation.
  duration('delivery', usage.deliveryMs, receiverMs);
  const bus = m(usage.busChunks);
  add(
    'EventBridge',
    `${fmt(bus / 1e6)} M events × $${PRICES.eventBridgePerMillion}/M`,
    (bus / 1e6) * PRICES.eventBridgePerMillion,
  );
  const sqs = m(usage.sqsSends + 2 * usage.invocations.delivery);
  add(
    'SQS',
    `(${fmt(m(usage.sqsSends) / 1e6)} M sends + ${fmt(m(usage.invocations.delivery) / 1e6)} M receives + as many deletes) × $${PRICES.sqsPerMillion}/M`,
    (sqs / 1e6) * PRICES.sqsPerMillion,
  );
  const rru = m(usage.readUnits);
  const wru = m(usage.writeUnits);
  add(
    'DynamoDB',
    `${fmt(rru / 1e6)} M RRU × $${PRICES.dynamoReadUnitPerMillion}/M + ${fmt(wru / 1e6)} M WRU × $${PRICES.dynamoWriteUnitPerMillion}/M`,
    (rru / 1e6) * PRICES.dynamoReadUnitPerMillion + (wru / 1e6) * PRICES.dynamoWriteUnitPerMillion,
  );
  const invocationCount = usage.invocations.ingest + usage.invocations.dispatcher + usage.invocations.delivery;
  const logBytes = m(usage.logBytes + invocationCount * PLATFORM_LOG_BYTES);
  add(
    'CloudWatch Logs',
    `${(logBytes / usage.events / perMillion / 1024).toFixed(2)} KB per event (app ${(usage.logBytes / usage.events / 1024).toFixed(2)} KB + platform lines) = ${(logBytes / 1e9).toFixed(2)} GB × $${PRICES.logsPerGb}`,
    (logBytes / 1e9) * PRICES.logsPerGb,
  );
  return { lines, total: sum(lines.map((line) => line.cost)) };
}

/** The embedded store in a child process (bench/storeProcess.ts), so its CPU time is not billed to our code. */
async function startStoreProcess(): Promise<{ endpoint: string; credentials: object; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./storeProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the store process exited (${code})`)));
  });
  const { endpoint, credentials } = JSON.parse(first) as { endpoint: string; credentials: object };
  return {
    endpoint,
    credentials,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

async function main() {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const raw = argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
    return value;
  };
  const events = Math.max(10, Math.floor(option('events', 2000)));
  const receiverMs = option('receiver-ms', 200);
  const asJson = argv.includes('--json');
  const store = await startStoreProcess();
  const receiver = await startReceiver();
  const results = [];
  try {
    for (const scenario of SCENARIOS) {
      const usage = await runScenario(scenario, events, store.endpoint, store.credentials, receiver.url);
      const logLines = Object.entries(usage.logBytesByMessage)
        .sort(([, a], [, b]) => b - a)
        .map(([message, bytes]) => ({ message, bytesPerEvent: Math.round(bytes / usage.events) }));
      const storeCalls = Object.entries(usage.unitsByCall)
        .sort(([, a], [, b]) => b.writes * 5 + b.reads - (a.writes * 5 + a.reads))
        .map(([call, units]) => ({
          call,
          writeUnitsPerEvent: units.writes / usage.events,
          readUnitsPerEvent: units.reads / usage.events,
          callsPerEvent: units.calls / usage.events,
        }));
      results.push({ scenario: scenario.name, ...bill(usage, receiverMs), logLines, storeCalls });
    }
  } finally {
    receiver.server.close();
    await store.close();
  }
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ events, receiverMs, prices: PRICES, results }, null, 2)}\n`);
    return;
  }
  for (const result of results) {
    process.stdout.write(`\n${result.scenario} (per million events)\n`);
    for (const line of result.lines) {
      process.stdout.write(`  ${line.item.padEnd(18)} $${line.cost.toFixed(2).padStart(6)}  ${line.arithmetic}\n`);
    }
    process.stdout.write(`  ${'total'.padEnd(18)} $${result.total.toFixed(2).padStart(6)}\n`);
    const top = result.logLines
      .slice(0, 5)
      .map((line) => `${line.message} ${line.bytesPerEvent} B`)
      .join(', ');
    process.stdout.write(`  application log bytes per event, largest first: ${top}\n`);
    process.stdout.write('  DynamoDB per event, by function, call and item (WRU, RRU, calls):\n');
    for (const call of result.storeCalls) {
      const n = (x: number) => x.toFixed(2).padStart(5);
      process.stdout.write(
        `    ${call.call.padEnd(40)} ${n(call.writeUnitsPerEvent)} ${n(call.readUnitsPerEvent)} ${n(call.callsPerEvent)}\n`,
      );
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

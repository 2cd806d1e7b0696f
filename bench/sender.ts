/**
 * The sender figure (issue 10, "Outbound HTTP"): today's sender (shared/http/httpSender.ts, on
 * node:http) against the undici candidate (bench/undiciSender.ts) on the same receiver, with the
 * same guard (address policy, timeouts, response cap). The receiver runs in a child process of its
 * own, so the CPU measured here is the senders' (and the client side of the kernel's loopback).
 * Two measures, each interleaved over rounds (node, undici, undici, node, …):
 * - one request at a time: p50 latency of a webhook-sized POST;
 * - `concurrency` requests in flight: requests/s, and the CPU this process spent per request.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createHttpSender, type HttpSender } from '../shared/http/httpSender.ts';
import { webhookBody } from './events.ts';
import { runPool } from './http.ts';
import { type Figure, figure, summarize } from './stats.ts';
import { createUndiciSender } from './undiciSender.ts';

export interface SenderOptions {
  /** Rounds per sender, alternating which goes first. */
  rounds: number;
  /** One-at-a-time requests per round and sender. */
  sequential: number;
  /** Window of the concurrent part per round and sender, ms. */
  windowMs: number;
  concurrency: number;
}

/** A receiver answering 200 `ok` to everything, in a child process; resolves with its URL. */
async function startChildReceiver(): Promise<{ url: string; close(): void }> {
  const script = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }); res.end('ok'); });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
    process.on('disconnect', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
  });
  return { url: `http://127.0.0.1:${port}/hook`, close: () => child.kill() };
}

interface Sample {
  latencies: number[];
  requests: number;
  ms: number;
  cpuUs: number;
}

async function measure(sender: HttpSender, url: string, options: SenderOptions, into: Sample): Promise<void> {
  const body = webhookBody(1);
  const post = async () => {
    const res = await sender.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body,
      sslVerify: true,
    });
    if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
  };
  for (let i = 0; i < options.sequential; i++) {
    const t0 = performance.now();
    await post();
    into.latencies.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  into.requests += await runPool(Number.MAX_SAFE_INTEGER, options.concurrency, post, t0 + options.windowMs);
  into.ms += performance.now() - t0;
  const used = process.cpuUsage(cpu);
  into.cpuUs += used.user + used.system;
}

export async function benchSender(options: SenderOptions): Promise<Figure[]> {
  const receiver = await startChildReceiver();
  const senders = { node: createHttpSender(), undici: createUndiciSender() };
  const samples = {
    node: { latencies: [], requests: 0, ms: 0, cpuUs: 0 } as Sample,
    undici: { latencies: [], requests: 0, ms: 0, cpuUs: 0 } as Sample,
  };
  try {
    // Warm-up: connections open, code compiled on both.
    const warm = { ...options, sequential: 50, windowMs: 200 };
    const scratch = { latencies: [], requests: 0, ms: 0, cpuUs: 0 };
    await measure(senders.node, receiver.url, warm, scratch);
    await measure(senders.undici, receiver.url, warm, scratch);
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? (['node', 'undici'] as const) : (['undici', 'node'] as const);
      for (const name of order) await measure(senders[name], receiver.url, options, samples[name]);
    }
  } finally {
    senders.node.close();
    senders.undici.close();
    receiver.close();
  }
  const rate = (s: Sample) => (s.requests / s.ms) * 1000;
  const cpuPer = (s: Sample) => s.cpuUs / s.requests;
  const note = `${options.rounds} interleaved rounds of ${options.sequential} one-at-a-time POSTs and ${options.windowMs} ms at ${options.concurrency} in flight per sender; receiver in its own process; baseline: today's sender (node:http)`;
  return [
    figure({
      name: 'sender p50, undici',
      unit: 'ms',
      value: summarize(samples.undici.latencies).p50,
      baseline: summarize(samples.node.latencies).p50,
      note,
    }),
    figure({
      name: `sender requests/s at ${options.concurrency}, undici`,
      unit: 'requests/s',
      value: rate(samples.undici),
      baseline: rate(samples.node),
      note,
    }),
    figure({
      name: 'sender CPU per request, undici',
      unit: 'µs',
      value: cpuPer(samples.undici),
      baseline: cpuPer(samples.node),
      note: `this process's user + system CPU during the concurrent windows, per request; ${note}`,
    }),
  ];
}

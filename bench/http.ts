import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The benchmark's own HTTP parts: a keep-alive client and a receiver that counts what arrives.
 * Both are used identically for the service runs and their baselines, so whatever they cost is in
 * both sides of every ratio.
 */

export interface BenchClient {
  /** POSTs `body` as JSON; resolves with the status and the response text. */
  post(url: string, body: string | Buffer): Promise<{ status: number; text: string }>;
  /** Any method, JSON in and out. */
  call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }>;
  close(): void;
}

/** A client on one keep-alive agent holding at most `maxSockets` connections per host. */
export function createClient(maxSockets = 64): BenchClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = (method: string, url: string, body: string | Buffer | undefined) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const req = request(
        url,
        {
          method,
          agent,
          headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    post: (url, body) => send('POST', url, body),
    call: (method, url, body) => send(method, url, body === undefined ? undefined : JSON.stringify(body)),
    close: () => agent.destroy(),
  };
}

export interface Receiver {
  url: string;
  /** Requests received that were not pings, since start or the last `reset()`. */
  count(): number;
  /** Pings received (the one a webhook hook gets when it is created). */
  pings(): number;
  reset(): void;
  /** Called with every non-ping body and the `performance.now()` at which it was fully read. */
  onDelivery: ((body: Buffer, at: number) => void) | undefined;
  /** Resolves once `count()` reaches `target`, or rejects after `timeoutMs`. */
  waitForCount(target: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const PING_MARK = Buffer.from('"event":"ping"');

/** A receiver on 127.0.0.1 answering 200 to everything; pings are counted apart. */
export async function startReceiver(): Promise<Receiver> {
  let received = 0;
  let pings = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  const receiver: Receiver = {
    url: '',
    count: () => received,
    pings: () => pings,
    reset() {
      received = 0;
      pings = 0;
    },
    onDelivery: undefined,
    waitForCount(target, timeoutMs) {
      if (received >= target) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`receiver got ${received} of ${target} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          target,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (body.includes(PING_MARK)) {
        pings++;
      } else {
        received++;
        receiver.onDelivery?.(body, at);
        if (waiter && received >= waiter.target) waiter.resolve();
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  // Long enough that no pooled connection is closed under a client mid-run.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Runs `task` `count` times with at most `concurrency` running, stopping early at `deadline` (performance.now()). */
export async function runPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  deadline = Number.POSITIVE_INFINITY,
): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return next;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

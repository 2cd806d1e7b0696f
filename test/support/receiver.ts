import { type RecordedRequest, startReceiver as startRawReceiver } from './rawReceiver.ts';

export type ReceivedRequest = Omit<RecordedRequest, 'remotePort'>;

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * The recording receiver of rawReceiver.ts with answers given as values (default 200), so a test
 * can make it fail a few times, then succeed, and wait for a number of requests.
 */
export async function startReceiver(
  respond: (request: ReceivedRequest, index: number) => Answer | Promise<Answer> = () => ({ status: 200 }),
): Promise<Receiver> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const raw = await startRawReceiver(async (_req, res) => {
    const index = raw.requests.length - 1;
    const request = raw.requests[index] as RecordedRequest;
    for (const waiter of waiters.filter((w) => raw.requests.length >= w.count)) waiter.resolve();
    const answer = await respond(request, index);
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
    res.end(answer.body ?? 'ok');
  });
  return {
    url: raw.url,
    requests: raw.requests,
    waitFor(count, timeoutMs = 10_000) {
      if (raw.requests.length >= count) return Promise.resolve(raw.requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${raw.requests.length} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(raw.requests.slice());
          },
        });
      });
    },
    close: raw.close,
  };
}

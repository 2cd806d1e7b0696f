import { randomUUID } from 'node:crypto';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/localRuntime.ts';
import { memoryLogger } from '../../shared/logger.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { startTestStore, type TestStore } from './store.ts';

export interface TestRuntime {
  runtime: LocalRuntime;
  store: TestStore;
  logs: Record<string, unknown>[];
  /** One JSON request against the runtime's HTTP API. */
  request(
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally by each test
  ): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * The local runtime on a free port, in memory, on the test store (dynalite, or DynamoDB Local when
 * STORE_BACKEND=dynamodb-local), with its log lines captured.
 */
export async function startTestRuntime(options: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<TestRuntime> {
  const store = await startTestStore();
  const logger = memoryLogger();
  const runtime = await startLocalRuntime({
    port: 0,
    memory: true,
    dynamodbEndpoint: store.endpoint,
    dynamodbCredentials: store.credentials,
    env: { TABLE_NAME: store.tableName, ...options.env },
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    drainMs: 1_000,
  });
  return {
    runtime,
    store,
    logs: logger.lines,
    async request(method, path, body) {
      const res = await fetch(`${runtime.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    async close() {
      await runtime.close();
      await store.close();
    },
  };
}

import { randomUUID } from 'node:crypto';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/localRuntime.ts';
import { memoryLogger } from '../../shared/logger.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { startTestStore, type TestStore } from './store.ts';

export interface TestRuntime {
  runtime: LocalRuntime;
  store: TestStore;
  logs: Record<string, unknown>[];
  /**
   * What authenticates a request of this test: `{}` normally; with TEST_TENANCY=multi, an admin key
   * of the configured tenant (`request` sends it; a test that calls `fetch` itself spreads these).
   */
  auth: Record<string, string>;
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
 * With TEST_TENANCY=multi (`npm run test:dynamodb-local` sets it), the runtime runs in multi-tenant
 * api-keys mode and every request carries an admin key of the configured tenant: the admin and
 * pipeline suites then prove that mode too, without the whole suite running twice. A test that sets
 * AUTH_MODE itself keeps its own settings.
 */
function multiTenant(env: NodeJS.ProcessEnv | undefined): boolean {
  return process.env.TEST_TENANCY === 'multi' && env?.AUTH_MODE === undefined;
}

/**
 * The local runtime on a free port, in memory, on the test store (dynalite, or DynamoDB Local when
 * STORE_BACKEND=dynamodb-local), with its log lines captured.
 */
export async function startTestRuntime(options: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<TestRuntime> {
  const multi = multiTenant(options.env);
  const store = await startTestStore();
  const logger = memoryLogger();
  const runtime = await startLocalRuntime({
    port: 0,
    memory: true,
    dynamodbEndpoint: store.endpoint,
    dynamodbCredentials: store.credentials,
    env: {
      TABLE_NAME: store.tableName,
      ...(multi ? { TENANCY: 'multi', AUTH_MODE: 'api-keys', OPERATOR_KEY: randomUUID() + randomUUID() } : {}),
      ...options.env,
    },
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    drainMs: 1_000,
  });
  // Minted straight in the store: the configured tenant (`default`) needs no tenant entry for its keys.
  const auth: Record<string, string> = multi
    ? { authorization: `Bearer ${(await runtime.app.apiKeys.create(runtime.config.tenant, ['admin'])).key}` }
    : {};
  return {
    runtime,
    store,
    logs: logger.lines,
    auth,
    async request(method, path, body) {
      const res = await fetch(`${runtime.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-request-id': randomUUID(), ...auth },
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

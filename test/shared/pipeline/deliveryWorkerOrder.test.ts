import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { DEFAULT_DELIVERY_LOG_SETTINGS, type DeliveryLog } from '../../../shared/deliveryLog/record.ts';
import type { HandlerDeps } from '../../../shared/handlers/types.ts';
import type { HttpResponse, HttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createDeliveryWorker } from '../../../shared/pipeline/deliveryWorker.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob } from '../../../shared/ports/deliveryQueue.ts';
import type { FunctionRunner } from '../../../shared/ports/functionRunner.ts';
import { DeliveryLogStore } from '../../../shared/store/deliveryLogStore.ts';
import { testHook } from '../../support/dispatcher.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

/** A webhook hook `h1` (the test receiver's address is never dialled: the sender is faked). */
const HOOK = testHook(1, {
  id: 'h1',
  created_at: 1,
  handler: 'webhook',
  config: { url: 'http://receiver.test/hook', headers: {}, secret: null, ssl_verify: false },
});

const answer = (status: number): HttpResponse => ({
  status,
  headers: {},
  rawHeaders: {},
  body: '',
  truncated: false,
  latencyMs: 1,
});

describe("the delivery worker and the table's delivery log", () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  it('logs every attempt in order when the next attempt starts as soon as it is queued (a retry due at once)', async () => {
    // Arrange: the log on the table (several round trips a write, as on AWS), its first writes slow
    // (as a throttled write the SDK retries with backoff); a queue that hands each retry to another
    // consumer at once, as SQS may with a short delay; receivers failing twice, then answering 200,
    // for several deliveries at once.
    const table = new DeliveryLogStore({
      client: store.client,
      tableName: store.tableName,
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
    });
    const log: Pick<DeliveryLog, 'record'> = {
      async record(outcome) {
        if (outcome.job.attempt === 1) await new Promise((resolve) => setTimeout(resolve, 50));
        return table.record(outcome);
      },
    };
    const logger = memoryLogger();
    const answers = new Map<string, number>();
    const http = {
      async send(request: { headers: Record<string, string> }) {
        const id = request.headers['x-event-hooks-delivery'] ?? '';
        const n = (answers.get(id) ?? 0) + 1;
        answers.set(id, n);
        return answer(n < 3 ? 503 : 200);
      },
    } as unknown as HttpSender;
    const handlerDeps = (tenant: string): HandlerDeps => ({
      http,
      functions: {} as FunctionRunner,
      logger,
      tenant,
      clock: systemClock,
    });
    const running: Promise<unknown>[] = [];
    const deliver = createDeliveryWorker({
      hooks: { hook: async () => HOOK },
      queue: {
        send: async (jobs) => {
          for (const job of jobs) running.push(deliver(job));
        },
      },
      deadLetters: { put: async (entry) => ({ id: 'x', ...entry }) },
      handlerDeps,
      policy: { ...LOCAL_RETRY_POLICY, maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0 },
      clock: systemClock,
      logger,
      deliveryLog: log,
    });
    const ids = Array.from({ length: 8 }, (_, i) => `d${i}`);

    // Act
    for (const deliveryId of ids) {
      const job: DeliveryJob = {
        type: 'deliver.v1',
        deliveryId,
        tenant: 'default',
        hookId: 'h1',
        event: {
          id: `e-${deliveryId}`,
          time: '2026-11-29T08:00:00Z',
          tenant: 'default',
          source: 'balancer',
          event: 'health',
          data: {},
        },
        attempt: 1,
        firstQueuedAt: Date.now(),
      };
      running.push(deliver(job));
    }
    while (running.length > 0) await Promise.all(running.splice(0));

    // Assess: each record lists its three attempts in order, and says delivered.
    for (const deliveryId of ids) {
      const record = await table.get('default', deliveryId);
      expect(
        { status: record?.status, attempts: record?.attempts.map((a) => [a.attempt, a.statusCode]) },
        deliveryId,
      ).toEqual({
        status: 'delivered',
        attempts: [
          [1, 503],
          [2, 503],
          [3, 200],
        ],
      });
      expect(record?.attemptCount).toBe(3);
    }
  });
});

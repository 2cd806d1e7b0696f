import { describe, expect, it } from 'vitest';
import { LocalDeliveryLog } from '../../../shared/adapters/local/localDeliveryLog.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { DEFAULT_DELIVERY_LOG_SETTINGS, type DeliveryLog } from '../../../shared/deliveryLog/record.ts';
import type { HandlerDeps } from '../../../shared/handlers/types.ts';
import type { HttpResponse, HttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createDeliveryWorker } from '../../../shared/pipeline/deliveryWorker.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob } from '../../../shared/ports/deliveryQueue.ts';
import type { FunctionRunner } from '../../../shared/ports/functionRunner.ts';
import { testHook } from '../../support/dispatcher.ts';

/** A webhook hook `h1` (the test receiver's address is never dialled: the sender is faked). */
const HOOK = testHook(1, {
  id: 'h1',
  created_at: 1,
  handler: 'webhook',
  config: { url: 'http://receiver.test/hook', headers: {}, secret: null, ssl_verify: false },
});

const job = (attempt = 1): DeliveryJob => ({
  type: 'deliver.v1',
  deliveryId: 'd1',
  tenant: 'default',
  hookId: 'h1',
  event: { id: 'e1', time: '2026-11-29T08:00:00Z', tenant: 'default', source: 'balancer', event: 'health', data: {} },
  attempt,
  firstQueuedAt: 0,
});

/** A worker whose receiver answers `answers` in turn, with the log and the after-dead hook given. */
function worker(answers: HttpResponse[], log: Pick<DeliveryLog, 'record'>, afterDead?: () => Promise<void>) {
  const clock = new ManualClock(1_000);
  const logger = memoryLogger();
  const http = {
    async send() {
      clock.advance(7);
      return answers.shift() as HttpResponse;
    },
  } as unknown as HttpSender;
  const handlerDeps = (tenant: string): HandlerDeps => ({
    http,
    functions: {} as FunctionRunner,
    logger,
    tenant,
    clock,
  });
  const deliver = createDeliveryWorker({
    hooks: { hook: async () => HOOK },
    queue: { send: async () => undefined },
    deadLetters: { put: async (entry) => ({ id: 'x', ...entry }) },
    handlerDeps,
    policy: { ...LOCAL_RETRY_POLICY, maxAttempts: 2 },
    clock,
    logger,
    deliveryLog: log,
    ...(afterDead ? { afterDead: async () => afterDead() } : {}),
  });
  return { deliver, logger };
}

const answer = (status: number, body = ''): HttpResponse => ({
  status,
  headers: { 'x-id': 'r' },
  rawHeaders: { 'X-Id': 'r' },
  body,
  truncated: false,
  latencyMs: 7,
});

describe('the delivery worker writes the delivery log', () => {
  it('records each attempt: a retrying failure with the receiver’s answer, then the delivery, with its latency', async () => {
    const log = await LocalDeliveryLog.open({
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      logger: memoryLogger(),
      clock: new ManualClock(1_000),
    });
    const { deliver } = worker([answer(503, 'busy'), answer(200, 'ok')], log);
    expect(await deliver(job(1))).toBe('retry');
    expect(await deliver(job(2))).toBe('delivered');
    const record = await log.get('default', 'd1');
    expect(record).toMatchObject({ status: 'delivered', attemptCount: 2, lastStatusCode: 200 });
    expect(record?.attempts[0]).toMatchObject({
      attempt: 1,
      statusCode: 503,
      latencyMs: 7,
      error: 'receiver answered HTTP 503',
      responseBody: 'busy',
      responseHeaders: { 'X-Id': 'r' },
    });
  });

  it('runs the auto-disable check after a delivery went dead, and only then', async () => {
    const log = await LocalDeliveryLog.open({
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      logger: memoryLogger(),
      clock: new ManualClock(1_000),
    });
    let checks = 0;
    const { deliver } = worker([answer(500), answer(500)], log, async () => void checks++);
    expect(await deliver(job(1))).toBe('retry');
    expect(checks).toBe(0);
    expect(await deliver(job(2))).toBe('dead-letter');
    expect(checks).toBe(1);
    expect((await log.get('default', 'd1'))?.status).toBe('dead');
  });

  it('delivers all the same when the log cannot be written, and says so', async () => {
    const broken = { record: async () => Promise.reject(new Error('disk full')) };
    const { deliver, logger } = worker([answer(200)], broken);
    expect(await deliver(job(1))).toBe('delivered');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'delivery log write failed', delivery_id: 'd1', hook_id: 'h1' }),
    );
  });
});

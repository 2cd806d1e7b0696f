import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pipelineSteps } from '../support/pipeline.ts';
import type { Answer, ReceivedRequest } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/** Retries due at once (0-1 ms), so that a next attempt races the write of the one before it. */
const QUICK_RETRIES = {
  RETRY_MAX_ATTEMPTS: '3',
  RETRY_BASE_DELAY_MS: '1',
  RETRY_MAX_DELAY_MS: '2',
  HTTP_TIMEOUT_MS: '1000',
};

const isPing = (request: ReceivedRequest) => request.body.toString('utf8').includes('"kong:event_hooks"');

describe('replays and the delivery log on the local runtime', () => {
  let t: TestRuntime;
  const steps = pipelineSteps(() => t);
  const { settle } = steps;
  /** A receiver whose deliveries (pings aside) are answered `answer(n)` for the n-th delivery of an event. */
  const receiver = (answer: (n: number) => Answer | Promise<Answer>) => {
    const seen = new Map<string, number>();
    return steps.receiver((request) => {
      if (isPing(request)) return { status: 200 };
      const id = String(request.headers['x-event-hooks-delivery']);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return answer(n);
    });
  };
  const create = async (url: string) =>
    (await steps.hook({ source: 'balancer', event: 'health', handler: 'webhook', config: { url } })).id;
  const emit = async (data: Record<string, unknown>) => {
    await steps.emit('balancer', 'health', data);
  };
  const deadLettersOf = async (hookId: string) =>
    ((await t.request('GET', '/dead-letters?size=1000')).body.data as { hook_id: string; delivery_id: string }[])
      .filter((d) => d.hook_id === hookId)
      .map((d) => d.delivery_id);

  beforeAll(async () => {
    t = await startTestRuntime({ env: QUICK_RETRIES });
  });
  afterEach(async () => {
    await steps.deleteHooks();
    await steps.cleanUp();
  });
  afterAll(() => t.close());

  it('a dead delivery replayed from /deliveries leaves /dead-letters, as one replayed from /dead-letters does', async () => {
    // Arrange: a receiver that refuses the first delivery for good (410), then takes it.
    const r = await receiver((n) => (n === 1 ? { status: 410 } : { status: 200 }));
    const hookId = await create(r.url);
    await emit({ n: 1 });
    await settle();
    const [dead] = (await t.request('GET', `/event-hooks/${hookId}/deliveries`)).body.data;
    expect(dead.status).toBe('dead');
    expect(await deadLettersOf(hookId)).toEqual([dead.id]);

    // Act
    const replay = await t.request('POST', `/deliveries/${dead.id}/replay`);
    expect(replay.status, replay.text).toBe(202);
    await settle();

    // Assess: delivered once more, and the dead letter is gone (a second replay from there would
    // have sent it a third time).
    expect((await t.request('GET', `/deliveries/${dead.id}`)).body.status).toBe('delivered');
    expect(await deadLettersOf(hookId)).toEqual([]);
  });

  it('a delivery replayed from /dead-letters is pending in the log: replaying it from /deliveries too answers 409, not a second chain', async () => {
    // Arrange: the first delivery is refused for good; the replayed one is held by the receiver until released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await receiver((n) => (n === 1 ? { status: 410 } : held.then(() => ({ status: 200 }))));
    const hookId = await create(r.url);
    await emit({ n: 1 });
    await settle();
    const [letter] = (
      (await t.request('GET', '/dead-letters?size=1000')).body.data as {
        id: string;
        hook_id: string;
        delivery_id: string;
      }[]
    ).filter((d) => d.hook_id === hookId);
    expect(letter).toBeDefined();

    // Act: replayed from /dead-letters; while its attempt runs, from /deliveries.
    expect((await t.request('POST', `/dead-letters/${letter?.id}/replay`)).status).toBe(202);
    await r.waitFor(3); // the ping, the refused delivery, the replay (held)
    const second = await t.request('POST', `/deliveries/${letter?.delivery_id}/replay`);
    release();
    await settle();

    // Assess
    expect(second.status, second.text).toBe(409);
    expect(r.requests.filter((q) => !isPing(q))).toHaveLength(2);
    expect((await t.request('GET', `/deliveries/${letter?.delivery_id}`)).body.status).toBe('delivered');
  });

  it('logs every attempt of a delivery that failed, then succeeded, in order, even when retries are due at once', async () => {
    // Arrange: each delivery fails twice (500, then 503), then succeeds.
    const r = await receiver((n) => (n === 1 ? { status: 500 } : n === 2 ? { status: 503 } : { status: 200 }));
    const hookId = await create(r.url);

    // Act: several events at once, so attempts of different deliveries interleave.
    const events = 10;
    await Promise.all(Array.from({ length: events }, (_, i) => emit({ i })));
    await settle();

    // Assess
    const page = (await t.request('GET', `/event-hooks/${hookId}/deliveries?size=100`)).body.data as { id: string }[];
    expect(page).toHaveLength(events);
    for (const { id } of page) {
      const record = (await t.request('GET', `/deliveries/${id}`)).body;
      expect(
        {
          status: record.status,
          attempts: record.attempts.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]),
        },
        id,
      ).toEqual({
        status: 'delivered',
        attempts: [
          [1, 500],
          [2, 503],
          [3, 200],
        ],
      });
      expect(record.attempt_count).toBe(3);
    }
  });
});

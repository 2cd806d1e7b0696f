import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse } from '../../../shared/admin/http.ts';
import { ServiceUnavailableError } from '../../../shared/errors.ts';
import type { HookEvent } from '../../../shared/events/envelope.ts';
import { BUILTIN_CATALOG } from '../../../shared/hooks/catalog.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createIngest } from '../../../shared/pipeline/ingest.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import type { EventBus, NewEvent } from '../../../shared/ports/eventBus.ts';
import { IdempotencyStore } from '../../../shared/store/idempotencyStore.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

/** A bus that records what it is given; `delayMs` keeps a publish in flight, `fail` makes the next one throw. */
class RecordingBus implements EventBus {
  published: HookEvent[] = [];
  delayMs = 0;
  fail: boolean | Error = false;
  constructor(private readonly clock: ManualClock) {}
  async publish(events: NewEvent[]): Promise<HookEvent[]> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.fail) {
      const failure = this.fail === true ? new Error('bus unavailable') : this.fail;
      this.fail = false;
      throw failure;
    }
    const accepted = events.map((e) => ({ ...e, id: randomUUID(), time: new Date(this.clock.now()).toISOString() }));
    this.published.push(...accepted);
    return accepted;
  }
}

const HEALTH = { source: 'balancer', event: 'health', data: { upstream_id: 'u1' } };

describe('idempotent ingest (real store)', () => {
  let store: TestStore;
  const clock = new ManualClock(1_790_000_000_000);
  const setup = (tenant = 'default', options: { waitMs?: number } = {}) => {
    const bus = new RecordingBus(clock);
    const idempotency = new IdempotencyStore({ client: store.client, tableName: store.tableName, clock, ...options });
    const ingest = createIngest({
      bus,
      catalog: async () => BUILTIN_CATALOG as Record<string, never>,
      logger: memoryLogger(),
      tenant,
      maxEventBytes: 10_000,
      idempotency,
    });
    const post = (body: unknown, key?: string): Promise<ApiResponse> =>
      ingest({
        method: 'POST',
        path: '/events',
        query: new URLSearchParams(),
        headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    return { bus, post, idempotency };
  };
  const ids = (res: ApiResponse) => (JSON.parse(res.body).data as { id: string }[]).map((d) => d.id);

  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  it('answers a retry with the same key with the first answer, publishing once', async () => {
    const { bus, post } = setup();
    const first = await post([HEALTH, { ...HEALTH, data: { upstream_id: 'u2' } }], 'key-1');
    expect(first.statusCode).toBe(202);
    // Whitespace aside, the same body.
    const again = await post(JSON.stringify([HEALTH, { ...HEALTH, data: { upstream_id: 'u2' } }], null, 2), 'key-1');
    expect(again.statusCode).toBe(202);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(bus.published.map((e) => e.id)).toEqual(ids(first));
  });

  it('refuses the same key with a different body with 422 in Kong’s shape', async () => {
    const { bus, post } = setup();
    await post(HEALTH, 'key-2');
    const other = await post({ ...HEALTH, data: { upstream_id: 'other' } }, 'key-2');
    expect(other.statusCode).toBe(422);
    expect(JSON.parse(other.body)).toEqual({
      message: 'Idempotency-Key was already used with a different request body',
    });
    expect(bus.published).toHaveLength(1);
  });

  it('publishes once when many requests with one key arrive at the same time, and all get the answer', async () => {
    const { bus, post } = setup();
    bus.delayMs = 150;
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(HEALTH, 'key-3')));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(bus.published).toHaveLength(1);
  });

  it('keeps tenants apart: one key in two tenants is two requests', async () => {
    const a = setup('tenant-a');
    const b = setup('tenant-b');
    const [ra, rb] = [await a.post(HEALTH, 'shared-key'), await b.post({ ...HEALTH, data: { x: 1 } }, 'shared-key')];
    expect([ra.statusCode, rb.statusCode]).toEqual([202, 202]);
    expect(a.bus.published).toHaveLength(1);
    expect(b.bus.published).toHaveLength(1);
    expect(ids(ra)).not.toEqual(ids(rb));
  });

  it('forgets a key after 24 hours, even before TTL removed it', async () => {
    const { bus, post } = setup();
    const first = await post(HEALTH, 'key-4');
    clock.advance(24 * 60 * 60 * 1000 - 5_000);
    expect((await post(HEALTH, 'key-4')).body).toBe(first.body);
    clock.advance(10_000);
    const later = await post({ ...HEALTH, data: { upstream_id: 'new' } }, 'key-4');
    expect(later.statusCode).toBe(202);
    expect(ids(later)).not.toEqual(ids(first));
    expect(bus.published).toHaveLength(2);
  });

  it('answers 409 while another request holds the key, and takes over a crashed one after the lock time', async () => {
    const { bus, post, idempotency } = setup('default', { waitMs: 100 });
    const body = JSON.parse(JSON.stringify(HEALTH));
    const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('base64url');
    // A request that claimed the key and crashed before it answered.
    expect((await idempotency.claim('default', 'REQ#key-5', fingerprint)).status).toBe('claimed');
    const busy = await post(HEALTH, 'key-5');
    expect(busy.statusCode).toBe(409);
    expect(bus.published).toHaveLength(0);
    clock.advance(31_000);
    expect((await post(HEALTH, 'key-5')).statusCode).toBe(202);
    expect(bus.published).toHaveLength(1);
  });

  it('frees the key when the bus refused the whole request, so the retry goes through', async () => {
    const { bus, post } = setup();
    bus.fail = new ServiceUnavailableError('the service is shutting down');
    expect((await post(HEALTH, 'key-6')).statusCode).toBe(503);
    const retry = await post(HEALTH, 'key-6');
    expect(retry.statusCode).toBe(202);
    expect(bus.published).toHaveLength(1);
  });

  it('keeps the key claimed after a failure that may have published part of the request, until its lock passes', async () => {
    // An EventBridge failure after some entries were accepted: a quick retry must not publish them again.
    const { bus, post } = setup();
    bus.fail = new Error('bus unavailable');
    expect((await post(HEALTH, 'key-6b')).statusCode).toBe(500);
    expect((await post(HEALTH, 'key-6b')).statusCode).toBe(409);
    expect(bus.published).toHaveLength(0);
    clock.advance(31_000);
    expect((await post(HEALTH, 'key-6b')).statusCode).toBe(202);
    expect(bus.published).toHaveLength(1);
  });

  it('refuses a malformed Idempotency-Key with 400', async () => {
    const { bus, post } = setup();
    for (const key of ['', 'has space', 'x'.repeat(256), 'é']) {
      const res = await post(HEALTH, key);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).message).toMatch(/Idempotency-Key/);
    }
    expect(bus.published).toHaveLength(0);
  });

  describe('event ids', () => {
    it('publishes an id once per source: a repeat gets the first event id back', async () => {
      const { bus, post } = setup();
      const first = await post([
        { ...HEALTH, id: 'evt-1' },
        { ...HEALTH, id: 'evt-2' },
      ]);
      const second = await post([
        { ...HEALTH, id: 'evt-1' },
        { ...HEALTH, id: 'evt-3' },
        { ...HEALTH, id: 'evt-3' },
        { source: 'crud', event: 'consumers', data: {}, id: 'evt-1' },
      ]);
      expect(second.statusCode).toBe(202);
      const [a, c, c2, other] = ids(second);
      expect(a).toBe(ids(first)[0]);
      expect(c2).toBe(c);
      expect(other).not.toBe(a);
      expect(bus.published.map((e) => e.id)).toEqual([...ids(first), c, other]);
    });

    it('publishes an id once when two requests carry it at the same time', async () => {
      const { bus, post } = setup();
      bus.delayMs = 100;
      const [x, y] = await Promise.all([post({ ...HEALTH, id: 'evt-race' }), post({ ...HEALTH, id: 'evt-race' })]);
      expect(ids(x!)).toEqual(ids(y!));
      expect(bus.published).toHaveLength(1);
    });

    it('refuses an id that is too long or has other characters with 400, accepting nothing', async () => {
      const { bus, post } = setup();
      expect((await post({ ...HEALTH, id: 'a'.repeat(128) })).statusCode).toBe(202);
      for (const id of ['a'.repeat(129), 'a b', 'a/b', '', 7]) {
        const res = await post([HEALTH, { ...HEALTH, id }]);
        expect(res.statusCode).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({
          code: 2,
          name: 'schema violation',
          fields: { 2: { id: expect.any(String) } },
        });
      }
      expect(bus.published).toHaveLength(1);
    });

    it('frees the ids when the bus refused the whole request', async () => {
      const { bus, post } = setup();
      bus.fail = new ServiceUnavailableError('the delivery journal cannot be written');
      expect((await post({ ...HEALTH, id: 'evt-fail' })).statusCode).toBe(503);
      expect((await post({ ...HEALTH, id: 'evt-fail' })).statusCode).toBe(202);
      expect(bus.published).toHaveLength(1);
    });
  });
});

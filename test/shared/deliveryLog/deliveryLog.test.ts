import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryLog } from '../../../shared/adapters/local/localDeliveryLog.ts';
import {
  deliveryIdFor,
  deliveryIdsFor,
  legacyDeliveryId,
  parseDeliveryId,
} from '../../../shared/deliveryLog/deliveryId.ts';
import {
  type AttemptOutcome,
  DEFAULT_DELIVERY_LOG_SETTINGS,
  type DeliveryLog,
  type DeliveryRecord,
  MAX_ATTEMPTS,
  MAX_BODY_BYTES,
  SMALL_EVENT_BYTES,
} from '../../../shared/deliveryLog/record.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createDeliveries, DeliveryInProgressError, EventNotKeptError } from '../../../shared/pipeline/deliveries.ts';
import { type Clock, ManualClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob } from '../../../shared/ports/deliveryQueue.ts';
import { DeliveryLogStore } from '../../../shared/store/deliveryLogStore.ts';
import { deliveryJobAt } from '../../support/jobs.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2026-11-29T08:00:00Z');

const job = (id: string, attempt = 1, overrides: Partial<DeliveryJob> = {}): DeliveryJob =>
  deliveryJobAt(id, T0, { attempt, ...overrides });

const outcome = (j: DeliveryJob, at: number, status: AttemptOutcome['status'], code = 200): AttemptOutcome => ({
  job: j,
  status,
  startedAt: at,
  endedAt: at + 5,
  statusCode: code,
  ...(status === 'delivered' ? {} : { error: `receiver answered HTTP ${code}` }),
  response: { headers: { 'content-type': 'text/plain', authorization: 'Bearer x' }, body: 'ok' },
});

/** The same contract on both backends: the local file and the table. */
function contract(name: string, open: (clock: ManualClock) => Promise<DeliveryLog>) {
  describe(name, () => {
    it('keeps one record per delivery with its attempts, newest first per hook, paged and filtered', async () => {
      const clock = new ManualClock(T0);
      const log = await open(clock);
      await log.record(outcome(job('d1'), T0, 'retrying', 503));
      await log.record(outcome(job('d1', 2), T0 + 1000, 'delivered'));
      await log.record(outcome(job('d2'), T0 + 2000, 'dead', 400));
      await log.record(outcome(job('d3'), T0 + 3000, 'delivered'));
      await log.record(outcome(job('other', 1, { hookId: 'hook-b' }), T0 + 3000, 'delivered'));
      await log.record(outcome(job('d1', 1, { tenant: 't2' }), T0 + 3000, 'delivered'));

      const d1 = await log.get('default', 'd1');
      expect(d1).toMatchObject({ status: 'delivered', attemptCount: 2, lastStatusCode: 200, createdAt: T0 });
      expect(d1?.attempts.map((a) => a.statusCode)).toEqual([503, 200]);
      expect(d1?.attempts[0]?.responseHeaders?.authorization).toBe('[redacted]');
      // Another tenant's delivery of the same id is its own, and it sees nothing else of this one.
      expect((await log.get('t2', 'd1'))?.attemptCount).toBe(1);
      expect(await log.get('t2', 'd2')).toBeUndefined();
      expect((await log.list('t2', 'hook-a', { size: 10 })).records.map((r) => r.id)).toEqual(['d1']);
      expect(await log.replay('t2', 'd3')).toBeUndefined();

      const all = await log.list('default', 'hook-a', { size: 10 });
      expect(all.records.map((r) => r.id)).toEqual(['d3', 'd2', 'd1']);
      const first = await log.list('default', 'hook-a', { size: 2 });
      expect(first.records.map((r) => r.id)).toEqual(['d3', 'd2']);
      const rest = await log.list('default', 'hook-a', { size: 2, offset: first.next as string });
      expect(rest.records.map((r) => r.id)).toEqual(['d1']);
      expect(rest.next).toBeUndefined();
      const dead = await log.list('default', 'hook-a', { size: 10, status: 'dead' });
      expect(dead.records.map((r) => r.id)).toEqual(['d2']);
      const since = await log.list('default', 'hook-a', { size: 10, since: T0 + 2000 });
      expect(since.records.map((r) => r.id)).toEqual(['d3', 'd2']);
      expect((await log.recent('default', 'hook-a', { since: 0, limit: 2 })).map((r) => r.id)).toEqual(['d3', 'd2']);
    });

    it('caps the attempts kept, and hides expired records on read (TTL compared with now)', async () => {
      const clock = new ManualClock(T0);
      const log = await open(clock);
      for (let a = 1; a <= MAX_ATTEMPTS + 5; a++) await log.record(outcome(job('long', a), T0 + a, 'retrying', 500));
      const long = await log.get('default', 'long');
      expect(long?.attemptCount).toBe(MAX_ATTEMPTS + 5);
      expect(long?.attempts).toHaveLength(MAX_ATTEMPTS);
      expect(long?.attempts[0]?.attempt).toBe(6);

      clock.set(T0 + 7 * DAY + 1000);
      expect(await log.get('default', 'long')).toBeUndefined();
      expect((await log.list('default', 'hook-a', { size: 10 })).records).toEqual([]);
    });

    it('replays: the record turns pending, its history kept', async () => {
      const clock = new ManualClock(T0);
      const log = await open(clock);
      await log.record(outcome(job('r1'), T0, 'dead', 400));
      clock.advance(1000);
      const pending = await log.replay('default', 'r1');
      expect(pending).toMatchObject({ status: 'pending', attemptCount: 1 });
      await log.record(outcome(job('r1'), T0 + 2000, 'delivered'));
      const after = await log.get('default', 'r1');
      expect(after).toMatchObject({ status: 'delivered', attemptCount: 2, createdAt: T0 });
      expect(await log.replay('default', 'unknown')).toBeUndefined();
    });

    it('replays by compare-and-set: of two at once one marks it, and none over a record changed since read', async () => {
      // Arrange
      const clock = new ManualClock(T0);
      const log = await open(clock);
      await log.record(outcome(job('cas'), T0, 'dead', 400));
      const read = await log.get('default', 'cas');
      if (!read) throw new Error('recorded delivery not found');
      clock.advance(1000);

      // Act
      const both = await Promise.all([log.replay('default', 'cas', read), log.replay('default', 'cas', read)]);

      // Assess: one replay marked it; the other found it changed (the 409 of the Admin API).
      expect(both.filter((r) => r !== undefined)).toMatchObject([{ status: 'pending', updatedAt: T0 + 1000 }]);
      await log.record(outcome(job('cas'), T0 + 2000, 'dead', 400));
      expect(await log.replay('default', 'cas', read)).toBeUndefined();
      expect((await log.get('default', 'cas'))?.status).toBe('dead');
    });

    it('replays a record at its largest (every attempt kept with a full body): the compare holds the whole record', async () => {
      const clock = new ManualClock(T0);
      const log = await open(clock);
      const big = (attempt: number): AttemptOutcome => ({
        ...outcome(job('big', attempt), T0 + attempt, 'retrying', 503),
        response: { body: 'x'.repeat(2 * MAX_BODY_BYTES) },
      });
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) await log.record(big(attempt));
      const read = await log.get('default', 'big');
      expect(read?.attempts.map((a) => a.responseBody?.length)).toEqual(Array(MAX_ATTEMPTS).fill(MAX_BODY_BYTES));
      await log.record(outcome(job('big', MAX_ATTEMPTS + 1), T0 + 100, 'dead', 503));
      expect(await log.replay('default', 'big', await log.get('default', 'big'))).toMatchObject({ status: 'pending' });
    });

    it('answers unknown, not an error, for ids no delivery has (over 128 characters, or with a #)', async () => {
      const log = await open(new ManualClock(T0));
      for (const id of [
        'a'.repeat(3000),
        'x#y',
        `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}_zzzzzzzzz_${'0'.repeat(16)}`,
      ]) {
        expect(await log.get('default', id)).toBeUndefined();
        expect(await log.replay('default', id)).toBeUndefined();
      }
    });
  });
}

describe('the delivery log', () => {
  let store: TestStore;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-log-'));
    dirs.push(dir);
    return dir;
  };
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(async () => {
    await store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The log on the test table, with the default settings. */
  const tableLog = (clock: Clock) =>
    new DeliveryLogStore({
      client: store.client,
      tableName: store.tableName,
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      clock,
    });

  let table = 0;
  contract('on the table (AWS)', async (clock) => {
    // Each test its own tenant prefix would do too; a fresh hook partition per test keeps them apart.
    table++;
    const log = tableLog(clock);
    const prefix = `run${table}-`;
    // Tests use fixed ids: give each run its own tenants so they never meet.
    return {
      record: (o) => log.record({ ...o, job: { ...o.job, tenant: prefix + o.job.tenant } }),
      save: (r) => log.save({ ...r, tenant: prefix + r.tenant }),
      replay: (tenant, id, expected) => log.replay(prefix + tenant, id, expected),
      get: (tenant, id) => log.get(prefix + tenant, id),
      list: (tenant, hookId, q) => log.list(prefix + tenant, hookId, q),
      recent: (tenant, hookId, o) => log.recent(prefix + tenant, hookId, o),
    };
  });
  contract('in the local file', (clock) =>
    LocalDeliveryLog.open({
      path: join(tempDir(), 'deliveries.log'),
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      logger: memoryLogger(),
      clock,
    }),
  );

  describe('on the table, with ids that name their hook', () => {
    const HOOK = '4b1e0c6a-1f2d-4e3c-9a8b-7c6d5e4f3a2b';
    const event = (n: string, time: number) => ({
      id: `event-${n}`,
      time: new Date(time).toISOString(),
      tenant: 'named',
      source: 's',
      event: 'e',
      data: {},
    });
    const named = (n: string, time: number, attempt = 1, tenant = 'named'): DeliveryJob => ({
      type: 'deliver.v1',
      deliveryId: deliveryIdFor(event(n, time), HOOK),
      tenant,
      hookId: HOOK,
      event: { ...event(n, time), tenant },
      attempt,
      firstQueuedAt: time,
    });
    const itemsOf = async (tenant: string) =>
      (
        await store.client.send(
          new ScanCommand({
            TableName: store.tableName,
            FilterExpression: 'begins_with(pk, :p)',
            ExpressionAttributeValues: { ':p': `T#${tenant}#` },
            ConsistentRead: true,
          }),
        )
      ).Items ?? [];

    it('names the hook and the event time in the id, and reads it back', () => {
      const id = deliveryIdFor(event('x', T0 + 123), HOOK);
      expect(parseDeliveryId(id)).toEqual({ hookId: HOOK, time: T0 + 123 });
      expect(deliveryIdFor(event('x', T0 + 123), HOOK)).toBe(id);
      expect(parseDeliveryId(legacyDeliveryId('event-x', HOOK))).toBeUndefined();
      // A hook id that is not a lower-case UUID keeps the old shape, which the log resolves through a pointer.
      expect(deliveryIdFor(event('x', T0), 'hook-a')).toBe(legacyDeliveryId('event-x', 'hook-a'));
      // So does an event whose time the log cannot sort (a producer's own PutEvents `Time`).
      expect(deliveryIdFor({ id: 'event-x', time: '+275760-09-13T00:00:00Z' }, HOOK)).toBe(
        legacyDeliveryId('event-x', HOOK),
      );
      expect(deliveryIdFor({ id: 'event-x', time: 'not a time' }, HOOK)).toBe(legacyDeliveryId('event-x', HOOK));
      // The dispatcher's minter, its event's time worked out once, gives each hook the same ids.
      const ids = deliveryIdsFor(event('x', T0 + 123));
      expect([ids(HOOK), ids('hook-a'), ids(HOOK)]).toEqual([id, legacyDeliveryId('event-x', 'hook-a'), id]);
      expect(deliveryIdsFor({ id: 'event-x', time: 'not a time' })(HOOK)).toBe(legacyDeliveryId('event-x', HOOK));
    });

    it('writes one item per delivery (no pointer), and get, list, retries and replays work on it alone', async () => {
      const clock = new ManualClock(T0);
      const log = tableLog(clock);
      const first = named('n1', T0 - 50);
      await log.record(outcome(first, T0, 'retrying', 503));
      expect(await itemsOf('named')).toHaveLength(1);
      await log.record(outcome(named('n1', T0 - 50, 2), T0 + 1000, 'dead', 500));
      await log.record(outcome(named('n2', T0 + 1950), T0 + 2000, 'delivered'));

      const items = await itemsOf('named');
      expect(items.map((item) => item.pk)).toEqual([`T#named#HDLV#${HOOK}`, `T#named#HDLV#${HOOK}`]);
      const got = await log.get('named', first.deliveryId);
      expect(got).toMatchObject({ id: first.deliveryId, status: 'dead', attemptCount: 2, createdAt: T0 });
      const page = await log.list('named', HOOK, { size: 1 });
      expect(page.records.map((r) => r.id)).toEqual([named('n2', T0 + 1950).deliveryId]);
      const rest = await log.list('named', HOOK, { size: 1, offset: page.next as string });
      expect(rest.records.map((r) => r.id)).toEqual([first.deliveryId]);

      // A replay: pending, then its fresh first attempt finds the record (the conditional write is refused) and appends.
      clock.advance(5000);
      expect(await log.replay('named', first.deliveryId)).toMatchObject({ status: 'pending', attemptCount: 2 });
      await log.record(outcome(first, T0 + 6000, 'delivered'));
      expect(await log.get('named', first.deliveryId)).toMatchObject({ status: 'delivered', attemptCount: 3 });
      expect(await itemsOf('named')).toHaveLength(2);

      // The tenant comes from the caller: another tenant's id, or a forged one, finds nothing.
      expect(await log.get('other', first.deliveryId)).toBeUndefined();
      expect(await log.replay('other', first.deliveryId)).toBeUndefined();
      const forged = first.deliveryId.replace(/_[0-9a-f]{16}$/, '_0000000000000000');
      expect(await log.get('named', forged)).toBeUndefined();
    });

    it('still resolves an old-shape id through the pointer its record was written with, and appends to it', async () => {
      const clock = new ManualClock(T0);
      const log = tableLog(clock);
      // The two items the log wrote before ids named their hook: the record under its creation time, and the pointer.
      const oldId = legacyDeliveryId('event-old', HOOK);
      const sk = `${String(T0).padStart(13, '0')}#${oldId}`;
      const record: DeliveryRecord = {
        id: oldId,
        tenant: 'legacy',
        hookId: HOOK,
        eventId: 'event-old',
        status: 'retrying',
        attemptCount: 1,
        attempts: [{ attempt: 1, startedAt: T0, latencyMs: 5, statusCode: 503 }],
        lastStatusCode: 503,
        createdAt: T0,
        updatedAt: T0 + 5,
        expiresAt: T0 + 7 * DAY,
        event: { ...event('old', T0 - 10), tenant: 'legacy' },
      };
      const expires = Math.ceil(record.expiresAt / 1000);
      await store.client.send(
        new PutCommand({
          TableName: store.tableName,
          Item: { pk: `T#legacy#HDLV#${HOOK}`, sk, rec: JSON.stringify(record), expires_at: expires },
        }),
      );
      await store.client.send(
        new PutCommand({
          TableName: store.tableName,
          Item: {
            pk: `T#legacy#DLV#${oldId}`,
            sk: 'DLV',
            hookId: HOOK,
            recordSk: sk,
            expires_at: expires + 7 * 86_400,
          },
        }),
      );

      expect(await log.get('legacy', oldId)).toMatchObject({ id: oldId, attemptCount: 1 });
      // Its next attempt, queued before the change, lands in the same record.
      const retry: DeliveryJob = {
        type: 'deliver.v1',
        deliveryId: oldId,
        tenant: 'legacy',
        hookId: HOOK,
        event: record.event as DeliveryJob['event'],
        attempt: 2,
        firstQueuedAt: T0,
      };
      await log.record(outcome(retry, T0 + 1000, 'delivered'));
      expect(await log.get('legacy', oldId)).toMatchObject({ status: 'delivered', attemptCount: 2 });
      expect((await log.list('legacy', HOOK, { size: 10 })).records.map((r) => r.id)).toEqual([oldId]);
      expect(await log.replay('legacy', oldId)).toMatchObject({ status: 'pending' });
      expect(await log.get('legacy', oldId)).toMatchObject({ status: 'pending', attemptCount: 2 });
      expect(await log.get('other', oldId)).toBeUndefined();
      expect(await itemsOf('legacy')).toHaveLength(2);
    });
  });

  it('locally, survives a restart from its file (last line of a delivery wins; a torn last line is cut)', async () => {
    const path = join(tempDir(), 'deliveries.log');
    const clock = new ManualClock(T0);
    const options = { path, settings: DEFAULT_DELIVERY_LOG_SETTINGS, logger: memoryLogger(), clock };
    const log = await LocalDeliveryLog.open(options);
    await log.record(outcome(job('a'), T0, 'retrying', 500));
    await log.record(outcome(job('a', 2), T0 + 10, 'delivered'));
    await log.record(outcome(job('b'), T0 + 20, 'dead', 400));
    // Group commits: concurrent records share writes.
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.record(outcome(job(`c${i}`), T0 + 30, 'delivered'))));
    expect(log.stats().writes).toBeLessThan(10);
    await log.close();
    appendFileSync(path, '0000dead {"t":"d","r":'); // a crash in the middle of a write

    const again = await LocalDeliveryLog.open(options);
    expect((await again.get('default', 'a'))?.attempts.map((x) => x.statusCode)).toEqual([500, 200]);
    const page = await again.list('default', 'hook-a', { size: 100 });
    expect(page.records).toHaveLength(52);
    expect(page.records.at(-1)?.id).toBe('a');
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    await again.close();
  });

  it("locally, removes a deleted tenant's records from memory and from the file; others stay, also after a restart", async () => {
    const path = join(tempDir(), 'deliveries.log');
    const clock = new ManualClock(T0);
    const options = { path, settings: DEFAULT_DELIVERY_LOG_SETTINGS, logger: memoryLogger(), clock };
    const log = await LocalDeliveryLog.open(options);
    const gone = (id: string) =>
      job(id, 1, { tenant: 'gone-tenant', event: { ...job(id).event, tenant: 'gone-tenant' } });
    await log.record(outcome(gone('g1'), T0, 'dead', 500));
    await log.record(outcome(job('k1'), T0 + 1, 'delivered'));
    await log.record(outcome(gone('g2'), T0 + 2, 'delivered'));
    await log.record(outcome(job('k2'), T0 + 3, 'delivered'));
    await log.close();
    const reopened = await LocalDeliveryLog.open(options);
    expect(readFileSync(path, 'utf8')).toContain('gone-tenant');

    await reopened.deleteTenant('gone-tenant');

    expect(await reopened.get('gone-tenant', 'g1')).toBeUndefined();
    expect((await reopened.list('gone-tenant', 'hook-a', { size: 10 })).records).toEqual([]);
    expect(readFileSync(path, 'utf8')).not.toContain('gone-tenant');
    // Written after the rewrite, as before it.
    await reopened.record(outcome(job('k3'), T0 + 4, 'delivered'));
    await reopened.close();
    const again = await LocalDeliveryLog.open(options);
    expect((await again.list('default', 'hook-a', { size: 10 })).records.map((r) => r.id)).toEqual(['k3', 'k2', 'k1']);
    expect(await again.get('gone-tenant', 'g2')).toBeUndefined();
    await again.close();
  });

  it('locally, keeps at most maxRecords, dropping the oldest', async () => {
    const clock = new ManualClock(T0);
    const log = await LocalDeliveryLog.open({
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      logger: memoryLogger(),
      clock,
      maxRecords: 3,
    });
    for (let i = 0; i < 5; i++) await log.record(outcome(job(`e${i}`), T0 + i, 'delivered'));
    expect((await log.list('default', 'hook-a', { size: 10 })).records.map((r) => r.id)).toEqual(['e4', 'e3', 'e2']);
    expect(await log.get('default', 'e0')).toBeUndefined();
  });

  it('locally, evicts from the front of a long hook list and still pages it right', async () => {
    const clock = new ManualClock(T0);
    const log = await LocalDeliveryLog.open({
      settings: DEFAULT_DELIVERY_LOG_SETTINGS,
      logger: memoryLogger(),
      clock,
      maxRecords: 2000,
    });
    for (let i = 0; i < 5000; i++) await log.record(outcome(job(`m${i}`), T0 + i, 'delivered'));
    expect(log.stats().records).toBe(2000);
    const ids: string[] = [];
    let offset: string | undefined;
    do {
      const page = await log.list('default', 'hook-a', { size: 300, ...(offset ? { offset } : {}) });
      ids.push(...page.records.map((r) => r.id));
      offset = page.next;
    } while (offset);
    expect(ids).toHaveLength(2000);
    expect(ids[0]).toBe('m4999');
    expect(ids.at(-1)).toBe('m3000');
    expect(await log.get('default', 'm2999')).toBeUndefined();
  });

  it('replays only finished deliveries: one retrying or queued again answers 409, one without its event too', async () => {
    const clock = new ManualClock(T0);
    const log = await LocalDeliveryLog.open({ settings: DEFAULT_DELIVERY_LOG_SETTINGS, logger: memoryLogger(), clock });
    const sent: DeliveryJob[] = [];
    const deliveries = createDeliveries({ log, queue: { send: async (jobs) => void sent.push(...jobs) }, clock });
    await log.record(outcome(job('busy'), T0, 'retrying', 503));
    await expect(deliveries.replay('default', 'busy')).rejects.toThrow(DeliveryInProgressError);
    await log.record(outcome(job('done'), T0, 'dead', 400));
    expect(await deliveries.replay('default', 'done')).toMatchObject({ status: 'pending' });
    expect(sent).toMatchObject([{ deliveryId: 'done', attempt: 1, firstQueuedAt: T0 }]);
    await expect(deliveries.replay('default', 'done')).rejects.toThrow(/already queued/);
    await log.save({ ...((await log.get('default', 'busy')) as DeliveryRecord), status: 'dead', event: undefined });
    await expect(deliveries.replay('default', 'busy')).rejects.toThrow(EventNotKeptError);
    expect(await deliveries.replay('default', 'nope')).toBeUndefined();
  });

  it('keeps a big event only with body capture on; a small one always (for replays)', async () => {
    const clock = new ManualClock(T0);
    const off = { captureBodies: false, retentionDays: 7 };
    const log = await LocalDeliveryLog.open({ settings: off, logger: memoryLogger(), clock });
    const big = job('big');
    big.event.data = { blob: 'x'.repeat(SMALL_EVENT_BYTES + 1) };
    await log.record(outcome(big, T0, 'delivered'));
    await log.record(outcome(job('small'), T0, 'delivered'));
    expect((await log.get('default', 'big'))?.event).toBeUndefined();
    expect((await log.get('default', 'small'))?.event?.id).toBe('event-small');
    // Without capture, no response headers or body either.
    expect((await log.get('default', 'small'))?.attempts[0]).not.toHaveProperty('responseBody');
    expect((await log.get('default', 'small'))?.attempts[0]).not.toHaveProperty('responseHeaders');
  });
});

import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventLog } from '../../../../shared/adapters/local/eventLog.ts';
import type { EventRecord } from '../../../../shared/events/eventRecord.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';

const DAY = 86_400_000;
const record = (id: string, now: number, extra: Partial<EventRecord> = {}): EventRecord => ({
  event: { id, time: new Date(now).toISOString(), tenant: 'default', source: 'why', event: 'e', data: { id } },
  data_bytes: 10,
  hooks: [{ hook_id: 'h1', outcome: 'suppressed:snooze', delivery_id: null }],
  dispatched_at: now,
  expires_at: Math.ceil(now / 1000) + 7 * 86_400,
  ...extra,
});

describe('local event log', () => {
  let dir: string;
  const logger = memoryLogger();
  let clock: ManualClock;
  const open = (options: { dir?: string; maxInMemory?: number; maxIndexed?: number } = { dir }) =>
    LocalEventLog.open({ ...options, logger, clock });
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'event-log-')), 'events');
    clock = new ManualClock(100 * DAY + 1_000);
  });
  afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

  it('answers what was put, per tenant, and again after a restart; a rewrite replaces the earlier record', async () => {
    const log = await open();
    await log.put(record('a', clock.now()));
    await log.put(record('b', clock.now()));
    await log.put(record('a', clock.now(), { hooks: [] }));

    expect((await log.get('default', 'a'))?.hooks).toEqual([]);
    expect(await log.get('default', 'b')).toEqual(record('b', clock.now()));
    expect(await log.get('other', 'a')).toBeUndefined();
    await log.close();

    const again = await open();
    expect((await again.get('default', 'a'))?.hooks).toEqual([]);
    expect(await again.get('default', 'b')).toEqual(record('b', clock.now()));
    expect(again.size()).toBe(2);
    await again.close();
  });

  it("forgets a deleted tenant's records, on disk too, and keeps everyone else's readable and appendable", async () => {
    const of = (tenant: string, id: string, now: number) => {
      const r = record(id, now);
      return { ...r, event: { ...r.event, tenant, data: { secret_marker: `data-of-${tenant}` } } };
    };
    const log = await open();
    await log.put(of('gone', 'g1', clock.now() - DAY));
    await log.put(of('kept', 'k1', clock.now() - DAY));
    await log.put(of('gone', 'g2', clock.now()));
    await log.put(of('kept', 'k2', clock.now()));
    await log.deleteTenant('gone');

    expect(await log.get('gone', 'g1')).toBeUndefined();
    expect(await log.get('gone', 'g2')).toBeUndefined();
    expect((await log.get('kept', 'k1'))?.event.id).toBe('k1');
    expect((await log.get('kept', 'k2'))?.event.id).toBe('k2');
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file), 'utf8')).not.toContain('data-of-gone');
    // Appends land after the rewritten lines, and everything reads back after a restart.
    await log.put(of('kept', 'k3', clock.now()));
    expect((await log.get('kept', 'k3'))?.event.id).toBe('k3');
    await log.close();
    const again = await open();
    expect((await again.get('kept', 'k2'))?.event.id).toBe('k2');
    expect((await again.get('kept', 'k3'))?.event.id).toBe('k3');
    expect(await again.get('gone', 'g2')).toBeUndefined();
    await again.close();

    const memory = await open({});
    await memory.put(of('gone', 'g1', clock.now()));
    await memory.put(of('kept', 'k1', clock.now()));
    await memory.deleteTenant('gone');
    expect(await memory.get('gone', 'g1')).toBeUndefined();
    expect(memory.size()).toBe(1);
  });

  it('cuts a last line torn by a crash and keeps appending after it', async () => {
    const log = await open();
    await log.put(record('a', clock.now()));
    await log.close();
    const [file] = readdirSync(dir);
    appendFileSync(join(dir, file as string), '0badc0de {"event":{"id":"torn"');

    const again = await open();
    await again.put(record('b', clock.now()));

    expect(await again.get('default', 'a')).toBeDefined();
    expect(await again.get('default', 'b')).toBeDefined();
    expect(readFileSync(join(dir, file as string), 'utf8')).not.toContain('torn');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'event log: last line torn by a crash; cut off' }),
    );
    await again.close();
  });

  it('hides an expired record at once and deletes its day file once every record in it expired', async () => {
    const log = await open({ dir });
    await log.put(record('old', clock.now(), { expires_at: Math.ceil(clock.now() / 1000) + 60 }));
    expect(await log.get('default', 'old')).toBeDefined();

    clock.advance(61_000);
    expect(await log.get('default', 'old')).toBeUndefined();
    await log.close();

    clock.advance(2 * DAY);
    const again = await open();
    expect(readdirSync(dir)).toEqual([]);
    await again.put(record('new', clock.now()));
    expect(readdirSync(dir)).toHaveLength(1);
    await again.close();
  });

  it('skips a damaged line inside a file and keeps the records around it', async () => {
    const log = await open();
    await log.put(record('a', clock.now()));
    await log.close();
    const [file] = readdirSync(dir);
    const path = join(dir, file as string);
    writeFileSync(path, `${readFileSync(path, 'utf8')}00000000 {"broken":true}\n`);
    const more = await open();
    await more.put(record('c', clock.now()));
    await more.close();

    const again = await open();
    expect(await again.get('default', 'a')).toBeDefined();
    expect(await again.get('default', 'c')).toBeDefined();
    await again.close();
  });

  it('under a flood, holds at most its bound of records in memory: the newest resolve, the oldest are gone', async () => {
    const log = await open({ dir, maxIndexed: 100 });
    for (let i = 0; i < 1_000; i++) await log.put(record(`e${i}`, clock.now()));
    // A rewrite of a held record makes it the newest, so it outlives the ones written after it.
    await log.put(record('e950', clock.now(), { hooks: [] }));
    for (let i = 1_000; i < 1_050; i++) await log.put(record(`e${i}`, clock.now()));

    expect(log.held()).toEqual({ records: 100, segmentKeys: 100, inMemory: 0 });
    expect((await log.get('default', 'e950'))?.hooks).toEqual([]);
    expect(await log.get('default', 'e1049')).toBeDefined();
    expect(await log.get('default', 'e951')).toBeDefined();
    expect(await log.get('default', 'e949')).toBeUndefined();
    expect(await log.get('default', 'e0')).toBeUndefined();
    await log.close();

    // A restart reads the files back under the same bound, newest kept.
    const again = await open({ dir, maxIndexed: 100 });
    expect(again.held()).toEqual({ records: 100, segmentKeys: 100, inMemory: 0 });
    expect(await again.get('default', 'e1049')).toBeDefined();
    expect(await again.get('default', 'e0')).toBeUndefined();
    await again.close();
  });

  it('lets go of expired records as newer ones arrive, before their day file is swept', async () => {
    for (const options of [{ dir }, {}]) {
      const log = await open(options);
      const soon = () => ({ expires_at: Math.ceil(clock.now() / 1000) + 60 });
      for (let i = 0; i < 50; i++) await log.put(record(`old${i}`, clock.now(), soon()));
      clock.advance(61_000);
      await log.put(record('new', clock.now()));

      expect(log.held()).toEqual(
        options.dir ? { records: 1, segmentKeys: 1, inMemory: 0 } : { records: 0, segmentKeys: 0, inMemory: 1 },
      );
      expect(await log.get('default', 'new')).toBeDefined();
      expect(await log.get('default', 'old0')).toBeUndefined();
      await log.close();
    }
  });

  it('in memory, keeps the newest records up to its bound', async () => {
    const log = await open({ maxInMemory: 2 });
    for (const id of ['a', 'b', 'c']) await log.put(record(id, clock.now()));
    expect(await log.get('default', 'a')).toBeUndefined();
    expect(await log.get('default', 'c')).toBeDefined();
    expect(log.size()).toBe(2);
    await log.close();
  });
});

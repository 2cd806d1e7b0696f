import { type FileHandle, mkdir, open, readdir, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventRecord, type EventRecords, isExpired } from '../../events/eventRecord.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { decodeRecord, encodeRecord, JournalAppender, readRecords, replaceFile } from './journalFile.ts';

export interface LocalEventLogOptions {
  /** Folder of the segment files (`DATA_DIR/events`); without it the records live in memory only. */
  dir?: string;
  logger: Logger;
  clock?: Clock;
  /** fdatasync every group write (JOURNAL_FSYNC=true), as the delivery journal does. */
  fsync?: boolean;
  /** In memory: the most records kept, oldest dropped first (default 10,000). */
  maxInMemory?: number;
}

const DAY_MS = 86_400_000;
/** How often segments whose every record expired are looked for, at most. */
const SWEEP_EVERY_MS = 60_000;
const SEGMENT = /^events-(\d{1,9})\.log$/;

/** One day's file: records are appended to the segment of the day they were dispatched. */
interface Segment {
  day: number;
  path: string;
  appender: JournalAppender | undefined;
  reader: FileHandle | undefined;
  /** Where the next appended line will start: appends are written in order, so this is exact. */
  nextOffset: number;
  /** The latest `expires_at` of its records: once past, the whole file goes. */
  maxExpiresAt: number;
  keys: Set<string>;
}

interface Entry {
  segment: Segment;
  offset: number;
  length: number;
}

const keyOf = (tenant: string, eventId: string) => `${tenant}\n${eventId}`;

/**
 * The local runtime's event records (`GET /events/{id}`), kept off the store: the dispatcher writes
 * one per event, and the embedded store, at about 5,000 items/s in batches, would halve the dispatch
 * rate. Records are appended to a file per day with the delivery journal's line format and group
 * commits (`journalFile.ts`): an append costs microseconds, and concurrent dispatches share a write.
 * Memory holds only where each record is (tenant and id → file, offset, length); a read is one
 * positional read. Retention is per file: a day's file is deleted once all its records expired, and
 * every read compares `expires_at` with now too. A torn last line (a crash) is cut at start.
 *
 * Without a folder (`--memory`, tests) the records are kept in memory, the newest `maxInMemory`.
 */
export class LocalEventLog implements EventRecords {
  private readonly index = new Map<string, Entry>();
  private readonly memory = new Map<string, EventRecord>();
  private readonly segments = new Map<number, Segment>();
  private readonly clock: Clock;
  private lastSweep = 0;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  /** A tenant's deletion rewriting the files: puts and reads wait for it. */
  private purging: Promise<void> | undefined;
  /** Puts under way; a purge starts once none is. */
  private active = 0;
  private onIdle: (() => void) | undefined;

  private constructor(private readonly options: LocalEventLogOptions) {
    this.clock = options.clock ?? systemClock;
  }

  static async open(options: LocalEventLogOptions): Promise<LocalEventLog> {
    const log = new LocalEventLog(options);
    if (options.dir) await log.load(options.dir);
    return log;
  }

  async put(record: EventRecord): Promise<void> {
    while (this.purging) await this.purging;
    this.active++;
    try {
      await this.append(record);
    } finally {
      this.active--;
      if (this.active === 0) this.onIdle?.();
    }
  }

  private async append(record: EventRecord): Promise<void> {
    const key = keyOf(record.event.tenant, record.event.id);
    if (!this.options.dir) {
      this.memory.delete(key); // re-inserted last: the newest records are the ones kept
      this.memory.set(key, record);
      const max = this.options.maxInMemory ?? 10_000;
      for (const oldest of this.memory.keys()) {
        if (this.memory.size <= max) break;
        this.memory.delete(oldest);
      }
      return;
    }
    const segment = await this.segmentFor(Math.floor(record.dispatched_at / DAY_MS));
    const line = encodeRecord(record);
    const offset = segment.nextOffset;
    segment.nextOffset += line.length;
    segment.maxExpiresAt = Math.max(segment.maxExpiresAt, record.expires_at);
    await (segment.appender as JournalAppender).append(line);
    this.remember(key, { segment, offset, length: line.length });
    this.maybeSweep();
  }

  async get(tenant: string, eventId: string): Promise<EventRecord | undefined> {
    while (this.purging) await this.purging;
    const key = keyOf(tenant, eventId);
    const now = this.clock.now();
    if (!this.options.dir) {
      const record = this.memory.get(key);
      return record && !isExpired(record, now) ? record : undefined;
    }
    const entry = this.index.get(key);
    if (!entry?.segment.reader) return undefined;
    const buffer = Buffer.alloc(entry.length);
    await entry.segment.reader.read(buffer, 0, entry.length, entry.offset);
    const record = decodeRecord(buffer.toString('utf8', 0, entry.length - 1)) as EventRecord | undefined;
    if (!record || record.event.tenant !== tenant || record.event.id !== eventId) return undefined;
    return isExpired(record, now) ? undefined : record;
  }

  /**
   * Removes every record of a deleted tenant, from the files too (`DELETE /tenants/{id}`): the files
   * that held any are rewritten without them. Rare and whole-log, so it runs alone: puts and reads
   * wait for it, and it waits for the puts under way and a running sweep.
   */
  async deleteTenant(tenant: string): Promise<void> {
    while (this.purging) await this.purging;
    this.purging = (async () => {
      if (this.active > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
      this.onIdle = undefined;
      await this.sweeping;
      const prefix = keyOf(tenant, '');
      if (!this.options.dir) {
        for (const key of [...this.memory.keys()]) if (key.startsWith(prefix)) this.memory.delete(key);
        return;
      }
      for (const segment of [...this.segments.values()].sort((a, b) => a.day - b.day))
        await this.purge(segment, tenant);
      for (const key of [...this.index.keys()]) if (key.startsWith(prefix)) this.index.delete(key);
    })().finally(() => {
      this.purging = undefined;
    });
    return this.purging;
  }

  /** Rewrites one file without the tenant's lines (expired ones included), and points the index at the new offsets. */
  private async purge(segment: Segment, tenant: string): Promise<void> {
    await segment.appender?.flush();
    const kept: Buffer[] = [];
    const moved: [string, Entry][] = [];
    let offset = 0;
    let removed = 0;
    await readRecords(segment.path, (value) => {
      const record = value as EventRecord;
      if (record?.event?.tenant === tenant) {
        removed++;
        return;
      }
      const line = encodeRecord(record);
      if (typeof record?.event?.id === 'string') {
        moved.push([keyOf(record.event.tenant, record.event.id), { segment, offset, length: line.length }]);
      }
      kept.push(line);
      offset += line.length;
    });
    if (removed === 0) return;
    await this.closeSegment(segment);
    await replaceFile(segment.path, kept);
    segment.nextOffset = offset;
    // In file order, so a record written twice points at its last line, as it did.
    for (const [key, entry] of moved) if (this.index.get(key)?.segment === segment) this.index.set(key, entry);
    for (const key of [...segment.keys]) if (key.startsWith(keyOf(tenant, ''))) segment.keys.delete(key);
    await this.openSegment(segment);
  }

  /** Records held (in memory, or indexed on disk), for tests and figures. */
  size(): number {
    return this.options.dir ? this.index.size : this.memory.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sweeping;
    for (const segment of this.segments.values()) await this.closeSegment(segment);
  }

  /** Reads every day's file back into the index; files whose records all expired are deleted. */
  private async load(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const now = this.clock.now();
    for (const name of (await readdir(dir)).sort()) {
      const day = SEGMENT.exec(name)?.[1];
      if (day === undefined) continue;
      const segment = this.newSegment(Number(day), join(dir, name));
      const found: [string, Entry][] = [];
      const { damaged, tornAt, bytes, unterminated } = await readRecords(segment.path, (value, length, at) => {
        const record = value as EventRecord;
        if (typeof record?.event?.id !== 'string' || typeof record.expires_at !== 'number') return;
        segment.maxExpiresAt = Math.max(segment.maxExpiresAt, record.expires_at);
        if (!isExpired(record, now))
          found.push([keyOf(record.event.tenant, record.event.id), { segment, offset: at, length }]);
      });
      if (segment.maxExpiresAt * 1000 <= now && tornAt === undefined) {
        await unlink(segment.path);
        continue;
      }
      segment.nextOffset = bytes;
      if (tornAt !== undefined) {
        // A crash in the middle of a write: that record's dispatch had not finished.
        this.options.logger.warn('event log: last line torn by a crash; cut off', { path: segment.path });
        await truncate(segment.path, tornAt);
        segment.nextOffset = tornAt;
      } else if (damaged > 0) {
        this.options.logger.warn('event log: damaged lines skipped', { path: segment.path, damaged });
      }
      await this.openSegment(segment);
      // Else the next append would land on the same line as the last record, and spoil both.
      if (unterminated && tornAt === undefined) {
        await (segment.appender as JournalAppender).append(Buffer.from('\n'));
        segment.nextOffset += 1;
      }
      for (const [key, entry] of found) this.remember(key, entry);
      this.segments.set(segment.day, segment);
    }
  }

  private newSegment(day: number, path: string): Segment {
    return { day, path, appender: undefined, reader: undefined, nextOffset: 0, maxExpiresAt: 0, keys: new Set() };
  }

  private async openSegment(segment: Segment): Promise<void> {
    segment.appender = await JournalAppender.open({ path: segment.path, fsync: this.options.fsync ?? false });
    segment.reader = await open(segment.path, 'r');
  }

  /** The day's segment, opened on its first record; concurrent first records share one opening. */
  private readonly opening = new Map<number, Promise<Segment>>();
  private segmentFor(day: number): Promise<Segment> {
    const ready = this.segments.get(day);
    if (ready) return Promise.resolve(ready);
    let pending = this.opening.get(day);
    if (!pending) {
      pending = (async () => {
        const segment = this.newSegment(day, join(this.options.dir as string, `events-${day}.log`));
        await this.openSegment(segment);
        segment.nextOffset = segment.appender?.bytes ?? 0;
        this.segments.set(day, segment);
        this.opening.delete(day);
        return segment;
      })();
      this.opening.set(day, pending);
    }
    return pending;
  }

  private remember(key: string, entry: Entry): void {
    const before = this.index.get(key);
    if (before && before.segment !== entry.segment) before.segment.keys.delete(key);
    this.index.set(key, entry);
    entry.segment.keys.add(key);
  }

  /** At most once a minute, in the background: deletes the files whose every record has expired. */
  private maybeSweep(): void {
    const now = this.clock.now();
    if (this.sweeping || this.closed || now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.sweeping = (async () => {
      for (const segment of [...this.segments.values()]) {
        if (segment.maxExpiresAt * 1000 > now || segment.day === Math.floor(now / DAY_MS)) continue;
        this.segments.delete(segment.day);
        for (const key of segment.keys) if (this.index.get(key)?.segment === segment) this.index.delete(key);
        await this.closeSegment(segment);
        await unlink(segment.path).catch((error: unknown) =>
          this.options.logger.warn('event log: could not delete an expired file', { path: segment.path, error }),
        );
      }
    })().finally(() => {
      this.sweeping = undefined;
    });
  }

  private async closeSegment(segment: Segment): Promise<void> {
    await segment.appender?.close();
    await segment.reader?.close();
    segment.appender = undefined;
    segment.reader = undefined;
  }
}

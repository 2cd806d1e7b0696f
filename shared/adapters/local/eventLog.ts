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
  /**
   * On disk: the most records the index holds, oldest dropped first (default 250,000: about 300
   * bytes of heap each, so 75 MB): a dropped record stays in its file until the file expires, but
   * reads as unknown.
   */
  maxIndexed?: number;
}

export const DEFAULT_MAX_IN_MEMORY = 10_000;
export const DEFAULT_MAX_INDEXED = 250_000;

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
  /** The record's `expires_at` (seconds), so that the index lets go of it without reading it. */
  expiresAt: number;
}

const keyOf = (tenant: string, eventId: string) => `${tenant}\n${eventId}`;

interface Node<V> {
  key: string;
  value: V;
  older: Node<V> | undefined;
  newer: Node<V> | undefined;
}

/**
 * A map that knows its oldest write in O(1). A `Map` is in insertion order too, but taking its first
 * entry again and again after deleting from the front walks over every deleted slot until the next
 * rehash: bounded at 500,000 entries that way, writes stalled once the bound was first reached.
 */
class WriteOrder<V> {
  private readonly nodes = new Map<string, Node<V>>();
  private oldestNode: Node<V> | undefined;
  private newestNode: Node<V> | undefined;

  get size(): number {
    return this.nodes.size;
  }

  get(key: string): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Sets the value and makes it the newest. */
  set(key: string, value: V): void {
    this.delete(key);
    const node: Node<V> = { key, value, older: this.newestNode, newer: undefined };
    if (this.newestNode) this.newestNode.newer = node;
    else this.oldestNode = node;
    this.newestNode = node;
    this.nodes.set(key, node);
  }

  delete(key: string): void {
    const node = this.nodes.get(key);
    if (!node) return;
    this.nodes.delete(key);
    if (node.older) node.older.newer = node.newer;
    else this.oldestNode = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.newestNode = node.older;
  }

  oldest(): { key: string; value: V } | undefined {
    return this.oldestNode;
  }

  keys(): IterableIterator<string> {
    return this.nodes.keys();
  }
}

/**
 * The local runtime's event records (`GET /events/{id}`), kept off the store: the dispatcher writes
 * one per event, and the embedded store, at about 5,000 items/s in batches, would halve the dispatch
 * rate. Records are appended to a file per day with the delivery journal's line format and group
 * commits (`journalFile.ts`): an append costs microseconds, and concurrent dispatches share a write.
 * Memory holds only where each record is (tenant and id → file, offset, length); a read is one
 * positional read. Retention is per file: a day's file is deleted once all its records expired, and
 * every read compares `expires_at` with now too. A torn last line (a crash) is cut at start.
 *
 * The index is bounded, so that a long run under a flood does not grow without limit: its entries
 * are in write order (a rewrite moves a record to the end), each write lets go of the expired ones
 * at the front, and past `maxIndexed` the oldest go. A day's file would otherwise keep its whole
 * day's entries until its last record expired.
 *
 * Without a folder (`--memory`, tests) the records are kept in memory, the newest `maxInMemory`,
 * bounded by retention the same way.
 */
export class LocalEventLog implements EventRecords {
  private readonly index = new WriteOrder<Entry>();
  private readonly memory = new WriteOrder<EventRecord>();
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
    this.dropExpired(this.clock.now());
    if (!this.options.dir) {
      this.memory.set(key, record); // made the newest: the newest records are the ones kept
      const max = this.options.maxInMemory ?? DEFAULT_MAX_IN_MEMORY;
      while (this.memory.size > max) this.memory.delete((this.memory.oldest() as { key: string }).key);
      return;
    }
    const segment = await this.segmentFor(Math.floor(record.dispatched_at / DAY_MS));
    const line = encodeRecord(record);
    const offset = segment.nextOffset;
    segment.nextOffset += line.length;
    segment.maxExpiresAt = Math.max(segment.maxExpiresAt, record.expires_at);
    await (segment.appender as JournalAppender).append(line);
    this.remember(key, { segment, offset, length: line.length, expiresAt: record.expires_at });
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
        const entry = { segment, offset, length: line.length, expiresAt: record.expires_at };
        moved.push([keyOf(record.event.tenant, record.event.id), entry]);
      }
      kept.push(line);
      offset += line.length;
    });
    if (removed === 0) return;
    await this.closeSegment(segment);
    await replaceFile(segment.path, kept);
    segment.nextOffset = offset;
    // In file order, so a record written twice points at its last line, as it did.
    for (const [key, entry] of moved) {
      const current = this.index.get(key);
      if (current?.segment !== segment) continue;
      // In place: the record keeps its place in write order.
      current.offset = entry.offset;
      current.length = entry.length;
    }
    for (const key of [...segment.keys]) if (key.startsWith(keyOf(tenant, ''))) segment.keys.delete(key);
    await this.openSegment(segment);
  }

  /** Records held (in memory, or indexed on disk), for tests and figures. */
  size(): number {
    return this.options.dir ? this.index.size : this.memory.size;
  }

  /** What memory holds, structure by structure: the bounds must hold for each. */
  held(): { records: number; segmentKeys: number; inMemory: number } {
    let segmentKeys = 0;
    for (const segment of this.segments.values()) segmentKeys += segment.keys.size;
    return { records: this.index.size, segmentKeys, inMemory: this.memory.size };
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
          found.push([
            keyOf(record.event.tenant, record.event.id),
            { segment, offset: at, length, expiresAt: record.expires_at },
          ]);
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
    before?.segment.keys.delete(key);
    this.index.set(key, entry); // made the newest: the index stays in write order
    entry.segment.keys.add(key);
    const max = this.options.maxIndexed ?? DEFAULT_MAX_INDEXED;
    while (this.index.size > max) {
      const oldest = this.index.oldest() as { key: string; value: Entry };
      this.forget(oldest.key, oldest.value);
    }
  }

  private forget(key: string, entry: Entry): void {
    this.index.delete(key);
    entry.segment.keys.delete(key);
  }

  /**
   * Lets go of the expired records at the front (the oldest writes). Retention is one setting, so
   * write order is nearly expiry order; a record out of order waits for the ones before it, or
   * for its file's sweep, and reads compare the expiry anyway.
   */
  private dropExpired(now: number): void {
    for (let oldest = this.index.oldest(); oldest && oldest.value.expiresAt * 1000 <= now; oldest = this.index.oldest())
      this.forget(oldest.key, oldest.value);
    for (let oldest = this.memory.oldest(); oldest && isExpired(oldest.value, now); oldest = this.memory.oldest())
      this.memory.delete(oldest.key);
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

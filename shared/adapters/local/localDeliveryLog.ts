import { truncate } from 'node:fs/promises';
import {
  type DeliveryLog,
  type DeliveryLogSettings,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryRecord,
  replayed,
  withAttempt,
} from '../../deliveryLog/record.ts';
import { BadRequestError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { encodeRecord, JournalAppender, readRecords, replaceFile } from './journalFile.ts';

/** One line of `deliveries.log`: a delivery's record as it is after a write (the last line of an id wins). */
interface LogLine {
  t: 'd';
  r: DeliveryRecord;
}

interface Entry {
  record: DeliveryRecord;
  /** Creation order in this process (the order of first appearance in the file). */
  seq: number;
  bytes: number;
}

export interface LocalDeliveryLogOptions {
  /** The file (`DATA_DIR/deliveries.log`); none: memory only (`--memory`). */
  path?: string;
  settings: DeliveryLogSettings;
  logger: Logger;
  clock?: Clock;
  fsync?: boolean;
  /** Records kept at most; the oldest go first (DELIVERY_LOG_MAX_RECORDS, default 50,000). */
  maxRecords?: number;
  /** No compaction below this file size (default 16 MB). */
  compactMinBytes?: number;
}

export const DEFAULT_LOCAL_MAX_RECORDS = 50_000;

const key = (tenant: string, id: string) => `${tenant}\n${id}`;

/**
 * The local runtime's delivery log: records in memory, each write appended to a file in DATA_DIR
 * through the journal's group commits (the durable write path of docs/storage.md), never one store
 * round trip per attempt. The file is read back on start (the last line of a delivery wins, expired
 * records are dropped) and rewritten with only the live records when more than half of it is stale.
 */
export class LocalDeliveryLog implements DeliveryLog {
  private readonly records = new Map<string, Entry>();
  /** Per tenant and hook, in creation order: newest last. */
  private readonly byHook = new Map<string, Entry[]>();
  private seq = 0;
  private liveBytes = 0;
  private appender: JournalAppender | undefined;
  private readonly clock: Clock;
  private readonly maxRecords: number;

  private constructor(private readonly options: LocalDeliveryLogOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxRecords = options.maxRecords ?? DEFAULT_LOCAL_MAX_RECORDS;
  }

  static async open(options: LocalDeliveryLogOptions): Promise<LocalDeliveryLog> {
    const log = new LocalDeliveryLog(options);
    if (!options.path) return log;
    const path = options.path;
    const { damaged, tornAt, bytes } = await readRecords(path, (line, size) => {
      const record = (line as LogLine).r;
      if ((line as LogLine).t === 'd' && record) log.apply(record, size);
    });
    log.dropExpired();
    if (tornAt !== undefined && damaged === 1) await truncate(path, tornAt);
    if (damaged > (tornAt === undefined ? 0 : 1) || log.liveBytes * 2 < bytes) {
      if (damaged > 0) options.logger.warn('delivery log: damaged lines skipped', { path, damaged });
      await replaceFile(path, log.liveLines());
    }
    log.appender = await JournalAppender.open({
      path,
      fsync: options.fsync ?? false,
      compaction: (fileBytes) => log.compaction(fileBytes),
    });
    return log;
  }

  /**
   * Resolves once the record is in memory (what every read answers from); its line is written by
   * the next group commit without holding up the delivery, as the journal's completions are: a
   * crash can lose the last group's lines, never a delivery. A failed write is logged.
   */
  async record(outcome: Parameters<DeliveryLog['record']>[0]): Promise<DeliveryRecord> {
    const previous = this.live(outcome.job.tenant, outcome.job.deliveryId);
    const record = withAttempt(previous, outcome, this.options.settings);
    this.write(record).catch((error: unknown) =>
      this.options.logger.warn('delivery log write failed', { delivery_id: record.id, error }),
    );
    return record;
  }

  save(record: DeliveryRecord): Promise<void> {
    return this.write(record);
  }

  async replay(tenant: string, id: string): Promise<DeliveryRecord | undefined> {
    const previous = this.live(tenant, id);
    if (!previous) return undefined;
    const record = replayed(previous, this.clock.now(), this.options.settings);
    await this.write(record);
    return record;
  }

  async get(tenant: string, id: string): Promise<DeliveryRecord | undefined> {
    return this.live(tenant, id);
  }

  async list(tenant: string, hookId: string, query: DeliveryQuery): Promise<DeliveryPage> {
    const entries = this.byHook.get(key(tenant, hookId)) ?? [];
    let from = entries.length - 1;
    if (query.offset !== undefined) {
      const before = Number(query.offset);
      if (!/^\d{1,15}$/.test(query.offset)) throw new BadRequestError('invalid offset');
      from = lastBelow(entries, before);
    }
    const now = this.clock.now();
    const records: DeliveryRecord[] = [];
    let next: string | undefined;
    for (let i = from; i >= 0; i--) {
      const { record } = entries[i] as Entry;
      if (query.since !== undefined && record.createdAt < query.since) break;
      if (record.expiresAt <= now || (query.status && record.status !== query.status)) continue;
      if (records.length === query.size) {
        next = String((entries[i + 1] as Entry).seq);
        break;
      }
      records.push(record);
    }
    return next === undefined ? { records } : { records, next };
  }

  async recent(tenant: string, hookId: string, options: { since: number; limit: number }): Promise<DeliveryRecord[]> {
    const entries = this.byHook.get(key(tenant, hookId)) ?? [];
    const now = this.clock.now();
    const out: DeliveryRecord[] = [];
    for (let i = entries.length - 1; i >= 0 && out.length < options.limit; i--) {
      const { record } = entries[i] as Entry;
      if (record.createdAt < options.since) break;
      if (record.expiresAt > now) out.push(record);
    }
    return out;
  }

  /** Records in memory and file writes, for tests and figures. */
  stats(): { records: number; fileBytes: number; writes: number } {
    return { records: this.records.size, fileBytes: this.appender?.bytes ?? 0, writes: this.appender?.writes ?? 0 };
  }

  async close(): Promise<void> {
    await this.appender?.close();
  }

  private live(tenant: string, id: string): DeliveryRecord | undefined {
    const entry = this.records.get(key(tenant, id));
    return entry && entry.record.expiresAt > this.clock.now() ? entry.record : undefined;
  }

  private write(record: DeliveryRecord): Promise<void> {
    const line = encodeRecord({ t: 'd', r: record } satisfies LogLine);
    this.apply(record, line.length);
    return this.appender ? this.appender.append(line) : Promise.resolve();
  }

  private apply(record: DeliveryRecord, bytes: number): void {
    const k = key(record.tenant, record.id);
    const entry = this.records.get(k);
    if (entry) {
      this.liveBytes += bytes - entry.bytes;
      entry.record = record;
      entry.bytes = bytes;
      return;
    }
    const added: Entry = { record, seq: this.seq++, bytes };
    this.records.set(k, added);
    const hk = key(record.tenant, record.hookId);
    let list = this.byHook.get(hk);
    if (!list) {
      list = [];
      this.byHook.set(hk, list);
    }
    list.push(added);
    this.liveBytes += bytes;
    if (this.records.size > this.maxRecords) this.evictOldest();
  }

  /** The oldest record overall is the oldest of its hook: the first of its list. */
  private evictOldest(): void {
    const [k, entry] = this.records.entries().next().value as [string, Entry];
    this.remove(k, entry);
  }

  private remove(k: string, entry: Entry): void {
    this.records.delete(k);
    this.liveBytes -= entry.bytes;
    const hk = key(entry.record.tenant, entry.record.hookId);
    const list = this.byHook.get(hk);
    if (!list) return;
    const at = list[0] === entry ? 0 : list.indexOf(entry);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byHook.delete(hk);
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const [k, entry] of [...this.records]) if (entry.record.expiresAt <= now) this.remove(k, entry);
  }

  private compaction(fileBytes: number): Iterable<Buffer> | undefined {
    if (fileBytes < (this.options.compactMinBytes ?? 16 << 20) || this.liveBytes * 2 > fileBytes) return undefined;
    this.dropExpired();
    return this.liveLines();
  }

  private liveLines(): Buffer[] {
    return [...this.records.values()].map((entry) => encodeRecord({ t: 'd', r: entry.record } satisfies LogLine));
  }
}

/** Index of the last entry whose seq is below `seq` (entries are in seq order), or -1. */
function lastBelow(entries: Entry[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as Entry).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

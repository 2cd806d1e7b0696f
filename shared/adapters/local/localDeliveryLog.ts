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

/**
 * The line a tenant's deletion appends to have the file rewritten without the tenant's lines (the
 * appender rewrites only after a write). It holds nothing, and is skipped when the file is read.
 */
const REWRITE_MARK = encodeRecord({ t: 'rewrite' });

/**
 * A record as it is held: its line as written (one buffer, not a tree of objects for the garbage
 * collector to walk over and over: the log holds tens of thousands) and what reads filter on.
 * The record is parsed back only when a read answers it, or a retry extends it.
 */
interface Entry {
  /** Its key in `records`. */
  key: string;
  line: Buffer;
  removed?: boolean;
  tenant: string;
  hookId: string;
  status: DeliveryRecord['status'];
  createdAt: number;
  expiresAt: number;
  /** Creation order in this process (the order of first appearance in the file). */
  seq: number;
}

/** A hook's entries in creation order; the oldest are dropped by moving `head`, not by shifting. */
interface HookEntries {
  items: Entry[];
  head: number;
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
/** How long a line waits for others to share its write (a crash can lose that much of the log). */
const FLUSH_MS = 20;

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
  private readonly byHook = new Map<string, HookEntries>();
  /**
   * Every entry in creation order, the oldest from `orderHead` on: what eviction takes from (a
   * Map's first entry is found by skipping every deleted slot before it, which grows with them).
   */
  private order: Entry[] = [];
  private orderHead = 0;
  private batch: { lines: Buffer[]; timer: NodeJS.Timeout; written: Promise<void> } | undefined;
  private batchDone: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private seq = 0;
  private liveBytes = 0;
  private appender: JournalAppender | undefined;
  private readonly clock: Clock;
  private readonly maxRecords: number;
  /** A tenant's deletion wants the file rewritten after the next write, whatever its size. */
  private rewrite = false;

  private constructor(private readonly options: LocalDeliveryLogOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxRecords = options.maxRecords ?? DEFAULT_LOCAL_MAX_RECORDS;
  }

  static async open(options: LocalDeliveryLogOptions): Promise<LocalDeliveryLog> {
    const log = new LocalDeliveryLog(options);
    if (!options.path) return log;
    const path = options.path;
    const { damaged, tornAt, bytes } = await readRecords(path, (line) => {
      const record = (line as LogLine).r;
      if ((line as LogLine).t === 'd' && record) log.apply(record, encodeRecord(line));
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

  /** Checked and set in one synchronous step (`write` applies the record before it awaits anything). */
  async replay(
    tenant: string,
    id: string,
    expected?: Pick<DeliveryRecord, 'status' | 'updatedAt'>,
  ): Promise<DeliveryRecord | undefined> {
    const previous = this.live(tenant, id);
    if (!previous) return undefined;
    if (expected && (previous.status !== expected.status || previous.updatedAt !== expected.updatedAt))
      return undefined;
    const record = replayed(previous, this.clock.now(), this.options.settings);
    await this.write(record);
    return record;
  }

  async get(tenant: string, id: string): Promise<DeliveryRecord | undefined> {
    return this.live(tenant, id);
  }

  async list(tenant: string, hookId: string, query: DeliveryQuery): Promise<DeliveryPage> {
    const hook = this.byHook.get(key(tenant, hookId));
    const entries = hook?.items ?? [];
    const head = hook?.head ?? 0;
    let from = entries.length - 1;
    if (query.offset !== undefined) {
      if (!/^\d{1,15}$/.test(query.offset)) throw new BadRequestError('invalid offset');
      from = lastBelow(entries, head, Number(query.offset));
    }
    const now = this.clock.now();
    const records: DeliveryRecord[] = [];
    let next: string | undefined;
    for (let i = from; i >= head; i--) {
      const entry = entries[i] as Entry;
      // Not a `break`: records are in the order they were first written, which a slow first
      // attempt can make differ from `createdAt` (its start) by its latency.
      if (query.since !== undefined && entry.createdAt < query.since) continue;
      if (entry.expiresAt <= now || (query.status && entry.status !== query.status)) continue;
      if (records.length === query.size) {
        next = String((entries[i + 1] as Entry).seq);
        break;
      }
      records.push(recordOf(entry));
    }
    return next === undefined ? { records } : { records, next };
  }

  async recent(tenant: string, hookId: string, options: { since: number; limit: number }): Promise<DeliveryRecord[]> {
    const hook = this.byHook.get(key(tenant, hookId));
    if (!hook) return [];
    const now = this.clock.now();
    const out: DeliveryRecord[] = [];
    for (let i = hook.items.length - 1; i >= hook.head && out.length < options.limit; i--) {
      const entry = hook.items[i] as Entry;
      if (entry.createdAt >= options.since && entry.expiresAt > now) out.push(recordOf(entry));
    }
    return out;
  }

  /**
   * Removes a deleted tenant's records (`DELETE /tenants/{id}`), from memory and from the file,
   * which is rewritten with the live records only. A crash before the rewrite leaves them in the
   * file, to be read back at start and removed when the `DELETE` is sent again.
   */
  async deleteTenant(tenant: string): Promise<void> {
    for (const entry of [...this.records.values()]) if (entry.tenant === tenant) this.remove(entry);
    if (!this.appender) return;
    await this.flush();
    this.rewrite = true;
    await this.appender.append(REWRITE_MARK);
    // The rewrite runs after that write, before the appender goes idle.
    await this.appender.flush();
  }

  /** Records in memory and file writes, for tests and figures. */
  stats(): { records: number; fileBytes: number; writes: number } {
    return { records: this.records.size, fileBytes: this.appender?.bytes ?? 0, writes: this.appender?.writes ?? 0 };
  }

  async close(): Promise<void> {
    await this.flush();
    await this.appender?.close();
  }

  private live(tenant: string, id: string): DeliveryRecord | undefined {
    const entry = this.records.get(key(tenant, id));
    return entry && entry.expiresAt > this.clock.now() ? recordOf(entry) : undefined;
  }

  /**
   * Lines wait up to `FLUSH_MS` and go out as one append: deliveries finish one by one, and a
   * write (a system call) each would cost more than the line. Resolves once its line is written.
   */
  private write(record: DeliveryRecord): Promise<void> {
    const line = encodeRecord({ t: 'd', r: record } satisfies LogLine);
    this.apply(record, line);
    if (!this.appender) return Promise.resolve();
    if (!this.batch) {
      const lines: Buffer[] = [];
      const timer = setTimeout(() => void this.flush(), FLUSH_MS);
      timer.unref();
      this.batch = { lines, timer, written: new Promise((resolve, reject) => (this.batchDone = { resolve, reject })) };
    }
    this.batch.lines.push(line);
    return this.batch.written;
  }

  /** Appends the waiting lines now; resolves once they are written. */
  private async flush(): Promise<void> {
    const batch = this.batch;
    const done = this.batchDone;
    if (!batch || !done || !this.appender) return;
    this.batch = undefined;
    this.batchDone = undefined;
    clearTimeout(batch.timer);
    try {
      await this.appender.append(Buffer.concat(batch.lines));
      done.resolve();
    } catch (error) {
      done.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private apply(record: DeliveryRecord, line: Buffer): void {
    const k = key(record.tenant, record.id);
    const entry = this.records.get(k);
    if (entry) {
      this.liveBytes += line.length - entry.line.length;
      entry.line = line;
      entry.status = record.status;
      entry.expiresAt = record.expiresAt;
      return;
    }
    const added: Entry = {
      key: k,
      line,
      tenant: record.tenant,
      hookId: record.hookId,
      status: record.status,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      seq: this.seq++,
    };
    this.records.set(k, added);
    const hk = key(record.tenant, record.hookId);
    let hook = this.byHook.get(hk);
    if (!hook) {
      hook = { items: [], head: 0 };
      this.byHook.set(hk, hook);
    }
    hook.items.push(added);
    this.order.push(added);
    this.liveBytes += line.length;
    if (this.records.size > this.maxRecords) this.evictOldest();
  }

  /** The oldest record overall is the oldest of its hook: the first of its list. */
  private evictOldest(): void {
    while ((this.order[this.orderHead] as Entry).removed) this.orderHead++;
    this.remove(this.order[this.orderHead++] as Entry);
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  private remove(entry: Entry): void {
    entry.removed = true;
    this.records.delete(entry.key);
    this.liveBytes -= entry.line.length;
    const hk = key(entry.tenant, entry.hookId);
    const hook = this.byHook.get(hk);
    if (!hook) return;
    if (hook.items[hook.head] === entry) {
      hook.head++;
      // Compacted once the dropped part is most of the array: amortized O(1) per removal.
      if (hook.head > 1024 && hook.head * 2 > hook.items.length) {
        hook.items = hook.items.slice(hook.head);
        hook.head = 0;
      }
    } else {
      const at = hook.items.indexOf(entry, hook.head);
      if (at >= 0) hook.items.splice(at, 1);
    }
    if (hook.items.length === hook.head) this.byHook.delete(hk);
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const entry of [...this.records.values()]) if (entry.expiresAt <= now) this.remove(entry);
    this.order = this.order.slice(this.orderHead).filter((entry) => !entry.removed);
    this.orderHead = 0;
  }

  private compaction(fileBytes: number): Iterable<Buffer> | undefined {
    if (this.rewrite) {
      this.rewrite = false;
      return this.liveLines();
    }
    if (fileBytes < (this.options.compactMinBytes ?? 16 << 20) || this.liveBytes * 2 > fileBytes) return undefined;
    this.dropExpired();
    return this.liveLines();
  }

  private liveLines(): Buffer[] {
    return [...this.records.values()].map((entry) => entry.line);
  }
}

/** The record of a held line (`<crc> <json>\n`). */
function recordOf(entry: Entry): DeliveryRecord {
  return (JSON.parse(entry.line.toString('utf8', 9, entry.line.length - 1)) as LogLine).r;
}

/** Index of the last entry at or after `head` whose seq is below `seq` (entries are in seq order), or head - 1. */
function lastBelow(entries: Entry[], head: number, seq: number): number {
  let lo = head;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as Entry).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

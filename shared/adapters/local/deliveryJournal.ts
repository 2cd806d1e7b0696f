import { appendFile, copyFile, truncate } from 'node:fs/promises';
import type { HookEvent } from '../../events/envelope.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../ports/deliveryQueue.ts';
import { encodeRecord, JournalAppender, readRecords, replaceFile } from './journalFile.ts';

/**
 * What the journal holds, one JSON line each (see docs/storage.md):
 * - `a` an event was accepted (its envelope), written before `POST /events` answers 202;
 * - `p` the event was dispatched: its jobs were sent (or none matched);
 * - `s` jobs were sent to the delivery queue, each by delivery id: a dispatch, a retry with its
 *   attempt and due time, a replayed dead letter. A job of a journaled event names the event by id
 *   (`e`); any other carries its event inline (`x`);
 * - `c` deliveries finished: delivered, dead-lettered and stored, or skipped (hook deleted); with
 *   `e` when a rewrite keeps those of an event not yet dispatched.
 */
type JournalRecord =
  | { t: 'a'; e: HookEvent }
  | { t: 'p'; id: string }
  | { t: 's'; j: SentJob[] }
  | { t: 'c'; d: string[]; e?: string };

interface SentJob {
  /** Delivery id. */
  d: string;
  /** Hook id. */
  h: string;
  /** Attempt. */
  a: number;
  /** First queued at (epoch ms). */
  q: number;
  /** Visible at (epoch ms). */
  v: number;
  /** The journaled event's id… */
  e?: string;
  /** …and the matched form's source and event name when they differ from the event's. */
  s?: string;
  n?: string;
  /** Or the whole event, when it is not journaled (a replayed or imported job). */
  x?: HookEvent;
  tenant?: string;
}

interface LiveEvent {
  event: HookEvent;
  dispatched: boolean;
  /** Live jobs of this event. */
  jobs: number;
  /** Deliveries finished before the dispatch was recorded: a dispatch run again skips them. */
  done: Set<string>;
  bytes: number;
}

interface LiveJob {
  job: DeliveryJob;
  visibleAt: number;
  /** Set when the job's event is journaled on its own (an `a` record). */
  eventId: string | undefined;
  bytes: number;
}

export interface DeliveryJournalOptions {
  path: string;
  logger: Logger;
  clock?: Clock;
  /** fdatasync every group write (JOURNAL_FSYNC=true). */
  fsync?: boolean;
  /** No compaction below this file size (default 32 MB). */
  compactMinBytes?: number;
  /**
   * After a failed write (a full disk), how long appends are refused before one tries the file
   * again (default 1 s): the journal is back by itself once there is room, without a restart.
   */
  retryAfterMs?: number;
}

/** What a start finds in the journal: jobs to queue again, events to dispatch again. */
export interface JournalBacklog {
  jobs: { job: DeliveryJob; visibleAt: number }[];
  undispatched: HookEvent[];
}

/** Jobs per `s` line when the journal is rewritten. */
const JOBS_PER_RECORD = 256;

/**
 * The local runtime's durable record of accepted events and their deliveries: an append-only file
 * in DATA_DIR, written with group commits, replayed on start and compacted when mostly dead.
 * The queue itself stays in memory; the journal is what a crash cannot take.
 */
export class DeliveryJournal {
  private readonly events = new Map<string, LiveEvent>();
  private readonly jobs = new Map<string, LiveJob>();
  private liveBytes = 0;
  private appender: JournalAppender | undefined;
  private finishing: { ids: string[]; written: Promise<void> } | undefined;
  /** Jobs in the queue whose `s` line was refused, by delivery id (see `sent`). */
  private readonly unrecorded = new Map<string, { job: DeliveryJob; visibleAt: number }>();
  private readonly clock: Clock;

  private constructor(private readonly options: DeliveryJournalOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Reads the journal at `path` and opens it for appends. A torn last line is cut off; the file is
   * rewritten with only what is live when more than half of it is finished work, or when a line
   * before the end is damaged (the file as it was is copied aside first).
   */
  static async open(options: DeliveryJournalOptions): Promise<DeliveryJournal> {
    const journal = new DeliveryJournal(options);
    const { damaged, tornAt, bytes, unterminated } = await readRecords(options.path, (record, size) =>
      journal.apply(record as JournalRecord, size),
    );
    let rewrite = journal.liveBytes * 2 < bytes;
    if (tornAt !== undefined) {
      // A crash in the middle of a write: that write was never acknowledged.
      options.logger.warn('journal: last line torn by a crash; cut off', { path: options.path });
      await truncate(options.path, tornAt);
    } else if (unterminated && damaged === 0) {
      // Else the next append would land on the same line, and both records would be unreadable.
      await appendFile(options.path, '\n');
    } else if (damaged > 0) {
      // Damage before the end is not a crash: keep the file as it was before rewriting it.
      const aside = `${options.path}.damaged-${Date.now()}`;
      await copyFile(options.path, aside);
      options.logger.error('journal lines damaged; skipped, the file kept aside', {
        path: options.path,
        aside,
        damaged,
      });
      rewrite = true;
    }
    if (rewrite) await replaceFile(options.path, journal.liveLines());
    journal.appender = await JournalAppender.open({
      path: options.path,
      fsync: options.fsync ?? false,
      compaction: (fileBytes) => journal.compaction(fileBytes),
      retryAfterMs: options.retryAfterMs ?? 1_000,
    });
    return journal;
  }

  /** What was accepted and not finished: jobs to send again and events to dispatch again. */
  backlog(): JournalBacklog {
    const undispatched: HookEvent[] = [];
    for (const live of this.events.values()) if (!live.dispatched) undispatched.push(live.event);
    return { jobs: [...this.jobs.values()].map(({ job, visibleAt }) => ({ job, visibleAt })), undispatched };
  }

  /**
   * Records accepted events; resolves once their lines are handed to the OS. An event whose line
   * was refused (its request is answered 503 and it is never dispatched) is forgotten again, so
   * that a compaction after the file is writable again does not bring it back.
   */
  async accepted(events: HookEvent[]): Promise<void> {
    const results = await Promise.allSettled(events.map((e) => this.append({ t: 'a', e })));
    const refused = results.findIndex((result) => result.status === 'rejected');
    if (refused < 0) return;
    results.forEach((result, i) => {
      if (result.status === 'rejected') this.forgetRefused((events[i] as HookEvent).id);
    });
    throw (results[refused] as PromiseRejectedResult).reason;
  }

  /** Records that the dispatch of an event is done (its jobs are recorded by `sent`). */
  dispatched(eventId: string): Promise<void> {
    return this.append({ t: 'p', id: eventId });
  }

  /**
   * Records jobs sent to the queue, and answers those to send: a dispatch run again (after a crash
   * or a failed attempt) does not send again the deliveries that already finished, nor those the
   * journal already holds (a start queues them from the journal itself).
   *
   * `queued`: the caller hands `send` to the queue before `record` settles (`journaledQueue`). A
   * job the journal holds live at the same or a later attempt is then in the queue already and not
   * sent again. A refused line does not undo the sends either, since the jobs are in the queue all
   * the same: they stay live (a compaction writes them) and are remembered as unrecorded, and the
   * send tried again records them again, so its caller (and the event's `p` line) waits for that.
   */
  sent(
    jobs: DeliveryJob[],
    visibleAt: number,
    options: { queued?: boolean } = {},
  ): { record: Promise<void>; send: DeliveryJob[] } {
    const again: { job: DeliveryJob; visibleAt: number }[] = [];
    const send = jobs.filter((job) => {
      // A live job is in the queue (sent through it, or queued at the start); an attempt not newer
      // than it is that send tried again (its dispatch or delivery run again): no second copy.
      const held = options.queued ? this.jobs.get(job.deliveryId) : undefined;
      if (held && job.attempt <= held.job.attempt) {
        const unrecorded = this.unrecorded.get(job.deliveryId);
        if (unrecorded) again.push(unrecorded);
        return false;
      }
      const live = this.events.get(job.event.id);
      const redispatch = job.attempt === 1 && live !== undefined && !live.dispatched;
      return !(redispatch && (live.done.has(job.deliveryId) || this.jobs.has(job.deliveryId)));
    });
    const entries = [...send.map((job) => ({ job, visibleAt })), ...again];
    if (entries.length === 0) return { record: Promise.resolve(), send };
    const before = send.map((job) => this.jobs.get(job.deliveryId));
    const record = this.append(
      { t: 's', j: entries.map((entry) => this.sentJob(entry.job, entry.visibleAt)) },
      entries.map((entry) => entry.job),
    ).then(
      () => {
        for (const { job } of entries) {
          const unrecorded = this.unrecorded.get(job.deliveryId);
          if (unrecorded && unrecorded.job.attempt <= job.attempt) this.unrecorded.delete(job.deliveryId);
        }
      },
      (error: unknown) => {
        if (options.queued) {
          for (const entry of entries) {
            // Unless it finished or was sent again meanwhile.
            if (this.jobs.get(entry.job.deliveryId)?.job === entry.job)
              this.unrecorded.set(entry.job.deliveryId, entry);
          }
        } else {
          // The line is not in the file: as far as the journal knows, these sends did not happen, so
          // the dispatch or attempt that is tried again records them again.
          send.forEach((job, i) => {
            this.unsend(job, before[i]);
          });
        }
        throw error;
      },
    );
    return { record, send };
  }

  /**
   * Records deliveries that finished (delivered, dead-lettered and stored, or skipped). Those of one
   * tick share a record: at a fan-out of 100 that is one line, not a hundred.
   */
  completed(deliveryIds: string[]): Promise<void> {
    if (!this.finishing) {
      const batch: string[] = [];
      this.finishing = {
        ids: batch,
        written: Promise.resolve().then(() => {
          this.finishing = undefined;
          return this.append({ t: 'c', d: batch });
        }),
      };
    }
    this.finishing.ids.push(...deliveryIds);
    return this.finishing.written;
  }

  /** Live events and jobs, for tests and figures. */
  stats(): { events: number; jobs: number; fileBytes: number; writes: number } {
    return {
      events: this.events.size,
      jobs: this.jobs.size,
      fileBytes: this.appender?.bytes ?? 0,
      writes: this.appender?.writes ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.finishing?.written;
    await this.appender?.close();
  }

  /** Updates the live state first, so that a compaction always sees every record appended. */
  private append(record: JournalRecord, jobs?: DeliveryJob[]): Promise<void> {
    const line = encodeRecord(record);
    this.apply(record, line.length, jobs);
    if (!this.appender) return Promise.resolve(); // during open: `rewrite` writes it
    return this.appender.append(line);
  }

  /** A job as a line holds it; `eventOf` answers the events journaled in the same file. */
  private sentJob(job: DeliveryJob, visibleAt: number, eventOf = (id: string) => this.events.get(id)?.event): SentJob {
    const entry: SentJob = { d: job.deliveryId, h: job.hookId, a: job.attempt, q: job.firstQueuedAt, v: visibleAt };
    const event = eventOf(job.event.id);
    if (!event) return { ...entry, x: job.event, tenant: job.tenant };
    entry.e = job.event.id;
    if (job.event.source !== event.source) entry.s = job.event.source;
    if (job.event.event !== event.event) entry.n = job.event.event;
    return entry;
  }

  /** `jobs`: the jobs an `s` record was made from, kept as they are rather than rebuilt from it. */
  private apply(record: JournalRecord, bytes = 0, jobs?: DeliveryJob[]): void {
    switch (record.t) {
      case 'a':
        if (!this.events.has(record.e.id)) {
          this.events.set(record.e.id, { event: record.e, dispatched: false, jobs: 0, done: new Set(), bytes });
          this.liveBytes += bytes;
        }
        return;
      case 'p': {
        const live = this.events.get(record.id);
        if (!live) return;
        live.dispatched = true;
        live.done.clear();
        this.forgetIfFinished(record.id, live);
        return;
      }
      case 's':
        record.j.forEach((entry, i) => {
          this.applySent(entry, Math.ceil(bytes / record.j.length), jobs?.[i]);
        });
        return;
      case 'c': {
        for (const id of record.d) this.applyCompleted(id);
        const live = record.e === undefined ? undefined : this.events.get(record.e);
        if (live && !live.dispatched) for (const id of record.d) live.done.add(id);
        return;
      }
    }
  }

  private applySent(entry: SentJob, bytes: number, sent?: DeliveryJob): void {
    const live = entry.e === undefined ? undefined : this.events.get(entry.e);
    let event: HookEvent;
    if (sent) event = sent.event;
    else if (entry.x) event = entry.x;
    else if (live) {
      event = { ...live.event };
      if (entry.s !== undefined) event.source = entry.s;
      if (entry.n !== undefined) event.event = entry.n;
    } else {
      this.options.logger.warn('journaled job names an unknown event; skipped', { delivery_id: entry.d });
      return;
    }
    const job: DeliveryJob = sent ?? {
      type: 'deliver.v1',
      deliveryId: entry.d,
      tenant: entry.tenant ?? event.tenant,
      hookId: entry.h,
      event,
      attempt: entry.a,
      firstQueuedAt: entry.q,
    };
    const before = this.jobs.get(entry.d);
    if (before) this.liveBytes -= before.bytes;
    else if (live) live.jobs++;
    // A job sent again under another event reference keeps counting against the first.
    const eventId = before ? before.eventId : live ? entry.e : undefined;
    this.jobs.set(entry.d, { job, visibleAt: entry.v, eventId, bytes });
    this.liveBytes += bytes;
  }

  /** Undoes an `a` whose line was refused: the event was never accepted. */
  private forgetRefused(eventId: string): void {
    const live = this.events.get(eventId);
    if (!live || live.dispatched || live.jobs > 0) return;
    this.events.delete(eventId);
    this.liveBytes -= live.bytes;
  }

  /** Undoes the `s` of `job` whose line was refused: the job as it was before, or none. */
  private unsend(job: DeliveryJob, before: LiveJob | undefined): void {
    const current = this.jobs.get(job.deliveryId);
    if (!current || current.job !== job) return; // finished or sent again meanwhile
    this.liveBytes -= current.bytes;
    if (before) {
      this.jobs.set(job.deliveryId, before);
      this.liveBytes += before.bytes;
      return;
    }
    this.jobs.delete(job.deliveryId);
    const live = current.eventId === undefined ? undefined : this.events.get(current.eventId);
    if (live) live.jobs--;
  }

  private applyCompleted(deliveryId: string): void {
    const job = this.jobs.get(deliveryId);
    if (!job) return;
    this.jobs.delete(deliveryId);
    this.unrecorded.delete(deliveryId);
    this.liveBytes -= job.bytes;
    if (job.eventId === undefined) return;
    const live = this.events.get(job.eventId);
    if (!live) return;
    live.jobs--;
    if (!live.dispatched) live.done.add(deliveryId);
    this.forgetIfFinished(job.eventId, live);
  }

  private forgetIfFinished(eventId: string, live: LiveEvent): void {
    if (!live.dispatched || live.jobs > 0) return;
    this.events.delete(eventId);
    this.liveBytes -= live.bytes;
  }

  /** A new file when the journal is at least `compactMinBytes` and more than half of it is dead. */
  private compaction(fileBytes: number): Iterable<Buffer> | undefined {
    if (fileBytes < (this.options.compactMinBytes ?? 32 << 20) || this.liveBytes * 2 > fileBytes) return undefined;
    this.options.logger.info('journal compacted', { before_bytes: fileBytes, live_bytes: this.liveBytes });
    return this.liveLines();
  }

  /**
   * Every live record: events, then the jobs that name them, then which events were dispatched (a
   * dispatched event without jobs is finished). The state is captured now (references, and the
   * flags that change in place), and the lines are encoded one by one as the file is written, so a
   * large backlog is never held twice in memory.
   */
  private liveLines(): Iterable<Buffer> {
    const events = [...this.events].map(([id, live]) => ({
      id,
      live,
      dispatched: live.dispatched,
      done: live.dispatched ? [] : [...live.done],
    }));
    const captured = new Map(events.map(({ id, live }) => [id, live.event]));
    const jobs = [...this.jobs.values()];
    const eventOf = (id: string) => captured.get(id);
    /** Keeps `liveBytes` true for entries still live; the others are gone from it already. */
    const measured = (entry: { bytes: number }, stillLive: boolean, bytes: number) => {
      if (stillLive) this.liveBytes += bytes - entry.bytes;
      entry.bytes = bytes;
    };
    const journal = this;
    return (function* () {
      for (const { id, live, dispatched, done } of events) {
        const line = encodeRecord({ t: 'a', e: live.event });
        measured(live, journal.events.get(id) === live, line.length);
        yield line;
        if (!dispatched && done.length > 0) yield encodeRecord({ t: 'c', d: done, e: id });
      }
      for (let i = 0; i < jobs.length; i += JOBS_PER_RECORD) {
        const batch = jobs.slice(i, i + JOBS_PER_RECORD);
        const line = encodeRecord({
          t: 's',
          j: batch.map((live) => journal.sentJob(live.job, live.visibleAt, eventOf)),
        });
        const each = Math.ceil(line.length / batch.length);
        for (const live of batch) measured(live, journal.jobs.get(live.job.deliveryId) === live, each);
        yield line;
      }
      for (const { id, dispatched } of events) if (dispatched) yield encodeRecord({ t: 'p', id });
    })();
  }

  /**
   * The delivery queue as the app sees it: every send is journaled, and `send` resolves once its
   * line is written. The jobs reach the queue at once, while their line is being written, so a
   * first attempt goes out without waiting for a file write. What a crash before that line is
   * written can cost is already safe: a first attempt's event has its `a` line (the bus dispatches
   * only journaled events) and no `p` line yet (written after this resolves), so the next start
   * dispatches it again, under the same derived delivery ids; a retry's previous attempt stays
   * live until its `c`, which is appended after this line. Lines reach the file in the order they
   * are appended, so an `s` line never follows a `c` or `p` that depends on it. While the file
   * refuses lines (a full disk) nothing is queued; a line refused after its jobs were queued is
   * written by the send tried again, which queues no second copy (see `sent`).
   */
  journaledQueue(queue: DeliveryQueue): DeliveryQueue {
    return {
      send: async (jobs, sendOptions) => {
        // A line would be refused at once (a full disk): queueing first would only leave copies for
        // the dispatch or delivery tried again to add to.
        const refused = this.appender?.refusal();
        if (refused) throw refused;
        const visibleAt = this.clock.now() + Math.max(0, sendOptions?.delayMs ?? 0);
        const { record, send } = this.sent(jobs, visibleAt, { queued: true });
        try {
          if (send.length > 0) await queue.send(send, sendOptions);
        } finally {
          // Also when the queue refused: the caller learns of a failed write before it records more.
          await record;
        }
      },
    };
  }
}

import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryJournal, type DeliveryJournalOptions } from '../../../../shared/adapters/local/deliveryJournal.ts';
import { decodeRecord, encodeRecord } from '../../../../shared/adapters/local/journalFile.ts';
import type { HookEvent } from '../../../../shared/events/envelope.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { deliveryIdFor } from '../../../../shared/pipeline/dispatcher.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import type { DeliveryJob, DeliveryQueue } from '../../../../shared/ports/deliveryQueue.ts';

let sequence = 0;
const event = (data: Record<string, unknown> = {}): HookEvent => ({
  id: `e-${sequence++}`,
  time: new Date(0).toISOString(),
  tenant: 'default',
  source: 'crud',
  event: 'consumers',
  data,
});
const jobOf = (e: HookEvent, hookId: string, overrides: Partial<DeliveryJob> = {}): DeliveryJob => ({
  type: 'deliver.v1',
  deliveryId: deliveryIdFor(e, hookId),
  tenant: e.tenant,
  hookId,
  event: e,
  attempt: 1,
  firstQueuedAt: 1_000,
  ...overrides,
});

/** A queue that only remembers what it was sent. */
const recordingQueue = () => {
  const sent: DeliveryJob[] = [];
  const queue: DeliveryQueue = {
    async send(jobs) {
      sent.push(...jobs);
    },
  };
  return { sent, queue };
};

describe('delivery journal', () => {
  let dir: string;
  let path: string;
  let open: (overrides?: Partial<DeliveryJournalOptions>) => Promise<DeliveryJournal>;
  const clock = new ManualClock(1_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
    path = join(dir, 'journal.log');
    open = (overrides = {}) => DeliveryJournal.open({ path, logger: memoryLogger(), clock, ...overrides });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands an accepted event to the OS before it resolves, and finds it undispatched after a crash', async () => {
    const journal = await open();
    const accepted = event({ n: 1 });
    await journal.accepted([accepted]);
    // No close(): what a SIGKILL leaves is what was written, read by a new process.
    const records = readFileSync(path, 'utf8').trim().split('\n').map(decodeRecord);
    expect(records).toEqual([{ t: 'a', e: accepted }]);
    const again = await open();
    expect(again.backlog()).toEqual({ jobs: [], undispatched: [accepted] });
    await journal.close();
    await again.close();
  });

  it('keeps the jobs of a dispatched event that have not finished, with their attempt, due time and matched form', async () => {
    const journal = await open();
    const e = event();
    await journal.accepted([e]);
    const { queue, sent } = recordingQueue();
    const journaled = journal.journaledQueue(queue);
    const delivered = jobOf(e, 'h-1');
    const pending = jobOf(e, 'h-2', { event: { ...e, source: 'crud', event: 'consumers:create' } });
    await journaled.send([delivered, pending]);
    await journal.dispatched(e.id);
    await journal.completed([delivered.deliveryId]);
    // The pending job failed once and waits 5 s for its retry.
    await journaled.send([{ ...pending, attempt: 2 }], { delayMs: 5_000 });
    expect(sent.map((j) => j.deliveryId)).toEqual([delivered.deliveryId, pending.deliveryId, pending.deliveryId]);

    const again = await open();
    expect(again.backlog()).toEqual({
      jobs: [{ job: { ...pending, attempt: 2 }, visibleAt: 6_000 }],
      undispatched: [],
    });
    await again.completed([pending.deliveryId]);
    const third = await open();
    expect(third.backlog()).toEqual({ jobs: [], undispatched: [] });
    expect(statSync(path).size).toBe(0);
    for (const j of [journal, again, third]) await j.close();
  });

  it('does not send again the deliveries that finished or are queued when an undispatched event is dispatched again', async () => {
    const journal = await open();
    const e = event();
    await journal.accepted([e]);
    const first = journal.journaledQueue(recordingQueue().queue);
    await first.send([jobOf(e, 'h-1'), jobOf(e, 'h-2')]);
    await journal.completed([deliveryIdFor(e, 'h-1')]);
    // Killed before the dispatch was recorded: the next start dispatches the event again (twice
    // here, so that what finished also survives the rewrite of the first restart).
    const again = await open();
    const third = await open();
    expect(third.backlog().undispatched).toEqual([e]);
    // h-2 is still open: the start queues it from the journal, so the new dispatch does not.
    expect(third.backlog().jobs.map((j) => j.job.hookId)).toEqual(['h-2']);
    const { queue, sent } = recordingQueue();
    await third.journaledQueue(queue).send([jobOf(e, 'h-1'), jobOf(e, 'h-2'), jobOf(e, 'h-3')]);
    expect(sent.map((j) => j.hookId)).toEqual(['h-3']);
    for (const j of [journal, again, third]) await j.close();
  });

  it('hands jobs to the queue while their line is being written, and resolves only once it is written', async () => {
    // Prepare: an accepted event (its `a` line written), and a queue that looks at the file when it gets jobs
    const journal = await open();
    const e = event();
    await journal.accepted([e]);
    const linesNow = () => readFileSync(path, 'utf8').trim().split('\n').map(decodeRecord) as { t: string }[];
    let seenAtSend: string[] | undefined;
    const queue: DeliveryQueue = {
      async send() {
        seenAtSend = linesNow().map((r) => r.t);
      },
    };

    // Act
    await journal.journaledQueue(queue).send([jobOf(e, 'h-1')]);

    // Assess: the job went out before its `s` line (a crash then redispatches the event under the same
    // ids, since it has no `p` yet), and the send resolved after the line was written
    expect(seenAtSend).toEqual(['a']);
    expect(linesNow().map((r) => r.t)).toEqual(['a', 's']);
    const again = await open();
    expect(again.backlog().undispatched).toEqual([e]);
    for (const j of [journal, again]) await j.close();
  });

  it('keeps a job whose event it never saw (a replayed dead letter) with the event inline', async () => {
    const journal = await open();
    const foreign = jobOf(event({ big: 'x'.repeat(100) }), 'h-9', { attempt: 1, firstQueuedAt: 7 });
    await journal.journaledQueue(recordingQueue().queue).send([foreign]);
    const again = await open();
    expect(again.backlog().jobs).toEqual([{ job: foreign, visibleAt: 1_000 }]);
    for (const j of [journal, again]) await j.close();
  });

  it('skips a record torn by a crash and keeps the ones before it', async () => {
    const journal = await open();
    const kept = event();
    await journal.accepted([kept]);
    const torn = encodeRecord({ t: 'a', e: event() });
    appendFileSync(path, torn.subarray(0, torn.length - 7));
    const logger = memoryLogger();
    const again = await open({ logger });
    expect(again.backlog().undispatched).toEqual([kept]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/torn/) }));
    expect(readdirSync(dir).filter((name) => name.includes('damaged'))).toEqual([]);
    // The rewrite on open dropped the torn line, so appends start on a clean line.
    const next = event();
    await again.accepted([next]);
    const third = await open();
    expect(third.backlog().undispatched).toEqual([kept, next]);
    for (const j of [journal, again, third]) await j.close();
  });

  it('ends a whole last line that lost its newline, so the next record starts a line of its own', async () => {
    const journal = await open();
    const kept = event();
    await journal.accepted([kept]);
    await journal.close();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 1)); // the write stopped just before '\n'
    const again = await open();
    const next = event();
    await again.accepted([next]);
    const third = await open();
    expect(third.backlog().undispatched).toEqual([kept, next]);
    for (const j of [again, third]) await j.close();
  });

  it('keeps the records after a line damaged in the middle, and a copy of the file as it was', async () => {
    const journal = await open();
    const [first, second, third] = [event(), event(), event()];
    for (const e of [first, second, third]) await journal.accepted([e]);
    await journal.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = (lines[1] as string).replace('"t":"a"', '"t":"A"'); // the checksum no longer matches
    writeFileSync(path, lines.join('\n'));
    const logger = memoryLogger();
    const again = await open({ logger });
    expect(again.backlog().undispatched).toEqual([first, third]);
    const aside = readdirSync(dir).filter((name) => name.startsWith('journal.log.damaged-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0] as string), 'utf8')).toBe(lines.join('\n'));
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'error', damaged: 1 }));
    await again.close();
  });

  it('writes the events accepted while a write is in flight together, in one group write', async () => {
    const journal = await open();
    const before = journal.stats().writes;
    const requests = Array.from({ length: 200 }, () => journal.accepted([event(), event()]));
    await Promise.all(requests);
    expect(journal.stats().writes - before).toBeLessThanOrEqual(2);
    expect(journal.stats().events).toBe(400);
    await journal.close();
  });

  it('compacts a file that is mostly finished work, and loses nothing live in doing so', async () => {
    const journal = await open({ compactMinBytes: 20_000 });
    const { queue } = recordingQueue();
    const journaled = journal.journaledQueue(queue);
    const live: HookEvent[] = [];
    for (let round = 0; round < 300; round++) {
      const e = event({ payload: 'y'.repeat(200) });
      await journal.accepted([e]);
      await journaled.send([jobOf(e, 'h-1')]);
      await journal.dispatched(e.id);
      if (round % 50 === 0) live.push(e);
      else await journal.completed([deliveryIdFor(e, 'h-1')]);
    }
    // 300 events of ~500 bytes each were written; compaction keeps the file near the live part.
    expect(journal.stats().fileBytes).toBeLessThan(40_000);
    const again = await open();
    expect(again.backlog().jobs.map((j) => j.job.event.id)).toEqual(live.map((e) => e.id));
    for (const j of [journal, again]) await j.close();
  });

  it('loses nothing appended while a compaction is being written', async () => {
    const journal = await open({ compactMinBytes: 20_000 });
    const journaled = journal.journaledQueue(recordingQueue().queue);
    const live = new Set<string>();
    // Eight lanes at once: records keep arriving while the rewrite is in flight.
    const lane = async (n: number) => {
      for (let round = 0; round < 60; round++) {
        const e = event({ payload: 'z'.repeat(300) });
        await journal.accepted([e]);
        await journaled.send([jobOf(e, 'h-1'), jobOf(e, 'h-2')]);
        await journal.dispatched(e.id);
        await journal.completed([deliveryIdFor(e, 'h-1')]);
        if ((round + n) % 20 === 0) live.add(e.id);
        else await journal.completed([deliveryIdFor(e, 'h-2')]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, n) => lane(n)));
    expect(journal.stats().fileBytes).toBeLessThan(60_000);
    const again = await open();
    const backlog = again.backlog();
    expect(new Set(backlog.jobs.map((j) => j.job.event.id))).toEqual(live);
    expect(backlog.jobs.every((j) => j.job.hookId === 'h-2')).toBe(true);
    expect(backlog.undispatched).toEqual([]);
    for (const j of [journal, again]) await j.close();
  });
});

import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLocalDeliveryQueue,
  type LocalDeliveryQueue,
  type LocalDeliveryQueueOptions,
} from '../../../../shared/adapters/local/deliveryQueue.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import type { DeadLetter, DeliveryJob } from '../../../../shared/ports/deliveryQueue.ts';

let sequence = 0;
const job = (overrides: Partial<DeliveryJob> = {}): DeliveryJob => {
  const n = sequence++;
  return {
    type: 'deliver.v1',
    deliveryId: `d-${n}`,
    tenant: 'default',
    hookId: 'h-1',
    event: { id: `e-${n}`, time: new Date(0).toISOString(), tenant: 'default', source: 's', event: 'e', data: { n } },
    attempt: 1,
    firstQueuedAt: Date.now(),
    ...overrides,
  };
};
/** Lets settled worker promises run their continuations (no time passes). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('local delivery queue', () => {
  let dir: string;
  let queues: LocalDeliveryQueue[];
  /** Settles workers left hanging by a test so nothing outlives it. */
  let releaseHung: (() => void)[];
  let clock: ManualClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'delivery-queue-'));
    queues = [];
    releaseHung = [];
    clock = new ManualClock(1_000_000);
  });
  afterEach(async () => {
    for (const release of releaseHung) release();
    await Promise.all(queues.map((q) => q.stop({ drainMs: 0 })));
    await rm(dir, { recursive: true, force: true });
  });

  const open = (options: Partial<LocalDeliveryQueueOptions> = {}) => {
    const logger = memoryLogger();
    const queue = createLocalDeliveryQueue({ logger, clock, ...options });
    queues.push(queue);
    return Object.assign(queue, { logger });
  };
  /** Waits `ms` on the manual clock. */
  const wait = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  /** Moves the manual clock by `ms` in steps, letting workers answer after each step. */
  const advance = async (ms: number, stepMs = ms) => {
    for (let passed = 0; passed < ms; passed += stepMs) {
      clock.advance(Math.min(stepMs, ms - passed));
      await flush();
    }
  };
  const hang = () =>
    new Promise<void>((resolve) => {
      releaseHung.push(resolve);
    });

  it('hands every sent job to the worker once and then becomes idle', async () => {
    // Prepare
    const queue = open();
    const seen: string[] = [];
    const jobs = Array.from({ length: 200 }, () => job());

    // Act
    await queue.send(jobs.slice(0, 100));
    queue.start(async (j) => {
      seen.push(j.deliveryId);
    });
    await queue.send(jobs.slice(100));
    await queue.idle();

    // Assess
    expect(seen.sort()).toEqual(jobs.map((j) => j.deliveryId).sort());
    expect(queue.size()).toBe(0);
  });

  it('keeps a delayed job invisible until its delay has passed', async () => {
    // Prepare
    const queue = open();
    const received: { id: string; at: number }[] = [];
    queue.start(async (j) => {
      received.push({ id: j.deliveryId, at: clock.now() });
    });
    const later = job();
    const now = job();

    // Act
    const sentAt = clock.now();
    await queue.send([later], { delayMs: 200 });
    await queue.send([now]);
    await flush();
    const beforeDelay = received.map((r) => r.id);
    await advance(199);
    const justBefore = received.length;
    await advance(1);
    await queue.idle();

    // Assess
    expect(beforeDelay).toEqual([now.deliveryId]);
    expect(justBefore).toBe(1);
    expect(received.map((r) => r.id)).toEqual([now.deliveryId, later.deliveryId]);
    expect(received[1]!.at - sentAt).toBeGreaterThanOrEqual(200);
  });

  it('never runs more workers at once than its concurrency', async () => {
    // Prepare
    const queue = open({ concurrency: 3 });
    let active = 0;
    let peak = 0;
    let done = 0;
    queue.start(async () => {
      active++;
      peak = Math.max(peak, active);
      await wait(5);
      active--;
      done++;
    });

    // Act: jobs of many hooks, so only the total limits them
    await queue.send(Array.from({ length: 20 }, (_, i) => job({ hookId: `h-${i}` })));
    const idle = queue.idle();
    await advance(100, 5);
    await idle;

    // Assess
    expect(done).toBe(20);
    expect(peak).toBe(3);
  });

  it('receives a job again when its worker hangs past maxRunMs (and the visibility timeout)', async () => {
    // Prepare
    const queue = open({ visibilityTimeoutMs: 100, maxRunMs: 100, concurrency: 1 });
    const receives: number[] = [];
    queue.start((j) => {
      receives.push(j.attempt);
      return receives.length === 1 ? hang() : Promise.resolve();
    });

    // Act
    const sentAt = clock.now();
    await queue.send([job()]);
    const idle = queue.idle();
    await advance(99);
    const beforeTimeout = receives.length;
    await advance(1);
    await idle;

    // Assess
    expect(beforeTimeout).toBe(1);
    expect(receives).toHaveLength(2);
    expect(clock.now() - sentAt).toBeGreaterThanOrEqual(100);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('ignores the late answer of a worker taken as hung after maxRunMs', async () => {
    // Prepare: the first call hangs, then fails after the message has been received again
    const queue = open({ visibilityTimeoutMs: 50, maxRunMs: 50, maxReceiveCount: 2 });
    let calls = 0;
    let failFirst: ((e: Error) => void) | undefined;
    queue.start(() => {
      calls++;
      if (calls === 1) return new Promise<void>((_, reject) => (failFirst = reject));
      return Promise.resolve();
    });

    // Act
    await queue.send([job()]);
    const idle = queue.idle();
    await advance(50);
    await idle;
    failFirst?.(new Error('too late'));
    await flush();

    // Assess: the late rejection neither redelivered nor dead-lettered the acknowledged job
    expect(calls).toBe(2);
    expect(queue.size()).toBe(0);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('dead-letters a job after maxReceiveCount crashed receives', async () => {
    // Prepare
    const queue = open({ maxReceiveCount: 3 });
    let receives = 0;
    queue.start(async () => {
      receives++;
      throw new Error('worker crashed');
    });
    const failing = job();

    // Act
    await queue.send([failing]);
    await queue.idle();

    // Assess
    expect(receives).toBe(3);
    const [letter, ...rest] = queue.deadLetters();
    expect(rest).toEqual([]);
    expect(letter?.job).toEqual(failing);
    expect(letter?.reason).toContain('received 3 times');
    expect(letter?.reason).toContain('worker crashed');
    expect(queue.logger.lines.some((l) => l.message === 'delivery dead-lettered')).toBe(true);
  });

  it('hands a job dead-lettered after maxReceiveCount to onDeadLetter, keeping nothing itself', async () => {
    // Prepare
    const handed: DeadLetter[] = [];
    const queue = open({
      maxReceiveCount: 2,
      onDeadLetter: async (entry) => {
        handed.push(entry);
      },
    });
    queue.start(async () => {
      throw new Error('worker crashed');
    });
    const failing = job();

    // Act
    await queue.send([failing]);
    await queue.idle();
    await flush();

    // Assess
    expect(handed.map((d) => d.job)).toEqual([failing]);
    expect(handed[0]?.reason).toContain('received 2 times');
    expect(queue.deadLetters()).toEqual([]);
  });

  it('waits for running workers when stopping, and persists nothing they finished', async () => {
    // Prepare
    const persistPath = join(dir, 'queue.json');
    const queue = open({ persistPath });
    let finished = 0;
    queue.start(async () => {
      await wait(100);
      finished++;
    });
    await queue.send([job(), job()]);

    // Act
    const stopped = queue.stop({ drainMs: 10_000 });
    await advance(100);
    await stopped;

    // Assess
    expect(finished).toBe(2);
    expect(JSON.parse(await readFile(persistPath, 'utf8'))).toEqual({ version: 1, jobs: [], deadLetters: [] });
  });

  it('persists queued, delayed and still running jobs on stop, and a new queue on the file delivers them', async () => {
    // Prepare
    const persistPath = join(dir, 'nested', 'queue.json');
    const first = open({ persistPath, concurrency: 1 });
    const stuck = job();
    const queued = job();
    const delayed = job();
    first.start((j) => (j.deliveryId === stuck.deliveryId ? hang() : Promise.resolve()));
    await first.send([stuck, queued]);
    await first.send([delayed], { delayMs: 300 });

    // Act
    const stopped = first.stop({ drainMs: 50 });
    await advance(50);
    await stopped;
    const second = open({ persistPath });
    const seen: DeliveryJob[] = [];
    second.start(async (j) => {
      seen.push(j);
    });
    const idle = second.idle();
    await advance(250);
    await idle;

    // Assess
    expect(seen.map((j) => j.deliveryId).sort()).toEqual([stuck, queued, delayed].map((j) => j.deliveryId).sort());
    expect(seen.find((j) => j.deliveryId === stuck.deliveryId)).toEqual(stuck);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['queue.json']);
  });

  it('snapshots pending jobs while running, so a crash (no stop) loses at most one interval', async () => {
    // Prepare
    const persistPath = join(dir, 'queue.json');
    const crashed = open({ persistPath, snapshotMs: 20 });
    const waiting = job();
    crashed.start(() => hang());
    await crashed.send([waiting]);
    // The snapshot runs on real time (it is I/O); wait until it holds the job, not a fixed sleep.
    await vi.waitFor(async () => expect(await readFile(persistPath, 'utf8')).toContain(waiting.deliveryId), {
      timeout: 5_000,
      interval: 20,
    });

    // Act: another queue opens the file without the first one ever stopping, as after kill -9.
    await copyFile(persistPath, join(dir, 'copy.json'));
    const restored = createLocalDeliveryQueue({ logger: memoryLogger(), clock, persistPath: join(dir, 'copy.json') });
    queues.push(restored);
    const seen: DeliveryJob[] = [];
    restored.start(async (j) => {
      seen.push(j);
    });
    await restored.idle();

    // Assess
    expect(seen.map((j) => j.deliveryId)).toEqual([waiting.deliveryId]);
  });

  it('keeps a dead letter it could not hand over, in its file, and hands it over at the next start', async () => {
    // Prepare: the store is down for the first queue.
    const persistPath = join(dir, 'queue.json');
    const first = open({
      persistPath,
      maxReceiveCount: 1,
      onDeadLetter: () => Promise.reject(new Error('store down')),
    });
    first.start(async () => {
      throw new Error('boom');
    });
    const failing = job({ attempt: 4 });
    await first.send([failing]);
    await first.idle();
    await flush();
    expect(first.deadLetters().map((d) => d.job)).toEqual([failing]);
    await first.stop({ drainMs: 0 });

    // Act: the store is back.
    const handed: DeadLetter[] = [];
    const second = open({
      persistPath,
      onDeadLetter: async (entry) => {
        handed.push(entry);
      },
    });
    second.start(async () => undefined);
    await flush();

    // Assess
    expect(handed.map((d) => d.job)).toEqual([failing]);
    expect(second.deadLetters()).toEqual([]);
  });

  it('rejects sends after stop with a clear error, and idle() resolves', async () => {
    const queue = open();
    await queue.stop({ drainMs: 0 });
    await expect(queue.send([job()])).rejects.toThrow(/delivery queue is stopped/);
    await expect(queue.idle()).resolves.toBeUndefined();
  });

  it('rejects sends while draining, so a running worker cannot hand it new work', async () => {
    // Prepare
    const queue = open();
    let sendDuringDrain: Promise<void> | undefined;
    let stopped: Promise<void> | undefined;
    queue.start(async (j) => {
      stopped = queue.stop({ drainMs: 5_000 });
      sendDuringDrain = queue.send([{ ...j, attempt: j.attempt + 1 }]);
      await sendDuringDrain.catch(() => undefined);
    });

    // Act
    await queue.send([job()]);
    await queue.idle();
    await stopped;

    // Assess
    await expect(sendDuringDrain).rejects.toThrow(/stopped/);
  });

  it('moves an unreadable persisted file aside instead of failing or deleting it', async () => {
    const persistPath = join(dir, 'queue.json');
    await writeFile(persistPath, '{not json');
    const queue = open({ persistPath });
    expect(queue.size()).toBe(0);
    expect(existsSync(persistPath)).toBe(false);
    expect(readdirSync(dir).some((name) => name.startsWith('queue.json.unreadable-'))).toBe(true);
  });
});

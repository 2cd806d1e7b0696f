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
import { createLocalFunctionRunner } from '../../../../shared/adapters/local/functionRunner.ts';
import { ServiceUnavailableError } from '../../../../shared/errors.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock, systemClock } from '../../../../shared/ports/clock.ts';
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
    // Each crashed receive is a background failure: its line names the hook.
    const again = queue.logger.lines.filter((l) => l.message === 'delivery will be received again');
    expect(again).toHaveLength(2);
    for (const line of again) expect(line).toMatchObject({ hook_id: failing.hookId, deliveryId: failing.deliveryId });
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

  it('rejects sends after stop with a clear error, a 503 for an API caller, and idle() resolves', async () => {
    const queue = open();
    await queue.stop({ drainMs: 0 });
    await expect(queue.send([job()])).rejects.toThrow(/delivery queue is stopped/);
    await expect(queue.send([job()])).rejects.toBeInstanceOf(ServiceUnavailableError);
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

  describe('isolation of slow destinations', () => {
    it('runs at most concurrencyPerHook calls for one hook, and other hooks keep the remaining slots', async () => {
      // Prepare: hook "slow" never answers; 4 slots in all, 2 per hook
      const queue = open({ concurrency: 4, concurrencyPerHook: 2 });
      const running = new Map<string, number>();
      const delivered: string[] = [];
      queue.start((j) => {
        running.set(j.hookId, (running.get(j.hookId) ?? 0) + 1);
        if (j.hookId === 'slow') return hang();
        delivered.push(j.deliveryId);
        running.set(j.hookId, (running.get(j.hookId) ?? 0) - 1);
        return Promise.resolve();
      });
      const slow = Array.from({ length: 50 }, () => job({ hookId: 'slow' }));
      const healthy = Array.from({ length: 10 }, () => job({ hookId: 'healthy' }));

      // Act: every slow job is sent first, so a shared FIFO would put them all ahead
      await queue.send(slow);
      await queue.send(healthy);
      await flush();

      // Assess
      expect(running.get('slow')).toBe(2);
      expect(delivered).toEqual(healthy.map((j) => j.deliveryId));
      expect(queue.size()).toBe(50);
    });

    it('scopes the cap by tenant: the same hook id in two tenants is two destinations', async () => {
      // Prepare
      const queue = open({ concurrency: 4, concurrencyPerHook: 1 });
      const started: string[] = [];
      queue.start((j) => {
        started.push(j.tenant);
        return hang();
      });

      // Act
      await queue.send([job({ tenant: 'a' }), job({ tenant: 'a' }), job({ tenant: 'b' })]);
      await flush();

      // Assess
      expect(started).toEqual(['a', 'b']);
    });

    it('delivers a healthy hook as fast with a hanging neighbour as without one', async () => {
      // Prepare: every delivery takes 10 ms by the clock; the hanging hook never answers
      const latency = async (withHanging: boolean) => {
        const queue = open({ concurrency: 8, concurrencyPerHook: 2 });
        const sentAt = new Map<string, number>();
        const took: number[] = [];
        queue.start(async (j) => {
          if (j.hookId === 'hanging') return hang();
          await wait(10);
          took.push(clock.now() - (sentAt.get(j.deliveryId) as number));
        });
        for (let i = 0; i < 20; i++) {
          const batch = [job({ hookId: 'healthy' })];
          if (withHanging) batch.unshift(...Array.from({ length: 5 }, () => job({ hookId: 'hanging' })));
          for (const j of batch) sentAt.set(j.deliveryId, clock.now());
          await queue.send(batch);
          await advance(5);
        }
        await advance(100, 5);
        return took;
      };

      // Act
      const alone = await latency(false);
      const neighboured = await latency(true);

      // Assess
      expect(alone).toHaveLength(20);
      expect(neighboured).toEqual(alone);
    });

    it('defaults the per-hook cap to a quarter of the concurrency', async () => {
      // Prepare
      const queue = open({ concurrency: 8 });
      let started = 0;
      queue.start(() => {
        started++;
        return hang();
      });

      // Act
      await queue.send(Array.from({ length: 10 }, () => job()));
      await flush();

      // Assess
      expect(started).toBe(2);
    });
  });

  describe('slow workers', () => {
    it('runs a worker slower than the visibility timeout exactly once', async () => {
      // Prepare
      const queue = open({ visibilityTimeoutMs: 100 });
      const slow = job();
      let calls = 0;
      queue.start(async (j) => {
        if (j.deliveryId !== slow.deliveryId) return;
        calls++;
        await wait(1_000);
      });

      // Act: other traffic half-way makes the queue look at its deadlines
      await queue.send([slow]);
      const idle = queue.idle();
      await advance(500, 10);
      await queue.send([job({ hookId: 'other' })]);
      await advance(500, 10);
      await idle;

      // Assess
      expect(calls).toBe(1);
      expect(queue.size()).toBe(0);
      expect(queue.logger.lines.some((l) => l.message === 'delivery will be received again')).toBe(false);
    });

    it('runs each job once when jobs wait for one of 4 function processes longer than the visibility timeout', async () => {
      // Prepare: the case: a 4.5 s function, 4 processes, 100 events, a 60 s visibility timeout
      const queue = open({ visibilityTimeoutMs: 60_000, concurrencyPerHook: 64 });
      const runs = new Map<string, number>();
      let free = 4;
      const waiting: (() => void)[] = [];
      const process = async () => {
        if (free > 0) free--;
        else await new Promise<void>((resolve) => waiting.push(resolve));
      };
      const done = () => {
        const next = waiting.shift();
        if (next) next();
        else free++;
      };
      queue.start(async (j) => {
        await process();
        runs.set(j.deliveryId, (runs.get(j.deliveryId) ?? 0) + 1);
        await wait(4_500);
        done();
      });

      // Act
      await queue.send(Array.from({ length: 100 }, () => job()));
      const idle = queue.idle();
      await advance(200_000, 500);
      await idle;

      // Assess: 100 × 4.5 s over 4 processes is 112.5 s, well past the visibility timeout
      expect(clock.now() - 1_000_000).toBeGreaterThan(112_000);
      expect(runs.size).toBe(100);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    });

    it('runs a real user function once per job while jobs wait for its processes past the visibility timeout', async () => {
      // Prepare: 8 calls of a 150 ms function on 2 processes take about 600 ms; the visibility timeout is 100 ms
      const functions = createLocalFunctionRunner({ timeoutMs: 5_000, maxWorkersPerFunction: 2 });
      const queue = open({ clock: systemClock, visibilityTimeoutMs: 100, concurrencyPerHook: 8 });
      const code = 'return function (data) { const end = Date.now() + 150; while (Date.now() < end) {} return data }';
      const runs = new Map<string, number>();
      queue.start(async (j) => {
        runs.set(j.deliveryId, (runs.get(j.deliveryId) ?? 0) + 1);
        await functions.invoke(
          { kind: 'code', tenant: j.tenant, hookId: j.hookId, index: 0, code },
          { data: j.event.data, event: 'e', source: 's', pid: 1 },
        );
      });
      const jobs = Array.from({ length: 8 }, () => job());

      // Act
      const startedAt = Date.now();
      try {
        await queue.send(jobs);
        await queue.idle();
      } finally {
        await functions.close();
      }

      // Assess
      expect(Date.now() - startedAt).toBeGreaterThan(500);
      expect([...runs.keys()].sort()).toEqual(jobs.map((j) => j.deliveryId).sort());
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    });

    it('still receives a job again at once when its worker rejects (a crash)', async () => {
      // Prepare
      const queue = open({ visibilityTimeoutMs: 100 });
      let calls = 0;
      queue.start(async () => {
        calls++;
        if (calls === 1) throw new Error('crash');
      });

      // Act
      await queue.send([job()]);
      await flush();

      // Assess: no time passed
      expect(calls).toBe(2);
      expect(queue.size()).toBe(0);
    });
  });
});

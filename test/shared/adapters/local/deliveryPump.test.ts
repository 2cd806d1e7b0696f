import { describe, expect, it } from 'vitest';
import { DeliveryPump } from '../../../../shared/adapters/local/deliveryPump.ts';
import { QueueModel } from '../../../../shared/adapters/local/queueModel.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import type { DeadLetter, DeliveryJob } from '../../../../shared/ports/deliveryQueue.ts';
import { testJob } from '../../../support/jobs.ts';

const job = (hookId = 'h'): DeliveryJob => testJob({ hookId });
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const setup = (
  options: { concurrency?: number; perHook?: number; visibilityTimeoutMs?: number; maxRunMs?: number } = {},
) => {
  const clock = new ManualClock(0);
  const model = new QueueModel({
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 100,
    maxReceiveCount: 3,
    maxInFlightPerGroup: options.perHook ?? 10,
  });
  const deadLetters: DeadLetter[] = [];
  let steps = 0;
  const pump = new DeliveryPump({
    model,
    clock,
    concurrency: options.concurrency ?? 10,
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 100,
    maxRunMs: options.maxRunMs ?? 1_000,
    logger: memoryLogger(),
    onDeadLetter: (entry) => deadLetters.push(entry),
    onStep: () => {
      steps++;
    },
  });
  const advance = async (ms: number, stepMs = 10) => {
    for (let passed = 0; passed < ms; passed += stepMs) {
      clock.advance(Math.min(stepMs, ms - passed));
      await flush();
    }
  };
  return { clock, model, pump, deadLetters, advance, steps: () => steps };
};

describe('delivery pump', () => {
  it('starts no more calls than its concurrency, and the next one as soon as one answers', async () => {
    // Prepare
    const { model, pump, clock } = setup({ concurrency: 2 });
    const answers: (() => void)[] = [];
    pump.start(() => new Promise<void>((resolve) => answers.push(resolve)));

    // Act
    model.send([job('a'), job('b'), job('c')], clock.now());
    pump.step();
    await flush();
    const atFirst = answers.length;
    answers[0]?.();
    await flush();

    // Assess
    expect(atFirst).toBe(2);
    expect(answers).toHaveLength(3);
    expect(model.size).toBe(2);
  });

  it('extends a running call past the visibility timeout, up to maxRunMs, then takes it as hung', async () => {
    // Prepare
    const { model, pump, clock, advance } = setup({ visibilityTimeoutMs: 100, maxRunMs: 1_000 });
    let calls = 0;
    pump.start(() => {
      calls++;
      return new Promise<void>(() => undefined);
    });
    model.send([job()], clock.now());
    pump.step();
    await flush();

    // Act
    await advance(990);
    const beforeLimit = calls;
    await advance(10);

    // Assess
    expect(beforeLimit).toBe(1);
    expect(calls).toBe(2);
  });

  it('wakes itself when a delayed message falls due', async () => {
    // Prepare
    const { model, pump, clock } = setup();
    const seen: number[] = [];
    pump.start(async () => {
      seen.push(clock.now());
    });

    // Act
    model.send([job()], clock.now(), 250);
    pump.step();
    clock.advance(249);
    await flush();
    const early = seen.length;
    clock.advance(1);
    await flush();

    // Assess
    expect(early).toBe(0);
    expect(seen).toEqual([250]);
  });

  it('hands a job that crashed maxReceiveCount times to onDeadLetter', async () => {
    // Prepare
    const { model, pump, clock, deadLetters } = setup();
    pump.start(async () => {
      throw new Error('crash');
    });

    // Act
    model.send([job()], clock.now());
    pump.step();
    await flush();

    // Assess
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.reason).toContain('received 3 times');
    expect(model.size).toBe(0);
  });

  it('after stop, neither starts calls nor settles the answers of running ones', async () => {
    // Prepare
    const { model, pump, clock } = setup();
    let answer: (() => void) | undefined;
    pump.start(() => new Promise<void>((resolve) => (answer = resolve)));
    model.send([job()], clock.now());
    pump.step();
    await flush();

    // Act
    pump.stop();
    answer?.();
    model.send([job()], clock.now());
    pump.step();
    await flush();

    // Assess: the first is still in flight (not acknowledged), the second never started
    expect(model.inFlightCount).toBe(1);
    expect(model.size).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});

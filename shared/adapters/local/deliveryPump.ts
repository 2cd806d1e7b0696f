import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DeadLetter, DeliveryJob } from '../../ports/deliveryQueue.ts';
import type { QueueModel, Released } from './queueModel.ts';

/** Resolving (with anything) acknowledges the job; rejecting is a crash and the job is received again. */
export type DeliveryWorker = (job: DeliveryJob) => Promise<unknown>;

export interface DeliveryPumpOptions {
  model: QueueModel;
  clock: Clock;
  /** Worker calls running at once, across all hooks (the model caps each hook). */
  concurrency: number;
  /** The model's visibility timeout: how far each heartbeat moves a running call's deadline. */
  visibilityTimeoutMs: number;
  /** A call still running after this long is taken as hung: its message is no longer extended. */
  maxRunMs: number;
  logger: Logger;
  /** A message received `maxReceiveCount` times without an acknowledgement. */
  onDeadLetter(entry: DeadLetter): void;
  /** After every step (a send, an answer, a wake-up), so the queue can resolve its waiters. */
  onStep(): void;
}

/**
 * Hands visible messages of the model to the worker within the concurrency limit, and wakes itself
 * when a delayed message falls due or a deadline passes. The only part of the queue with timers.
 *
 * While a worker call runs, the pump extends its message's visibility (the heartbeat an SQS consumer
 * sends with ChangeMessageVisibility): locally the queue knows the call is still pending, so a slow
 * call, or one waiting for a free function process, is never received a second time. The worker's
 * own limits (HTTP and function timeouts) end a call; `maxRunMs` only catches a call that never
 * settles, whose message is then received again and whose late answer is ignored.
 */
export class DeliveryPump {
  private worker: DeliveryWorker | undefined;
  private state: 'running' | 'paused' | 'stopped' = 'running';
  /** Receipts of running calls and when they started. */
  private readonly running = new Map<number, number>();
  private cancelTimer: (() => void) | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  constructor(private readonly options: DeliveryPumpOptions) {}

  get started(): boolean {
    return this.worker !== undefined;
  }

  start(worker: DeliveryWorker): void {
    if (this.worker) throw new Error('delivery queue already started');
    this.worker = worker;
    this.step();
  }

  /** Receives nothing more; running calls still settle their messages. */
  pause(): void {
    if (this.state === 'running') this.state = 'paused';
  }

  /** For good: no more wake-ups, and answers of calls still running are ignored. */
  stop(): void {
    this.state = 'stopped';
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** Brings the model up to now, receives what it may, and arms the next wake-up. */
  step(): void {
    if (this.state === 'stopped') return;
    const { model, clock } = this.options;
    const now = clock.now();
    if (now >= model.nextDueAt()) this.heartbeat(now);
    const hung = `worker call still running after ${this.options.maxRunMs} ms (taken as hung)`;
    for (const released of model.tick(now, hung)) this.afterRelease(released, hung);
    if (this.state === 'running' && this.worker) {
      while (model.inFlightCount < this.options.concurrency) {
        const received = model.receive(now, Math.min(this.options.visibilityTimeoutMs, this.options.maxRunMs));
        if (!received) break;
        this.run(received.receipt, received.job, now);
      }
    }
    this.arm(now);
    this.options.onStep();
  }

  private run(receipt: number, job: DeliveryJob, now: number): void {
    this.running.set(receipt, now);
    const worker = this.worker as DeliveryWorker;
    Promise.resolve()
      .then(() => worker(job))
      .then(
        () => this.settle(receipt, undefined),
        (error: unknown) => this.settle(receipt, error ?? new Error('worker rejected')),
      );
  }

  private settle(receipt: number, error: unknown): void {
    this.running.delete(receipt);
    if (this.state === 'stopped') return;
    const { model, clock } = this.options;
    if (error === undefined) model.ack(receipt);
    else {
      const why = `worker failed: ${error instanceof Error ? error.message : String(error)}`;
      const released = model.release(receipt, clock.now(), why);
      if (released) this.afterRelease(released, why);
    }
    this.step();
  }

  /**
   * Moves the deadline of every call still running and not yet past `maxRunMs`; a call past it is
   * forgotten here, and the model takes its message back when its deadline passes.
   */
  private heartbeat(now: number): void {
    const { model, visibilityTimeoutMs, maxRunMs } = this.options;
    for (const [receipt, startedAt] of this.running) {
      const limit = startedAt + maxRunMs;
      if (limit > now) model.extend(receipt, Math.min(now + visibilityTimeoutMs, limit));
      else this.running.delete(receipt);
    }
  }

  private afterRelease(released: Released, why: string): void {
    if (released.outcome === 'dead-lettered') {
      this.options.onDeadLetter(released.deadLetter);
      return;
    }
    this.options.logger.warn('delivery will be received again', {
      deliveryId: released.job.deliveryId,
      hook_id: released.job.hookId,
      receiveCount: released.receiveCount,
      why,
    });
  }

  private arm(now: number): void {
    const due = this.options.model.nextDueAt();
    if (due === this.timerDue) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerDue = due;
    if (due === Number.POSITIVE_INFINITY) return;
    // Timers may fire a millisecond early by the clock; step re-arms until the clock agrees.
    this.cancelTimer = this.options.clock.setTimer(Math.max(1, due - now), () => {
      this.cancelTimer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
      this.step();
    });
  }
}

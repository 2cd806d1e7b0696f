/** Time as the core sees it: injectable so gate sequences, retry schedules and queues are tested without sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now by this clock; the returned function cancels it (a no-op once fired). */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/** A clock that only moves when told to; its timers fire, in due order, as `advance` or `set` passes them. */
export class ManualClock implements Clock {
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(private ms = 0) {}

  now(): number {
    return this.ms;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: ManualTimer = { due: this.ms + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  set(ms: number): void {
    this.runUntil(ms);
  }

  advance(ms: number): void {
    this.runUntil(this.ms + ms);
  }

  /**
   * Moves to `target`, stopping at each timer's due time to fire it, so a timer sees the time it
   * was due at; timers set by a firing timer fire too when they fall due before `target`.
   */
  private runUntil(target: number): void {
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      const fired = next;
      this.timers = this.timers.filter((t) => t !== fired);
      this.ms = Math.max(this.ms, fired.due);
      fired.fn();
    }
    this.ms = target;
  }
}

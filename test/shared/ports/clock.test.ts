import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../../shared/ports/clock.ts';

describe('ManualClock timers', () => {
  it('fires timers in due order as advance passes them, each seeing its own due time', () => {
    // Prepare
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));

    // Act
    clock.advance(29);
    const early = [...fired];
    clock.advance(1);

    // Assess
    expect(early).toEqual(['a@1010']);
    expect(fired).toEqual(['a@1010', 'b@1030', 'c@1030']);
    expect(clock.now()).toBe(1_030);
  });

  it('fires a timer set by a firing timer when it falls due within the same advance', () => {
    // Prepare
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimer(10, () => {
      fired.push(clock.now());
      clock.setTimer(10, () => fired.push(clock.now()));
    });

    // Act
    clock.advance(25);

    // Assess
    expect(fired).toEqual([10, 20]);
    expect(clock.now()).toBe(25);
  });

  it('never fires a cancelled timer', () => {
    // Prepare
    const clock = new ManualClock(0);
    let fired = false;
    const cancel = clock.setTimer(5, () => {
      fired = true;
    });

    // Act
    cancel();
    clock.set(100);

    // Assess
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('system clock timers fire on real time and can be cancelled', async () => {
    const fired: string[] = [];
    const cancel = systemClock.setTimer(1, () => fired.push('cancelled'));
    cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(5, resolve));
    expect(fired).toEqual([]);
  });
});

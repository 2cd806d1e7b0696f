import { describe, expect, it } from 'vitest';
import { runCrashRounds } from '../../bench/crash.ts';

/**
 * Issue 9 §2: from a fixed seed, rounds of start, burst, SIGKILL at a random moment, restart on
 * the same DATA_DIR, against a slow, a flaky and an always-failing receiver with short retries.
 * Every event answered 202 reaches every hook at least once (or is listed in /dead-letters), and a
 * repeated delivery always carries the delivery id derived from its event and hook.
 */
describe('crash test: SIGKILL at random moments loses no accepted event', () => {
  it('delivers or dead-letters every accepted event over 20 kills, duplicates under the same id', async () => {
    const result = await runCrashRounds({
      rounds: Number(process.env.CRASH_ROUNDS ?? 20),
      seed: Number(process.env.CRASH_SEED ?? 9),
      eventsPerRound: 120,
      maxKillAfterMs: 700,
      settleMs: 30_000,
      log: (line) => process.stderr.write(`[crash] ${line}\n`),
    });
    process.stderr.write(`[crash] ${JSON.stringify({ ...result, never: result.never.length })}\n`);
    expect(result.kills).toBeGreaterThanOrEqual(Number(process.env.CRASH_ROUNDS ?? 20));
    // Kills land before, during and after the bursts; most rounds accept something.
    expect(result.accepted).toBeGreaterThan(100);
    expect(result.never).toEqual([]);
    expect(result.delivered).toBe(result.owed);
    expect(result.wrongIds).toBe(0);
  }, 120_000);
});

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryJournal } from '../../../../shared/adapters/local/deliveryJournal.ts';
import { memoryLogger } from '../../../../shared/logger.ts';

const FILL = resolve(import.meta.dirname, '../../../fixtures/journal/fillJournal.ts');
const RECOVER = resolve(import.meta.dirname, '../../../fixtures/journal/recoverJournal.ts');
const DISPATCH = resolve(import.meta.dirname, '../../../fixtures/journal/dispatchOnFullDisk.ts');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  // A child still waiting for `go` (the test failed before sending it) would otherwise outlive the run.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `script` on a fresh journal at `<temp>/journal.log` under an 8 KiB soft file-size limit, until it prints
 * `full`; then lifts the limit (the disk has room again), tells it `go` and expects it to exit 0.
 * Answers the journal's path and what the script printed.
 */
async function fillThenMakeRoom(
  prefix: string,
  script: string,
  ...args: string[]
): Promise<{ path: string; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  const path = join(dir, 'journal.log');
  const quoted = [script, path, ...args].map((arg) => `"${arg}"`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -S -f 8; exec "${process.execPath}" --import tsx ${quoted}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  const full = new Promise<void>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('full\n')) done();
    });
    // A script that dies before `full` fails the test at once, rather than at its timeout.
    void exited.then((code) => fail(new Error(`${script} exited ${code} before it was full: ${out}`)));
  });

  await full;
  execFileSync('prlimit', ['--pid', String(child.pid), '--fsize=unlimited']);
  child.stdin?.write('go\n');
  expect(await exited).toBe(0);
  return { path, out };
}

describe('journal appender on a full disk', () => {
  it('keeps in the file only lines whose appends were answered, when a group write fails partway', () => {
    // Prepare: a file-size limit of 8 KiB, under which a group write of 40 lines of ~600 bytes fails partway
    const dir = mkdtempSync(join(tmpdir(), 'journal-full-'));
    dirs.push(dir);
    const path = join(dir, 'journal.log');

    // Act
    const out = execFileSync(
      'bash',
      ['-c', `ulimit -f 8; exec "${process.execPath}" --import tsx "${FILL}" "${path}"`],
      {
        encoding: 'utf8',
      },
    );

    // Assess: every refused append (its request answered 503) is absent, so a restart cannot replay it
    const statuses = JSON.parse(out) as string[];
    expect(statuses).toHaveLength(40);
    expect(statuses).toContain('rejected');
    const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
    const kept = lines.map((line) => Number(line.slice(0, 3)));
    expect(kept).toEqual(statuses.flatMap((status, index) => (status === 'fulfilled' ? [index] : [])));
  });

  it('accepts events again once the disk has room, without a restart, and forgets what it refused', async () => {
    // Prepare: a journal whose file may grow to 8 KiB (soft limit), in a child process
    // Act: the large event is refused; then the disk has room again (the limit is lifted)
    const { path, out } = await fillThenMakeRoom('journal-recover-', RECOVER);

    // Assess: the event after the failure is accepted and kept; the refused one is nowhere
    const result = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
    expect(result).toEqual({
      first: 'accepted',
      second: 'refused: JournalWriteError',
      sent: 'refused: JournalWriteError',
      third: 'accepted',
      undispatched: ['e-small', 'e-after'],
      jobs: [],
    });
    const again = await DeliveryJournal.open({ path, logger: memoryLogger() });
    expect(again.backlog().undispatched.map((e) => e.id)).toEqual(['e-small', 'e-after']);
    await again.close();
  });

  it.each([
    ['inside the wait after a failed write', 1000],
    ['each trying the file again', 0],
  ])(
    'queues a job and its retry once each when their lines do not fit, through dispatch and delivery retries %s, and records them once there is room',
    async (_, retryAfterMs) => {
      // Prepare: a journal that fills its 8 KiB (soft limit) but for the `s` line of the job, in a child process
      // Act: every dispatch attempt's `s` line is refused; then the disk has room again
      const { path, out } = await fillThenMakeRoom('journal-dispatch-', DISPATCH, String(retryAfterMs));

      // Assess: one copy of each attempt queued through all tries; the job and the dispatch are in the file in the end
      const result = JSON.parse(out.slice(out.indexOf('{'))) as {
        whileFull: { attempts: number; queued: number };
        queued: string[];
        attempts: number;
        jobs: string[];
        undispatched: string[];
      };
      expect(result.whileFull.attempts).toBe(3);
      expect(result.whileFull.queued).toBe(retryAfterMs === 0 ? 2 : 1);
      expect(result.attempts).toBeGreaterThan(3);
      expect(result.queued).toEqual(['e-1:h-1#1', 'e-1:h-1#2']);
      expect(result.jobs).toEqual(['e-1:h-1#2']);
      expect(result.undispatched).toEqual(['e-fill']);
      const again = await DeliveryJournal.open({ path, logger: memoryLogger() });
      expect(again.backlog().jobs.map((j) => `${j.job.deliveryId}#${j.job.attempt}`)).toEqual(['e-1:h-1#2']);
      expect(again.backlog().undispatched.map((e) => e.id)).toEqual(['e-fill']);
      await again.close();
    },
  );
});

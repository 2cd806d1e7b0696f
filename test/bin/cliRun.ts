import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin in a child process with only PATH and the given variables in its environment. */
export function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, ...env }, ...(cwd ? { cwd } : {}), timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** What the commands of one describe run against. */
export interface CliRuntime {
  /** The local runtime (in this process). */
  t: TestRuntime;
  /** Takes its hooks' deliveries. */
  receiver: Receiver;
  /** A temporary folder for the tests' files. */
  dir: string;
  /** Points the bin at the runtime (`EVENT_HOOKS_URL`). */
  env: Record<string, string>;
}

/**
 * Starts a runtime, a receiver and a temporary folder before the describe's tests and removes them
 * after: call it in the describe's body, and read the fields inside the tests.
 */
export function useCliRuntime(dirPrefix = 'eh-cli-'): CliRuntime {
  const ctx = {} as CliRuntime;
  beforeAll(async () => {
    ctx.t = await startTestRuntime();
    ctx.receiver = await startReceiver();
    ctx.dir = await mkdtemp(join(tmpdir(), dirPrefix));
    ctx.env = { EVENT_HOOKS_URL: ctx.t.runtime.url };
  });
  afterAll(async () => {
    await ctx.t?.close();
    await ctx.receiver?.close();
    if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

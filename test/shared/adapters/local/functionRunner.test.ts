import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLocalFunctionRunner,
  type LocalFunctionRunner,
  type LocalFunctionRunnerOptions,
} from '../../../../shared/adapters/local/functionRunner.ts';
import { FunctionError } from '../../../../shared/errors.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import type { FunctionArgs } from '../../../../shared/ports/functionRunner.ts';

const ARGS: FunctionArgs = { data: { some: 'data' }, event: 'some_event', source: 'some_source', pid: 7 };
/** Answers its worker's pid (the process the runner started), Kong's fourth argument. */
const PID_CODE = 'return function (data, event, source, pid) { return pid }';
/** Answers its pid, or with data "wait" says so on stdout and never answers. */
const WAITING_CODE =
  'return async (data, event, source, pid) => { if (data !== "wait") return pid; console.log("waiting"); return new Promise(() => {}) }';

const target = (code: string, hookId = 'hook-1', index = 0) =>
  ({ kind: 'code', tenant: 'default', hookId, index, code }) as const;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const runners: LocalFunctionRunner[] = [];
function runner(options: LocalFunctionRunnerOptions = {}): LocalFunctionRunner {
  const created = createLocalFunctionRunner({ timeoutMs: 10_000, ...options });
  runners.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});

/** Resolves with the FunctionError an invoke rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<FunctionError> {
  const error = await promise.then(
    (value) => new Error(`expected a failure, got ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FunctionError);
  return error as FunctionError;
}

describe('createLocalFunctionRunner: running user code', () => {
  it('returns what the function returns for the data it is given', async () => {
    // Prepare
    const functions = runner();
    const code = 'return function (data, event, source, pid) { return { ...data, seen: [event, source, pid] } }';

    // Act
    const result = await functions.invoke(target(code), ARGS);

    // Assess: Kong's pid is the worker's, never the caller's nor the service's
    expect(result).toEqual({ some: 'data', seen: ['some_event', 'some_source', expect.any(Number)] });
    const pid = (result as { seen: number[] }).seen[2];
    expect(pid).not.toBe(7);
    expect(pid).not.toBe(process.pid);
    expect(functions.pids()).toContain(pid);
  });

  it('refuses a result forged past the cap over the worker channel, and ends that worker', async () => {
    // Prepare: code that answers for itself over IPC with 7 MB, then never returns
    const functions = runner();
    const code = [
      'return function () {',
      '  return new Promise(() => {',
      '    const send = process.send && process.send.bind(process);',
      '    if (!send) throw new Error("no channel");',
      '    const json = JSON.stringify("x".repeat(7 * 1024 * 1024));',
      '    for (let id = 0; id < 3; id++) send({ type: "result", id, json });',
      '  });',
      '}',
    ].join('\n');

    // Act
    const error = await failure(functions.invoke(target(code), ARGS));

    // Assess: refused by the service, whatever the worker claimed; the worker is gone
    expect(error.message).toMatch(/more than 6291456 characters/);
    await vi.waitFor(() => expect(functions.pids()).toHaveLength(0), { timeout: 5_000 });
  });

  it('produces "HELLO WORLD" from Kong’s two functions invoked one after the other', async () => {
    // Prepare
    const functions = runner();
    const hello = target('return function () { return "HELLO" }', 'kong', 0);
    const world = target('return function (data) { return data + " WORLD" }', 'kong', 1);

    // Act
    const first = await functions.invoke(hello, ARGS);
    const second = await functions.invoke(world, { ...ARGS, data: first });

    // Assess
    expect(second).toBe('HELLO WORLD');
  });

  it('awaits async functions and a body that awaits before returning its function', async () => {
    // Prepare
    const functions = runner();
    const code = [
      'const prefix = await new Promise((resolve) => setTimeout(() => resolve("late:"), 20))',
      'return async function (data) { await new Promise((r) => setTimeout(r, 20)); return prefix + data.some }',
    ].join('\n');

    // Act
    const result = await functions.invoke(target(code), ARGS);

    // Assess
    expect(result).toBe('late:data');
  });

  it('turns an undefined result into null', async () => {
    const result = await runner().invoke(target('return function () {}'), ARGS);
    expect(result).toBeNull();
  });

  it('fails with the user’s message when the function throws', async () => {
    // Act
    const error = await failure(runner().invoke(target('return () => { throw new Error("no way") }'), ARGS));

    // Assess
    expect(error.message).toBe('no way');
    expect(error.stack).not.toContain('functionWorker');
  });

  it('fails when the function returns an Error, as Kong fails on a returned error', async () => {
    const error = await failure(runner().invoke(target('return () => new Error("returned failure")'), ARGS));
    expect(error.message).toBe('returned failure');
  });

  it('fails when the result cannot be serialised as JSON', async () => {
    // Prepare
    const functions = runner();

    // Act
    const bigint = await failure(functions.invoke(target('return () => 10n', 'a'), ARGS));
    const circular = await failure(
      functions.invoke(target('return () => { const o = {}; o.o = o; return o }', 'b'), ARGS),
    );
    const fn = await failure(functions.invoke(target('return () => () => 1', 'c'), ARGS));

    // Assess
    expect(bigint.message).toMatch(/not JSON-serialisable/);
    expect(circular.message).toMatch(/not JSON-serialisable/);
    expect(fn.message).toMatch(/returned a function, which is not JSON-serialisable/);
  });

  it('fails to load code that does not return a function or does not compile', async () => {
    // Prepare
    const functions = runner();

    // Act
    const notFunction = await failure(functions.invoke(target('return 42', 'a'), ARGS));
    const broken = await failure(functions.invoke(target('return function ( {', 'b'), ARGS));

    // Assess
    expect(notFunction.message).toBe('function failed to load: the code must return a function, it returned number');
    expect(broken.message).toMatch(/^function failed to load: /);
  });

  it('fails a call whose code throws later, outside the awaited chain', async () => {
    // Prepare
    const code =
      'return () => { setTimeout(() => { throw new Error("thrown later") }, 1); return new Promise(() => {}) }';

    // Act
    const error = await failure(runner().invoke(target(code), ARGS));

    // Assess
    expect(error.message).toBe('thrown later');
  });

  it('logs what the code writes, tagged with its hook function', async () => {
    // Prepare
    const logger = memoryLogger();
    const code = 'return (data) => { console.log("out:" + data); console.error("err:" + data); return data }';

    // Act
    await runner({ logger }).invoke(target(code, 'noisy', 2), { ...ARGS, data: 'x' });

    // Assess
    await vi.waitFor(() => expect(logger.lines.filter((l) => l.message === 'function output')).toHaveLength(2));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ hookId: 'noisy', index: 2, stream: 'stdout', line: 'out:x' }),
    );
    expect(logger.lines).toContainEqual(expect.objectContaining({ hookId: 'noisy', stream: 'stderr', line: 'err:x' }));
  });

  it('names the exit code of a process that exits during a call', async () => {
    const error = await failure(runner().invoke(target('return () => process.exit(3)'), ARGS));
    expect(error.message).toBe('function process exited with code 3');
  });
});

describe('createLocalFunctionRunner: limits', () => {
  it('kills an endless loop at the timeout and serves the next call from a fresh process', async () => {
    // Prepare
    const functions = runner({ timeoutMs: 1_000 });
    const code = 'return function (data, event, source, pid) { if (data === "spin") while (true) {} return pid }';
    const before = (await functions.invoke(target(code), { ...ARGS, data: 'warm' })) as number;

    // Act
    const error = await failure(functions.invoke(target(code), { ...ARGS, data: 'spin' }));
    const after = (await functions.invoke(target(code), { ...ARGS, data: 'again' })) as number;

    // Assess
    expect(error.message).toBe('function timed out after 1000 ms');
    expect(after).not.toBe(before);
    await vi.waitFor(() => expect(isAlive(before)).toBe(false));
  });

  it('fails a function that fills the JS heap instead of hanging, and recovers', async () => {
    // Prepare: the timeout only bounds the test if the memory limit did not work
    const functions = runner({ memoryMb: 32, timeoutMs: 20_000 });
    const hog = 'return function () { const keep = []; while (true) keep.push(new Array(1000).fill(1)) }';

    // Act
    const error = await failure(functions.invoke(target(hog), ARGS));
    const next = await functions.invoke(target('return (d) => d', 'other'), { ...ARGS, data: 'ok' });

    // Assess
    expect(error.message).toBe('function ran out of memory (limit 32 MB)');
    expect(next).toBe('ok');
  });

  it.runIf(process.platform === 'linux')(
    'fails a function that allocates Buffers beyond the memory limit',
    async () => {
      // Prepare: Buffers live outside the JS heap, so only the data-segment limit stops them
      const functions = runner({ memoryMb: 32, timeoutMs: 20_000 });
      const hog = [
        'return async function () {',
        '  const keep = []',
        '  for (let i = 0; i < 200; i++) { keep.push(Buffer.alloc(8 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 2)) }',
        '  return keep.length',
        '}',
      ].join('\n');

      // Act
      const error = await failure(functions.invoke(target(hog), ARGS));

      // Assess
      expect(error.message).toMatch(/out of memory|allocation failed/i);
    },
  );

  it('gives the code an empty environment, none of the service’s', async () => {
    // Prepare
    process.env.EVENT_HOOKS_TEST_SENTINEL = 'must-not-leak';
    try {
      const code =
        'return () => ({ keys: Object.keys(process.env), sentinel: process.env.EVENT_HOOKS_TEST_SENTINEL ?? null })';

      // Act
      const seen = await runner().invoke(target(code), ARGS);

      // Assess
      expect(seen).toEqual({ keys: [], sentinel: null });
    } finally {
      delete process.env.EVENT_HOOKS_TEST_SENTINEL;
    }
  });

  it('refuses signals to any process (the service, other workers, itself) and native addons', async () => {
    // Prepare
    const functions = runner();
    const attempts = {
      parent: 'return () => process.kill(process.ppid, "SIGKILL")',
      everyone: 'return () => process.kill(-1, "SIGKILL")',
      self: 'return () => process.kill(process.pid, "SIGKILL")',
      addon: 'return () => process.dlopen({ exports: {} }, "/nonexistent.node")',
      // SIGUSR1 to the parent: Node would open an inspector in the service.
      inspector: 'return () => process._debugProcess(process.ppid)',
    };

    // Act
    const outcomes: Record<string, string> = {};
    for (const [name, code] of Object.entries(attempts)) {
      outcomes[name] = (await failure(functions.invoke(target(code, `signal-${name}`), ARGS))).message;
    }

    // Assess: each call failed with the refusal, and this (the parent) process is still here to check.
    for (const message of Object.values(outcomes)) expect(message).toMatch(/is not allowed in event hook functions/);
  });

  it('refuses file access, child processes, worker threads and native bindings', async () => {
    // Prepare
    const functions = runner();
    const dir = mkdtempSync(join(tmpdir(), 'function-runner-'));
    const file = join(dir, 'written.txt');
    const attempts = {
      write: `return () => process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(file)}, 'x')`,
      importWrite: `return async () => (await import('node:fs')).writeFileSync(${JSON.stringify(file)}, 'x')`,
      read: `return () => process.getBuiltinModule('fs').readFileSync(${JSON.stringify(import.meta.filename)}, 'utf8')`,
      spawn: `return () => process.getBuiltinModule('child_process').execFileSync('/bin/echo', ['hi']).toString()`,
      worker: `return () => { new (process.getBuiltinModule('worker_threads').Worker)('1', { eval: true }); return 'started' }`,
      binding: `return () => typeof process.binding('fs')`,
    };

    try {
      // Act
      const outcomes: Record<string, string> = {};
      for (const [name, code] of Object.entries(attempts)) {
        outcomes[name] = (await failure(functions.invoke(target(code, `perm-${name}`), ARGS))).message;
      }
      const hasRequire = await functions.invoke(target('return () => typeof require', 'perm-require'), ARGS);

      // Assess
      for (const message of Object.values(outcomes)) {
        expect(message).toMatch(/ERR_ACCESS_DENIED|is not allowed in event hook functions/);
      }
      expect(hasRequire).toBe('undefined');
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createLocalFunctionRunner: processes', () => {
  it('runs the same code of two hooks in different processes', async () => {
    // Prepare
    const functions = runner();

    // Act
    const a = await functions.invoke(target(PID_CODE, 'hook-a'), ARGS);
    const b = await functions.invoke(target(PID_CODE, 'hook-b'), ARGS);
    const otherIndex = await functions.invoke(target(PID_CODE, 'hook-a', 1), ARGS);

    // Assess
    expect(new Set([a, b, otherIndex, process.pid]).size).toBe(4);
  });

  it('reuses a warm process for the same hook function', async () => {
    // Prepare
    const functions = runner();

    // Act
    const first = await functions.invoke(target(PID_CODE), ARGS);
    const second = await functions.invoke(target(PID_CODE), ARGS);

    // Assess
    expect(second).toBe(first);
  });

  it('starts a fresh process per call when no idle process is kept', async () => {
    const functions = runner({ poolSize: 0 });
    const first = await functions.invoke(target(PID_CODE), ARGS);
    const second = await functions.invoke(target(PID_CODE), ARGS);
    expect(second).not.toBe(first);
  });

  it('gives concurrent calls their own processes, and queues them beyond the cap', async () => {
    // Prepare
    const slow =
      'return async (data, event, source, pid) => { await new Promise((r) => setTimeout(r, 200)); return pid }';
    const wide = runner();
    const narrow = runner({ maxWorkersPerFunction: 1 });

    // Act
    const parallel = await Promise.all([wide.invoke(target(slow), ARGS), wide.invoke(target(slow), ARGS)]);
    const queued = await Promise.all([narrow.invoke(target(slow), ARGS), narrow.invoke(target(slow), ARGS)]);

    // Assess
    expect(parallel[0]).not.toBe(parallel[1]);
    expect(queued[0]).toBe(queued[1]);
  });

  it('evicts idle processes of other functions when the runner is at its process cap', async () => {
    // Prepare
    const functions = runner({ maxWorkers: 1 });
    const first = (await functions.invoke(target(PID_CODE, 'hook-a'), ARGS)) as number;

    // Act
    const second = await functions.invoke(target(PID_CODE, 'hook-b'), ARGS);

    // Assess
    expect(second).not.toBe(first);
    await vi.waitFor(() => expect(isAlive(first)).toBe(false));
  });

  it('lets idle processes exit after the idle time', async () => {
    const functions = runner({ idleMs: 100 });
    const pid = (await functions.invoke(target(PID_CODE), ARGS)) as number;
    await vi.waitFor(() => expect(isAlive(pid)).toBe(false), { timeout: 5_000 });
  });

  it('on deploy, touches no process: the old code stays warm until it is removed', async () => {
    // Prepare
    const functions = runner();
    const old = (await functions.invoke(target(PID_CODE, 'hook', 0), ARGS)) as number;

    // Act
    await functions.deploy({ tenant: 'default', id: 'hook', functions: ['return () => "v2"'] });

    // Assess: a write that fails after deploy leaves the stored hook's code running as it was
    expect(await functions.invoke(target(PID_CODE, 'hook', 0), ARGS)).toBe(old);
    expect(await functions.invoke(target('return () => "v2"', 'hook', 0), ARGS)).toBe('v2');
  });

  it('on remove, stops exactly the processes of the given entries', async () => {
    // Prepare: the same code at index 0 and 1, and in another hook
    const functions = runner();
    const removed = (await functions.invoke(target(PID_CODE, 'hook', 0), ARGS)) as number;
    const otherIndex = await functions.invoke(target(PID_CODE, 'hook', 1), ARGS);
    const otherHook = await functions.invoke(target(PID_CODE, 'other', 0), ARGS);
    const otherCode = await functions.invoke(target('return (data, event, source, pid) => pid // v1', 'hook', 0), ARGS);

    // Act
    await functions.remove({ tenant: 'default', id: 'hook', functions: [PID_CODE, null] });

    // Assess
    await vi.waitFor(() => expect(isAlive(removed)).toBe(false));
    expect(await functions.invoke(target(PID_CODE, 'hook', 1), ARGS)).toBe(otherIndex);
    expect(await functions.invoke(target(PID_CODE, 'other', 0), ARGS)).toBe(otherHook);
    expect(await functions.invoke(target('return (data, event, source, pid) => pid // v1', 'hook', 0), ARGS)).toBe(
      otherCode,
    );
    // A late call of the removed entry (a delivery that read the hook before) starts afresh.
    expect(await functions.invoke(target(PID_CODE, 'hook', 0), ARGS)).not.toBe(removed);
  });

  it('on remove, kills a call in flight with a retryable failure, so the delivery reads the hook again', async () => {
    // Prepare
    const logger = memoryLogger();
    const functions = runner({ logger });
    const pid = (await functions.invoke(target(WAITING_CODE), ARGS)) as number;
    const inFlight = failure(functions.invoke(target(WAITING_CODE), { ...ARGS, data: 'wait' }));
    await vi.waitFor(() => expect(logger.lines.some((l) => l.line === 'waiting')).toBe(true));

    // Act
    await functions.remove({ tenant: 'default', id: 'hook-1', functions: [WAITING_CODE] });

    // Assess
    const error = await inFlight;
    expect(error.message).toBe('the function was removed while it was running');
    expect(error.retryable).toBe(true);
    await vi.waitFor(() => expect(isAlive(pid)).toBe(false));
  });

  it('close() leaves no process running, busy or idle, and refuses further calls', async () => {
    // Prepare
    const logger = memoryLogger();
    const functions = createLocalFunctionRunner({ timeoutMs: 10_000, logger });
    const idle = await Promise.all([
      functions.invoke(target(PID_CODE, 'hook-a'), ARGS),
      functions.invoke(target(PID_CODE, 'hook-b'), ARGS),
    ]);
    const busy = await functions.invoke(target(WAITING_CODE, 'hook-c'), ARGS);
    const inFlight = failure(functions.invoke(target(WAITING_CODE, 'hook-c'), { ...ARGS, data: 'wait' }));
    await vi.waitFor(() => expect(logger.lines.some((l) => l.line === 'waiting')).toBe(true));

    // Act
    await functions.close();

    // Assess
    expect([...idle, busy].map((pid) => isAlive(pid as number))).toEqual([false, false, false]);
    expect((await inFlight).message).toBe('the function runner is closed');
    expect((await failure(functions.invoke(target(PID_CODE), ARGS))).message).toBe('the function runner is closed');
  });
});

describe('createLocalFunctionRunner: AWS Lambda functions by name', () => {
  it('explains that a Lambda endpoint is needed when no invoker is configured', async () => {
    const error = await failure(runner().invoke({ kind: 'lambda', name: 'my-function' }, ARGS));
    expect(error.message).toMatch(
      /^invoking AWS Lambda function 'my-function' needs LAMBDA_ENDPOINT configured locally/,
    );
  });

  it('hands the call to the configured invoker and wraps its failures', async () => {
    // Prepare
    const calls: [string, FunctionArgs][] = [];
    const functions = runner({
      lambdaInvoker: async (name, args) => {
        calls.push([name, args]);
        if (name === 'broken') throw new Error('connection refused');
        return 'from lambda';
      },
    });

    // Act
    const result = await functions.invoke({ kind: 'lambda', name: 'my-function' }, ARGS);
    const error = await failure(functions.invoke({ kind: 'lambda', name: 'broken' }, ARGS));

    // Assess
    expect(result).toBe('from lambda');
    expect(calls[0]).toEqual(['my-function', ARGS]);
    expect(error.message).toBe("invoking AWS Lambda function 'broken' failed: connection refused");
  });
});

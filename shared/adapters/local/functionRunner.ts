import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FunctionError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { FunctionArgs, FunctionRunner, FunctionTarget } from '../../ports/functionRunner.ts';

/**
 * The local stand-in for Lambda: each user function runs in its own child process (functionWorker.mjs)
 * with a time limit, a memory limit, an empty environment and, where Node offers it, the permission
 * model (no file system beyond the worker file, no child processes, no worker threads). Warm
 * processes are reused for the same hook function only, one call at a time.
 */

export interface LocalFunctionRunnerOptions {
  /** Longest a call (or loading the code) may run before its process is killed. Default 5 000. */
  timeoutMs?: number;
  /** JS heap limit of each process, in MiB; its data segment gets this plus a runtime allowance. Default 128. */
  memoryMb?: number;
  /** Idle processes kept warm per hook function. Default 1. */
  poolSize?: number;
  /** Processes one hook function may have at once; further calls wait. Default 4. */
  maxWorkersPerFunction?: number;
  /** Processes the runner may have at once; idle ones of other functions are evicted first. Default 16. */
  maxWorkers?: number;
  /** How long an idle process is kept. Default 30 000. */
  idleMs?: number;
  /** Invokes functions named by an AWS Lambda name/ARN (e.g. the AWS adapter on `sam local start-lambda`). */
  lambdaInvoker?: (name: string, args: FunctionArgs) => Promise<unknown>;
  /** Receives what user code writes to stdout/stderr; discarded when absent. */
  logger?: Logger;
}

export type LocalFunctionRunner = FunctionRunner & { close(): Promise<void> };

type CodeTarget = Extract<FunctionTarget, { kind: 'code' }>;

/** Node needs some data memory of its own beyond the JS heap (threads, code, buffers of the runtime). */
const RUNTIME_ALLOWANCE_MB = 128;
const BOOT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_LINE = 1_000;
const WORKER_PATH = fileURLToPath(new URL('./functionWorker.mjs', import.meta.url));

/** What the child may say; anything else is ignored (the user code can write to the channel too). */
type Reply =
  | { type: 'ready' | 'loaded' }
  | { type: 'result'; id: number; json: string }
  | { type: 'failed'; id?: number; message: string }
  | { type: 'fatal'; message: string };

function asReply(message: unknown): Reply | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const m = message as Record<string, unknown>;
  const id = typeof m.id === 'number' ? m.id : undefined;
  if (m.type === 'ready' || m.type === 'loaded') return { type: m.type };
  if (m.type === 'result' && id !== undefined && typeof m.json === 'string')
    return { type: 'result', id, json: m.json };
  if ((m.type === 'failed' || m.type === 'fatal') && typeof m.message === 'string') {
    return m.type === 'fatal' ? { type: 'fatal', message: m.message } : { type: 'failed', id, message: m.message };
  }
  return undefined;
}

/** Command line of a worker: node flags, and on Linux a shell that sets the data-segment limit first. */
function launchCommand(memoryMb: number): { command: string; args: string[] } {
  const permission = process.allowedNodeEnvironmentFlags.has('--permission')
    ? '--permission'
    : '--experimental-permission';
  const nodeArgs = [
    `--max-old-space-size=${memoryMb}`,
    `--max-semi-space-size=${Math.max(1, Math.min(16, Math.floor(memoryMb / 32)))}`,
    permission,
    `--allow-fs-read=${WORKER_PATH}`,
    '--no-warnings',
    WORKER_PATH,
  ];
  if (process.platform !== 'linux') return { command: process.execPath, args: nodeArgs };
  // The heap flag does not bound Buffers and other memory outside the JS heap; RLIMIT_DATA does.
  const limitKb = (memoryMb + RUNTIME_ALLOWANCE_MB) * 1024;
  const script = `ulimit -d ${limitKb} 2>/dev/null; exec "$0" "$@"`;
  return { command: '/bin/sh', args: ['-c', script, process.execPath, ...nodeArgs] };
}

const timedOut = (ms: number) => ({ message: `function timed out after ${ms} ms`, retryable: false });

function unref(handle: unknown): void {
  const h = handle as { unref?: () => void } | null | undefined;
  if (typeof h?.unref === 'function') h.unref();
}

interface Pending {
  expect: 'ready' | 'loaded' | number;
  resolve(value: unknown): void;
  reject(error: FunctionError): void;
  timer: NodeJS.Timeout;
}

/** One child process and the single request it is working on. */
class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  dead = false;
  idleTimer: NodeJS.Timeout | undefined;
  private pending: Pending | undefined;
  private stderrTail = '';
  private nextId = 1;
  private goneReported = false;
  private deathReason: string | undefined;

  constructor(
    private readonly memoryMb: number,
    private readonly onGone: (worker: WorkerProcess) => void,
    log: (stream: string, line: string) => void,
  ) {
    const { command, args } = launchCommand(memoryMb);
    this.child = spawn(command, args, { env: {}, cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.gone(this.exitReason(code, signal));
        resolve();
      });
      this.child.on('error', (error) => {
        this.gone(new FunctionError(`could not start function process: ${error.message}`, { retryable: true }));
        if (this.child.pid === undefined) resolve();
      });
    });
    this.child.on('message', (message) => this.onMessage(asReply(message)));
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => log('stdout', chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-8_192);
      log('stderr', chunk);
    });
    // An idle worker must not keep the service alive; a pending request holds its (ref'd) timer.
    unref(this.child);
    unref(this.child.channel);
    unref(this.child.stdout);
    unref(this.child.stderr);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits for the process to boot, then compiles and runs the code body once. */
  async load(code: string, timeoutMs: number): Promise<void> {
    const bootMs = Math.max(BOOT_TIMEOUT_MS, timeoutMs);
    // A slow boot says more about the machine than about the code: another attempt may work.
    const slowBoot = { message: `function process did not start within ${bootMs} ms`, retryable: true };
    await this.request('ready', undefined, bootMs, slowBoot);
    await this.request('loaded', { type: 'load', code }, timeoutMs, timedOut(timeoutMs));
  }

  call(args: FunctionArgs, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const message = { type: 'call', id, args };
    return this.request(id, message, timeoutMs, timedOut(timeoutMs));
  }

  /** SIGKILL; a request in flight fails with `reason`. */
  kill(reason = 'function process was stopped', retryable = false): void {
    if (this.dead) return;
    // Held until the exit is seen, so the process is reaped and `exited` settles.
    this.child.ref();
    this.child.kill('SIGKILL');
    this.gone(new FunctionError(reason, { retryable }));
  }

  /** Sends a message and waits for the expected reply; past `ms`, the process is killed. */
  private request(
    expect: Pending['expect'],
    message: object | undefined,
    ms: number,
    late: { message: string; retryable: boolean },
  ): Promise<unknown> {
    if (this.dead) return Promise.reject(new FunctionError(this.deathReason ?? 'function process is not running'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.kill(late.message, late.retryable), ms);
      this.pending = { expect, resolve, reject, timer };
      if (!message) return;
      this.child.send(message, (error) => {
        if (error) this.kill(`function process is unreachable: ${error.message}`);
      });
    });
  }

  private settle(outcome: { value: unknown } | { error: FunctionError }): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if ('error' in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.value);
  }

  private onMessage(reply: Reply | undefined): void {
    const expect = this.pending?.expect;
    if (!reply || expect === undefined) return;
    if (reply.type === 'fatal') {
      this.settle({ error: new FunctionError(reply.message) });
      this.kill();
    } else if (reply.type === expect) {
      this.settle({ value: undefined });
    } else if (reply.type === 'failed' && expect === 'loaded' && reply.id === undefined) {
      this.settle({ error: new FunctionError(`function failed to load: ${reply.message}`) });
    } else if (reply.type === 'failed' && reply.id === expect) {
      this.settle({ error: new FunctionError(reply.message) });
    } else if (reply.type === 'result' && reply.id === expect) {
      try {
        this.settle({ value: JSON.parse(reply.json) });
      } catch {
        this.settle({ error: new FunctionError('function returned a result that is not JSON') });
      }
    }
  }

  private exitReason(code: number | null, signal: NodeJS.Signals | null): FunctionError {
    if (/heap out of memory|allocation failed/i.test(this.stderrTail)) {
      return new FunctionError(`function ran out of memory (limit ${this.memoryMb} MB)`);
    }
    if (signal) return new FunctionError(`function process was killed by ${signal}`);
    return new FunctionError(`function process exited with code ${code}`);
  }

  /** Fails the request in flight and tells the pool, once, that this worker is no more. */
  private gone(error: FunctionError): void {
    this.settle({ error });
    this.deathReason ??= error.message;
    this.dead = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.goneReported) return;
    this.goneReported = true;
    this.onGone(this);
  }
}

interface Pool {
  key: string;
  tenant: string;
  hookId: string;
  index: number;
  code: string;
  workers: Set<WorkerProcess>;
  idle: WorkerProcess[];
  retired: boolean;
}

interface Waiter {
  pool: Pool;
  resolve(worker: WorkerProcess): void;
  reject(error: FunctionError): void;
}

/** One pool per function, as on AWS: tenant, hook id, index and code. */
const poolKey = (entry: Omit<CodeTarget, 'kind'>): string =>
  [entry.tenant, entry.hookId, entry.index, createHash('sha256').update(entry.code).digest('hex')].join('\u0000');

/**
 * Creates the local function runner. Call `close()` when done: it kills every worker process.
 *
 * @example
 * const runner = createLocalFunctionRunner({ timeoutMs: 1_000 });
 * const code = 'return function (data) { return data + " WORLD" }';
 * await runner.invoke({ kind: 'code', tenant: 'default', hookId: 'h1', index: 0, code }, { data: 'HELLO', event: 'e', source: 's', pid: 1 });
 * await runner.close();
 */
export function createLocalFunctionRunner(options: LocalFunctionRunnerOptions = {}): LocalFunctionRunner {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const memoryMb = options.memoryMb ?? 128;
  const poolSize = options.poolSize ?? 1;
  const perFunction = Math.max(1, options.maxWorkersPerFunction ?? 4);
  const maxWorkers = Math.max(1, options.maxWorkers ?? 16);
  const idleMs = options.idleMs ?? 30_000;
  /** Pools new calls go to, by key; retired pools leave it but stay in `allPools` until empty. */
  const pools = new Map<string, Pool>();
  const allPools = new Set<Pool>();
  const workers = new Set<WorkerProcess>();
  /** Every process not yet seen to exit, including killed ones that are no longer workers. */
  const processes = new Set<WorkerProcess>();
  let waiters: Waiter[] = [];
  let closed = false;

  const output = (pool: Pool) => (stream: string, chunk: string) => {
    if (!options.logger) return;
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      const text = line.length > MAX_OUTPUT_LINE ? `${line.slice(0, MAX_OUTPUT_LINE)}…` : line;
      options.logger.info('function output', {
        tenant: pool.tenant,
        hookId: pool.hookId,
        index: pool.index,
        stream,
        line: text,
      });
    }
  };

  const onGone = (pool: Pool) => (worker: WorkerProcess) => {
    workers.delete(worker);
    pool.workers.delete(worker);
    pool.idle = pool.idle.filter((w) => w !== worker);
    if (pool.workers.size === 0 && !waiters.some((w) => w.pool === pool)) {
      allPools.delete(pool);
      if (pools.get(pool.key) === pool) pools.delete(pool.key);
    }
    dispatch();
  };

  const start = async (pool: Pool, waiter: Waiter): Promise<void> => {
    const worker = new WorkerProcess(memoryMb, onGone(pool), output(pool));
    workers.add(worker);
    processes.add(worker);
    void worker.exited.then(() => processes.delete(worker));
    pool.workers.add(worker);
    try {
      await worker.load(pool.code, timeoutMs);
      waiter.resolve(worker);
    } catch (error) {
      worker.kill();
      waiter.reject(error instanceof FunctionError ? error : new FunctionError(String(error)));
    }
  };

  const evictIdle = (): boolean => {
    for (const pool of pools.values()) {
      const worker = pool.idle[0];
      if (worker) {
        worker.kill();
        return true;
      }
    }
    return false;
  };

  // Serves waiters in arrival order as far as processes allow; re-entered when a worker goes away.
  let dispatching = false;
  let again = false;
  function dispatch(): void {
    if (dispatching) {
      again = true;
      return;
    }
    dispatching = true;
    try {
      do {
        again = false;
        for (const waiter of [...waiters]) {
          const { pool } = waiter;
          const warm = pool.idle.pop();
          if (warm) {
            clearTimeout(warm.idleTimer);
            warm.idleTimer = undefined;
          } else if (pool.workers.size >= perFunction || (workers.size >= maxWorkers && !evictIdle())) {
            continue;
          }
          waiters = waiters.filter((w) => w !== waiter);
          if (warm) waiter.resolve(warm);
          else void start(pool, waiter);
        }
      } while (again);
    } finally {
      dispatching = false;
    }
  }

  const acquire = (pool: Pool): Promise<WorkerProcess> =>
    new Promise((resolve, reject) => {
      waiters.push({ pool, resolve, reject });
      dispatch();
    });

  const release = (pool: Pool, worker: WorkerProcess): void => {
    if (worker.dead) return;
    pool.idle.push(worker);
    dispatch();
    if (!pool.idle.includes(worker)) return;
    if (closed || pool.retired || pool.idle.length > poolSize) {
      worker.kill();
      return;
    }
    worker.idleTimer = setTimeout(() => worker.kill(), idleMs);
    worker.idleTimer.unref();
  };

  const poolFor = (target: CodeTarget): Pool => {
    const key = poolKey(target);
    let pool = pools.get(key);
    if (!pool) {
      const { tenant, hookId, index, code } = target;
      pool = { key, tenant, hookId, index, code, workers: new Set(), idle: [], retired: false };
      pools.set(key, pool);
      allPools.add(pool);
    }
    return pool;
  };

  /**
   * Stops a pool's processes, busy ones included. The failure is retryable: the delivery's next
   * attempt reads the hook again and runs its current code, or finds it deleted.
   */
  const retire = (pool: Pool, reason: string): void => {
    pool.retired = true;
    if (pools.get(pool.key) === pool) pools.delete(pool.key);
    for (const worker of [...pool.idle]) worker.kill();
    const dropped = waiters.filter((w) => w.pool === pool);
    waiters = waiters.filter((w) => w.pool !== pool);
    for (const waiter of dropped) waiter.reject(new FunctionError(reason, { retryable: true }));
    for (const worker of [...pool.workers]) worker.kill(reason, true);
  };

  const invokeLambda = async (name: string, args: FunctionArgs): Promise<unknown> => {
    if (!options.lambdaInvoker) {
      throw new FunctionError(
        `invoking AWS Lambda function '${name}' needs LAMBDA_ENDPOINT configured locally (e.g. sam local start-lambda)`,
      );
    }
    try {
      return await options.lambdaInvoker(name, args);
    } catch (error) {
      if (error instanceof FunctionError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new FunctionError(`invoking AWS Lambda function '${name}' failed: ${message}`, { cause: error });
    }
  };

  // A service that exits normally must not leave user code running behind it.
  const killAll = () => {
    for (const worker of processes) worker.child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  return {
    // Nothing to prepare: a pool is made on its first call. Pools of older code of the hook stay
    // until `remove` names them, so a write that fails after deploy leaves the running code alone.
    async deploy() {},

    async remove(hook) {
      const keys = new Set(
        hook.functions.flatMap((code, index) =>
          code === null ? [] : [poolKey({ tenant: hook.tenant, hookId: hook.id, index, code })],
        ),
      );
      // Retired pools with the key may still be finishing calls: those are stopped too.
      for (const pool of [...allPools]) {
        if (keys.has(pool.key)) retire(pool, 'the function was removed while it was running');
      }
    },

    async invoke(target, args) {
      if (target.kind === 'lambda') return invokeLambda(target.name, args);
      if (closed) throw new FunctionError('the function runner is closed');
      const pool = poolFor(target);
      const worker = await acquire(pool);
      try {
        return await worker.call(args, timeoutMs);
      } finally {
        release(pool, worker);
      }
    },

    async close() {
      closed = true;
      process.off('exit', killAll);
      const dropped = waiters;
      waiters = [];
      for (const waiter of dropped) waiter.reject(new FunctionError('the function runner is closed'));
      const all = [...processes];
      for (const worker of all) worker.kill('the function runner is closed');
      await Promise.all(all.map((w) => w.exited));
    },
  };
}

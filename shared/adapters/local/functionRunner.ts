import { createHash } from 'node:crypto';
import { type FieldErrors, FunctionError, SchemaViolationError } from '../../errors.ts';
import { USER_CODE_HELP } from '../../hooks/userCode.ts';
import type { Logger } from '../../logger.ts';
import {
  type FunctionArgs,
  type FunctionRunner,
  type FunctionTarget,
  type HookFunctions,
  isLambdaReference,
} from '../../ports/functionRunner.ts';
import {
  detectIsolation,
  FunctionLoadError,
  type FunctionNetwork,
  type Isolation,
  MAX_OUTPUT_LINE,
  type Sandbox,
  WorkerProcess,
} from './functionProcess.ts';

/**
 * The local stand-in for Lambda: each user function runs in its own child process (functionWorker.mjs)
 * with a time limit, a memory limit, an empty environment, Node's permission model (no file system
 * beyond the worker file, no child processes, no worker threads), guards against signals, priorities
 * and network modules, and where Linux gives them, its own PID and network namespaces (no network
 * interface, no other process visible). Warm processes are reused for the same hook function only,
 * one call at a time; a call that leaves anything running costs its process.
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
  /** `none` (default): no network at all; `allow`: the machine's network, except its own addresses. */
  network?: FunctionNetwork;
  /** With `network: 'allow'`, lets user code reach loopback addresses too (for tests with local receivers). */
  allowLoopback?: boolean;
  /** Overrides the detected isolation, e.g. `none` to check what holds without namespaces. */
  isolation?: Isolation;
}

export type LocalFunctionRunner = FunctionRunner & {
  close(): Promise<void>;
  /** How workers are isolated on this machine (detected on first use, once per process). */
  sandbox(): Promise<Sandbox>;
  /** Host pids of the processes the runner has started and not yet seen exit (for checks and tests). */
  pids(): number[];
};

type CodeTarget = Extract<FunctionTarget, { kind: 'code' }>;

interface Pool {
  key: string;
  tenant: string;
  hookId: string;
  index: number;
  code: string;
  workers: Set<WorkerProcess>;
  idle: WorkerProcess[];
  retired: boolean;
  /** A worker has loaded this code: it evaluates to a function, no need to check it again. */
  loaded: boolean;
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
  const network = options.network ?? 'none';
  let sandbox: Sandbox | undefined;
  let sandboxReady: Promise<Sandbox> | undefined;
  /** Found before the first worker starts (the probe runs once per process and network setting). */
  const sandboxFor = (): Promise<Sandbox> => {
    sandboxReady ??= (async () => {
      const isolation = options.isolation ?? (await detectIsolation(network));
      sandbox = { isolation, network, allowLoopback: options.allowLoopback ?? false };
      // The operator must know when only the JS-level guards stand (docs/user-code.md, residual risk).
      if (isolation === 'none') {
        options.logger?.warn('user code runs without Linux namespaces: only Node-level guards isolate it', { network });
      }
      return sandbox;
    })();
    return sandboxReady;
  };

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
    // acquire() awaited the sandbox before any worker could be started.
    const worker = new WorkerProcess(memoryMb, sandbox as Sandbox, onGone(pool), output(pool));
    workers.add(worker);
    processes.add(worker);
    void worker.exited.then(() => processes.delete(worker));
    pool.workers.add(worker);
    try {
      await worker.load(pool.code, timeoutMs);
      pool.loaded = true;
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

  const acquire = async (pool: Pool): Promise<WorkerProcess> => {
    await sandboxFor();
    if (closed) throw new FunctionError('the function runner is closed');
    return new Promise((resolve, reject) => {
      waiters.push({ pool, resolve, reject });
      dispatch();
    });
  };

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
      pool = { key, tenant, hookId, index, code, workers: new Set(), idle: [], retired: false, loaded: false };
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

  /**
   * Loads one code entry in a worker (in the sandbox, never in this process) and leaves the worker
   * warm. `undefined` when it loaded, otherwise why not; a failure of the platform is thrown.
   */
  const check = async (target: CodeTarget): Promise<string | undefined> => {
    const pool = poolFor(target);
    // An update that keeps an entry must not wait for a worker busy with deliveries of it.
    if (pool.loaded) return undefined;
    let worker: WorkerProcess;
    try {
      worker = await acquire(pool);
    } catch (error) {
      // Only the code's own failure refuses the hook; the platform failing is thrown as it is.
      if (error instanceof FunctionLoadError) return error.message.replace(/^function failed to load: /, '');
      throw error;
    }
    release(pool, worker);
    return undefined;
  };

  /**
   * Refuses code that does not load to a function, as a schema violation of `config.functions`:
   * every delivery of it would fail. Loading leaves a warm process.
   */
  const verify = async (hook: HookFunctions): Promise<void> => {
    if (closed) throw new FunctionError('the function runner is closed', { retryable: true });
    const errors: FieldErrors = {};
    await Promise.all(
      hook.functions.map(async (code, index) => {
        if (code === null || isLambdaReference(code)) return;
        const problem = await check({ kind: 'code', tenant: hook.tenant, hookId: hook.id, index, code });
        if (problem !== undefined) errors[String(index + 1)] = `${problem}; ${USER_CODE_HELP}`;
      }),
    );
    if (Object.keys(errors).length > 0) throw new SchemaViolationError({ config: { functions: errors } });
  };

  return {
    /**
     * Locally there is nothing to deploy but the check itself. Pools of older code of the hook stay
     * until `remove` names them, so a write that fails after deploy leaves the running code alone.
     */
    deploy: verify,
    verify,

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

    sandbox: sandboxFor,

    pids: () => [...processes].flatMap((worker) => (worker.pid === undefined ? [] : [worker.pid])),
  };
}

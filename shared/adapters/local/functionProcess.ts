import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FunctionError } from '../../errors.ts';
import type { FunctionArgs } from '../../ports/functionRunner.ts';

/**
 * One child process running one user function (functionWorker.mjs), and how it is started: the
 * node flags of the sandbox, on Linux the data-segment limit that also bounds Buffers, and where the
 * platform gives them, Linux namespaces (see docs/user-code.md, "The sandbox").
 */

/** Node needs some data memory of its own beyond the JS heap (threads, code, buffers of the runtime). */
const RUNTIME_ALLOWANCE_MB = 128;
const BOOT_TIMEOUT_MS = 10_000;
export const MAX_OUTPUT_LINE = 1_000;
/** The largest result a function may return, as JSON text (Lambda's synchronous payload limit). */
export const MAX_RESULT_CHARS = 6 * 1024 * 1024;
const WORKER_PATH = fileURLToPath(new URL('./functionWorker.mjs', import.meta.url));
/** The overflow uid/gid: owns no file and no process of the service. */
const NOBODY = '65534';

/** Whether user code may use the network at all (`FUNCTION_NETWORK`). */
export type FunctionNetwork = 'none' | 'allow';

/**
 * How a worker is walled off, strongest first:
 * - `user-namespace`: new user, PID and (network `none`) network namespaces; as root, the process
 *   first drops to nobody with no capabilities. Works unprivileged where user namespaces are enabled.
 * - `namespace`: root only, where user namespaces are disabled: PID and network namespaces, still root.
 * - `none`: no namespace could be made (not Linux, no `unshare`, not allowed): Node's permission
 *   model and the worker's own guards only.
 */
export type Isolation = 'user-namespace' | 'namespace' | 'none';

export interface Sandbox {
  isolation: Isolation;
  network: FunctionNetwork;
  /** Lets user code connect to loopback addresses when the network is allowed (tests run receivers there). */
  allowLoopback: boolean;
}

/** What the child may say; anything else is ignored (the user code can write to the channel too). */
type Reply =
  | { type: 'ready' | 'loaded' }
  | { type: 'result'; id: number; json: string; dirty: boolean }
  | { type: 'failed'; id?: number; message: string; dirty: boolean }
  | { type: 'fatal'; message: string };

/**
 * `dirty`: the call left something running (a socket, a timer the worker could not clear, …) that
 * only ending the process stops; the worker is killed once its answer is read.
 */
function asReply(message: unknown): Reply | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const m = message as Record<string, unknown>;
  const id = typeof m.id === 'number' ? m.id : undefined;
  const dirty = m.dirty === true;
  if (m.type === 'ready' || m.type === 'loaded') return { type: m.type };
  if (m.type === 'result' && id !== undefined && typeof m.json === 'string') {
    // The worker caps results, but user code runs in that process: a result it forged past the cap
    // is refused here, and the process, which may still be running the real call, is ended.
    if (m.json.length > MAX_RESULT_CHARS) {
      return {
        type: 'failed',
        id,
        message: `the function returned more than ${MAX_RESULT_CHARS} characters`,
        dirty: true,
      };
    }
    return { type: 'result', id, json: m.json, dirty };
  }
  if ((m.type === 'failed' || m.type === 'fatal') && typeof m.message === 'string') {
    return m.type === 'fatal'
      ? { type: 'fatal', message: m.message }
      : { type: 'failed', id, message: m.message, dirty };
  }
  return undefined;
}

/** The command that enters the namespaces of `isolation`, before the worker's own command line. */
export function isolationPrefix(isolation: Isolation, network: FunctionNetwork): string[] {
  if (isolation === 'none') return [];
  // --fork: the worker is PID 1 of its namespace, so when it dies the kernel kills everything it
  // started; --kill-child: when the parent (`unshare`, the process we kill) dies, so does the worker.
  const namespaces = ['--pid', '--fork', '--kill-child', ...(network === 'none' ? ['--net'] : [])];
  if (isolation === 'namespace') return ['unshare', ...namespaces];
  const unshare = ['unshare', '--user', ...namespaces];
  if (process.getuid?.() !== 0) return unshare;
  // Credentials change before `unshare` forks: a change after it would clear --kill-child's signal.
  const drop = ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
  return ['setpriv', ...drop, '--no-new-privs', ...unshare];
}

const probes = new Map<FunctionNetwork, Promise<Isolation>>();

/** Whether `node` starts inside `isolation` and can read the worker file, as the worker must. */
function works(isolation: Isolation, network: FunctionNetwork): Promise<boolean> {
  const [command, ...args] = [...isolationPrefix(isolation, network), process.execPath, '--check', WORKER_PATH];
  return new Promise((resolve) => {
    const probe = spawn(command as string, args, { env: {}, cwd: tmpdir(), stdio: 'ignore', timeout: 10_000 });
    probe.once('error', () => resolve(false));
    probe.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * The strongest isolation this machine gives, found once per network setting (and process) by
 * starting `node` inside each candidate in turn.
 */
export function detectIsolation(network: FunctionNetwork): Promise<Isolation> {
  let found = probes.get(network);
  if (!found) {
    found = (async (): Promise<Isolation> => {
      if (process.platform !== 'linux') return 'none';
      const candidates: Isolation[] = process.getuid?.() === 0 ? ['user-namespace', 'namespace'] : ['user-namespace'];
      for (const isolation of candidates) if (await works(isolation, network)) return isolation;
      return 'none';
    })();
    probes.set(network, found);
  }
  return found;
}

/** Command line of a worker: namespaces, node flags, and on Linux a shell that sets the data-segment limit first. */
export function launchCommand(memoryMb: number, sandbox: Sandbox): { command: string; args: string[] } {
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
    // Read by the worker before any user code runs: which guards to install.
    JSON.stringify({ network: sandbox.network, allowLoopback: sandbox.allowLoopback }),
  ];
  if (process.platform !== 'linux') return { command: process.execPath, args: nodeArgs };
  // The heap flag does not bound Buffers and other memory outside the JS heap; RLIMIT_DATA does.
  const limitKb = (memoryMb + RUNTIME_ALLOWANCE_MB) * 1024;
  const script = `ulimit -d ${limitKb} 2>/dev/null; exec "$0" "$@"`;
  const [command, ...prefix] = [...isolationPrefix(sandbox.isolation, sandbox.network), '/bin/sh'];
  return { command: command as string, args: [...prefix, '-c', script, process.execPath, ...nodeArgs] };
}

const timedOut = (ms: number) => ({ message: `function timed out after ${ms} ms`, retryable: false });

function unref(handle: unknown): void {
  const h = handle as { unref?: () => void } | null | undefined;
  if (typeof h?.unref === 'function') h.unref();
}

/**
 * The code itself failed while its body was evaluated (it threw, returned no function, ran out of
 * time or memory, exited): it will fail the same way every time, so a hook carrying it is refused.
 */
export class FunctionLoadError extends FunctionError {}

/** Past `ready`, the process runs only the user's body: what ends it then is the code's doing. */
function asLoadError(error: FunctionError): FunctionError {
  if (error instanceof FunctionLoadError || error.retryable) return error;
  return new FunctionLoadError(error.message, { cause: error });
}

interface Pending {
  expect: 'ready' | 'loaded' | number;
  resolve(value: unknown): void;
  reject(error: FunctionError): void;
  timer: NodeJS.Timeout;
}

/** One child process and the single request it is working on. */
export class WorkerProcess {
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
    sandbox: Sandbox,
    private readonly onGone: (worker: WorkerProcess) => void,
    log: (stream: string, line: string) => void,
  ) {
    const { command, args } = launchCommand(memoryMb, sandbox);
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
    // Kong's `pid` is the worker's: this process's, whatever the caller passed.
    const message = { type: 'call', id, args: { ...args, pid: this.child.pid ?? 0 } };
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
    if ('error' in outcome) pending.reject(pending.expect === 'loaded' ? asLoadError(outcome.error) : outcome.error);
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
      if (reply.dirty) this.kill();
    } else if (reply.type === 'result' && reply.id === expect) {
      try {
        this.settle({ value: JSON.parse(reply.json) });
      } catch {
        this.settle({ error: new FunctionError('function returned a result that is not JSON') });
      }
      // Nothing the call started may outlive it: what the worker could not stop, the kill does.
      if (reply.dirty) this.kill();
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

import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FunctionError } from '../../errors.ts';
import type { FunctionArgs } from '../../ports/functionRunner.ts';

/**
 * One child process running one user function (functionWorker.mjs), and how it is started: the
 * node flags of the sandbox and, on Linux, the data-segment limit that also bounds Buffers.
 */

/** Node needs some data memory of its own beyond the JS heap (threads, code, buffers of the runtime). */
const RUNTIME_ALLOWANCE_MB = 128;
const BOOT_TIMEOUT_MS = 10_000;
export const MAX_OUTPUT_LINE = 1_000;
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

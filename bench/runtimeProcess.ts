import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostCommand, HostMessage } from './runtimeHost.ts';

export interface RuntimeProcess {
  url: string;
  /** With `BENCH_TENANT_FRONT=1` in `env`: the bench-only front that takes a tenant in the path (runtimeHost.ts). */
  tenantUrl?: string;
  /** RSS right after start, before any hook or event. */
  startRss: number;
  /** Resolves when the runtime has nothing in flight (bus, queue, background pings). */
  idle(timeoutMs?: number): Promise<void>;
  /** Current RSS, the sampled peak since the last reset (every 25 ms), the OS's lifetime maximum, and CPU time used (ms). */
  memory(options?: { resetPeak?: boolean }): Promise<{ rss: number; peakRss: number; maxRss: number; cpuMs: number }>;
  /** SIGKILL, as a crash: no shutdown runs. Resolves when the process has exited. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

const HOST = fileURLToPath(new URL('./runtimeHost.ts', import.meta.url));
type Reply = Extract<HostMessage, { type: 'reply' }>;
type CommandBody = HostCommand extends infer C ? (C extends HostCommand ? Omit<C, 'id'> : never) : never;

/**
 * Starts the local runtime in a child Node process (through tsx) and waits until it listens.
 * `cpuProfileDir` runs the child with `--cpu-prof`, which writes a profile there when it exits;
 * `dataDir` runs it on that DATA_DIR (else in memory); `env` adds variables (RETRY_*, say).
 */
export async function spawnRuntime(
  options: {
    cpuProfileDir?: string;
    startTimeoutMs?: number;
    dataDir?: string;
    env?: NodeJS.ProcessEnv;
    /** Drops the child's output (its warnings about retries, say). */
    quiet?: boolean;
  } = {},
): Promise<RuntimeProcess> {
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const child: ChildProcess = spawn(process.execPath, [...execArgv, HOST], {
    stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', options.quiet ? 'ignore' : 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_NO_WARNINGS: '1',
      LOG_LEVEL: 'warn',
      ...options.env,
      DATA_DIR: options.dataDir ?? '',
    },
  });
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject } of pending.values()) reject(new Error(`runtime process exited (${code ?? signal})`));
      pending.clear();
      resolve();
    });
  });

  const ready = await new Promise<Extract<HostMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('runtime process did not start in time'));
    }, options.startTimeoutMs ?? 60_000);
    child.on('message', (message: HostMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        waiter?.resolve(message);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime process exited with code ${code} before it was ready`));
    });
  });

  const command = (body: CommandBody, timeoutMs = 120_000): Promise<Reply> => {
    if (exited) return Promise.reject(new Error('runtime process has exited'));
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`runtime process did not answer '${body.cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply.error) reject(new Error(reply.error));
          else resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, ...body } as HostCommand);
    });
  };

  return {
    url: ready.url,
    ...(ready.tenantUrl ? { tenantUrl: ready.tenantUrl } : {}),
    startRss: ready.rss,
    async idle(timeoutMs) {
      await command({ cmd: 'idle' }, timeoutMs);
    },
    async memory(memoryOptions) {
      const reply = await command({ cmd: 'memory', ...(memoryOptions?.resetPeak ? { resetPeak: true } : {}) });
      return { rss: reply.rss ?? 0, peakRss: reply.peakRss ?? 0, maxRss: reply.maxRss ?? 0, cpuMs: reply.cpuMs ?? 0 };
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
    async close() {
      if (exited) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      try {
        await command({ cmd: 'close' }, 15_000);
      } catch {
        child.kill('SIGTERM');
      }
      await exit;
      clearTimeout(killer);
    },
  };
}

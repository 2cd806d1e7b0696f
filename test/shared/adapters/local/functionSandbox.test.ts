import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectIsolation, type Isolation, isolationPrefix } from '../../../../shared/adapters/local/functionProcess.ts';
import {
  createLocalFunctionRunner,
  type LocalFunctionRunner,
  type LocalFunctionRunnerOptions,
} from '../../../../shared/adapters/local/functionRunner.ts';
import { FunctionError, SchemaViolationError } from '../../../../shared/errors.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import type { FunctionArgs } from '../../../../shared/ports/functionRunner.ts';
import { type Receiver, startReceiver } from '../../../support/rawReceiver.ts';
import { startTestStore, type TestStore } from '../../../support/store.ts';

/**
 * The escapes found through `/test` (issue 8, defect 4), each tried by real user code in a real
 * worker against real listeners on 127.0.0.1: a stand-in for the Admin API and the embedded store.
 * Every escape is tried with the isolation this machine gives and with none (the fallback).
 */

const ARGS: FunctionArgs = { data: null, event: 'e', source: 's', pid: 0 };
const DETECTED = await detectIsolation('none');

let api: Receiver;
let store: TestStore;

beforeAll(async () => {
  api = await startReceiver();
  store = await startTestStore();
});

afterAll(async () => {
  await api.close();
  await store.close();
});

const runners: LocalFunctionRunner[] = [];
function runner(options: LocalFunctionRunnerOptions = {}): LocalFunctionRunner {
  const created = createLocalFunctionRunner({ timeoutMs: 10_000, ...options });
  runners.push(created);
  return created;
}

/** Every process below `pid`, from /proc (the worker inside its namespaces included). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Running, or stopped: a zombie waiting for the machine's init to reap it has ended. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

afterEach(async () => {
  // No test may leave a process behind: every worker, and whatever ran inside it, is gone after close.
  const all = runners.flatMap((r) => r.pids().flatMap((pid) => [pid, ...descendants(pid)]));
  await Promise.all(runners.splice(0).map((r) => r.close()));
  await expect.poll(() => all.filter(isAlive), { timeout: 5_000 }).toEqual([]);
});

const target = (code: string, hookId = 'escape', index = 0) =>
  ({ kind: 'code', tenant: 'default', hookId, index, code }) as const;

/** Runs `attempt` (an async expression over `data`) as user code; resolves with what happened to it. */
async function attempt(functions: LocalFunctionRunner, name: string, body: string, data: unknown = null) {
  const code = `return async function (data, event, source, pid) {
    try { return { done: true, value: await (async () => { ${body} })() } }
    catch (error) { return { done: false, error: String(error && error.message || error) } }
  }`;
  return (await functions.invoke(target(code, name), { ...ARGS, data })) as
    | { done: true; value: unknown }
    | { done: false; error: string };
}

/** The detected isolation, the root-only fallback when running as root, and none. */
const isolations = [
  ...new Set<Isolation>([
    DETECTED,
    ...(DETECTED !== 'none' && process.getuid?.() === 0 ? ['namespace' as const] : []),
    'none',
  ]),
];

describe.each(isolations)('user code with isolation %s cannot leave its sandbox', (isolation) => {
  it('cannot reach the Admin API on loopback, by any client it can find', async () => {
    // Prepare
    const functions = runner({ isolation });
    const port = Number(new URL(api.url).port);
    const escapes = {
      fetch: `return (await fetch('${api.url}/event-hooks')).status`,
      http: `return await new Promise((resolve, reject) => process.getBuiltinModule('http').get('${api.url}/event-hooks', (res) => resolve(res.statusCode)).on('error', reject))`,
      importHttp: `const http = await import('node:http'); return await new Promise((resolve, reject) => http.request('${api.url}/event-hooks', { method: 'POST' }, (res) => resolve(res.statusCode)).on('error', reject).end('{}'))`,
      rawSocket: `const Socket = process.stdout.constructor; return await new Promise((resolve, reject) => { const s = new Socket(); s.on('error', reject); s.connect(${port}, '127.0.0.1', () => { s.write('GET /event-hooks HTTP/1.0\\r\\n\\r\\n'); resolve('connected') }) })`,
      netModule: `return await new Promise((resolve, reject) => process.getBuiltinModule('net').connect(${port}, '127.0.0.1', () => resolve('connected')).on('error', reject))`,
    };

    // Act
    const outcomes: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(escapes)) outcomes[name] = await attempt(functions, `api-${name}`, body);

    // Assess: every attempt failed, and the stand-in API saw nothing
    for (const outcome of Object.values(outcomes)) expect(outcome).toMatchObject({ done: false });
    expect(api.requests).toEqual([]);
  });

  it('cannot scan the embedded store directly', async () => {
    // Prepare: a table with a secret in it, and user code that knows the store's address
    const functions = runner({ isolation });
    const scan = `return await (await fetch('${store.endpoint}', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan', authorization: 'AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x' },
      body: JSON.stringify({ TableName: '${store.tableName}' }),
    })).text()`;
    const viaHttp = `const { hostname, port } = new URL('${store.endpoint}'); return await new Promise((resolve, reject) => process.getBuiltinModule('http').request({ hostname, port, method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' } }, (res) => resolve(res.statusCode)).on('error', reject).end('{}'))`;

    // Act
    const outcomes = [await attempt(functions, 'store-fetch', scan), await attempt(functions, 'store-http', viaHttp)];

    // Assess
    for (const outcome of outcomes) expect(outcome).toMatchObject({ done: false });
  });

  it('cannot signal or renice the service, even with its pid', async () => {
    // Prepare: the test process plays the service
    const functions = runner({ isolation });
    const before = getPriority(process.pid);
    const escapes = {
      killParent: `process.kill(process.ppid, 'SIGSTOP')`,
      killService: `process.kill(data, 'SIGSTOP')`,
      reniceParent: `process.getBuiltinModule('os').setPriority(process.ppid, 10)`,
      reniceService: `process.getBuiltinModule('os').setPriority(data, 10)`,
      importRenice: `(await import('node:os')).setPriority(data, 10)`,
    };

    // Act
    const outcomes: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(escapes)) {
      outcomes[name] = await attempt(functions, `signal-${name}`, body, process.pid);
    }

    // Assess: each refused, and this process kept its priority (and is running, to check)
    for (const outcome of Object.values(outcomes)) {
      expect(outcome).toMatchObject({ done: false, error: expect.stringMatching(/is not allowed/) });
    }
    expect(getPriority(process.pid)).toBe(before);
  });

  it('cannot start a child process or a thread', async () => {
    // Prepare
    const functions = runner({ isolation });
    const escapes = {
      spawn: `return process.getBuiltinModule('child_process').spawnSync('/bin/sh', ['-c', 'echo escaped']).stdout.toString()`,
      exec: `const cp = await import('node:child_process'); return await new Promise((resolve, reject) => cp.exec('echo escaped', (error, out) => error ? reject(error) : resolve(out)))`,
      fork: `return process.getBuiltinModule('child_process').fork('/dev/null').pid`,
      worker: `new (process.getBuiltinModule('worker_threads').Worker)('1', { eval: true }); return 'started'`,
      cluster: `return process.getBuiltinModule('cluster').fork().id`,
    };

    // Act
    const outcomes: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(escapes))
      outcomes[name] = await attempt(functions, `spawn-${name}`, body);

    // Assess
    for (const outcome of Object.values(outcomes)) expect(outcome).toMatchObject({ done: false });
  });
});

describe('what user code starts ends with its call', () => {
  it('stops an interval that keeps making requests after the call returned', async () => {
    // Prepare: the network allowed, loopback too, so that the requests could reach the receiver
    const receiver = await startReceiver();
    try {
      const functions = runner({ network: 'allow', allowLoopback: true });
      const code = `return async function () {
        const http = process.getBuiltinModule('http');
        let sent = 0;
        await new Promise((resolve) => {
          setInterval(() => {
            http.get('${receiver.url}/tick', (res) => res.resume()).on('error', () => {});
            if (++sent === 2) resolve();
          }, 50);
        });
        return sent;
      }`;

      // Act
      const sent = await functions.invoke(target(code, 'interval'), ARGS);
      await expect.poll(() => receiver.requests.length).toBeGreaterThanOrEqual(2);
      const atReturn = receiver.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      // Assess: the requests made during the call arrived; none after it
      expect(sent).toBe(2);
      expect(atReturn).toBeLessThanOrEqual(3);
      expect(receiver.requests.length).toBe(atReturn);
    } finally {
      await receiver.close();
    }
  });

  it('stops an unref’d interval and closes a connection left open', async () => {
    // Prepare
    const receiver = await startReceiver();
    try {
      const functions = runner({ network: 'allow', allowLoopback: true });
      const port = Number(new URL(receiver.url).port);
      const code = `return async function () {
        const net = process.getBuiltinModule('net');
        setInterval(() => fetch('${receiver.url}/late').catch(() => {}), 100).unref();
        await new Promise((resolve) => net.connect(${port}, '127.0.0.1', resolve));
        return 'left running';
      }`;

      // Act
      await functions.invoke(target(code, 'unref'), ARGS);
      await new Promise((resolve) => setTimeout(resolve, 600));

      // Assess
      expect(receiver.requests).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('stops what the call started even when the code tampered with the built-in prototypes', async () => {
    // Prepare: an interval that writes a line every 20 ms, and prototypes changed to hide it
    const logger = memoryLogger();
    const functions = runner({ logger });
    const code = `return async function () {
      setInterval(() => console.log('still here'), 20);
      Set.prototype[Symbol.iterator] = function* () {};
      Map.prototype.get = () => Infinity;
      Array.prototype.some = () => false;
      Array.prototype[Symbol.iterator] = function* () {};
      return 'tampered';
    }`;
    const lines = () => logger.lines.filter((line) => line.message === 'function output').length;

    // Act
    await functions.invoke(target(code, 'tamper'), ARGS);
    const atReturn = lines();
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Assess
    expect(lines()).toBe(atReturn);
  });

  it('ends the process of a call that left something it cannot stop, and serves the next from a fresh one', async () => {
    // Prepare: a timer of node:timers/promises is not one of the tracked globals
    const functions = runner();
    const code = `return async function (data, event, source, pid) {
      if (data === 'leave') (await import('node:timers/promises')).setTimeout(60_000);
      return pid;
    }`;
    const first = (await functions.invoke(target(code, 'leftover'), { ...ARGS, data: 'leave' })) as number;

    // Act
    const second = (await functions.invoke(target(code, 'leftover'), ARGS)) as number;
    const third = (await functions.invoke(target(code, 'leftover'), ARGS)) as number;

    // Assess: the first process was ended; the second, which left nothing, stays warm
    expect(second).not.toBe(first);
    expect(third).toBe(second);
    await expect.poll(() => isAlive(first)).toBe(false);
  });

  it('has no network at all by default, not merely no loopback', async () => {
    // Prepare: loopback allowed, the network not: the receiver stands in for any host
    const functions = runner({ allowLoopback: true });

    // Act
    const outcome = await attempt(functions, 'world', `return (await fetch('${api.url}/anywhere')).status`);

    // Assess
    expect(outcome).toMatchObject({ done: false });
    expect(api.requests).toEqual([]);
  });

  it('refuses loopback addresses when the network is allowed', async () => {
    // Prepare
    const functions = runner({ network: 'allow' });
    const escapes = {
      literal: `return (await fetch('${api.url}/event-hooks')).status`,
      localhost: `return (await fetch('http://localhost:${new URL(api.url).port}/event-hooks')).status`,
      unspecified: `return (await fetch('http://0.0.0.0:${new URL(api.url).port}/event-hooks')).status`,
      store: `return (await fetch('${store.endpoint}', { method: 'POST', body: '{}' })).status`,
    };

    // Act
    const outcomes: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(escapes))
      outcomes[name] = await attempt(functions, `allow-${name}`, body);

    // Assess
    for (const outcome of Object.values(outcomes)) expect(outcome).toMatchObject({ done: false });
    expect(api.requests).toEqual([]);
  });
});

describe('with the network allowed, local socket files stay closed', () => {
  it('refuses a socket file, also when a getter names it only after the check', async () => {
    // Prepare: a server on a socket file, standing in for a local daemon
    const dir = mkdtempSync(join(tmpdir(), 'function-sandbox-'));
    const socketPath = join(dir, 'daemon.sock');
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const functions = runner({ network: 'allow', allowLoopback: true });
      const port = new URL(api.url).port;
      const escapes = {
        plain: `return await new Promise((resolve, reject) => process.getBuiltinModule('net').connect(${JSON.stringify(socketPath)}, () => resolve('connected')).on('error', reject))`,
        getter: `let reads = 0; const options = { port: ${port}, host: '127.0.0.1', get path() { return reads++ > 0 ? ${JSON.stringify(socketPath)} : undefined } };
          return await new Promise((resolve, reject) => { const s = new (process.getBuiltinModule('net').Socket)(); s.on('error', reject); s.connect(options, () => { s.destroy(); resolve('connected') }) })`,
      };

      // Act
      const plain = await attempt(functions, 'unix-plain', escapes.plain);
      await attempt(functions, 'unix-getter', escapes.getter);

      // Assess: the getter's connect went where the check saw it go (the API stand-in), not to the file
      expect(plain).toMatchObject({ done: false, error: expect.stringMatching(/local socket file is not allowed/) });
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
      api.requests.length = 0;
    }
  });
});

describe('each call knows its delivery', () => {
  it('passes the delivery id, attempt and event id as the fifth argument, nulls without one', async () => {
    // Prepare
    const functions = runner();
    const code = 'return (data, event, source, pid, context) => context';
    const context = { deliveryId: 'delivery-1', attempt: 2, eventId: 'event-1' };

    // Act
    const inDelivery = await functions.invoke(target(code), { ...ARGS, context });
    const inTest = await functions.invoke(target(code), ARGS);

    // Assess
    expect(inDelivery).toEqual(context);
    expect(inTest).toEqual({ deliveryId: null, attempt: null, eventId: null });
  });
});

describe('deploy checks the code in the sandbox', () => {
  it('refuses code that does not return a function, as a schema violation of config.functions', async () => {
    // Prepare: these compile; only running them shows what they return
    const functions = runner();
    const hook = { tenant: 'default', id: 'bad', functions: ['return (d) => d', 'return 1 + 1', 'my-lambda'] };

    // Act
    const error = await functions.deploy(hook).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    // Assess
    expect(error).toBeInstanceOf(SchemaViolationError);
    const fields = (error as SchemaViolationError).fields;
    expect(fields).toEqual({
      config: { functions: { '2': expect.stringMatching(/^the code must return a function, it returned number; /) } },
    });
    expect(JSON.stringify(fields)).toMatch(/functions are JavaScript.*docs\/user-code\.md/);
  });

  it('refuses code whose body never finishes or ends its process, and says why', async () => {
    // Prepare
    const functions = runner({ timeoutMs: 1_000 });
    const hook = { tenant: 'default', id: 'stuck', functions: ['while (true) {}', 'process.exit(3); return () => 1'] };

    // Act
    const error = await functions.deploy(hook).catch((reason: unknown) => reason);

    // Assess
    expect(error).toBeInstanceOf(SchemaViolationError);
    expect((error as SchemaViolationError).fields).toEqual({
      config: {
        functions: {
          '1': expect.stringMatching(/^function timed out after 1000 ms; functions are JavaScript/),
          '2': expect.stringMatching(/^function process exited with code 3; /),
        },
      },
    });
  });

  it('loads code without running it in this process, and keeps the loaded process warm', async () => {
    // Prepare
    const functions = runner();
    const code = 'globalThis.loads = (globalThis.loads ?? 0) + 1; return () => globalThis.loads';
    delete (globalThis as Record<string, unknown>).loads;

    // Act
    await functions.deploy({ tenant: 'default', id: 'warm', functions: [code] });
    const loads = await functions.invoke(target(code, 'warm'), ARGS);

    // Assess
    expect((globalThis as Record<string, unknown>).loads).toBeUndefined();
    expect(loads).toBe(1);
  });

  it('does not wait for a busy worker to check code that is already loaded', async () => {
    // Prepare: the only worker the function may have is busy for the whole test
    const functions = runner({ maxWorkersPerFunction: 1 });
    const code = 'return (data) => data === "wait" ? new Promise(() => {}) : data';
    await functions.invoke(target(code, 'busy'), { ...ARGS, data: 'warm' });
    void functions.invoke(target(code, 'busy'), { ...ARGS, data: 'wait' }).catch(() => undefined);

    // Act
    const started = performance.now();
    await functions.deploy({ tenant: 'default', id: 'busy', functions: [code] });

    // Assess
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('reports a failure of the platform as a FunctionError, not as a schema violation', async () => {
    // Prepare
    const functions = runner();
    await functions.close();

    // Act
    const error = await functions.deploy({ tenant: 'default', id: 'x', functions: ['return () => 1'] }).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(FunctionError);
  });
});

describe.runIf(DETECTED !== 'none')('the namespaces hold without the JS guards', () => {
  /** Runs a plain node script (no worker, no guards) inside the sandbox's namespaces. */
  function inSandbox(script: string): { status: number | null; stdout: string } {
    const [command, ...args] = [...isolationPrefix(DETECTED, 'none'), process.execPath, '-e', script];
    const run = spawnSync(command as string, args, { encoding: 'utf8', timeout: 10_000 });
    return { status: run.status, stdout: run.stdout };
  }

  it('has no network: a raw TCP connect to the API on loopback fails', () => {
    // Act
    const run = inSandbox(`
      require('net').connect(${new URL(api.url).port}, '127.0.0.1')
        .on('connect', () => { console.log('connected'); process.exit(0) })
        .on('error', (e) => { console.log(e.code); process.exit(0) });
    `);

    // Assess
    expect(run.stdout.trim()).toMatch(/^(ENETUNREACH|ECONNREFUSED|EADDRNOTAVAIL)$/);
    expect(api.requests).toEqual([]);
  });

  it('sees no process of the machine: the service’s pid does not exist there', () => {
    // Act
    const run = inSandbox(`
      const out = {};
      for (const [name, fn] of Object.entries({
        kill: () => process.kill(${process.pid}, 0),
        renice: () => require('os').setPriority(${process.pid}, 10),
      })) { try { fn(); out[name] = 'done' } catch (e) { out[name] = e.code + ': ' + e.message } }
      out.pid = process.pid; out.ppid = process.ppid;
      console.log(JSON.stringify(out));
    `);

    // Assess
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out.kill).toMatch(/^ESRCH/);
    expect(String(out.renice)).toMatch(/ESRCH/);
    expect(out.pid).toBe(1);
    expect(out.ppid).toBe(0);
  });
});

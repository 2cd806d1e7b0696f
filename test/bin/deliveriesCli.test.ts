import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli } from './cliRun.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs');
/** util-linux `script` runs a command on a pseudo-terminal: how the colour test gets a real TTY. */
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const isPing = (body: Buffer) => body.toString('utf8').includes('"kong:event_hooks"');

/** `deliveries tail` until it exits by itself (`--count`), with stdout as a pipe (not a terminal). */
function tail(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'deliveries', 'tail', ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return {
    output: () => stdout,
    done: done.finally(() => clearTimeout(timer)),
  };
}

describe('npx event-hooks deliveries (against the local runtime)', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  let hookId: string;
  let env: Record<string, string>;
  let deliveries = 0;
  const settle = async () => {
    await t.runtime.app.settled();
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };
  const emit = async (n: number) => {
    expect((await t.request('POST', '/events', { source: 'balancer', event: 'health', data: { n } })).status).toBe(202);
    await settle();
  };

  beforeAll(async () => {
    t = await startTestRuntime({ env: { RETRY_MAX_ATTEMPTS: '1' } });
    // The first delivery is refused for good (a 4xx), every later one accepted.
    receiver = await startReceiver((request) => {
      if (isPing(request.body)) return { status: 200 };
      return deliveries++ === 0 ? { status: 422, body: 'unprocessable' } : { status: 200, body: 'ok' };
    });
    const hook = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: receiver.url },
    });
    hookId = hook.body.id;
    env = { EVENT_HOOKS_URL: t.runtime.url };
    await emit(1);
    await emit(2);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('lists a hook’s deliveries as a table, and as JSON', async () => {
    const res = await cli(['deliveries', 'list', '--hook', hookId], env);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+ATTEMPTS\s+CODE\s+UPDATED\s+EVENT\s+LAST ERROR$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['delivered', 'dead']);
    const dead = await cli(['deliveries', 'list', '--hook', hookId, '--status', 'dead', '--json'], env);
    const data = JSON.parse(dead.stdout).data;
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ status: 'dead', last_status_code: 422 });
  });

  it('shows one delivery with its attempts, and replays it', async () => {
    const [dead] = JSON.parse(
      (await cli(['deliveries', 'list', '--hook', hookId, '--status', 'dead', '--json'], env)).stdout,
    ).data;
    const got = await cli(['deliveries', 'get', dead.id], env);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/status\s+dead/);
    expect(got.stdout).toMatch(/ATTEMPT\s+STARTED\s+LATENCY MS\s+CODE\s+ERROR\s+RESPONSE/);
    expect(got.stdout).toMatch(/422\s+receiver answered HTTP 422\s+unprocessable/);

    const replay = await cli(['deliveries', 'replay', dead.id], env);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/status\s+pending/);
    await settle();
    const after = JSON.parse((await cli(['deliveries', 'get', dead.id, '--json'], env)).stdout);
    expect(after).toMatchObject({ id: dead.id, status: 'delivered', attempt_count: 2 });

    const health = await cli(['deliveries', 'health', '--hook', hookId, '--json'], env);
    expect(JSON.parse(health.stdout)).toMatchObject({ hook_id: hookId, consecutive_failures: 0 });
  });

  it('says what is wrong: an unknown delivery (1), a bad status (1, the service’s 400), no --hook (2)', async () => {
    const unknown = await cli(['deliveries', 'get', '5f0e4b6a-0000-4000-8000-000000000000'], env);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/^404: Not found/) });
    const bad = await cli(['deliveries', 'list', '--hook', hookId, '--status', 'lost'], env);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/400: status must be one of/) });
    expect((await cli(['deliveries', 'list'], env)).code).toBe(2);
    expect((await cli(['deliveries', 'tail'], env)).code).toBe(2);
  });

  it('tails deliveries live, one line each, without colour when stdout is not a terminal', async () => {
    const follow = tail(['--hook', hookId, '--lines', '0', '--interval', '100ms', '--count', '2'], env);
    // Let it take its first look (nothing shown: --lines 0), then deliver two events.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await emit(3);
    await emit(4);
    const { code, stdout, stderr } = await follow.done;
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^\S+Z {2}delivered {2}\S+ {2}attempt 1 {2}HTTP 200$/);
    expect(stdout).not.toContain('\u001b[');
  });

  it.skipIf(!hasScript)('colours the outcome on a terminal, and not with NO_COLOR', async () => {
    const onTty = (extra: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const command = `'${process.execPath}' '${CLI}' deliveries tail --hook ${hookId} --lines 1 --count 1`;
        const child = spawn('script', ['-qfec', command, '/dev/null'], {
          env: { PATH: process.env.PATH, TERM: 'xterm', ...env, ...extra },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(out);
        });
      });
    expect(await onTty({})).toContain('\u001b[32mdelivered\u001b[0m');
    const plain = await onTty({ NO_COLOR: '1' });
    expect(plain).toMatch(/delivered/);
    expect(plain).not.toContain('\u001b[');
  });

  it('tails as JSON lines with --json, the recent ones first', async () => {
    const { code, stdout } = await tail(['--hook', hookId, '--lines', '2', '--count', '2', '--json'], env).done;
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });
});

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * Runs the Kong plugin's Lua suite (integrations/kong/spec) with busted, once under the `lua` that
 * busted's own script names and once under LuaJIT, the interpreter Kong (OpenResty) runs. A missing
 * busted fails here with the command that installs it; only `SKIP_LUA=1` skips.
 */
const PLUGIN_DIR = fileURLToPath(new URL('../../integrations/kong/', import.meta.url));
const INSTALL = 'apt-get install -y lua-busted luajit lua-cjson';

interface BustedReport {
  successes: { name: string }[];
  failures: { name: string; message?: string }[];
  errors: { name: string; message?: string }[];
  pendings: { name: string }[];
}

function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function runBusted(argv: string[]): { status: number | null; report: BustedReport; output: string } {
  const run = spawnSync(argv[0] as string, [...argv.slice(1), '--output=json'], {
    cwd: PLUGIN_DIR,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  // busted's json handler writes one JSON document on stdout.
  const start = run.stdout.indexOf('{');
  let report: BustedReport;
  try {
    report = JSON.parse(run.stdout.slice(start)) as BustedReport;
  } catch {
    throw new Error(`busted did not print a JSON report (exit ${run.status}):\n${output}`);
  }
  return { status: run.status, report, output };
}

const skip = process.env.SKIP_LUA === '1';

describe.skipIf(skip)('Kong plugin event-hooks-bridge (busted)', () => {
  const busted = which('busted');

  it('has busted installed', () => {
    if (!busted) {
      console.error(`busted is missing: install it with\n  ${INSTALL}\n(or set SKIP_LUA=1 to skip the Lua tests)`);
    }
    expect(busted, `busted is missing: ${INSTALL}`).toBeDefined();
  });

  const interpreters: [string, () => string[]][] = [
    ['lua (busted default)', () => [busted as string]],
    ['LuaJIT', () => [which('luajit') as string, busted as string]],
  ];

  for (const [name, argv] of interpreters) {
    it(`passes every spec under ${name}`, () => {
      expect(busted, `busted is missing: ${INSTALL}`).toBeDefined();
      if (name === 'LuaJIT') expect(which('luajit'), `luajit is missing: ${INSTALL}`).toBeDefined();
      const { status, report } = runBusted(argv());
      const problems = [...report.failures, ...report.errors].map((f) => `${f.name}: ${f.message ?? ''}`);
      expect(problems, `busted exited ${status}`).toEqual([]);
      expect(report.pendings).toEqual([]);
      expect(status).toBe(0);
      // The suite covers the three sources, the queue options and the batch handler.
      const names = report.successes.map((s) => s.name).join('\n');
      for (const part of [
        'consumer update once',
        'balancer/health',
        'rate-limiting refusal',
        'batches of at most 100',
        'true on a 2xx',
        'false and an error on a 5xx',
        'timeout',
      ]) {
        expect(names).toContain(part);
      }
      expect(report.successes.length).toBeGreaterThanOrEqual(20);
    });
  }
});

/**
 * What the plugin sends, accepted by the service: the batch body the plugin's batch handler builds
 * for a consumer update, a health change and a rate-limit refusal (Kong's shapes, through the PDK
 * stand-in) is posted to the local runtime's `POST /events` and reaches the hooks README
 * "Sending events" promises, each once.
 */
describe.skipIf(skip)("the plugin's batch, posted to the local runtime", () => {
  let t: TestRuntime;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestRuntime();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('is accepted by POST /events and delivered to crud, dao:crud, balancer and rate-limit hooks', async () => {
    const lua = which('luajit') ?? which('lua');
    expect(lua, `luajit is missing: ${INSTALL}`).toBeDefined();
    const printed = spawnSync(lua as string, ['spec/print_batch.lua'], { cwd: PLUGIN_DIR, encoding: 'utf8' });
    expect(printed.stderr).toBe('');
    const batch = JSON.parse(printed.stdout) as { source: string; event: string; id: string }[];
    expect(batch.map((e) => `${e.source}/${e.event}`)).toEqual([
      'crud/consumers:update',
      'balancer/health',
      'rate-limiting-advanced/rate-limit-exceeded',
    ]);

    const hooks: [string, string | null][] = [
      ['crud', 'consumers'],
      ['crud', 'consumers:update'],
      ['dao:crud', 'update'],
      ['balancer', 'health'],
      ['rate-limiting-advanced', 'rate-limit-exceeded'],
    ];
    for (const [source, event] of hooks) {
      const created = await t.request('POST', '/event-hooks', {
        source,
        event,
        handler: 'webhook',
        config: { url: `${receiver.url}/${source}/${event}` },
      });
      expect(created.status).toBe(201);
    }
    const pings = hooks.length;
    await receiver.waitFor(pings);

    const accepted = await t.request('POST', '/events', batch);
    expect(accepted.status).toBe(202);
    expect(accepted.body.data).toHaveLength(3);
    const received = await receiver.waitFor(pings + hooks.length);
    const deliveries = received
      .slice(pings)
      .map((r) => ({ path: r.url, body: JSON.parse(r.body.toString()) as Record<string, unknown> }));
    expect(deliveries.map((d) => d.path).sort()).toEqual(hooks.map(([s, e]) => `/${s}/${e}`).sort());
    expect(deliveries.find((d) => d.path === '/dao:crud/update')?.body).toMatchObject({
      operation: 'update',
      schema: 'consumers',
      entity: { username: 'jane', custom_id: null },
      old_entity: { username: 'janet' },
    });
    expect(deliveries.find((d) => d.path === '/rate-limiting-advanced/rate-limit-exceeded')?.body).toEqual({
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      consumer: 'jane',
      ip: '203.0.113.7',
      service: 'orders',
      limit: 10,
      window: 'minute',
    });

    // A batch Kong's queue retries (its answer was lost) is not delivered again: the events carry ids.
    const retried = await t.request('POST', '/events', batch);
    expect(retried.body.data.map((d: { id: string }) => d.id)).toEqual(
      accepted.body.data.map((d: { id: string }) => d.id),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(pings + hooks.length);
  });
});

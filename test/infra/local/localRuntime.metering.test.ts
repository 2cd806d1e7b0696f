import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../../shared/admin/http.ts';
import { dayOf } from '../../../shared/metering/usageStore.ts';
import { untilHealthy } from '../../support/childRuntime.ts';
import { closedPort } from '../../support/rawReceiver.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EVENT = { source: 'balancer', event: 'health', data: { upstream_id: 'u1' } };

describe('metering on the local runtime', () => {
  let t: TestRuntime;
  let ok: Receiver;
  let down: Receiver;

  beforeAll(async () => {
    t = await startTestRuntime({
      env: {
        RETRY_MAX_ATTEMPTS: '2',
        RETRY_BASE_DELAY_MS: '10',
        RETRY_MAX_DELAY_MS: '20',
        HTTP_TIMEOUT_MS: '1000',
        // Flushed by the test, so what is written when is the test's to see.
        METERING_FLUSH_MS: '600000',
      },
    });
    ok = await startReceiver();
    down = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await t?.close();
    await ok?.close();
    await down?.close();
  });

  const settle = async () => {
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
    await t.runtime.app.settled();
  };

  it('counts events, attempts, deliveries, failures and function calls per tenant, written only when flushed', async () => {
    // Prepare: three hooks on the same event, one of them failing for good after two attempts
    const health = { source: 'balancer', event: 'health' };
    for (const hook of [
      { ...health, handler: 'webhook', config: { url: `${ok.url}/ok` } },
      { ...health, handler: 'webhook', config: { url: `${down.url}/down` } },
      { ...health, handler: 'lambda', config: { functions: ['return function (data) { return data }'] } },
    ]) {
      expect((await t.request('POST', '/event-hooks', hook)).status).toBe(201);
    }
    await settle();

    // Act
    for (let i = 0; i < 3; i++) expect((await t.request('POST', '/events', EVENT)).status).toBe(202);
    await settle();
    const beforeFlush = await t.request('GET', '/tenants/default/usage');
    await t.runtime.app.meter.flush();
    const usage = await t.request('GET', '/tenants/default/usage');

    // Assess: 3 events × (1 delivered + 2 failed attempts + 1 function delivered)
    expect(beforeFlush.body.data).toEqual([]);
    const today = dayOf(Date.now());
    const counts = {
      events_accepted: 3,
      deliveries_attempted: 12,
      deliveries_delivered: 6,
      deliveries_failed: 6,
      function_invocations: 3,
    };
    expect(usage.status).toBe(200);
    expect(usage.body).toEqual({
      tenant: 'default',
      from: null,
      to: null,
      data: [{ day: today, ...counts }],
      total: counts,
    });
  });

  it('meters a tenant apart from the others', async () => {
    // Prepare
    const request: ApiRequest = {
      method: 'POST',
      path: '/events',
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([EVENT, EVENT]),
      principal: { tenant: 'acme', scopes: ['ingest'] },
    };

    // Act
    expect((await t.runtime.app.ingest(request)).statusCode).toBe(202);
    await settle();
    await t.runtime.app.meter.flush();
    const acme = await t.request('GET', '/tenants/acme/usage');
    const other = await t.request('GET', '/tenants/initech/usage');

    // Assess: acme has no hooks, so nothing was delivered
    expect(acme.body.total).toEqual({
      events_accepted: 2,
      deliveries_attempted: 0,
      deliveries_delivered: 0,
      deliveries_failed: 0,
      function_invocations: 0,
    });
    expect(other.body.data).toEqual([]);
  });

  it('filters by day, both bounds inclusive and optional', async () => {
    const today = dayOf(Date.now());
    const only = await t.request('GET', `/tenants/default/usage?from=${today}&to=${today}`);
    const before = await t.request('GET', '/tenants/default/usage?to=2000-01-01');
    const after = await t.request('GET', '/tenants/default/usage?from=2999-12-31');
    expect(only.body.data.map((d: { day: string }) => d.day)).toEqual([today]);
    expect(only.body).toMatchObject({ from: today, to: today });
    expect(before.body.data).toEqual([]);
    expect(after.body.data).toEqual([]);
  });

  it('answers a bad bound with a 400 that names it, never a 500', async () => {
    const cases: [string, RegExp][] = [
      ['from=2026-13-01', /^from must be a date as YYYY-MM-DD, got '2026-13-01'$/],
      ['to=2026-02-30', /^to must be a date as YYYY-MM-DD/],
      ['from=yesterday', /^from must be a date/],
      ['from=2026-1-1', /^from must be a date/],
      ['from=2026-11-29&to=2026-11-28', /^from \(2026-11-29\) must not be after to \(2026-11-28\)$/],
    ];
    for (const [query, message] of cases) {
      const res = await t.request('GET', `/tenants/default/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.message, query).toMatch(message);
    }
    expect((await t.request('POST', '/tenants/default/usage')).status).toBe(405);
  });
});

describe('metering across a shutdown (a real child process)', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-metering-'));
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The local runtime as `npm start` runs it, on a free port and `dataDir`. */
  const start = async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', METERING_FLUSH_MS: '600000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await untilHealthy(child, url, 'the runtime');
    const stop = () =>
      new Promise<number | null>((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      });
    return { url, stop };
  };

  it('writes what it counted when stopped, long before its next periodic flush', async () => {
    // Prepare
    const first = await start();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${first.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(EVENT),
      });
      expect(res.status).toBe(202);
    }

    // Act
    const code = await first.stop();
    const second = await start();
    const usage = (await (await fetch(`${second.url}/tenants/default/usage`)).json()) as {
      total: Record<string, number>;
    };
    await second.stop();

    // Assess
    expect(code).toBe(0);
    expect(usage.total.events_accepted).toBe(4);
  });
});

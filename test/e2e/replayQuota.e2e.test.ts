import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import { type ReceivedRequest, type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/** Real timers, but a time that moves only when told: each second's window is the test's to choose. */
class PinnedClock implements Clock {
  constructor(public ms: number) {}
  now = () => this.ms;
  setTimer = systemClock.setTimer;
}

const EVENT = { source: 'balancer', event: 'health', data: { upstream_id: 'u1' } };
const isPing = (request: ReceivedRequest) => request.body.toString('utf8').includes('"kong:event_hooks"');

describe("the tenant's events per second and what the service itself puts in", () => {
  let t: TestRuntime;
  const receivers: Receiver[] = [];
  const clock = new PinnedClock(Date.parse('2026-11-29T10:00:00.000Z'));
  const nextSecond = () => {
    clock.ms += 1_000;
  };
  const settle = async () => {
    await t.runtime.app.settled();
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };
  const create = async (hook: Record<string, unknown>) => {
    const res = await t.request('POST', '/event-hooks', hook);
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };

  beforeAll(async () => {
    t = await startTestRuntime({ clock, env: { QUOTA_EVENTS_PER_SECOND: '3' } });
  });
  afterEach(async () => {
    await settle();
    const all = (await t.request('GET', '/event-hooks?size=1000')).body.data as { id: string }[];
    for (const { id } of all) await t.request('DELETE', `/event-hooks/${id}`);
    await settle();
    // The CLI replays every dead letter: each test starts with none.
    const dead = (await t.request('GET', '/dead-letters?size=1000')).body.data as { id: string }[];
    for (const { id } of dead) await t.request('DELETE', `/dead-letters/${id}`);
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(() => t.close());

  it('counts replays against events_per_second: past it a replay answers 429 and leaves the dead letter and the delivery as they were', async () => {
    // Arrange: six dead deliveries, three events a second (the receiver refuses them for good).
    const r = await startReceiver((request) => (isPing(request) ? { status: 200 } : { status: 410 }));
    receivers.push(r);
    const hookId = await create({ source: 'balancer', event: 'health', handler: 'webhook', config: { url: r.url } });
    for (let second = 0; second < 2; second++) {
      nextSecond();
      for (let i = 0; i < 3; i++) expect((await t.request('POST', '/events', EVENT)).status).toBe(202);
    }
    await settle();
    const dead = ((await t.request('GET', '/dead-letters?size=100')).body.data as { id: string; hook_id: string }[])
      .filter((d) => d.hook_id === hookId)
      .map((d) => d.id);
    expect(dead).toHaveLength(6);

    // Act: a replay-all within one second.
    nextSecond();
    const answers = [];
    for (const id of dead.slice(0, 4)) answers.push(await t.request('POST', `/dead-letters/${id}/replay`));
    // A dead delivery other than the fourth dead letter's, which is replayed on its own below.
    const fourth = (await t.request('GET', `/dead-letters/${dead[3]}`)).body.delivery_id;
    expect(fourth).toEqual(expect.any(String));
    const delivery = (
      (await t.request('GET', `/event-hooks/${hookId}/deliveries?status=dead&size=10`)).body.data as { id: string }[]
    ).find((d) => d.id !== fourth) as { id: string };
    const byDelivery = await t.request('POST', `/deliveries/${delivery.id}/replay`);

    // Assess: three replays pass, the fourth and the delivery's replay are refused in Kong's shape.
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
    expect(answers[3]?.headers.get('retry-after')).toBe('1');
    expect(answers[3]?.body).toEqual({ message: 'API rate limit exceeded: at most 3 events per second' });
    expect(byDelivery.status).toBe(429);
    expect(byDelivery.headers.get('retry-after')).toBe('1');
    expect(byDelivery.body).toEqual({ message: 'API rate limit exceeded: at most 3 events per second' });
    expect((await t.request('GET', `/dead-letters/${dead[3]}`)).status).toBe(200);
    expect((await t.request('GET', `/deliveries/${delivery.id}`)).body.status).toBe('dead');

    // The next second, they pass.
    nextSecond();
    expect((await t.request('POST', `/dead-letters/${dead[3]}/replay`)).status).toBe(202);
    expect((await t.request('POST', `/deliveries/${delivery.id}/replay`)).status).toBe(202);
  });

  it('the CLI replays every dead letter past the quota, waiting out each second it is refused', async () => {
    // Arrange: five dead deliveries, in two seconds.
    const r = await startReceiver((request) => (isPing(request) ? { status: 200 } : { status: 410 }));
    receivers.push(r);
    const hookId = await create({ source: 'balancer', event: 'health', handler: 'webhook', config: { url: r.url } });
    for (const batch of [3, 2]) {
      nextSecond();
      for (let i = 0; i < batch; i++) expect((await t.request('POST', '/events', EVENT)).status).toBe(202);
    }
    await settle();
    const deadOf = async () =>
      ((await t.request('GET', '/dead-letters?size=100')).body.data as { hook_id: string }[]).filter(
        (d) => d.hook_id === hookId,
      );
    expect(await deadOf()).toHaveLength(5);

    // Act: the clock moves a second every 400 ms while the CLI runs (it waits 1 s after a 429).
    nextSecond();
    const ticking = setInterval(nextSecond, 400);
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs'), 'dead-letters', 'replay', '--all'],
        {
          env: {
            PATH: process.env.PATH,
            EVENT_HOOKS_URL: t.runtime.url,
            // Under TEST_TENANCY=multi, the admin key the runtime minted.
            ...(t.auth.authorization ? { EVENT_HOOKS_KEY: t.auth.authorization.replace(/^Bearer /, '') } : {}),
          },
          timeout: 30_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      ),
    ).finally(() => clearInterval(ticking));

    // Assess
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/replayed 5 dead letters\n$/) });
    await settle();
    expect(await deadOf()).toHaveLength(5); // replayed, and dead again (the receiver still refuses)
    const replays = r.requests.filter((q) => !isPing(q)).length;
    expect(replays).toBe(10);
  });

  it("never refuses the service's own change events: a hook written with the quota spent still emits its crud event", async () => {
    // Arrange: a hook on the service's own changes to the event hooks.
    const r = await startReceiver(() => ({ status: 200 }));
    receivers.push(r);
    await create({ source: 'crud', event: 'event_hooks', handler: 'webhook', config: { url: r.url } });
    await settle();
    const before = r.requests.length;

    // Act: the second's quota spent by the tenant's own events, then a hook written.
    nextSecond();
    for (let i = 0; i < 3; i++) expect((await t.request('POST', '/events', EVENT)).status).toBe(202);
    expect((await t.request('POST', '/events', EVENT)).status).toBe(429);
    const written = await create({ source: 'balancer', event: 'health', handler: 'log' });
    await settle();

    // Assess: the change reached the crud hook.
    const changes = r.requests.slice(before).map((q) => JSON.parse(q.body.toString('utf8')) as Record<string, unknown>);
    expect(changes.some((body) => JSON.stringify(body).includes(written))).toBe(true);
  });
});

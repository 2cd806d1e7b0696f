import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryIdFor } from '../../shared/pipeline/dispatcher.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli } from './cliRun.ts';

describe('npx event-hooks events get', () => {
  let t: TestRuntime;
  let env: Record<string, string>;
  let snoozed: string;
  beforeAll(async () => {
    t = await startTestRuntime();
    env = { EVENT_HOOKS_URL: t.runtime.url };
    await t.request('PUT', '/event-hooks/sources/cli/snoozed', { fields: ['n'] });
    await t.request('PUT', '/event-hooks/sources/cli/nobody', { fields: ['n'] });
    snoozed = (await t.request('POST', '/event-hooks', { source: 'cli', event: 'snoozed', handler: 'log', snooze: 60 }))
      .body.id;
  });
  afterAll(() => t.close());

  const times = new Map<string, string>();
  const emit = async (event: string, data: Record<string, unknown>): Promise<string> => {
    const posted = await t.request('POST', '/events', { source: 'cli', event, data });
    await t.runtime.bus.idle();
    times.set(posted.body.data[0].id, posted.body.data[0].time);
    return posted.body.data[0].id;
  };

  it('prints the event and a HOOK/OUTCOME/DELIVERY table, or the API’s JSON with --json', async () => {
    const first = await emit('snoozed', { n: 1 });
    const second = await emit('snoozed', { n: 1 });

    const queued = await cli(['events', 'get', first], env);
    const held = await cli(['events', 'get', second], env);
    const json = await cli(['events', 'get', second, '--json'], env);

    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(new RegExp(`^id +${first}$`, 'm'));
    expect(queued.stdout).toMatch(/^data +\{"n":1\}$/m);
    expect(queued.stdout).toMatch(/^HOOK +OUTCOME +DELIVERY$/m);
    expect(queued.stdout).toMatch(
      new RegExp(
        `^${snoozed} +queued +${deliveryIdFor({ id: first, time: times.get(first) as string }, snoozed)}$`,
        'm',
      ),
    );
    expect(held.stdout).toMatch(new RegExp(`^${snoozed} +suppressed:snooze$`, 'm'));
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: second,
      hooks: [{ hook_id: snoozed, outcome: 'suppressed:snooze', delivery_id: null }],
    });
  });

  it('says when no hook matched, and exits 1 with the service’s answer for an unknown id', async () => {
    const nobody = await emit('nobody', { n: 2 });

    const none = await cli(['events', 'get', nobody], env);
    const unknown = await cli(['events', 'get', '00000000-0000-4000-8000-000000000000'], env);

    expect(none.stdout).toContain('no hook matched this event');
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/404/) });
    expect((await cli(['events', 'get'], env)).code).toBe(2);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli } from './cliRun.ts';
import { startFakeKong } from './fakeKong.ts';

type KongHook = Record<string, unknown> & { id: string };

/**
 * A stand-in for Kong's Admin API `GET /event-hooks` (and `/<workspace>/event-hooks`), in Kong's
 * paged shape (`{data, next, offset}`, `next` a path), two hooks a page, entities as Kong answers
 * them: every field present, unset ones `null`, config defaults filled in (docs/reference.md §1).
 */
function startKong(hooks: KongHook[]) {
  return startFakeKong((pathname) => (/^(\/[^/]+)?\/event-hooks$/.test(pathname) ? hooks : undefined));
}

describe('event-hooks import --from-kong', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  let kong: Awaited<ReturnType<typeof startKong>>;
  let dir: string;
  let env: Record<string, string>;
  let kongHooks: KongHook[];

  const ids = {
    webhook: '0e6e5a48-2a5c-4b0b-9d0a-7e1f2a3b4c5d',
    slack: '1f7f6b59-3b6d-4c1c-8e1b-8f2a3b4c5d6e',
    log: '2a8a7c6a-4c7e-4d2d-9f2c-9a3b4c5d6e7f',
    lua: '3b9b8d7b-5d8f-4e3e-8a3d-0b4c5d6e7f80',
  };

  beforeAll(async () => {
    t = await startTestRuntime();
    receiver = await startReceiver();
    kongHooks = [
      {
        id: ids.webhook,
        created_at: 1_650_000_000,
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        on_change: null,
        snooze: null,
        config: { url: `${receiver.url}/kong`, headers: {}, secret: 'hunter2', ssl_verify: false },
      },
      {
        id: ids.slack,
        created_at: 1_650_000_100,
        source: 'crud',
        event: 'admins',
        handler: 'webhook-custom',
        on_change: null,
        snooze: null,
        config: {
          url: `${receiver.url}/slack`,
          method: 'POST',
          payload: {
            text: 'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`',
          },
          payload_format: true,
          body: null,
          body_format: true,
          headers: { 'content-type': 'application/json' },
          headers_format: false,
          secret: null,
          ssl_verify: false,
        },
      },
      {
        id: ids.log,
        created_at: 1_650_000_200,
        source: 'rate-limiting-advanced',
        event: 'rate-limit-exceeded',
        handler: 'log',
        on_change: true,
        snooze: 60,
        config: {},
        // Not a field of the contract's entity (a later Kong may add such fields): left out, not refused.
        updated_at: 1_650_000_250,
      },
      {
        id: ids.lua,
        created_at: 1_650_000_300,
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        on_change: null,
        snooze: null,
        config: {
          functions: ['return function (data, event, source, pid)\n  kong.log.err("seen")\n  return data\nend'],
        },
      },
    ];
    kong = await startKong(kongHooks);
    dir = await mkdtemp(join(tmpdir(), 'eh-import-kong-'));
    env = { EVENT_HOOKS_URL: t.runtime.url };
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await kong.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function stored(): Promise<Record<string, Record<string, unknown>>> {
    const res = await t.request('GET', '/event-hooks?size=1000');
    return Object.fromEntries(res.body.data.map((h: { id: string }) => [h.id, h]));
  }
  beforeEach(async () => {
    for (const id of Object.keys(await stored())) await t.request('DELETE', `/event-hooks/${id}`);
  });

  it('lists the lambda hooks that run Lua and imports nothing without a decision for them', async () => {
    const res = await cli(['import', '--from-kong', kong.url], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch('1 Kong hook with handler lambda runs Lua code, which this service does not run');
    expect(res.stderr).toMatch(`${ids.lua}  crud/consumers  1 Lua function(s)`);
    expect(res.stderr).toMatch(/--replace <id>=<file\.js>.*--lua=skip/s);
    expect(await stored()).toEqual({});
  });

  it('--dry-run prints the plan over every page and writes nothing', async () => {
    const res = await cli(['import', '--from-kong', kong.url, '--lua=skip', '--dry-run'], env);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(`skipped ${ids.lua} (crud/consumers, lambda): its Lua code does not run here`);
    expect(res.stdout).toMatch(/plan: 3 to create, 0 to update, 0 unchanged, 0 to delete/);
    expect(res.stdout).toMatch(/dry run: nothing was written/);
    expect(await stored()).toEqual({});
  });

  it('imports with --lua=skip keeping ids and created_at, reading every page with the token; a second import changes nothing', async () => {
    kong.requests.length = 0;
    const res = await cli(['import', '--from-kong', kong.url, '--token', 'kong-secret', '--lua=skip'], env);
    expect(res.stderr).toMatch(/skipped/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/applied: 3 created/);
    // Two pages of two, following `next`, the token on each.
    expect(kong.requests).toEqual([
      { path: '/event-hooks?size=1000', token: 'kong-secret' },
      { path: '/event-hooks?offset=2', token: 'kong-secret' },
    ]);
    const hooks = await stored();
    expect(Object.keys(hooks).sort()).toEqual([ids.webhook, ids.slack, ids.log].sort());
    for (const kongHook of kongHooks.slice(0, 3)) {
      // Kong's entity, field for field, plus this service's own fields at their defaults.
      const { updated_at: _notKongs, ...fields } = kongHook;
      expect(hooks[kongHook.id]).toEqual({ ...fields, filter: null, threshold: null, enabled: true });
    }
    const again = await cli(['import', '--from-kong', kong.url, '--lua=skip'], env);
    expect(again.stdout).toMatch(/^no changes: 3 hooks unchanged$/m);
  });

  it('imports a lambda hook with its JavaScript replacement, and reads a workspace', async () => {
    const js = join(dir, 'seen.js');
    await writeFile(js, 'return async function (data, event, source, pid) { return { ...data, seen: true } }');
    kong.requests.length = 0;
    const res = await cli(
      ['import', '--from-kong', `${kong.url}/`, '--workspace', 'team-a', '--replace', `${ids.lua}=${js}`],
      env,
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(kong.requests[0]?.path).toBe('/team-a/event-hooks?size=1000');
    expect(kong.requests[1]?.path).toBe('/team-a/event-hooks?offset=2');
    const hook = (await stored())[ids.lua];
    expect(hook).toMatchObject({
      handler: 'lambda',
      created_at: 1_650_000_300,
      config: { functions: ['return async function (data, event, source, pid) { return { ...data, seen: true } }'] },
    });
  });

  it('refuses a --replace for an id that is not a Kong lambda hook, and an unreachable Kong', async () => {
    const js = join(dir, 'seen.js');
    await writeFile(js, 'return function (data) { return data }');
    const wrong = await cli(['import', '--from-kong', kong.url, '--replace', `${ids.log}=${js}`], env);
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringMatching(/Kong has no lambda hook with this id/) });
    const down = await cli(['import', '--from-kong', 'http://127.0.0.1:1', '--lua=skip'], env);
    expect(down).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/cannot reach Kong at http:\/\/127\.0\.0\.1:1/),
    });
    expect(await stored()).toEqual({});
  });
});

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli } from './cliRun.ts';
import { startFakeKong } from './fakeKong.ts';

type Row = { id: string; created_at: number; updated_at?: number; [key: string]: unknown };

/**
 * A stand-in for Kong's Admin API: `GET /<entity>` and `GET /upstreams/{id}/targets` in Kong's
 * paged shape (`{data, next, offset}`), two rows a page so that every listing takes several pages.
 */
async function startKong() {
  const tables: Record<string, Row[]> = {
    consumers: [],
    services: [],
    routes: [],
    plugins: [],
    upstreams: [],
    certificates: [],
  };
  const targets: Record<string, Row[]> = {};
  const kong = await startFakeKong((pathname) => {
    const parts = pathname.split('/').filter(Boolean);
    if (parts.length === 1) return tables[parts[0] as string];
    if (parts.length === 3 && parts[0] === 'upstreams' && parts[2] === 'targets')
      return targets[parts[1] as string] ?? [];
    return undefined;
  });
  const row = (fields: Record<string, unknown>): Row => ({ id: randomUUID(), created_at: 1_700_000_000, ...fields });
  return { ...kong, tables, targets, row };
}

describe('event-hooks watch-kong', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  let kong: Awaited<ReturnType<typeof startKong>>;
  let dir: string;
  beforeAll(async () => {
    t = await startTestRuntime();
    receiver = await startReceiver();
    kong = await startKong();
    dir = await mkdtemp(join(tmpdir(), 'eh-watch-kong-'));
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await kong.close();
    await rm(dir, { recursive: true, force: true });
  });

  // The hook on `crud` also hears its own creation (`event_hooks`); only Kong's entities count here.
  const kongEvents = (requests: { body: Buffer }[]) =>
    requests.map((r) => JSON.parse(r.body.toString())).filter((b) => b.source === 'crud' && b.schema !== 'event_hooks');
  const deliveredSince = async (from: number, settleMs = 1_500) => {
    await new Promise((r) => setTimeout(r, settleMs));
    return kongEvents(receiver.requests.slice(from));
  };

  it('takes a baseline, then sends exactly one crud event per change, and none again after a restart', async () => {
    const { tables, targets, row } = kong;
    for (const username of ['ann', 'bob', 'cyd']) tables.consumers!.push(row({ username, updated_at: 1_700_000_000 }));
    const service = row({ name: 'orders', host: 'orders.internal', updated_at: 1_700_000_000 });
    tables.services!.push(service);
    const upstream = row({ name: 'orders-up', updated_at: 1_700_000_000 });
    tables.upstreams!.push(upstream);
    targets[upstream.id] = [row({ target: '10.0.0.1:80', weight: 100, upstream: { id: upstream.id } })];

    const hook = await t.request('POST', '/event-hooks', {
      source: 'crud',
      handler: 'webhook',
      config: { url: `${receiver.url}/crud` },
    });
    expect(hook.status).toBe(201);
    await receiver.waitFor(1); // the ping
    const start = receiver.requests.length;

    const state = join(dir, 'state.json');
    const args = ['watch-kong', '--admin-url', kong.url, '--token', 't0k', '--state', state, '--once'];
    const env = { EVENT_HOOKS_URL: t.runtime.url };

    const baseline = await cli(args, env);
    expect(baseline).toMatchObject({ code: 0, stdout: 'baseline taken: 6 entities, nothing sent\n' });
    expect(await deliveredSince(start, 500)).toEqual([]);
    // Every page was read (two rows a page), with the token.
    expect(kong.requests.map((r) => r.path)).toContain('/consumers?size=1000&offset=2');
    expect(kong.requests.every((r) => r.token === 't0k')).toBe(true);

    // Between polls: one consumer created, the service updated, a consumer deleted, a target added.
    const dan = row({ username: 'dan', updated_at: 1_700_000_100 });
    tables.consumers!.push(dan);
    const oldService = { ...service };
    Object.assign(service, { host: 'orders-v2.internal', updated_at: 1_700_000_100 });
    const [bob] = tables.consumers!.splice(1, 1);
    const target = row({ target: '10.0.0.2:80', weight: 100, upstream: { id: upstream.id } });
    targets[upstream.id]!.push(target);
    const beforeChanges = join(dir, 'state.before.json');
    await copyFile(state, beforeChanges);

    const changes = await cli(args, env);
    expect(changes.code).toBe(0);
    expect(changes.stdout.trim().split('\n').sort()).toEqual(
      [
        `consumers:create ${dan.id}`,
        `services:update ${service.id}`,
        `consumers:delete ${bob!.id}`,
        `targets:create ${target.id}`,
      ].sort(),
    );
    let bodies: Record<string, unknown>[] = [];
    for (let i = 0; i < 50 && bodies.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      bodies = kongEvents(receiver.requests.slice(start));
    }
    expect(bodies).toHaveLength(4);
    const afterChanges = receiver.requests.length;
    const byEvent = Object.fromEntries(bodies.map((b) => [`${b.event}:${b.operation}`, b]));
    // Sent as `consumers:create`; the receiver sees Kong's webhook body, whose `event` is the entity.
    expect(byEvent['consumers:create']).toEqual({
      source: 'crud',
      event: 'consumers',
      operation: 'create',
      entity: dan,
      schema: 'consumers',
    });
    expect(byEvent['services:update']).toEqual({
      source: 'crud',
      event: 'services',
      operation: 'update',
      entity: service,
      old_entity: oldService,
      schema: 'services',
    });
    expect(byEvent['consumers:delete']).toEqual({
      source: 'crud',
      event: 'consumers',
      operation: 'delete',
      entity: bob,
      schema: 'consumers',
    });
    expect(byEvent['targets:create']).toMatchObject({ operation: 'create', entity: target, schema: 'targets' });
    expect(await deliveredSince(afterChanges)).toEqual([]);

    // A restart on the saved state: nothing changed, nothing sent.
    expect(await cli(args, env)).toMatchObject({ code: 0, stdout: '' });
    // A crash after sending but before saving: the old state again. The events are sent again with
    // the same ids, and the service answers with the first events instead of delivering twice.
    await copyFile(beforeChanges, state);
    const replay = await cli([...args, '--json'], env);
    expect(replay.code).toBe(0);
    expect(replay.stdout.trim().split('\n')).toHaveLength(4);
    expect(await deliveredSince(afterChanges)).toEqual([]);
    // The state file was replaced, never left half-written: no temp file remains beside it.
    expect((await readdir(dir)).sort()).toEqual(['state.before.json', 'state.json']);
    expect(JSON.parse(await readFile(state, 'utf8')).entities.consumers[dan.id]).toEqual(dan);
    expect((await stat(state)).mode & 0o777).toBe(0o600);
  });

  it('keeps polling at --interval until SIGTERM, then exits 0', async () => {
    const state = join(dir, 'loop.json');
    const cliPath = join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs');
    const args = ['watch-kong', '--admin-url', kong.url, '--state', state, '--interval', '200ms'];
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH, EVENT_HOOKS_URL: t.runtime.url },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !pattern.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
      expect(stdout).toMatch(pattern);
    };
    try {
      await until(/baseline taken/);
      const eve = kong.row({ username: 'eve', updated_at: 1_700_000_200 });
      kong.tables.consumers!.push(eve);
      await until(new RegExp(`consumers:create ${eve.id}`));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout.match(/consumers:create/g)).toHaveLength(1);
  });

  it('keeps its state when the service cannot take the events, and sends them on the next poll', async () => {
    const state = join(dir, 'refused.json');
    const args = ['watch-kong', '--admin-url', kong.url, '--state', state, '--once'];
    expect((await cli(args, { EVENT_HOOKS_URL: t.runtime.url })).code).toBe(0);
    const saved = await readFile(state, 'utf8');
    const fay = kong.row({ username: 'fay', updated_at: 1_700_000_300 });
    kong.tables.consumers!.push(fay);
    const down = await cli(args, { EVENT_HOOKS_URL: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ code: 1, stderr: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:1/) });
    expect(await readFile(state, 'utf8')).toBe(saved);
    const up = await cli(args, { EVENT_HOOKS_URL: t.runtime.url });
    expect(up).toMatchObject({ code: 0, stdout: `consumers:create ${fay.id}\n` });
  });

  it('exits 1 with the reason when Kong is unreachable or answers an error, and 2 for a bad interval', async () => {
    const state = join(dir, 'other.json');
    const env = { EVENT_HOOKS_URL: t.runtime.url };
    const down = await cli(['watch-kong', '--admin-url', 'http://127.0.0.1:1', '--state', state, '--once'], env);
    expect(down).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/cannot reach Kong at http:\/\/127\.0\.0\.1:1/),
    });
    const wrong = await cli(['watch-kong', '--admin-url', `${kong.url}/nope`, '--state', state, '--once'], env);
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringMatching(/^404: Kong \/consumers: Not found/) });
    const bad = await cli(['watch-kong', '--admin-url', kong.url, '--interval', 'soon', '--state', state], env);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/'soon' is not a duration/) });
    expect(await cli(['watch-kong', '--once'], env)).toMatchObject({ code: 2, stderr: /--admin-url/ });
  });
});

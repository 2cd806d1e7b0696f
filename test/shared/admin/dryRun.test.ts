import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

// `PUT /event-hooks/{id}?dry_run=true`: the server's own validation, used by `event-hooks apply`
// to check a whole file before writing anything.
describe('PUT /event-hooks/{id}?dry_run=true', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  const id = '6b9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
  const hook = { source: 'crud', event: 'consumers', handler: 'webhook', config: { url: 'https://example.com/h' } };

  it('answers the hook that would be stored, defaults filled in, and writes nothing', async () => {
    const res = await t.request('PUT', `/event-hooks/${id}?dry_run=true`, { ...hook, created_at: 1700000000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      created_at: 1700000000,
      snooze: null,
      filter: null,
      threshold: null,
      config: { url: 'https://example.com/h', headers: {}, secret: null, ssl_verify: false },
    });
    expect((await t.request('GET', `/event-hooks/${id}`)).status).toBe(404);
  });

  it('refuses what the write would refuse, with the same schema violation', async () => {
    const bad = { ...hook, event: 'nope', snooze: -1 };
    const dry = await t.request('PUT', `/event-hooks/${id}?dry_run=true`, bad);
    const real = await t.request('PUT', `/event-hooks/${id}`, bad);
    expect(dry.status).toBe(400);
    expect(dry.body).toEqual(real.body);
    expect(dry.body.fields).toMatchObject({ snooze: expect.any(String) });
  });

  it('leaves a stored hook as it was, and answers what a replacement would store', async () => {
    const stored = await t.request('PUT', `/event-hooks/${id}`, hook);
    expect(stored.status).toBe(200);
    const dry = await t.request('PUT', `/event-hooks/${id}?dry_run=true`, { ...hook, snooze: 30 });
    expect(dry.body).toMatchObject({ snooze: 30, created_at: stored.body.created_at });
    expect((await t.request('GET', `/event-hooks/${id}`)).body).toEqual(stored.body);
  });

  it('loads user code as the write does: code that returns no function is refused by the dry run too', async () => {
    const other = '1d9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
    const lambda = { source: 'crud', handler: 'lambda', config: { functions: ['return 42'] } };
    const dry = await t.request('PUT', `/event-hooks/${other}?dry_run=true`, lambda);
    const real = await t.request('PUT', `/event-hooks/${other}`, lambda);
    expect(real.status).toBe(400);
    expect(dry.status).toBe(400);
    expect(dry.body).toEqual(real.body);
    const good = { ...lambda, config: { functions: ['return function (data) { return data }'] } };
    expect((await t.request('PUT', `/event-hooks/${other}?dry_run=true`, good)).status).toBe(200);
    expect((await t.request('GET', `/event-hooks/${other}`)).status).toBe(404);
  });

  it('refuses a dry_run value other than true or false, so a typo never writes', async () => {
    const other = '0c9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
    const res = await t.request('PUT', `/event-hooks/${other}?dry_run=yes`, hook);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/dry_run must be true or false/);
    expect((await t.request('GET', `/event-hooks/${other}`)).status).toBe(404);
  });

  it('records nothing in the audit log: a plan checked on every apply is not a change', async () => {
    const other = '2e9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
    const before = (await t.request('GET', '/audit')).body.data as unknown[];
    expect((await t.request('PUT', `/event-hooks/${other}?dry_run=true`, hook)).status).toBe(200);
    expect((await t.request('PUT', `/event-hooks/${other}?dry_run=true`, { ...hook, event: 'nope' })).status).toBe(400);
    expect((await t.request('GET', '/audit')).body.data).toEqual(before);
    // a real write still is recorded
    expect((await t.request('PUT', `/event-hooks/${other}`, hook)).status).toBe(200);
    const [latest] = (await t.request('GET', '/audit')).body.data as { route: string; resource_id: string }[];
    expect(latest).toMatchObject({ route: '/event-hooks/{id}', resource_id: other });
  });

  it('refuses dry_run where it is not supported, so a PATCH, POST or DELETE meant as a dry run never writes', async () => {
    const other = '3f9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
    expect((await t.request('PUT', `/event-hooks/${other}`, hook)).status).toBe(200);
    const before = (await t.request('GET', `/event-hooks/${other}`)).body;
    const count = async () => ((await t.request('GET', '/event-hooks?size=1000')).body.data as unknown[]).length;
    const hooks = await count();
    for (const [method, path, body] of [
      ['PATCH', `/event-hooks/${other}?dry_run=true`, { snooze: 99 }],
      ['POST', '/event-hooks?dry_run=true', hook],
      ['DELETE', `/event-hooks/${other}?dry_run=true`, undefined],
    ] as const) {
      const res = await t.request(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.message).toMatch(/dry_run/);
    }
    expect((await t.request('GET', `/event-hooks/${other}`)).body).toEqual(before);
    expect(await count()).toBe(hooks);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalDeliveryQueue } from '../../../shared/adapters/local/deliveryQueue.ts';
import { createLocalEventBus } from '../../../shared/adapters/local/eventBus.ts';
import { type App, createApp } from '../../../shared/compositionRoot.ts';
import { loadConfig } from '../../../shared/config.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { createHttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import type { FunctionRunner } from '../../../shared/ports/functionRunner.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const CODE = (n: number) => `return function (data) { return { ...data, n: ${n} } }`;

/** Deploys nothing: the quota is what is under test, not the functions. */
const runner: FunctionRunner = {
  deploy: async () => undefined,
  remove: async () => undefined,
  invoke: async () => null,
};

/**
 * Two apps on one store, each with its own HookService, quota book and caches: what two Lambda
 * instances of the admin function are. Their in-process write lanes cannot see each other.
 */
describe('the hooks and user_functions quotas across app instances on one store', () => {
  let store: TestStore;
  const http = createHttpSender();
  const closers: (() => Promise<void>)[] = [];
  let a: App;
  let b: App;
  /** The instances a race spreads its creates over: `a`, `b` and two more. */
  let instances: App[];

  const startApp = (): App => {
    const logger = memoryLogger();
    const queue = createLocalDeliveryQueue({ logger });
    const bus = createLocalEventBus({ logger });
    const config = loadConfig({
      TABLE_NAME: store.tableName,
      RUNTIME: 'local',
      DYNAMODB_ENDPOINT: store.endpoint,
      QUOTA_HOOKS: '10',
      QUOTA_USER_FUNCTIONS: '10',
    });
    const app = createApp({
      config,
      client: store.client,
      clock: systemClock,
      logger,
      retryPolicy: LOCAL_RETRY_POLICY,
      ports: { bus, queue, functions: runner, http },
    });
    closers.push(async () => {
      await bus.stop();
      await queue.stop({ drainMs: 0 });
      await app.settled();
    });
    return app;
  };

  beforeAll(async () => {
    store = await startTestStore();
    a = startApp();
    b = startApp();
    instances = [a, b, startApp(), startApp()];
  });

  afterAll(async () => {
    for (const close of closers) await close();
    http.close();
    await store?.close();
  });

  const request = async (app: App, tenant: string, method: string, path: string, body?: unknown) => {
    const res = await app.admin({
      method,
      path,
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      principal: { tenant, scopes: ['admin'] },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.statusCode,
      headers: res.headers ?? {},
      body: res.body ? (JSON.parse(res.body) as EventHook & { message?: string }) : undefined,
    };
  };

  const webhook = { source: 'crud', event: 'consumers', handler: 'webhook', config: { url: 'http://127.0.0.1:9/x' } };
  const lambda = (n: number) => ({
    source: 'crud',
    event: 'consumers',
    handler: 'lambda',
    config: { functions: [CODE(n)] },
  });

  /** 40 creates at once, spread over the instances. */
  const race = (tenant: string, body: (i: number) => unknown) =>
    Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request(instances[i % instances.length]!, tenant, 'POST', '/event-hooks', body(i)),
      ),
    );

  const statuses = (answers: { status: number }[]) => ({
    created: answers.filter((r) => r.status === 201).length,
    refused: answers.filter((r) => r.status === 429).length,
  });

  it('40 concurrent creates on four instances against a hooks quota of 10 store exactly 10 and answer 30 with 429', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;

    // Act
    const answers = await race(tenant, () => webhook);

    // Assess
    expect(statuses(answers)).toEqual({ created: 10, refused: 30 });
    expect(await a.hooks.listAll(tenant)).toHaveLength(10);
    // Every refused create gave its reservation back.
    expect(await a.hooks.usage(tenant, { functionsOf: () => 0 })).toEqual({ hooks: 10, functions: 0 });
    const refused = answers.find((r) => r.status === 429)!;
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.body).toEqual({ message: 'quota exceeded: this tenant may have at most 10 event hooks' });
  });

  it('40 concurrent creates on four instances of one user function each against a user_functions quota of 10 store exactly 10', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    for (const app of instances) await app.quotas.set(tenant, { hooks: null });

    // Act
    const answers = await race(tenant, lambda);

    // Assess
    expect(statuses(answers)).toEqual({ created: 10, refused: 30 });
    expect(await a.hooks.listAll(tenant)).toHaveLength(10);
    // Every refused create gave its function reservation back.
    expect((await a.hooks.usage(tenant, { functionsOf: () => 0 })).functions).toBe(10);
    const refused = answers.find((r) => r.status === 429)!;
    expect(refused.body?.message).toMatch(/at most 10 user functions/);
  });

  it('a delete on one instance frees a slot that a create on the other takes, once', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    expect(statuses(await race(tenant, () => webhook)).created).toBe(10);
    const [first] = await a.hooks.listAll(tenant);

    // Act
    const deleted = await request(b, tenant, 'DELETE', `/event-hooks/${first!.id}`);
    const answers = await Promise.all([
      request(a, tenant, 'POST', '/event-hooks', webhook),
      request(b, tenant, 'POST', '/event-hooks', webhook),
    ]);

    // Assess
    expect(deleted.status).toBe(204);
    expect(statuses(answers)).toEqual({ created: 1, refused: 1 });
    expect(await a.hooks.listAll(tenant)).toHaveLength(10);
    expect((await a.hooks.usage(tenant, { functionsOf: () => 0 })).hooks).toBe(10);
  });

  it('a deleted tenant leaves no count behind: the same id starts again from nothing', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    expect(statuses(await race(tenant, () => webhook)).created).toBe(10);

    // Act
    await a.deleteTenant(tenant);
    const answers = await race(tenant, () => webhook);

    // Assess
    expect(statuses(answers)).toEqual({ created: 10, refused: 30 });
    expect(await b.hooks.listAll(tenant)).toHaveLength(10);
    expect((await b.hooks.usage(tenant, { functionsOf: () => 0 })).hooks).toBe(10);
  });

  it('counts the hooks a tenant stored before the counter existed, also when the first creates race', async () => {
    // Prepare: hooks written straight to the store, as before this change, with no counter.
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 4; i++) {
      await a.hooks.create(tenant, { ...webhook, id: randomUUID(), created_at: 1 } as unknown as EventHook);
    }

    // Act
    const answers = await race(tenant, () => webhook);

    // Assess
    expect(statuses(answers)).toEqual({ created: 6, refused: 34 });
    expect(await a.hooks.listAll(tenant)).toHaveLength(10);
  });

  it('PUT counts a hook it creates and not one it replaces; code changes count by their delta', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    await a.quotas.set(tenant, { hooks: 2, user_functions: 3 });
    await b.quotas.set(tenant, { hooks: 2, user_functions: 3 });
    const id = randomUUID();
    expect((await request(a, tenant, 'PUT', `/event-hooks/${id}`, lambda(1))).status).toBe(200);

    // Act
    const replaced = await request(b, tenant, 'PUT', `/event-hooks/${id}`, lambda(2));
    const second = await request(a, tenant, 'PUT', `/event-hooks/${randomUUID()}`, lambda(3));
    const third = await request(b, tenant, 'PUT', `/event-hooks/${randomUUID()}`, webhook);
    const grown = await request(a, tenant, 'PATCH', `/event-hooks/${id}`, {
      config: { functions: [CODE(4), CODE(5)] },
    });
    const tooMany = await request(b, tenant, 'PATCH', `/event-hooks/${id}`, {
      config: { functions: [CODE(4), CODE(5), CODE(6)] },
    });

    // Assess
    expect(replaced.status).toBe(200);
    expect(second.status).toBe(200);
    expect(third.status).toBe(429);
    expect(grown.status).toBe(200);
    expect(tooMany.status).toBe(429);
    expect(tooMany.body?.message).toMatch(/at most 3 user functions \(this write makes 4\)/);
  });

  it('a write the store refuses gives its room back; fewer code entries free function room', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    for (const app of [a, b]) await app.quotas.set(tenant, { hooks: 2, user_functions: 2 });
    const id = randomUUID();
    const two = { ...lambda(1), config: { functions: [CODE(1), CODE(2)] } };
    expect((await request(a, tenant, 'PUT', `/event-hooks/${id}`, two)).status).toBe(200);

    // Act: an id already taken (409) twice, then code entries given up and taken by another hook.
    const taken = [
      await request(a, tenant, 'POST', '/event-hooks', { ...webhook, id }),
      await request(b, tenant, 'POST', '/event-hooks', { ...webhook, id }),
    ];
    const shrunk = await request(b, tenant, 'PATCH', `/event-hooks/${id}`, { config: { functions: [CODE(1)] } });
    const other = await request(a, tenant, 'POST', '/event-hooks', lambda(3));

    // Assess
    expect(taken.map((r) => r.status)).toEqual([409, 409]);
    expect(shrunk.status).toBe(200);
    expect(other.status).toBe(201);
    expect(await a.hooks.usage(tenant, { functionsOf: () => 0 })).toEqual({ hooks: 2, functions: 2 });
  });

  it('a dry-run PUT refuses what the real PUT would, past either quota, and reserves nothing', async () => {
    // Prepare: a quota of 1 hook and 2 user functions, one hook of 1 function stored.
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    for (const app of [a, b]) await app.quotas.set(tenant, { hooks: 1, user_functions: 2 });
    const id = randomUUID();
    expect((await request(a, tenant, 'PUT', `/event-hooks/${id}`, lambda(1))).status).toBe(200);
    const dryRun = (app: App, hookId: string, body: unknown) =>
      app.admin({
        method: 'PUT',
        path: `/event-hooks/${hookId}`,
        query: new URLSearchParams({ dry_run: 'true' }),
        headers: { 'content-type': 'application/json' },
        principal: { tenant, scopes: ['admin'] },
        body: JSON.stringify(body),
      });
    const three = { ...lambda(1), config: { functions: [CODE(1), CODE(2), CODE(3)] } };
    const two = { ...lambda(1), config: { functions: [CODE(1), CODE(2)] } };

    // Act
    const newId = randomUUID();
    const real = await request(a, tenant, 'PUT', `/event-hooks/${newId}`, webhook);
    const dryNew = await dryRun(b, newId, webhook);
    const dryGrown = await dryRun(b, id, three);
    const dryFits = await dryRun(a, id, two);
    const dryReplace = await dryRun(b, id, webhook);

    // Assess
    expect(real.status).toBe(429);
    expect(dryNew.statusCode).toBe(429);
    expect(dryNew.headers?.['retry-after']).toBe('60');
    expect(JSON.parse(dryNew.body ?? '{}')).toEqual({
      message: 'quota exceeded: this tenant may have at most 1 event hooks',
    });
    expect(dryGrown.statusCode).toBe(429);
    expect(JSON.parse(dryGrown.body ?? '{}').message).toMatch(/at most 2 user functions \(this write makes 3\)/);
    expect(dryFits.statusCode).toBe(200);
    expect(dryReplace.statusCode).toBe(200);
    expect(await a.hooks.usage(tenant, { functionsOf: () => 0 })).toEqual({ hooks: 1, functions: 1 });
    expect(await a.hooks.listAll(tenant)).toHaveLength(1);
  });

  it('a quota lowered below the count refuses creates and keeps the hooks', async () => {
    // Prepare
    const tenant = `race-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 3; i++) expect((await request(a, tenant, 'POST', '/event-hooks', webhook)).status).toBe(201);
    await b.quotas.set(tenant, { hooks: 1 });

    // Act
    const refused = await request(b, tenant, 'POST', '/event-hooks', webhook);
    const [first] = await b.hooks.listAll(tenant);
    const updated = await request(b, tenant, 'PATCH', `/event-hooks/${first!.id}`, { event: 'services' });
    const deleted = await request(b, tenant, 'DELETE', `/event-hooks/${first!.id}`);
    const stillRefused = await request(b, tenant, 'POST', '/event-hooks', webhook);

    // Assess
    expect(refused.status).toBe(429);
    expect(updated.status).toBe(200);
    expect(deleted.status).toBe(204);
    expect(stillRefused.status).toBe(429);
    expect(await b.hooks.listAll(tenant)).toHaveLength(2);
  });
});

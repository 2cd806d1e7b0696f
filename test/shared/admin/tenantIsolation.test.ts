import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/localRuntime.ts';
import { ADMIN_ROUTES } from '../../../shared/admin/router.ts';
import { ConfigError } from '../../../shared/config.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { deliveryIdFor } from '../../../shared/pipeline/dispatcher.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/**
 * One deployment, two tenants, in api-keys multi-tenant mode (docs/saas.md), on the embedded store
 * or on DynamoDB Local (`npm run test:dynamodb-local` runs this folder on both). Tenant B is hostile:
 * every route on A's ids, forged tenant fields, A's idempotency key, hooks aimed at the service
 * itself. The key alone decides the tenant.
 */

const OPERATOR_KEY = `op-${randomUUID()}-${randomUUID()}`;
const ECHO = 'return function (data) { return { got: data } }';

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally
  body: any;
  text: string;
  headers: Headers;
}

describe('multi-tenant api-keys mode', () => {
  let t: TestRuntime;
  let receiverA: Receiver;
  let receiverB: Receiver;
  const tenantA = {
    id: '',
    admin: '',
    read: '',
    ingest: '',
    hook: '',
    source: 'shop',
    deadLetter: '',
    event: '',
    eventTime: '',
  };
  const tenantB = { id: '', admin: '', hook: '' };

  async function call(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const res = await fetch(`${t.runtime.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text, headers: res.headers };
  }
  const operator = (method: string, path: string, body?: unknown) =>
    call(method, path, { key: OPERATOR_KEY, ...(body === undefined ? {} : { body }) });

  async function newTenant(name: string) {
    const created = await operator('POST', '/tenants', { name });
    expect(created.status).toBe(201);
    const key = async (scopes: string[]) => {
      const res = await operator('POST', `/tenants/${created.body.id}/keys`, { scopes });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    return { id: created.body.id as string, key };
  }

  const settle = async () => {
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();
  };

  beforeAll(async () => {
    receiverA = await startReceiver();
    receiverB = await startReceiver();
    t = await startTestRuntime({ env: { TENANCY: 'multi', AUTH_MODE: 'api-keys', OPERATOR_KEY } });
    const a = await newTenant('acme');
    tenantA.id = a.id;
    tenantA.admin = await a.key(['admin']);
    tenantA.read = await a.key(['read']);
    tenantA.ingest = await a.key(['ingest']);
    const b = await newTenant('bravo');
    tenantB.id = b.id;
    tenantB.admin = await b.key(['admin']);

    const source = await call('PUT', `/event-hooks/sources/${tenantA.source}/order`, {
      key: tenantA.admin,
      body: { description: 'an order' },
    });
    expect(source.status).toBe(200);
    const hookA = await call('POST', '/event-hooks', {
      key: tenantA.admin,
      body: {
        source: 'shop',
        event: 'order',
        handler: 'webhook',
        config: { url: receiverA.url, secret: 'a-secret-of-tenant-a', headers: { 'x-api-key': 'a-header-credential' } },
      },
    });
    expect(hookA.status).toBe(201);
    tenantA.hook = hookA.body.id;
    // A dead letter of A's, as the delivery worker stores one.
    const dead = await t.runtime.app.deadLetters.put({
      job: {
        type: 'deliver.v1',
        deliveryId: randomUUID(),
        tenant: tenantA.id,
        hookId: tenantA.hook,
        event: {
          id: randomUUID(),
          tenant: tenantA.id,
          time: new Date().toISOString(),
          source: 'shop',
          event: 'order',
          data: { n: 1 },
        },
        attempt: 3,
        firstQueuedAt: Date.now(),
      },
      reason: 'receiver answered 500',
      deadLetteredAt: Date.now(),
    });
    tenantA.deadLetter = dead.id;
    const sent = await call('POST', '/events', {
      key: tenantA.admin,
      body: { source: 'shop', event: 'order', data: { first: true } },
    });
    expect(sent.status).toBe(202);
    tenantA.event = sent.body.data[0].id;
    tenantA.eventTime = sent.body.data[0].time;

    // B has a hook on the same built-in source as A's crud changes, to see what reaches it.
    const hookB = await call('POST', '/event-hooks', {
      key: tenantB.admin,
      body: { source: 'crud', event: 'event_hooks', handler: 'webhook', config: { url: receiverB.url } },
    });
    expect(hookB.status).toBe(201);
    tenantB.hook = hookB.body.id;
    await settle();
  });
  afterAll(async () => {
    await t?.close();
    await receiverA?.close();
    await receiverB?.close();
  });

  describe('authentication at the edge', () => {
    it('answers 401 in Kong’s shape without a key, with an unknown key, or a malformed one', async () => {
      for (const key of [undefined, `ehk_0123456789abcdef_${'x'.repeat(43)}`, 'nonsense']) {
        const res = await call('GET', '/event-hooks', key ? { key } : {});
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ message: expect.stringMatching(/^Unauthorized/) });
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
      // An unknown path is 401 too: without a key nothing says which paths exist.
      expect((await call('GET', '/no-such-path')).status).toBe(401);
      expect((await call('GET', '/no-such-path', { key: tenantA.admin })).status).toBe(404);
    });

    it('takes the key as Kong-Admin-Token too (Kong tooling with RBAC tokens)', async () => {
      const res = await call('GET', '/event-hooks', { headers: { 'kong-admin-token': tenantA.admin } });
      expect(res.status).toBe(200);
      expect(res.body.data.map((h: EventHook) => h.id)).toEqual([tenantA.hook]);
    });

    it('needs no key for /health, and the operator key for /metrics and /tenants', async () => {
      expect((await call('GET', '/health')).status).toBe(200);
      expect((await call('GET', '/metrics')).status).toBe(401);
      expect((await call('GET', '/metrics', { key: tenantA.admin })).status).toBe(403);
      const metrics = await operator('GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/events_accepted|# (HELP|TYPE)/);
      const tenants = await call('GET', '/tenants', { key: tenantA.admin });
      expect(tenants).toMatchObject({ status: 403, body: { message: "this route needs the operator's key" } });
    });

    it('judges an encoded or doubled-slash path as the route it reaches: no tenant key opens /tenants, /audit or /ping', async () => {
      for (const path of ['/%74enants', `/%74enants/${tenantA.id}/keys`, `/tenants//${tenantA.id}/keys`]) {
        const res = await call('GET', path, { key: tenantA.admin });
        expect(res.status, path).toBe(403);
        expect(res.text, path).not.toContain(tenantB.id);
      }
      const minted = await call('POST', `/%74enants/${tenantB.id}/keys`, {
        key: tenantA.admin,
        body: { scopes: ['admin'] },
      });
      expect(minted.status).toBe(403);
      expect(minted.text).not.toMatch(/ehk_/);
      expect((await call('GET', '/%61udit', { key: tenantA.read })).status).toBe(403);
      expect((await call('GET', `/event-hooks/${tenantA.hook}/%70ing`, { key: tenantA.read })).status).toBe(403);
    });

    it("refuses the operator key on a tenant's routes (403): it manages tenants, it owns no hooks", async () => {
      const res = await operator('GET', '/event-hooks');
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/operator key manages tenants/);
    });

    it('gives each scope its routes and 403 for the others', async () => {
      // read: GETs, with secrets masked
      const read = await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.read });
      expect(read.status).toBe(200);
      expect(read.body.config.secret).toBe('[redacted]');
      expect(read.body.config.headers['x-api-key']).toBe('[redacted]');
      expect(read.text).not.toContain('a-secret-of-tenant-a');
      const list = await call('GET', '/event-hooks', { key: tenantA.read });
      expect(list.text).not.toContain('a-secret-of-tenant-a');
      expect(list.text).not.toContain('a-header-credential');
      expect((await call('GET', '/dead-letters', { key: tenantA.read })).status).toBe(200);
      expect((await call('GET', '/event-hooks/sources', { key: tenantA.read })).status).toBe(200);
      // …but never /ping, which sends a request, nor any write
      const ping = await call('GET', `/event-hooks/${tenantA.hook}/ping`, { key: tenantA.read });
      expect(ping).toMatchObject({ status: 403, body: { message: "this route needs a key with the 'admin' scope" } });
      expect((await call('POST', '/event-hooks', { key: tenantA.read, body: {} })).status).toBe(403);
      expect((await call('DELETE', `/event-hooks/${tenantA.hook}`, { key: tenantA.read })).status).toBe(403);
      expect((await call('POST', '/events', { key: tenantA.read, body: {} })).status).toBe(403);
      // ingest: events only
      expect((await call('GET', '/event-hooks', { key: tenantA.ingest })).status).toBe(403);
      const sent = await call('POST', '/events', {
        key: tenantA.ingest,
        body: { source: 'shop', event: 'order', data: { n: 2 } },
      });
      expect(sent.status).toBe(202);
      const httpLog = await call('POST', '/ingest/kong-http-log', { key: tenantA.ingest, body: [] });
      expect([401, 403]).not.toContain(httpLog.status);
      // admin: everything of its tenant, secrets included
      const full = await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin });
      expect(full.body.config.secret).toBe('a-secret-of-tenant-a');
      await settle();
    });
  });

  it("shows a read key no credential in a hook's URL: not in the hook, nor in the crud event's record", async () => {
    const url = new URL(receiverA.url);
    url.username = 'a-user';
    url.password = 'a-url-password';
    url.search = '?token=a-url-token&page=2';
    // A's own hook on its hook changes: the crud event (and its record) carries the hook without them too.
    const changes = await startReceiver();
    const crud = await call('POST', '/event-hooks', {
      key: tenantA.admin,
      body: { source: 'crud', event: 'event_hooks', handler: 'webhook', config: { url: changes.url } },
    });
    expect(crud.status).toBe(201);
    await settle();
    const created = await call('POST', '/event-hooks', {
      key: tenantA.admin,
      body: { source: 'shop', event: 'order', handler: 'webhook', config: { url: url.toString() } },
    });
    expect(created.status).toBe(201);
    await settle();
    const read = await call('GET', `/event-hooks/${created.body.id}`, { key: tenantA.read });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain('a-url-password');
    expect(read.text).not.toContain('a-url-token');
    // What is not a credential stays, so the reader still sees where the hook sends.
    expect(read.body.config.url).toContain(`${url.host}`);
    expect(read.body.config.url).toContain('page=2');
    const full = await call('GET', `/event-hooks/${created.body.id}`, { key: tenantA.admin });
    expect(full.body.config.url).toBe(url.toString());
    await changes.waitFor(1);
    const sent = changes.requests.map((r) => String(r.body)).join('\n');
    expect(sent).toContain(created.body.id);
    expect(sent).not.toContain('a-url-password');
    expect(sent).not.toContain('a-url-token');
    await call('DELETE', `/event-hooks/${created.body.id}`, { key: tenantA.admin });
    await call('DELETE', `/event-hooks/${crud.body.id}`, { key: tenantA.admin });
    await settle();
    await changes.close();
  });

  describe('operator routes', () => {
    it('creates, lists, reads tenants; mints keys shown once; lists them without secrets', async () => {
      const list = await operator('GET', '/tenants');
      expect(list.status).toBe(200);
      expect(list.body.data.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['acme', 'bravo']));
      const one = await operator('GET', `/tenants/${tenantA.id}`);
      expect(one.body).toEqual({ id: tenantA.id, name: 'acme', created_at: expect.any(Number) });
      const minted = await operator('POST', `/tenants/${tenantA.id}/keys`, { scopes: ['read', 'ingest'] });
      expect(minted.status).toBe(201);
      expect(minted.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{16}$/),
        key: expect.stringMatching(/^ehk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
        prefix: `ehk_${minted.body.id}`,
        scopes: ['read', 'ingest'],
        created_at: expect.any(Number),
      });
      const keys = await operator('GET', `/tenants/${tenantA.id}/keys`);
      expect(keys.status).toBe(200);
      expect(keys.body.data).toContainEqual({
        id: minted.body.id,
        prefix: minted.body.prefix,
        scopes: ['read', 'ingest'],
        created_at: minted.body.created_at,
        revoked_at: null,
      });
      expect(keys.text).not.toContain(minted.body.key);
      expect(keys.text).not.toMatch(/hash/);
    });

    it('answers bad bodies with 400 in Kong’s shape, unknown tenants and keys with 404', async () => {
      const noName = await operator('POST', '/tenants', {});
      expect(noName).toMatchObject({ status: 400, body: { code: 2, fields: { name: 'required field missing' } } });
      const badScope = await operator('POST', `/tenants/${tenantA.id}/keys`, { scopes: ['root'] });
      expect(badScope).toMatchObject({ status: 400, body: { fields: { scopes: expect.stringMatching(/admin/) } } });
      expect((await operator('POST', `/tenants/${tenantA.id}/keys`, { scopes: [] })).status).toBe(400);
      expect((await operator('GET', `/tenants/${randomUUID()}`)).status).toBe(404);
      expect((await operator('POST', `/tenants/${randomUUID()}/keys`, { scopes: ['admin'] })).status).toBe(404);
      expect((await operator('DELETE', `/tenants/${tenantA.id}/keys/0123456789abcdef`)).status).toBe(404);
      expect((await operator('PATCH', '/tenants')).status).toBe(405);
    });

    it('answers 404 for the quotas and usage of a tenant that does not exist, and stores nothing for it', async () => {
      const nobody = randomUUID();
      expect((await operator('PUT', `/tenants/${nobody}/quotas`, { hooks: 1 })).status).toBe(404);
      expect((await operator('GET', `/tenants/${nobody}/quotas`)).status).toBe(404);
      expect((await operator('GET', `/tenants/${nobody}/usage`)).status).toBe(404);
      expect((await operator('PUT', '/tenants/x%23HOOK/quotas', { hooks: 1 })).status).toBe(404);
      const { Items } = await t.store.client.send(new ScanCommand({ TableName: t.store.tableName }));
      expect(
        (Items ?? []).filter((item) => String(item.pk).includes(nobody) || String(item.pk).startsWith('T#x#')),
      ).toEqual([]);
      // A tenant that exists has both.
      expect((await operator('GET', `/tenants/${tenantA.id}/quotas`)).status).toBe(200);
      expect((await operator('GET', `/tenants/${tenantA.id}/usage`)).status).toBe(200);
    });

    it("records the operator's changes in the audit log of the tenant they concern, none in a log of no tenant", async () => {
      const { Items } = await t.store.client.send(new ScanCommand({ TableName: t.store.tableName }));
      const nobodys = (Items ?? []).filter((item) => String(item.pk) === 'T##AUDIT');
      expect(nobodys).toEqual([]);
      const audit = await call('GET', '/audit', { key: tenantA.admin });
      expect(audit.status).toBe(200);
      expect(audit.body.data).toContainEqual(
        expect.objectContaining({ actor: 'operator', method: 'POST', route: '/tenants/{id}/keys', status: 201 }),
      );
      // …and none of B's.
      const mine = audit.body.data.filter((entry: { actor: string }) => entry.actor === 'operator');
      expect(JSON.stringify(mine)).not.toContain(tenantB.id);
    });

    it("revokes a key at once; another tenant's key id is 404 to it", async () => {
      const minted = await operator('POST', `/tenants/${tenantA.id}/keys`, { scopes: ['admin'] });
      const key = minted.body.key as string;
      expect((await call('GET', '/event-hooks', { key })).status).toBe(200);
      // Revoking A's key under B's id does nothing.
      expect((await operator('DELETE', `/tenants/${tenantB.id}/keys/${minted.body.id}`)).status).toBe(404);
      expect((await call('GET', '/event-hooks', { key })).status).toBe(200);
      expect((await operator('DELETE', `/tenants/${tenantA.id}/keys/${minted.body.id}`)).status).toBe(204);
      const after = await call('GET', '/event-hooks', { key });
      expect(after).toMatchObject({ status: 401, body: { message: expect.stringMatching(/unknown or revoked/) } });
      expect((await call('GET', '/event-hooks', { headers: { 'kong-admin-token': key } })).status).toBe(401);
      const listed = await operator('GET', `/tenants/${tenantA.id}/keys`);
      expect(listed.body.data.find((k: { id: string }) => k.id === minted.body.id).revoked_at).toEqual(
        expect.any(Number),
      );
    });
  });

  describe('tenant B against tenant A', () => {
    /** Each parameterised route, with A's ids in it. */
    const aPaths = () => ({
      '/event-hooks/sources/{source}': `/event-hooks/sources/${tenantA.source}`,
      '/event-hooks/sources/{source}/{event}': `/event-hooks/sources/${tenantA.source}/order`,
      '/event-hooks/{id}': `/event-hooks/${tenantA.hook}`,
      '/event-hooks/{id}/test': `/event-hooks/${tenantA.hook}/test`,
      '/event-hooks/{id}/ping': `/event-hooks/${tenantA.hook}/ping`,
      '/event-hooks/{id}/secret/rotate': `/event-hooks/${tenantA.hook}/secret/rotate`,
      '/dead-letters/{id}': `/dead-letters/${tenantA.deadLetter}`,
      '/dead-letters/{id}/replay': `/dead-letters/${tenantA.deadLetter}/replay`,
      '/events/{id}': `/events/${tenantA.event}`,
      '/event-hooks/{id}/deliveries': `/event-hooks/${tenantA.hook}/deliveries`,
      '/event-hooks/{id}/health': `/event-hooks/${tenantA.hook}/health`,
      '/deliveries/{id}': `/deliveries/${deliveryIdFor({ id: tenantA.event, time: tenantA.eventTime }, tenantA.hook)}`,
      '/deliveries/{id}/replay': `/deliveries/${deliveryIdFor({ id: tenantA.event, time: tenantA.eventTime }, tenantA.hook)}/replay`,
    });
    /** Kong's PUT is an upsert: B's PUT on A's id makes B's own entity, and A's stays as it was. */
    const upserts = new Set(['/event-hooks/{id} PUT', '/event-hooks/sources/{source}/{event} PUT']);

    it("gets 404 on every route with one of A's ids (as for an id that does not exist), and A's data is untouched", async () => {
      const paths: Record<string, string> = aPaths();
      // The same routes with ids nobody has: B's answers on A's ids must not differ from these.
      const nobody = (path: string) =>
        path
          .replace(tenantA.hook, randomUUID())
          .replace(tenantA.deadLetter, `0000000000001-${randomUUID()}`)
          .replace(tenantA.event, randomUUID())
          .replace(deliveryIdFor({ id: tenantA.event, time: tenantA.eventTime }, tenantA.hook), randomUUID())
          .replace(`/${tenantA.source}`, '/nobodys');
      const tenantRoutes = ADMIN_ROUTES.filter((r) => r.path.includes('{') && !r.path.startsWith('/tenants'));
      // Every parameterised tenant route is covered here: a new one fails this line until it is added.
      expect(tenantRoutes.map((r) => r.path).sort()).toEqual(Object.keys(paths).sort());
      const tried: string[] = [];
      for (const route of tenantRoutes) {
        for (const method of route.methods) {
          if (upserts.has(`${route.path} ${method}`)) continue;
          const body = method === 'GET' || method === 'DELETE' ? undefined : { description: 'x', enabled: false };
          const res = await call(method, paths[route.path] as string, {
            key: tenantB.admin,
            ...(body ? { body } : {}),
          });
          const none = await call(method, nobody(paths[route.path] as string), {
            key: tenantB.admin,
            ...(body ? { body } : {}),
          });
          // Kong answers a DELETE of nothing with 204; every other route with 404.
          expect(res.status, `${method} ${route.path}`).toBe(method === 'DELETE' ? none.status : 404);
          expect(res.body, `${method} ${route.path}`).toEqual(none.body);
          tried.push(`${method} ${route.path}`);
        }
      }
      expect(tried.length).toBeGreaterThanOrEqual(12);
      // B's lists show none of A's.
      expect((await call('GET', '/event-hooks', { key: tenantB.admin })).body.data.map((h: EventHook) => h.id)).toEqual(
        [tenantB.hook],
      );
      expect((await call('GET', '/dead-letters', { key: tenantB.admin })).body.data).toEqual([]);
      const catalog = await call('GET', '/event-hooks/sources', { key: tenantB.admin });
      expect(Object.keys(catalog.body.data)).not.toContain(tenantA.source);
      // A's hook, source and dead letter are all still there and unchanged.
      const hook = await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin });
      expect(hook.body.config.secret).toBe('a-secret-of-tenant-a');
      expect((await call('GET', `/event-hooks/sources/${tenantA.source}/order`, { key: tenantA.admin })).status).toBe(
        200,
      );
      expect((await call('GET', `/dead-letters/${tenantA.deadLetter}`, { key: tenantA.admin })).status).toBe(200);
    });

    it("makes its own entity with PUT on A's id (Kong's upsert), leaving A's as it was", async () => {
      const put = await call('PUT', `/event-hooks/${tenantA.hook}`, {
        key: tenantB.admin,
        body: { source: 'crud', event: 'consumers', handler: 'log' },
      });
      expect(put.status).toBe(200);
      const mine = await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantB.admin });
      expect(mine.body.handler).toBe('log');
      const theirs = await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin });
      expect(theirs.body).toMatchObject({ handler: 'webhook', source: 'shop' });
      expect((await call('DELETE', `/event-hooks/${tenantA.hook}`, { key: tenantB.admin })).status).toBe(204);
      expect((await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin })).status).toBe(200);
    });

    it("cannot send events to A's user-defined source, nor have them reach A's hooks", async () => {
      const res = await call('POST', '/events', {
        key: tenantB.admin,
        body: { source: tenantA.source, event: 'order', data: {} },
      });
      expect(res.status).toBe(400);
      expect(res.body.fields['@entity']).toMatch(/source 'shop' is not registered/);
    });

    it("cannot invoke A's user functions: they have no name B could give, and the service's prefix is refused", async () => {
      const aFunctions = await call('POST', '/event-hooks', {
        key: tenantA.admin,
        body: { source: 'shop', event: 'order', handler: 'lambda', config: { functions: [ECHO] } },
      });
      expect(aFunctions.status).toBe(201);
      // On AWS A's code is deployed as `<USER_FUNCTION_PREFIX>-…`: a reference to that prefix is refused.
      const prefix = t.runtime.config.userFunctionPrefix;
      const named = await call('POST', '/event-hooks', {
        key: tenantB.admin,
        body: { source: 'crud', event: 'consumers', handler: 'lambda', config: { functions: [`${prefix}-x`] } },
      });
      expect(named.status).toBe(400);
      expect(named.text).toMatch(/names a function this service deploys for user code/);
      // /test on A's lambda hook is a 404 to B, not a run of A's code.
      const tested = await call('POST', `/event-hooks/${aFunctions.body.id}/test`, { key: tenantB.admin, body: {} });
      expect(tested.status).toBe(404);
      const own = await call('POST', `/event-hooks/${aFunctions.body.id}/test`, { key: tenantA.admin, body: { n: 1 } });
      expect(own.status).toBe(200);
      expect(own.text).toContain('"got":{"n":1}');
      expect((await call('DELETE', `/event-hooks/${aFunctions.body.id}`, { key: tenantA.admin })).status).toBe(204);
    });

    it('ignores forged tenant fields in bodies, events and headers', async () => {
      const before = receiverA.requests.length;
      // A tenant field in the event: refused as an unknown field, never a choice.
      const forgedBody = await call('POST', '/events', {
        key: tenantB.admin,
        body: { tenant: tenantA.id, source: 'crud', event: 'consumers', data: {} },
      });
      expect(forgedBody).toMatchObject({ status: 400, body: { fields: { tenant: 'unknown field' } } });
      // Tenant-looking headers and data, and A's key in Kong-Admin-Token next to B's bearer: B's key decides.
      const sent = await call('POST', '/events', {
        key: tenantB.admin,
        headers: { 'x-tenant': tenantA.id, 'x-event-hooks-tenant': tenantA.id, 'kong-admin-token': tenantA.admin },
        body: { source: 'crud', event: 'consumers', data: { tenant: tenantA.id } },
      });
      expect(sent.status).toBe(202);
      const hook = await call('POST', '/event-hooks', {
        key: tenantB.admin,
        headers: { 'x-tenant': tenantA.id },
        body: { source: 'crud', event: 'consumers', handler: 'log', tenant: tenantA.id },
      });
      expect(hook.status).toBe(400);
      await settle();
      expect(receiverA.requests.length).toBe(before);
      expect((await call('GET', '/event-hooks', { key: tenantA.admin })).body.data).toHaveLength(1);
    });

    it("reuses A's Idempotency-Key and gets its own events, not A's answer", async () => {
      const key = `order-${randomUUID()}`;
      const a = await call('POST', '/events', {
        key: tenantA.ingest,
        headers: { 'idempotency-key': key },
        body: { source: 'shop', event: 'order', data: { from: 'a' } },
      });
      expect(a.status).toBe(202);
      // Same key, other body: for A this would be a 422; for B it is a fresh key.
      const b = await call('POST', '/events', {
        key: tenantB.admin,
        headers: { 'idempotency-key': key },
        body: { source: 'crud', event: 'consumers', data: { from: 'b' } },
      });
      expect(b.status).toBe(202);
      expect(b.headers.get('idempotent-replayed')).toBeNull();
      expect(b.body.data[0].id).not.toBe(a.body.data[0].id);
      // A producer id is per tenant too.
      const id = `evt-${randomUUID()}`;
      const a2 = await call('POST', '/events', {
        key: tenantA.ingest,
        body: { id, source: 'shop', event: 'order', data: {} },
      });
      await call('PUT', '/event-hooks/sources/shop/order', { key: tenantB.admin, body: {} });
      const b2 = await call('POST', '/events', {
        key: tenantB.admin,
        body: { id, source: 'shop', event: 'order', data: {} },
      });
      expect(b2.status).toBe(202);
      expect(b2.body.data[0].id).not.toBe(a2.body.data[0].id);
      await call('DELETE', '/event-hooks/sources/shop/order', { key: tenantB.admin });
      await settle();
    });

    it("delivers A's events to A's hook only, and A's crud changes never reach B's crud hook", async () => {
      const beforeA = receiverA.requests.length;
      const beforeB = receiverB.requests.length;
      const sent = await call('POST', '/events', {
        key: tenantA.ingest,
        body: { source: 'shop', event: 'order', data: { n: 42 } },
      });
      expect(sent.status).toBe(202);
      // A change of A's hooks emits a crud/event_hooks event: for A's hooks, not B's.
      const temp = await call('POST', '/event-hooks', {
        key: tenantA.admin,
        body: { source: 'crud', event: 'consumers', handler: 'log' },
      });
      await call('DELETE', `/event-hooks/${temp.body.id}`, { key: tenantA.admin });
      await settle();
      await receiverA.waitFor(beforeA + 1);
      expect(JSON.parse(String(receiverA.requests.at(-1)?.body ?? '{}'))).toMatchObject({ n: 42 });
      expect(receiverB.requests.length).toBe(beforeB);
    });

    it('cannot aim a webhook-custom at the embedded store or the API, through /test or delivery', async () => {
      const storePort = new URL(t.runtime.config.dynamodbEndpoint as string).port;
      const apiPort = new URL(t.runtime.url).port;
      const scan = (url: string) => ({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
        body: JSON.stringify({ TableName: t.runtime.config.tableName }),
      });
      for (const url of [`http://127.0.0.1:${storePort}/`, `http://localhost:${apiPort}/tenants`]) {
        const created = await call('POST', '/event-hooks', {
          key: tenantB.admin,
          body: { source: 'crud', event: 'consumers', handler: 'webhook-custom', config: scan(url) },
        });
        expect(created.status, url).toBe(400);
        expect(created.text).toMatch(/own listener/);
      }
      // Stored around the check (as an older version might have): /test and delivery still refuse.
      for (const url of [`http://127.0.0.1:${storePort}/`, `http://127.0.0.1:${apiPort}/event-hooks`]) {
        const hook = {
          id: randomUUID(),
          created_at: 0,
          source: 'crud',
          event: 'consumers',
          on_change: null,
          snooze: null,
          handler: 'webhook-custom',
          config: { ...scan(url), ssl_verify: false },
        } as unknown as EventHook;
        await t.runtime.app.hooks.create(tenantB.id, hook);
        t.runtime.app.cache.invalidate(tenantB.id);
        const tested = await call('POST', `/event-hooks/${hook.id}/test`, { key: tenantB.admin, body: {} });
        expect(tested.status, url).toBe(500);
        expect(tested.body.err, url).toMatch(/own listener/);
        expect(tested.text).not.toContain(tenantA.hook);
        expect(tested.text).not.toContain('a-secret-of-tenant-a');
        await call('POST', '/events', { key: tenantB.admin, body: { source: 'crud', event: 'consumers', data: {} } });
        await settle();
        const dead = await call('GET', '/dead-letters', { key: tenantB.admin });
        const mine = dead.body.data.find((d: { hook_id: string }) => d.hook_id === hook.id);
        expect(mine.reason, url).toMatch(/own listener/);
        expect(dead.text).not.toContain('a-secret-of-tenant-a');
        await call('DELETE', `/event-hooks/${hook.id}`, { key: tenantB.admin });
      }
    });
  });

  describe('deleting a tenant', () => {
    it('removes everything it owns: keys, hooks and their functions, sources, dead letters, idempotency records', async () => {
      const c = await newTenant('charlie');
      const admin = await c.key(['admin']);
      await call('PUT', '/event-hooks/sources/crm/lead', { key: admin, body: {} });
      const fn = await call('POST', '/event-hooks', {
        key: admin,
        body: { source: 'crm', event: 'lead', handler: 'lambda', config: { functions: [ECHO] } },
      });
      expect(fn.status).toBe(201);
      await call('POST', '/event-hooks', {
        key: admin,
        body: { source: 'crm', event: 'lead', handler: 'log' },
      });
      const sentByC = await call('POST', '/events', {
        key: admin,
        headers: { 'idempotency-key': 'k1' },
        body: { id: 'lead-1', source: 'crm', event: 'lead', data: {} },
      });
      await settle();
      const eventOfC = sentByC.body.data[0].id as string;
      expect(await t.runtime.app.events.get(c.id, eventOfC)).toBeDefined();
      const dead = await t.runtime.app.deadLetters.put({
        job: {
          type: 'deliver.v1',
          deliveryId: randomUUID(),
          tenant: c.id,
          hookId: fn.body.id,
          event: {
            id: randomUUID(),
            tenant: c.id,
            time: new Date().toISOString(),
            source: 'crm',
            event: 'lead',
            data: {},
          },
          attempt: 1,
          firstQueuedAt: Date.now(),
        },
        reason: 'x',
        deadLetteredAt: Date.now(),
      });
      expect(dead.id).toBeTruthy();
      const owned = async () => {
        const { Items } = await t.store.client.send(new ScanCommand({ TableName: t.store.tableName }));
        return (Items ?? []).filter(
          (item) => String(item.pk).startsWith(`T#${c.id}#`) || String(item.gsi1pk ?? '').startsWith(`T#${c.id}#`),
        );
      };
      const kinds = (await owned()).map((item) =>
        String(item.pk).startsWith('OP#KEY#') ? 'KEYS' : String(item.pk).split('#')[2],
      );
      expect(kinds.filter((kind) => kind === 'KEYS')).toHaveLength(1);
      // Event records, audit entries, usage… are the tenant's too: whatever it has, all of it goes.
      expect([...new Set(kinds)]).toEqual(expect.arrayContaining(['HOOK', 'META', 'SOURCE', 'IDEM', 'DEAD', 'KEYS']));
      const remove = vi.spyOn(t.runtime.functions, 'remove');

      const deleted = await operator('DELETE', `/tenants/${c.id}`);
      expect(deleted.status).toBe(204);

      expect(await owned()).toEqual([]);
      // Usage counted and not yet written is dropped with it: a later flush writes nothing of its.
      t.runtime.app.meter.add(c.id, 'deliveries_attempted');
      await t.runtime.app.meter.flush();
      expect(await owned()).toEqual([]);
      // Its event records too, where the local runtime keeps them (the event log, not the table).
      expect(await t.runtime.app.events.get(c.id, eventOfC)).toBeUndefined();
      expect(remove).toHaveBeenCalledWith(expect.objectContaining({ tenant: c.id, id: fn.body.id, functions: [ECHO] }));
      expect((await call('GET', '/event-hooks', { key: admin })).status).toBe(401);
      expect((await operator('GET', `/tenants/${c.id}`)).status).toBe(404);
      expect((await operator('DELETE', `/tenants/${c.id}`)).status).toBe(404);
      // The others are untouched.
      expect((await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin })).status).toBe(200);
      remove.mockRestore();
    });

    it('marks the tenant first: a deletion cut short leaves its keys refused and no key minted, and sent again finishes', async () => {
      const d = await newTenant('delta');
      const admin = await d.key(['admin']);
      expect((await call('GET', '/event-hooks', { key: admin })).status).toBe(200);
      // Cut right after the mark, before a single key went (as a crash there would).
      const deleteAll = vi.spyOn(t.runtime.app.apiKeys, 'deleteAll').mockRejectedValueOnce(new Error('cut short'));

      expect((await operator('DELETE', `/tenants/${d.id}`)).status).toBe(500);

      expect(deleteAll).toHaveBeenCalledTimes(1);
      expect((await call('GET', '/event-hooks', { key: admin })).status).toBe(401);
      expect((await operator('GET', `/tenants/${d.id}`)).body).toMatchObject({ id: d.id, deleting: true });
      const minted = await operator('POST', `/tenants/${d.id}/keys`, { scopes: ['admin'] });
      expect(minted.status).toBe(409);
      expect(minted.body.message).toContain(`send DELETE /tenants/${d.id} again`);
      expect((await operator('DELETE', `/tenants/${d.id}`)).status).toBe(204);
      expect((await operator('GET', `/tenants/${d.id}`)).status).toBe(404);
      expect((await operator('GET', `/tenants/${d.id}/keys`)).status).toBe(404);
      // Others' keys and tenants are as they were.
      expect((await call('GET', `/event-hooks/${tenantA.hook}`, { key: tenantA.admin })).status).toBe(200);
      expect((await operator('GET', `/tenants/${tenantA.id}`)).body.deleting).toBeUndefined();
      deleteAll.mockRestore();
    });
  });

  it('never writes key material to the logs', async () => {
    const lines = JSON.stringify(t.logs);
    expect(t.logs.some((line) => line.message === 'request')).toBe(true);
    // No key of any test here (every minted key has this shape), revoked and refused ones included.
    expect(lines).not.toMatch(/ehk_[0-9a-f]{16}_/);
    for (const secret of [OPERATOR_KEY, tenantA.admin, tenantA.read, tenantA.ingest, tenantB.admin]) {
      expect(lines).not.toContain(secret);
      // Not even the secret half alone.
      expect(lines).not.toContain(secret.slice(-20));
    }
  });
});

describe('single-tenant api-keys mode', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ env: { AUTH_MODE: 'api-keys', OPERATOR_KEY } });
  });
  afterAll(() => t?.close());

  const call = async (method: string, path: string, key?: string, body?: unknown) => {
    const res = await fetch(`${t.runtime.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it("has the one tenant 'default', for which the operator mints keys; adds or deletes none", async () => {
    expect((await call('GET', '/event-hooks')).status).toBe(401);
    const list = await call('GET', '/tenants', OPERATOR_KEY);
    expect(list.body.data).toEqual([{ id: 'default', name: 'default', created_at: expect.any(Number) }]);
    const minted = await call('POST', '/tenants/default/keys', OPERATOR_KEY, { scopes: ['admin'] });
    expect(minted.status).toBe(201);
    const created = await call('POST', '/event-hooks', minted.body.key, {
      source: 'crud',
      event: 'consumers',
      handler: 'log',
    });
    expect(created.status).toBe(201);
    // The hook is the configured tenant's, as with auth off.
    expect(await t.runtime.app.hooks.get('default', created.body.id)).toBeDefined();
    const add = await call('POST', '/tenants', OPERATOR_KEY, { name: 'other' });
    expect(add).toMatchObject({ status: 400, body: { message: expect.stringMatching(/TENANCY=single/) } });
    expect((await call('DELETE', '/tenants/default', OPERATOR_KEY)).status).toBe(400);
  });
});

describe('auth off (the default)', () => {
  it('has no operator routes, and takes requests without keys as before', async () => {
    // AUTH_MODE given, so this stays the default mode under TEST_TENANCY=multi too.
    const t = await startTestRuntime({ env: { AUTH_MODE: 'none' } });
    try {
      expect((await t.request('GET', '/tenants')).status).toBe(404);
      expect((await t.request('GET', '/event-hooks')).status).toBe(200);
      expect((await t.request('GET', '/metrics')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('refuses to start on a non-loopback HOST, saying why, before it binds or starts anything', async () => {
    const start = startLocalRuntime({ host: '0.0.0.0', port: 0, memory: true, logger: memoryLogger() });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/HOST=0\.0\.0\.0 exposes the API .*AUTH_MODE=none/);
  });
});

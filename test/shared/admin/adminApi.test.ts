import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const slack = {
  source: 'crud',
  event: 'admins',
  handler: 'webhook-custom',
  config: {
    url: 'https://hooks.slack.com/services/foo/bar/baz',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    payload: {
      text: 'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`',
    },
  },
};

describe('Admin API', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  const count = async () => {
    const all: unknown[] = [];
    let next: string | null = '/event-hooks?size=1000';
    while (next) {
      const res = await t.request('GET', next);
      all.push(...res.body.data);
      next = res.body.next;
    }
    return all.length;
  };

  describe('POST /event-hooks', () => {
    it('creates a webhook-custom hook with every default filled in (the seed Slack example)', async () => {
      const res = await t.request('POST', '/event-hooks', slack);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        created_at: expect.any(Number),
        source: 'crud',
        event: 'admins',
        handler: 'webhook-custom',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: {
          url: 'https://hooks.slack.com/services/foo/bar/baz',
          method: 'POST',
          payload: slack.config.payload,
          payload_format: true,
          body: null,
          body_format: true,
          headers: { 'content-type': 'application/json' },
          headers_format: false,
          secret: null,
          ssl_verify: false,
        },
      });
      expect(Math.abs(res.body.created_at - Date.now() / 1000)).toBeLessThan(60);
      expect((await t.request('GET', `/event-hooks/${res.body.id}`)).body).toEqual(res.body);
    });

    it('creates log and lambda hooks', async () => {
      const log = await t.request('POST', '/event-hooks', { source: 'crud', event: 'routes', handler: 'log' });
      expect(log.status).toBe(201);
      expect(log.body).toMatchObject({ handler: 'log', config: {}, on_change: null, snooze: null });
      const lambda = await t.request('POST', '/event-hooks', {
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        config: {
          functions: ['return function (data) { throw new Error("Event hook on consumer " + data.entity.username) }'],
        },
      });
      expect(lambda.status).toBe(201);
      expect(lambda.body.config.functions).toHaveLength(1);
    });

    it('stores a webhook whose header is named like an Object.prototype member, never answering 500', async () => {
      const body =
        '{"source":"crud","event":"routes","handler":"webhook","config":{"url":"http://127.0.0.1:9/","headers":{"constructor":"c"}}}';
      const res = await t.request('POST', '/event-hooks', body);
      // Storing it is safe now; validation may still refuse such a name (400), but never a 500.
      expect([201, 400]).toContain(res.status);
      if (res.status === 201) {
        const got = await t.request('GET', `/event-hooks/${res.body.id}`);
        expect(got.body.config.headers).toEqual({ constructor: 'c' });
        await t.request('DELETE', `/event-hooks/${res.body.id}`);
      }
    });

    it.each([
      ['a body that is not JSON', '{"source":', 400, { message: 'Cannot parse JSON body' }],
      [
        'a missing config url',
        { source: 'crud', handler: 'webhook', config: {} },
        400,
        {
          code: 2,
          name: 'schema violation',
          message: 'schema violation (config.url: required field missing)',
          fields: { config: { url: 'required field missing' } },
        },
      ],
    ])('answers %s with Kong’s error and stores nothing', async (_name, body, status, expected) => {
      const before = await count();
      const res = await t.request('POST', '/event-hooks', body);
      expect(res.status).toBe(status);
      expect(res.body).toEqual(expected);
      expect(await count()).toBe(before);
    });

    it.each([
      ['an unknown field', { source: 'crud', handler: 'log', colour: 'red' }],
      ['an unknown handler', { source: 'crud', handler: 'email' }],
      ['a negative snooze', { source: 'crud', handler: 'log', snooze: -1 }],
      ['an unregistered source', { source: 'nope', handler: 'log' }],
      ['an unregistered event', { source: 'crud', event: 'nope', handler: 'log' }],
      ['an ftp url', { source: 'crud', handler: 'webhook', config: { url: 'ftp://example.com' } }],
      [
        'a malformed template',
        {
          source: 'crud',
          handler: 'webhook-custom',
          config: { url: 'http://x.test', method: 'POST', body: '{{#a}}x' },
        },
      ],
      [
        'code that does not compile',
        { source: 'crud', handler: 'lambda', config: { functions: ['return function ( {'] } },
      ],
      ['a wrong type', { source: 'crud', handler: 'log', on_change: 'yes' }],
    ])('rejects %s as a schema violation and stores nothing', async (_name, body) => {
      const before = await count();
      const res = await t.request('POST', '/event-hooks', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 2, name: 'schema violation' });
      expect(res.body.message).toMatch(/^(\d+ )?schema violations? \(/);
      expect(Object.keys(res.body.fields).length).toBeGreaterThan(0);
      expect(await count()).toBe(before);
    });

    it('refuses an oversized body with 413', async () => {
      const res = await t.request('POST', '/event-hooks', {
        source: 'crud',
        handler: 'log',
        pad: 'x'.repeat(300 * 1024),
      });
      expect(res.status).toBe(413);
      expect(res.body.message).toMatch(/larger than/);
    });
  });

  describe('form bodies, as Kong’s Admin API takes them (curl -d / -F)', () => {
    const post = (body: string | FormData, contentType?: string) =>
      fetch(`${t.runtime.url}/event-hooks`, {
        method: 'POST',
        headers: { ...(contentType ? { 'content-type': contentType } : {}), ...t.auth },
        body,
      }).then(async (res) => ({ status: res.status, body: await res.json() }));

    it('creates a webhook from dotted form fields, with types taken from the schema', async () => {
      const form = new URLSearchParams([
        ['source', 'crud'],
        ['event', 'consumers'],
        ['handler', 'webhook'],
        ['snooze', '60'],
        ['on_change', 'true'],
        ['config.url', 'https://webhook.site/a1b2c3'],
        ['config.headers.X-Custom-Header', 'My Value'],
        ['config.ssl_verify', 'true'],
      ]).toString();
      const res = await post(form, 'application/x-www-form-urlencoded');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        snooze: 60,
        on_change: true,
        config: {
          url: 'https://webhook.site/a1b2c3',
          headers: { 'X-Custom-Header': 'My Value' },
          secret: null,
          ssl_verify: true,
        },
      });
    });

    it('takes repeated and indexed keys as arrays, and multipart forms', async () => {
      const form = new FormData();
      form.append('source', 'crud');
      form.append('handler', 'lambda');
      form.append('config.functions[1]', 'return function () { return "HELLO" }');
      form.append('config.functions[2]', 'return function (data) { return data + " WORLD" }');
      const res = await post(form);
      expect(res.status).toBe(201);
      const created = res.body as { id: string; config: { functions: string[] } };
      expect(created.config.functions).toHaveLength(2);
      expect((await t.request('POST', `/event-hooks/${created.id}/test`, {})).body.result).toBe('HELLO WORLD');
    });

    it('reads a JSON body sent with curl’s default form content type as JSON', async () => {
      const res = await post('{"source":"crud","handler":"log"}', 'application/x-www-form-urlencoded');
      expect(res.status).toBe(201);
    });

    it('reads enabled as a boolean, and an empty value as its default', async () => {
      const off = await post('source=crud&handler=log&enabled=false', 'application/x-www-form-urlencoded');
      expect(off.status).toBe(201);
      expect((off.body as { enabled: boolean }).enabled).toBe(false);
      const reset = await post('source=crud&handler=log&enabled=', 'application/x-www-form-urlencoded');
      expect((reset.body as { enabled: boolean }).enabled).toBe(true);
      const bad = await post('source=crud&handler=log&enabled=no', 'application/x-www-form-urlencoded');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ code: 2, fields: { enabled: 'expected a boolean' } });
    });

    it('reports a form value of the wrong type as the schema violation JSON would give', async () => {
      const res = await post('source=crud&handler=log&snooze=soon', 'application/x-www-form-urlencoded');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 2, fields: { snooze: 'expected an integer' } });
    });
  });

  describe('GET /event-hooks', () => {
    it('pages with size and offset and a next link until every hook was seen once', async () => {
      const local = await startTestRuntime();
      try {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++)
          ids.push((await local.request('POST', '/event-hooks', { source: 'crud', handler: 'log' })).body.id);
        const first = await local.request('GET', '/event-hooks?size=2');
        expect(first.status).toBe(200);
        expect(first.body.data).toHaveLength(2);
        expect(first.body.next).toBe(`/event-hooks?offset=${encodeURIComponent(first.body.offset)}&size=2`);
        const seen = [...first.body.data];
        let next = first.body.next;
        while (next) {
          const page = await local.request('GET', next);
          seen.push(...page.body.data);
          next = page.body.next;
        }
        expect(seen.map((h) => h.id).sort()).toEqual(ids.sort());
        const all = await local.request('GET', '/event-hooks');
        expect(all.body).toEqual({ data: expect.any(Array), next: null });
      } finally {
        await local.close();
      }
    });

    it.each([
      ['size=0', { code: 9, name: 'invalid size' }],
      ['size=1001', { code: 9, name: 'invalid size' }],
      ['size=abc', { code: 9, name: 'invalid size' }],
      ['offset=garbage', { code: 7, name: 'invalid offset' }],
    ])('answers ?%s with 400', async (query, expected) => {
      const res = await t.request('GET', `/event-hooks?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject(expected);
    });
  });

  describe('/event-hooks/{id}', () => {
    let id: string;
    beforeEach(async () => {
      id = (
        await t.request('POST', '/event-hooks', {
          source: 'crud',
          event: 'consumers',
          handler: 'webhook',
          config: { url: 'http://127.0.0.1:9/hook', headers: { 'x-a': '1' } },
        })
      ).body.id;
    });

    it('answers 404 for an unknown id', async () => {
      const res = await t.request('GET', '/event-hooks/00000000-0000-4000-8000-000000000000');
      expect(res).toMatchObject({ status: 404, body: { message: 'Not found' } });
    });

    it('PATCH merges config key by key and re-validates', async () => {
      const res = await t.request('PATCH', `/event-hooks/${id}`, { snooze: 30, config: { secret: 'hunter2' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id,
        snooze: 30,
        config: { url: 'http://127.0.0.1:9/hook', headers: { 'x-a': '1' }, secret: 'hunter2', ssl_verify: false },
      });
      const bad = await t.request('PATCH', `/event-hooks/${id}`, { config: { url: 'ftp://nope' } });
      expect(bad.status).toBe(400);
      expect((await t.request('GET', `/event-hooks/${id}`)).body.config.url).toBe('http://127.0.0.1:9/hook');
    });

    it('sets enabled through PATCH and PUT, keeps it on other writes, answers it everywhere, refuses a non-boolean', async () => {
      expect((await t.request('GET', `/event-hooks/${id}`)).body.enabled).toBe(true);
      const off = await t.request('PATCH', `/event-hooks/${id}`, { enabled: false });
      expect(off).toMatchObject({ status: 200, body: { id, enabled: false } });
      // A PATCH of another field keeps it; the list and the single read answer it.
      await t.request('PATCH', `/event-hooks/${id}`, { snooze: 5 });
      expect((await t.request('GET', `/event-hooks/${id}`)).body).toMatchObject({ enabled: false, snooze: 5 });
      const listed = (await t.request('GET', '/event-hooks?size=1000')).body.data.find(
        (h: { id: string }) => h.id === id,
      );
      expect(listed.enabled).toBe(false);
      const bad = await t.request('PATCH', `/event-hooks/${id}`, { enabled: 'no' });
      expect(bad).toMatchObject({
        status: 400,
        body: {
          code: 2,
          message: 'schema violation (enabled: expected a boolean)',
          fields: { enabled: 'expected a boolean' },
        },
      });
      // PATCH null resets to the default; PUT without the field is a full replacement, so the default too.
      expect((await t.request('PATCH', `/event-hooks/${id}`, { enabled: null })).body.enabled).toBe(true);
      const put = await t.request('PUT', `/event-hooks/${id}`, { source: 'crud', handler: 'log', enabled: false });
      expect(put.body.enabled).toBe(false);
      expect((await t.request('PUT', `/event-hooks/${id}`, { source: 'crud', handler: 'log' })).body.enabled).toBe(
        true,
      );
    });

    it('PATCH of an unknown id is 404 and creates nothing', async () => {
      const res = await t.request('PATCH', '/event-hooks/00000000-0000-4000-8000-000000000001', { snooze: 1 });
      expect(res.status).toBe(404);
      expect((await t.request('GET', '/event-hooks/00000000-0000-4000-8000-000000000001')).status).toBe(404);
    });

    it('PUT creates with the given id, then replaces it, answering 200 both times as Kong’s upserts do, keeping created_at', async () => {
      const newId = '11111111-2222-4333-8444-555555555555';
      const created = await t.request('PUT', `/event-hooks/${newId}`, {
        source: 'balancer',
        event: 'health',
        handler: 'log',
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ id: newId, source: 'balancer', event: 'health' });
      const replaced = await t.request('PUT', `/event-hooks/${newId}`, { source: 'crud', handler: 'log' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        id: newId,
        source: 'crud',
        event: null,
        created_at: created.body.created_at,
      });
    });

    it('DELETE answers 204, also when the hook does not exist', async () => {
      expect((await t.request('DELETE', `/event-hooks/${id}`)).status).toBe(204);
      expect((await t.request('GET', `/event-hooks/${id}`)).status).toBe(404);
      expect((await t.request('DELETE', `/event-hooks/${id}`)).status).toBe(204);
    });

    it('answers 405 for a method the route does not have', async () => {
      expect((await t.request('POST', `/event-hooks/${id}`, {})).status).toBe(405);
    });
  });

  describe('sources', () => {
    it('lists the built-in catalog in Kong’s shape', async () => {
      const res = await t.request('GET', '/event-hooks/sources');
      expect(res.status).toBe(200);
      expect(res.body.data.balancer).toEqual({
        health: { fields: ['upstream_id', 'ip', 'port', 'hostname', 'health'] },
      });
      expect(res.body.data['rate-limiting-advanced']['rate-limit-exceeded']).toEqual({
        description: 'Run an event when a rate limit has been exceeded',
        fields: ['consumer', 'ip', 'service', 'rate', 'limit', 'window'],
        unique: ['consumer', 'ip', 'service'],
      });
      expect(res.body.data.crud['consumers:create'].fields).toEqual(['operation', 'entity', 'old_entity', 'schema']);
    });

    it('answers one source and one event, or 404', async () => {
      const dao = await t.request('GET', '/event-hooks/sources/dao:crud');
      expect(Object.keys(dao.body.data).sort()).toEqual(['create', 'delete', 'update']);
      expect((await t.request('GET', '/event-hooks/sources/balancer/health')).body.data.fields).toHaveLength(5);
      expect((await t.request('GET', '/event-hooks/sources/nope')).status).toBe(404);
      expect((await t.request('GET', '/event-hooks/sources/balancer/nope')).status).toBe(404);
    });

    it('registers a user-defined event, lets hooks use it, and refuses to delete it while in use', async () => {
      const put = await t.request('PUT', '/event-hooks/sources/billing/invoice-paid', {
        fields: ['customer', 'amount'],
        unique: ['customer'],
        description: 'An invoice was paid',
      });
      expect(put.status).toBe(200);
      expect((await t.request('GET', '/event-hooks/sources/billing')).body.data).toEqual({
        'invoice-paid': { fields: ['customer', 'amount'], unique: ['customer'], description: 'An invoice was paid' },
      });
      const hook = await t.request('POST', '/event-hooks', {
        source: 'billing',
        event: 'invoice-paid',
        handler: 'log',
      });
      expect(hook.status).toBe(201);
      const refused = await t.request('DELETE', '/event-hooks/sources/billing/invoice-paid');
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain(hook.body.id);
      await t.request('DELETE', `/event-hooks/${hook.body.id}`);
      expect((await t.request('DELETE', '/event-hooks/sources/billing/invoice-paid')).status).toBe(204);
      expect((await t.request('GET', '/event-hooks/sources/billing')).status).toBe(404);
    });

    it('refuses to change the built-in catalog and bad definitions', async () => {
      expect((await t.request('PUT', '/event-hooks/sources/crud/things', { fields: [] })).status).toBe(400);
      expect((await t.request('DELETE', '/event-hooks/sources/balancer/health')).status).toBe(400);
      const bad = await t.request('PUT', '/event-hooks/sources/billing/x', { fields: ['a'], unique: ['b'] });
      expect(bad.status).toBe(400);
      expect(bad.body.fields.unique).toMatch(/subset of fields/);
      expect((await t.request('GET', '/event-hooks/sources/billing/x')).status).toBe(404);
    });

    it('refuses sources named aws.*, which EventBridge would refuse to carry', async () => {
      for (const source of ['aws.ec2', 'AWS.custom']) {
        const refused = await t.request('PUT', `/event-hooks/sources/${source}/changed`, { fields: [] });
        expect(refused.status).toBe(400);
        expect(refused.body.message).toMatch(/reserved: names starting with 'aws.' belong to AWS services/);
        expect((await t.request('GET', `/event-hooks/sources/${source}`)).status).toBe(404);
      }
      expect((await t.request('PUT', '/event-hooks/sources/awsome/changed', { fields: [] })).status).toBe(200);
    });
  });

  it('answers GET /health', async () => {
    expect(await t.request('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});

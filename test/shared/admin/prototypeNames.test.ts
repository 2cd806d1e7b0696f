import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../../shared/logger.ts';
import { SourceStore } from '../../../shared/store/sourceStore.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/**
 * Every name a plain object inherits, sent through every input that takes a user-chosen name or key.
 * The service runs in this process, so a name that reached a prototype would show here as a
 * changed global (`Object.keys`) or a property every object suddenly has.
 */
const NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'])];
const ORIGINAL_KEYS = Object.keys;
const ORIGINAL_PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** A JSON object whose own key is `name`, even for `__proto__` (an object literal would set the prototype). */
const withKey = (name: string, value: unknown): Record<string, unknown> =>
  JSON.parse(`{${JSON.stringify(name)}:${JSON.stringify(value)}}`);

function expectNoPollution(): void {
  expect(Object.keys).toBe(ORIGINAL_KEYS);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(ORIGINAL_PROTOTYPE_NAMES);
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
  expect(typeof probe.toString).toBe('function');
}

describe('names an object inherits, through every input', () => {
  let t: TestRuntime;
  let hookId: string;
  const seen: { input: string; status: number; text: string }[] = [];

  const send = async (input: string, method: string, path: string, body?: unknown) => {
    const res = await t.request(method, path, body);
    seen.push({ input, status: res.status, text: res.text });
    return res;
  };
  const sendForm = async (input: string, form: string) => {
    const res = await fetch(`${t.runtime.url}/event-hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...t.auth },
      body: form,
    });
    const text = await res.text();
    seen.push({ input, status: res.status, text });
    return { status: res.status, text };
  };

  beforeAll(async () => {
    t = await startTestRuntime();
    hookId = (await t.request('POST', '/event-hooks', { source: 'crud', handler: 'log' })).body.id;
  });
  afterAll(() => t.close());

  describe.each(NAMES)('%s', (name) => {
    const path = encodeURIComponent(name);

    it('is refused as the name of a user-defined source or event, in the schema-violation shape', async () => {
      const asSource = await send('PUT source', 'PUT', `/event-hooks/sources/${path}/created`, { fields: ['a'] });
      expect(asSource.status).toBe(400);
      expect(asSource.body).toMatchObject({
        code: 2,
        name: 'schema violation',
        fields: { source: expect.any(String) },
      });
      const asEvent = await send('PUT event', 'PUT', `/event-hooks/sources/mine/${path}`, { fields: ['a'] });
      expect(asEvent.status).toBe(400);
      expect(asEvent.body).toMatchObject({ code: 2, fields: { event: expect.any(String) } });
      expect((await t.request('GET', '/event-hooks/sources/mine')).status).toBe(404);
    });

    it('is not found as a source, an event, a hook id or a dead letter id', async () => {
      expect((await send('GET source', 'GET', `/event-hooks/sources/${path}`)).status).toBe(404);
      expect((await send('GET event', 'GET', `/event-hooks/sources/crud/${path}`)).status).toBe(404);
      expect((await send('GET source event', 'GET', `/event-hooks/sources/${path}/${path}`)).status).toBe(404);
      expect((await send('GET hook', 'GET', `/event-hooks/${path}`)).status).toBe(404);
      expect((await send('hook test', 'POST', `/event-hooks/${path}/test`, {})).status).toBe(404);
      expect((await send('GET dead letter', 'GET', `/dead-letters/${path}`)).status).toBe(404);
      const deleted = await send('DELETE event', 'DELETE', `/event-hooks/sources/${path}/${path}`);
      expect(deleted.status).toBeLessThan(500);
    });

    it('is not registered as the source or event of a hook or an event', async () => {
      const hook = await send('hook source', 'POST', '/event-hooks', { source: name, handler: 'log' });
      expect(hook.status).toBe(400);
      expect(hook.body.fields['@entity']).toEqual([`source '${name}' is not registered`]);
      const hookEvent = await send('hook event', 'POST', '/event-hooks', {
        source: 'crud',
        event: name,
        handler: 'log',
      });
      expect(hookEvent.status).toBe(400);
      expect(hookEvent.body.fields['@entity']).toEqual([`source 'crud' has no '${name}' event`]);
      const event = await send('event source', 'POST', '/events', { source: name, event: name, data: {} });
      expect(event.status).toBe(400);
      const eventName = await send('event name', 'POST', '/events', { source: 'crud', event: name, data: {} });
      expect(eventName.status).toBe(400);
    });

    it('is an unknown field as a key of a hook, its config, an event or an event definition', async () => {
      const top = await send('hook key', 'POST', '/event-hooks', {
        source: 'crud',
        handler: 'log',
        ...withKey(name, 1),
      });
      expect(top.status).toBe(400);
      expect(Object.hasOwn(top.body.fields, name)).toBe(true);
      const config = await send('config key', 'POST', '/event-hooks', {
        source: 'crud',
        handler: 'log',
        config: withKey(name, 'x'),
      });
      expect(config.status).toBe(400);
      expect(Object.hasOwn(config.body.fields.config, name)).toBe(true);
      const patch = await send('patch key', 'PATCH', `/event-hooks/${hookId}`, { config: withKey(name, 'x') });
      expect(patch.status).toBe(400);
      const event = await send('event key', 'POST', '/events', {
        source: 'crud',
        event: 'consumers',
        data: {},
        ...withKey(name, 1),
      });
      expect(event.status).toBe(400);
      const definition = await send('definition key', 'PUT', '/event-hooks/sources/mine/created', {
        fields: [],
        ...withKey(name, 1),
      });
      expect(definition.status).toBe(400);
      expect(Object.hasOwn(definition.body.fields, name)).toBe(true);
    });

    it('is refused as a header name or payload key of a hook, never a 500', async () => {
      const webhook = await send('webhook header', 'POST', '/event-hooks', {
        source: 'crud',
        handler: 'webhook',
        config: { url: 'http://127.0.0.1:9/hook', headers: withKey(name, 'x') },
      });
      expect(webhook.status).toBe(400);
      expect(Object.hasOwn(webhook.body.fields.config.headers, name)).toBe(true);
      const custom = await send('custom header and payload', 'POST', '/event-hooks', {
        source: 'crud',
        handler: 'webhook-custom',
        config: {
          url: 'http://127.0.0.1:9/hook',
          method: 'POST',
          headers: withKey(name, 'x'),
          payload: withKey(name, 'y'),
        },
      });
      expect(custom.status).toBe(400);
      expect(Object.hasOwn(custom.body.fields.config.payload, name)).toBe(true);
    });

    it('is an unknown field as a form key at every depth, urlencoded or multipart', async () => {
      const key = encodeURIComponent(name);
      for (const form of [
        `source=crud&handler=log&${key}=x`,
        `source=crud&handler=log&config.${key}=x`,
        `source=crud&handler=log&${key}.inner=x`,
        `source=crud&handler=log&${key}[1]=x`,
        `source=crud&handler=webhook&config.url=http://127.0.0.1:9/&config.headers.${key}=x`,
      ]) {
        const res = await sendForm('form key', form);
        expect(res.status, form).toBe(400);
      }
      const multipart = new FormData();
      multipart.append('source', 'crud');
      multipart.append('handler', 'log');
      multipart.append(`config.${name}`, 'x');
      const res = await fetch(`${t.runtime.url}/event-hooks`, { method: 'POST', headers: t.auth, body: multipart });
      seen.push({ input: 'multipart key', status: res.status, text: await res.text() });
      expect(res.status).toBe(400);
    });

    it('is carried as a key of event data and test data like any other key', async () => {
      const data = { ...withKey(name, { inner: withKey(name, 'v') }), entity: withKey(name, 'x') };
      const event = await send('event data', 'POST', '/events', { source: 'crud', event: 'consumers', data });
      expect(event.status).toBe(202);
      const test = await send('test data', 'POST', `/event-hooks/${hookId}/test`, data);
      expect(test.status).toBe(200);
      expect(Object.hasOwn(test.body.data, name)).toBe(true);
    });

    it('is a field name a user-defined event may list, also as a unique field for on_change', async () => {
      const event = `uses-${name.replace(/[^A-Za-z0-9]/g, '') || 'x'}`;
      const put = await send('field name', 'PUT', `/event-hooks/sources/fields/${event}`, {
        fields: [name],
        unique: [name],
      });
      expect(put.status).toBe(200);
      const hook = await send('on_change hook', 'POST', '/event-hooks', {
        source: 'fields',
        event,
        handler: 'log',
        on_change: true,
      });
      expect(hook.status).toBe(201);
      const posted = await send('unique field data', 'POST', '/events', {
        source: 'fields',
        event,
        data: withKey(name, { nested: 1 }),
      });
      expect(posted.status).toBe(202);
    });

    it('is kept as a key in log lines', () => {
      const logged = redact({ event: { data: withKey(name, { inner: 1 }) } }) as { event: { data: object } };
      expect(Object.getPrototypeOf(logged.event.data)).toBe(Object.prototype);
      expect(JSON.parse(JSON.stringify(logged)).event.data).toEqual(withKey(name, { inner: 1 }));
    });

    it('leaves every global as it was', () => expectNoPollution());
  });

  it('never answered 5xx, and the service still works afterwards', async () => {
    await t.runtime.bus.idle();
    await t.runtime.app.settled();
    const failures = seen.filter((entry) => entry.status >= 500);
    expect(failures).toEqual([]);
    expectNoPollution();
    expect((await t.request('GET', '/event-hooks/sources')).status).toBe(200);
    expect((await t.request('POST', '/event-hooks', { source: 'crud', handler: 'log' })).status).toBe(201);
    expect((await t.request('POST', '/events', { source: 'crud', event: 'consumers', data: {} })).status).toBe(202);
    expect(t.logs.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('loads a catalog that already holds such names (stored before they were refused) without harm', async () => {
    const sources = new SourceStore({ client: t.store.client, tableName: t.store.tableName });
    const tenant = t.runtime.config.tenant;
    for (const name of NAMES) await sources.put(tenant, name, 'keys', { fields: [] });
    await sources.put(tenant, 'constructor', 'keys', { fields: [] });
    t.runtime.app.cache.invalidate(tenant);
    const catalog = await t.request('GET', '/event-hooks/sources');
    expect(catalog.status).toBe(200);
    expect(Object.hasOwn(catalog.body.data, 'constructor')).toBe(true);
    expectNoPollution();
    expect((await t.request('POST', '/events', { source: 'crud', event: 'consumers', data: {} })).status).toBe(202);
    expect((await t.request('POST', '/event-hooks', { source: 'crud', handler: 'log' })).status).toBe(201);
    expect((await t.request('GET', '/event-hooks/sources/constructor/keys')).status).toBe(200);
    expect((await t.request('DELETE', '/event-hooks/sources/constructor/keys')).status).toBe(204);
    expectNoPollution();
  });
});

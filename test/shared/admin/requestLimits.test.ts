import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS } from '../../../shared/admin/limits.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const nested = (depth: number, inner = '1') => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);

describe('bounded work per request', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  const send = async (method: string, path: string, body: string, contentType: string) => {
    const res = await fetch(`${t.runtime.url}${path}`, {
      method,
      headers: { 'content-type': contentType, ...t.auth },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const form = (method: string, path: string, body: string) =>
    send(method, path, body, 'application/x-www-form-urlencoded');

  describe('form bodies', () => {
    it('refuses a huge array index at once, and the service keeps answering meanwhile', async () => {
      // Before: `fields[300000000]` built a sparse array whose checks held the event loop for 35 s.
      const started = Date.now();
      const [res, health] = await Promise.all([
        form('PUT', '/event-hooks/sources/billing/paid', 'fields[300000000]=a'),
        fetch(`${t.runtime.url}/health`).then((r) => ({ status: r.status, at: Date.now() })),
      ]);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/array indexes run from 1 to 1000/);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(health.status).toBe(200);
      expect(health.at - started).toBeLessThan(2_000);
      const hook = await form('POST', '/event-hooks', 'source=crud&handler=lambda&config.functions[300000000]=x');
      expect(hook.status).toBe(400);
    });

    it.each([
      ['an index of 0', 'fields[0]=a', /array indexes run from 1/],
      ['an index past the cap', `fields[${REQUEST_LIMITS.formIndex + 1}]=a`, /array indexes run from 1/],
      ['an index of many digits', `fields[${'9'.repeat(400)}]=a`, /array indexes run from 1/],
      ['a gap (a sparse array)', 'fields[1]=a&fields[3]=c', /'fields' has no entry \[2\]/],
      ['a gap before the only entry', 'fields[2]=a', /'fields' has no entry \[1\]/],
      [
        'more fields than the cap',
        Array.from({ length: REQUEST_LIMITS.formFields + 1 }, (_, i) => `description=${i}`).join('&'),
        /at most 1000 fields/,
      ],
    ])('refuses %s with a clear 400', async (_name, body, message) => {
      const res = await form('PUT', '/event-hooks/sources/billing/paid', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
      expect((await t.request('GET', '/event-hooks/sources/billing')).status).toBe(404);
    });

    it('takes indexes in any order as long as none is missing', async () => {
      const res = await form('PUT', '/event-hooks/sources/billing/paid', 'fields[2]=b&fields[1]=a&unique[1]=a');
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ fields: ['a', 'b'], unique: ['a'] });
    });
  });

  describe('user-defined event definitions', () => {
    it('refuses long field lists at once, without comparing every entry with every other', async () => {
      // Two lists of 15,000 short entries fit the body limit; the subset check compared them pairwise.
      const fields = Array.from({ length: 15_000 }, (_, i) => i.toString(36));
      const unique = fields.map((name) => name.toUpperCase());
      const started = Date.now();
      const res = await t.request('PUT', '/event-hooks/sources/billing/paid', { fields, unique });
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual({ fields: 'at most 100 entries', unique: 'at most 100 entries' });
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('refuses field names longer than 256 characters', async () => {
      const res = await t.request('PUT', '/event-hooks/sources/billing/paid', { fields: ['f'.repeat(257)] });
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual({ fields: 'entries must be at most 256 characters' });
    });
  });

  describe('JSON nesting', () => {
    it.each([
      ['POST /event-hooks', 'POST', '/event-hooks', `{"source":"crud","handler":"log","config":${nested(5000)}}`],
      ['POST /event-hooks (the body itself)', 'POST', '/event-hooks', nested(5000)],
      ['PUT a user-defined event', 'PUT', '/event-hooks/sources/billing/paid', `{"fields":${'['.repeat(5000)}`],
      ['POST /events', 'POST', '/events', `{"source":"crud","event":"consumers","data":${nested(5000)}}`],
      ['POST /events (a batch)', 'POST', '/events', `[${nested(100_000)}]`],
    ])('refuses a body nested 5,000 deep on %s with a 400, not a 500', async (_name, method, path, body) => {
      const res = await send(method, path, body, 'application/json');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: `JSON body is nested deeper than ${REQUEST_LIMITS.jsonDepth} levels` });
    });

    it('takes nesting up to the limit, and brackets inside strings do not count', async () => {
      // The envelope is one level, so data nested jsonDepth - 1 deep reaches the limit exactly.
      const data = nested(REQUEST_LIMITS.jsonDepth - 1, JSON.stringify('[{\\"'.repeat(10_000)));
      const res = await send(
        'POST',
        '/events',
        `{"source":"crud","event":"consumers","data":${data}}`,
        'application/json',
      );
      expect(res.status).toBe(202);
      const deeper = nested(REQUEST_LIMITS.jsonDepth);
      const refused = await send(
        'POST',
        '/events',
        `{"source":"crud","event":"consumers","data":${deeper}}`,
        'application/json',
      );
      expect(refused.status).toBe(400);
    });
  });

  describe('ids and names', () => {
    const long = 'a'.repeat(2000);
    // `{long}` in a path stands for a 2,000-character segment.
    it.each([
      ['GET', '/event-hooks/{long}'],
      ['PATCH', '/event-hooks/{long}'],
      ['PUT', '/event-hooks/{long}'],
      ['DELETE', '/event-hooks/{long}'],
      ['POST', '/event-hooks/{long}/test'],
      ['GET', '/event-hooks/{long}/ping'],
      ['GET', '/dead-letters/{long}'],
      ['POST', '/dead-letters/{long}/replay'],
      ['GET', '/event-hooks/sources/{long}'],
      ['GET', '/event-hooks/sources/crud/{long}'],
      ['PUT', '/event-hooks/sources/{long}/paid'],
      ['DELETE', '/event-hooks/sources/billing/{long}'],
    ])('refuses a 2,000-character segment on %s %s with a 400', async (method, pattern) => {
      const path = pattern.replace('{long}', long);
      const res = await t.request(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: 'URL path segments must be at most 256 characters' });
    });

    it('treats an id that is no UUID as one that does not exist, without asking the store', async () => {
      const id = 'x'.repeat(REQUEST_LIMITS.pathSegment);
      expect((await t.request('GET', `/event-hooks/${id}`)).status).toBe(404);
      expect((await t.request('PATCH', `/event-hooks/${id}`, { snooze: 1 })).status).toBe(404);
      expect((await t.request('DELETE', `/event-hooks/${id}`)).status).toBe(204);
      const put = await t.request('PUT', `/event-hooks/${id}`, { source: 'crud', handler: 'log' });
      expect(put.status).toBe(400);
      expect(put.body.fields).toEqual({ id: 'expected a valid UUID' });
    });

    it('refuses event names longer than 256 characters in POST /events as unregistered', async () => {
      const res = await t.request('POST', '/events', { source: 'crud', event: 'e'.repeat(5000), data: {} });
      expect(res.status).toBe(400);
    });
  });

  it('logged no unexpected error', () => {
    expect(t.logs.filter((line) => line.level === 'error')).toEqual([]);
  });
});

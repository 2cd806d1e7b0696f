import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES, openApiJson } from '../../../shared/admin/router.ts';
import { routeAccess } from '../../../shared/auth/routeAccess.ts';
import { INGEST_ROUTES } from '../../../shared/pipeline/ingest.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `METHOD path` the routers serve, from their own tables; `*` is every method OpenAPI has. */
function served(): string[] {
  return [...ADMIN_ROUTES, ...INGEST_ROUTES].flatMap((route) =>
    (route.methods as readonly string[]).flatMap((method) =>
      (method === '*' ? OPENAPI_METHODS : [method.toLowerCase()]).map((m) => `${m} ${route.path}`),
    ),
  );
}

type Document = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

describe('GET /openapi.json', () => {
  let t: TestRuntime;
  let doc: Document;
  beforeAll(async () => {
    t = await startTestRuntime();
    const res = await t.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = res.body;
  });
  afterAll(() => t.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('lists every route and method the routers serve, and nothing more', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => OPENAPI_METHODS.includes(key))
        .map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(served().sort());
    expect(served()).toContain('get /openapi.json');
  });

  it('declares each path parameter of a route', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = ((item.parameters ?? []) as { name: string; in: string }[]).map((p) => p.name);
      expect(declared, path).toEqual(names);
    }
  });

  it('is served without a key, and is the same document every time (generated once)', async () => {
    expect(routeAccess('GET', '/openapi.json')).toBe('public');
    const again = await t.request('GET', '/openapi.json');
    expect(again.text).toBe(openApiJson());
  });

  it('describes hook bodies with the schemas that validate them: what the API accepts, the document accepts', async () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, name);
    const body = ajv.getSchema('HookBody');
    const hook = ajv.getSchema('EventHook');
    if (!body || !hook) throw new Error('HookBody and EventHook are components');
    const bodies = [
      { source: 'crud', event: 'consumers', handler: 'log' },
      { source: 'crud', handler: 'webhook', config: { url: 'https://example.com/hook', secret: 'hunter2' } },
      {
        source: 'crud',
        event: 'admins',
        handler: 'webhook-custom',
        config: { url: 'https://x.test/', method: 'post' },
      },
      { source: 'crud', handler: 'lambda', config: { functions: ['return function () end'] } },
    ];
    for (const sent of bodies) {
      expect(body(sent), JSON.stringify(body.errors)).toBe(true);
      const res = await t.request('POST', '/event-hooks', sent);
      if (res.status === 201) expect(hook(res.body), JSON.stringify(hook.errors)).toBe(true);
    }
    // And what the API refuses for its schema (not its refinements), the document refuses too.
    for (const bad of [
      { source: 'crud', handler: 'nope' },
      { source: 'crud', handler: 'log', snooze: -1 },
      { source: 'crud', handler: 'webhook', config: {} },
      { source: 'crud', handler: 'log', extra: 1 },
    ]) {
      expect(body(bad), JSON.stringify(bad)).toBe(false);
      expect((await t.request('POST', '/event-hooks', bad)).status).toBe(400);
    }
  });

  it("documents the merged-in inputs: a hook's `enabled`, PUT's `dry_run`, the operator's bodies", () => {
    const schemas = JSON.stringify(doc.components.schemas.HookBody);
    expect(schemas).toContain('"enabled"');
    const put = doc.paths['/event-hooks/{id}']?.put as { parameters?: { name: string; in: string }[] };
    expect(put.parameters?.map((p) => `${p.in} ${p.name}`)).toEqual(['query dry_run']);
    const bodyOf = (path: string, method: string) =>
      JSON.stringify((doc.paths[path]?.[method] as { requestBody?: unknown } | undefined)?.requestBody ?? null);
    expect(bodyOf('/tenants', 'post')).toContain('"name"');
    expect(bodyOf('/tenants/{id}/keys', 'post')).toContain('"scopes"');
    expect(bodyOf('/tenants/{id}/quotas', 'put')).toContain('"events_per_second"');
  });
});

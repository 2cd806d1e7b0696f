import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../../support/runtime.ts';

/**
 * `lambda` hooks through the local runtime's Admin API: code that could never run is refused at
 * create and update (issue 8, defects 9a/9b), and `/test` does not let user code reach the API
 * it is served by (defect 4, as it was shown).
 */

const ECHO = 'return function (data, event, source, pid, context) { return { data, pid, context } }';

describe('lambda hooks on the local runtime', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
  });
  afterAll(() => t.close());

  const lambdaHook = (functions: unknown[]) => ({
    source: 'crud',
    event: 'consumers',
    handler: 'lambda',
    config: { functions },
  });

  it.each([
    ['code with no return (`1+1`)', '1+1', /^the code does not return a function/],
    ['code returning a number', 'return 1 + 1', /^the code must return a function, it returned number/],
    ['code returning nothing after awaiting', 'await null', /^the code must return a function, it returned undefined/],
    [
      'Kong’s Lua',
      'return function (data, event, source, pid)\n  local user = data.entity.username\n  error("Event hook on consumer " .. user .. "")\nend',
      /^function does not compile: Unexpected identifier 'local' \(line 2, column 3\); this looks like Lua, as in Kong; /,
    ],
  ])('refuses %s at create with a 400 naming JavaScript and the guide', async (_name, code, message) => {
    // Act
    const res = await t.request('POST', '/event-hooks', lambdaHook([ECHO, code]));

    // Assess: Kong's schema-violation shape, under the 1-based index of the entry
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 2, name: 'schema violation' });
    const field = res.body.fields.config.functions['2'] as string;
    expect(field).toMatch(message);
    expect(field).toMatch(/functions are JavaScript: .*\(see docs\/user-code\.md\)$/);
    expect(res.body.fields.config.functions['1']).toBeUndefined();
  });

  it('refuses such code at update too, and keeps the stored hook as it was', async () => {
    // Prepare
    const created = await t.request('POST', '/event-hooks', lambdaHook([ECHO]));
    expect(created.status).toBe(201);
    const path = `/event-hooks/${created.body.id}`;

    // Act
    const patched = await t.request('PATCH', path, { config: { functions: ['return 42'] } });
    const put = await t.request('PUT', path, lambdaHook(['1+1']));
    const stored = await t.request('GET', path);

    // Assess
    expect(patched.status).toBe(400);
    expect(patched.body.fields.config.functions['1']).toMatch(/^the code must return a function, it returned number; /);
    expect(put.status).toBe(400);
    expect(put.body.fields.config.functions['1']).toMatch(/^the code does not return a function/);
    expect(stored.body.config.functions).toEqual([ECHO]);
  });

  it('under /test, gives the code its own pid, never the service’s, and no delivery', async () => {
    // Prepare
    const created = await t.request('POST', '/event-hooks', lambdaHook([ECHO]));

    // Act
    const res = await t.request('POST', `/event-hooks/${created.body.id}/test`, { n: 1 });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.result.context).toEqual({ deliveryId: null, attempt: null, eventId: null });
    expect(res.body.result.pid).not.toBe(process.pid);
  });

  it('under /test, user code cannot read the hooks (and their secrets) from the Admin API', async () => {
    // Prepare: a hook with a secret, and code that knows where the API listens
    const secret = 'do-not-leak-me';
    await t.request('POST', '/event-hooks', {
      source: 'crud',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:9/hook', secret },
    });
    const thief = `return async function () { return await (await fetch('${t.runtime.url}/event-hooks')).text() }`;
    const created = await t.request('POST', '/event-hooks', lambdaHook([thief]));
    expect(created.status).toBe(201);

    // Act
    const res = await t.request('POST', `/event-hooks/${created.body.id}/test`, {});

    // Assess: Kong's answer to a failed /test, with the refusal as the reason
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: 'An unexpected error ocurred', err: expect.stringMatching(/not allowed/) });
    expect(res.text).not.toContain(secret);
  });
});

import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { formToBody } from '../../../shared/admin/formBody.ts';
import { openApiDocument } from '../../../shared/admin/openapi.ts';
import { ADMIN_ROUTES } from '../../../shared/admin/router.ts';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { createRegistry } from '../../../shared/handlers/definition.ts';
import { createHandler } from '../../../shared/handlers/index.ts';
import {
  HANDLER_DEFINITIONS,
  HANDLERS,
  isSignedHook,
  signedHandlerNames,
  USER_CODE_HOOKS,
  userCodeOf,
} from '../../../shared/handlers/registry.ts';
import { BUILTIN_CATALOG } from '../../../shared/hooks/catalog.ts';
import { HANDLER_NAMES, type HookEntity } from '../../../shared/hooks/hook.ts';
import { hooksFileSchema } from '../../../shared/hooks/hooksFileSchema.ts';
import { type ValidateOptions, validateHook } from '../../../shared/hooks/validate.ts';
import { echoHandler } from './echo.ts';
import { hookOf, testDeps } from './fixtures.ts';

// A fifth handler: its module (echo.ts) and this one line.
const WITH_ECHO = createRegistry([...HANDLER_DEFINITIONS, echoHandler]);

const options = (handlers = WITH_ECHO): ValidateOptions => ({ catalog: BUILTIN_CATALOG, handlers });

function violation(body: unknown, handlers = WITH_ECHO): SchemaViolationError {
  try {
    validateHook(body, options(handlers));
  } catch (error) {
    if (error instanceof SchemaViolationError) return error;
    throw error;
  }
  throw new Error('expected a schema violation');
}

const HOOK_ID = '6b9a4f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
const deps = testDeps();
afterAll(() => deps.http.close());

describe('the handler registry', () => {
  it('lists the four handlers in the order of HANDLER_NAMES, which the console reads', () => {
    expect(HANDLERS.names).toEqual([...HANDLER_NAMES]);
    expect(HANDLERS.get('webhook')).toBe(HANDLER_DEFINITIONS[0]);
    expect(HANDLERS.get('nope')).toBeUndefined();
  });

  it('refuses two handlers with one name', () => {
    expect(() => createRegistry([...HANDLER_DEFINITIONS, HANDLER_DEFINITIONS[2]])).toThrow(
      "two handlers are named 'log'",
    );
  });

  it("gives the functions a hook deploys by its handler's resource hook: lambda's, no other's", () => {
    expect(userCodeOf(hookOf('lambda', { functions: ['return () => 1', 'my-fn'] }))).toEqual([
      'return () => 1',
      'my-fn',
    ]);
    expect(userCodeOf(hookOf('log', {}))).toBeUndefined();
    expect(
      userCodeOf(hookOf('webhook', { url: 'https://x.test/', headers: {}, secret: null, ssl_verify: false })),
    ).toBe(undefined);
  });

  it('lists apart exactly the resource hooks the definitions give, for the deploy worker and the sweeper', () => {
    const fromDefinitions = HANDLER_DEFINITIONS.flatMap((definition) =>
      definition.userCode ? [[definition.name, definition.userCode]] : [],
    );
    expect(Object.entries(USER_CODE_HOOKS)).toEqual(fromDefinitions);
  });

  it('tells which handlers sign their requests by their definitions', () => {
    expect(signedHandlerNames()).toEqual(['webhook', 'webhook-custom']);
    expect(
      isSignedHook(hookOf('webhook', { url: 'https://x.test/', headers: {}, secret: 's', ssl_verify: false })),
    ).toBe(true);
    expect(isSignedHook(hookOf('lambda', { functions: ['my-fn'] }))).toBe(false);
  });
});

describe('a fifth handler is one module and one registry line', () => {
  it('is validated by its schema and refinements, in Kong’s words, with its defaults filled', () => {
    // Act
    const { fields } = validateHook({ source: 'crud', handler: 'echo', config: { reply: 'hi {{ id }}' } }, options());
    const bad = violation({ source: 'crud', handler: 'echo', config: { times: 11, shout: 'yes', loud: true } });
    const template = violation({ source: 'crud', handler: 'echo', config: { reply: '{{#id}}' } });

    // Assess
    expect(fields).toMatchObject({ handler: 'echo', config: { reply: 'hi {{ id }}', times: 1, shout: false } });
    expect(bad.fields).toEqual({
      config: {
        reply: 'required field missing',
        times: 'value should be between 1 and 10',
        shout: 'expected a boolean',
        loud: 'unknown field',
      },
    });
    expect((template.fields.config as Record<string, string>).reply).toMatch(/^invalid template: /);
  });

  it('is a handler name only in the registry that lists it', () => {
    expect(violation({ source: 'crud', handler: 'nope' }).fields).toEqual({
      handler: 'expected one of: webhook, webhook-custom, log, lambda, echo',
    });
    expect(violation({ source: 'crud', handler: 'echo' }, HANDLERS).fields).toEqual({
      handler: 'expected one of: webhook, webhook-custom, log, lambda',
    });
  });

  it('has its form fields typed from its schema', () => {
    const form: [string, string][] = [
      ['handler', 'echo'],
      ['config.reply', 'hi'],
      ['config.times', '3'],
      ['config.shout', 'true'],
    ];
    expect(formToBody(form, WITH_ECHO)).toEqual({ handler: 'echo', config: { reply: 'hi', times: 3, shout: true } });
    // Without it, the service knows nothing of those fields: they stay text.
    expect(formToBody(form, HANDLERS)).toEqual({ handler: 'echo', config: { reply: 'hi', times: '3', shout: 'true' } });
  });

  it('has its variant in the OpenAPI document', () => {
    // Prepare
    const doc = openApiDocument(ADMIN_ROUTES, '1', WITH_ECHO) as { components: { schemas: Record<string, object> } };
    const ajv = new Ajv2020({ strict: false, formats: { uuid: true } });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema, name);
    const body = ajv.getSchema('HookBody');
    const hook = ajv.getSchema('EventHook');
    if (!body || !hook) throw new Error('HookBody and EventHook are components');

    // Assess
    expect(body({ source: 'crud', handler: 'echo', config: { reply: 'hi' } })).toBe(true);
    expect(body({ source: 'crud', handler: 'echo', config: { reply: 'hi', times: 'x' } })).toBe(false);
    const stored = { reply: 'hi', times: 1, shout: false };
    const entity = { id: HOOK_ID, created_at: 1, source: 'crud', event: null, handler: 'echo', config: stored };
    expect(hook({ ...entity, on_change: null, snooze: null, filter: null, threshold: null, enabled: true })).toBe(true);
  });

  it('has its entry in the hooks-file schema', () => {
    // Prepare
    const check = TypeCompiler.Compile(hooksFileSchema(WITH_ECHO));
    const entry = { id: HOOK_ID, source: 'crud', handler: 'echo', config: { reply: 'hi', times: 2 } };

    // Assess
    expect(check.Check([entry])).toBe(true);
    expect(check.Check([{ ...entry, config: { reply: 'hi', times: 'twice' } }])).toBe(false);
    expect(check.Check([{ ...entry, config: {} }])).toBe(false);
  });

  it('is built and run by createHandler, ping included', async () => {
    // Prepare
    const hook: HookEntity<'echo', { reply: string; times: number; shout: boolean }> = {
      ...hookOf('log', {}),
      handler: 'echo',
      config: { reply: 'hi {{ id }}', times: 2, shout: true },
    };

    // Act
    const handler = createHandler(hook, deps, WITH_ECHO);
    const result = await handler.callback({ source: 'crud', event: 'consumers', data: { id: 'c1' } });

    // Assess
    expect(result).toEqual({ echoed: 'HI C1 HI C1' });
    expect(await handler.ping?.()).toEqual({ echoed: 'pong' });
    expect(() => createHandler(hook, deps)).toThrow("no handler named 'echo'");
  });
});

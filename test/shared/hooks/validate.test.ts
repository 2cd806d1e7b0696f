import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { mergeCatalog } from '../../../shared/hooks/catalog.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { isUuid, mergePatch, type ValidateOptions, validateHook } from '../../../shared/hooks/validate.ts';

// Compile-only check of a function body, as the real user-code module will do; nothing is run.
function compileError(code: string): string | undefined {
  try {
    new Script(`(async function () {\n${code}\n})`);
    return undefined;
  } catch (error) {
    return `invalid code: ${(error as Error).message}`;
  }
}

const OPTIONS: ValidateOptions = {
  catalog: mergeCatalog({ billing: { 'invoice-paid': { fields: ['amount', 'customer'] } } }),
  userCodeSyntaxError: compileError,
};

const SLACK_TEXT = 'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`';
const LAMBDA_CODE =
  'return function (data, event, source, pid) {\n  throw new Error("Event hook on consumer " + data.entity.username)\n}\n';
const HOOK_ID = '937df175-3db2-4e6d-8aa1-d95c94a76089';

function violation(body: unknown, options: ValidateOptions = OPTIONS): SchemaViolationError {
  try {
    validateHook(body, options);
  } catch (error) {
    if (error instanceof SchemaViolationError) return error;
    throw error;
  }
  throw new Error(`expected a schema violation for ${JSON.stringify(body)}`);
}

const webhookCustom = (config: Record<string, unknown>) => ({
  source: 'crud',
  handler: 'webhook-custom',
  config: { url: 'https://example.com/hook', method: 'POST', ...config },
});
const webhook = (config: Record<string, unknown>) => ({ source: 'crud', handler: 'webhook', config });
const lambda = (functions: unknown) => ({ source: 'crud', handler: 'lambda', config: { functions } });

describe('validateHook', () => {
  const good: { name: string; body: unknown; fields: unknown }[] = [
    {
      name: 'the seed Slack webhook-custom, with every default filled in',
      body: {
        source: 'crud',
        event: 'admins',
        handler: 'webhook-custom',
        config: {
          url: 'https://hooks.slack.com/services/foo/bar/baz',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          payload: { text: SLACK_TEXT },
        },
      },
      fields: {
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
          payload: { text: SLACK_TEXT },
          payload_format: true,
          body: null,
          body_format: true,
          headers: { 'content-type': 'application/json' },
          headers_format: false,
          secret: null,
          ssl_verify: false,
        },
      },
    },
    {
      name: 'the seed plain webhook',
      body: {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        config: { url: 'https://webhook.site/a1b2c3-d4e5-g6h7-i8j9-k1l2m3n4o5p6' },
      },
      fields: {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: {
          url: 'https://webhook.site/a1b2c3-d4e5-g6h7-i8j9-k1l2m3n4o5p6',
          headers: {},
          secret: null,
          ssl_verify: false,
        },
      },
    },
    {
      name: 'the seed log hook without a config',
      body: { source: 'crud', event: 'routes', handler: 'log' },
      fields: {
        source: 'crud',
        event: 'routes',
        handler: 'log',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: {},
      },
    },
    {
      name: 'the seed lambda hook, in JavaScript',
      body: { source: 'crud', event: 'consumers', handler: 'lambda', config: { functions: [LAMBDA_CODE] } },
      fields: {
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: { functions: [LAMBDA_CODE] },
      },
    },
    {
      name: 'a log hook with config {}, no event, on_change and snooze set',
      body: { source: 'balancer', event: null, handler: 'log', on_change: true, snooze: 0, config: {} },
      fields: {
        source: 'balancer',
        event: null,
        handler: 'log',
        on_change: true,
        snooze: 0,
        filter: null,
        threshold: null,
        enabled: true,
        config: {},
      },
    },
    {
      name: 'a hook on a user-defined source and event',
      body: { source: 'billing', event: 'invoice-paid', handler: 'log', snooze: 31536000 },
      fields: {
        source: 'billing',
        event: 'invoice-paid',
        handler: 'log',
        on_change: null,
        snooze: 31536000,
        filter: null,
        threshold: null,
        enabled: true,
        config: {},
      },
    },
    {
      name: 'a webhook whose nulls mean defaults, signed, verifying certificates',
      body: webhook({ url: 'HTTP://127.0.0.1:8080/x?y=1', headers: null, secret: 'hunter2', ssl_verify: true }),
      fields: {
        source: 'crud',
        event: null,
        handler: 'webhook',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: { url: 'HTTP://127.0.0.1:8080/x?y=1', headers: {}, secret: 'hunter2', ssl_verify: true },
      },
    },
    {
      name: 'webhook-custom with a lower-case method (stored upper-case) and raw, unchecked templates',
      body: webhookCustom({
        method: 'get',
        payload: { a: '{{#a}}x' },
        payload_format: false,
        body: '{{#a}}x',
        body_format: false,
        headers: { 'x-raw': '{{#a}}x' },
      }),
      fields: {
        source: 'crud',
        event: null,
        handler: 'webhook-custom',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: {
          url: 'https://example.com/hook',
          method: 'GET',
          payload: { a: '{{#a}}x' },
          payload_format: false,
          body: '{{#a}}x',
          body_format: false,
          headers: { 'x-raw': '{{#a}}x' },
          headers_format: false,
          secret: null,
          ssl_verify: false,
        },
      },
    },
    {
      name: 'lambda functions naming AWS Lambda functions, which are not compiled as code',
      body: lambda(['my-function', 'arn:aws:lambda:eu-west-1:123456789012:function:enrich:live']),
      fields: {
        source: 'crud',
        event: null,
        handler: 'lambda',
        on_change: null,
        snooze: null,
        filter: null,
        threshold: null,
        enabled: true,
        config: { functions: ['my-function', 'arn:aws:lambda:eu-west-1:123456789012:function:enrich:live'] },
      },
    },
  ];

  it.each(good)('accepts $name', ({ body, fields }) => {
    // Act
    const result = validateHook(body, OPTIONS);

    // Assess
    expect(result).toStrictEqual({ fields });
  });

  it('returns a given id and created_at apart from the fields', () => {
    // Prepare
    const body = { id: HOOK_ID, created_at: 1627588552, source: 'crud', handler: 'log' };

    // Act
    const result = validateHook(body, OPTIONS);

    // Assess
    expect(result.id).toBe(HOOK_ID);
    expect(result.created_at).toBe(1627588552);
    expect(result.fields).not.toHaveProperty('id');
    expect(result.fields).not.toHaveProperty('created_at');
  });

  it('checks lambda code only when a checker is given', () => {
    // Act
    const result = validateHook(lambda(['return function ( {']), { catalog: OPTIONS.catalog });

    // Assess
    expect(result.fields.config).toStrictEqual({ functions: ['return function ( {'] });
  });

  it.each(['__proto__', 'constructor', 'toString'])(
    'refuses %s as a header name or payload key: the store would drop or choke on it',
    (name) => {
      // Prepare: the DynamoDB unmarshaller assigns `acc[key]`, dropping `__proto__`; its marshaller reads `value.constructor.name`.
      const map = JSON.parse(`{${JSON.stringify(name)}:"x"}`);
      const body = {
        source: 'crud',
        handler: 'webhook-custom',
        config: { url: 'http://a.test', method: 'POST', headers: map, payload: map },
      };

      // Act
      const error = violation(body);

      // Assess
      const config = error.fields.config as Record<string, Record<string, string>>;
      expect(Object.entries(config.headers ?? {})).toStrictEqual([[name, `'${name}' is a reserved name`]]);
      expect(Object.entries(config.payload ?? {})).toStrictEqual([[name, `'${name}' is a reserved name`]]);
    },
  );

  const bad: { name: string; body: unknown; fields: unknown; message: string }[] = [
    {
      name: 'a missing source',
      body: { handler: 'log' },
      fields: { source: 'required field missing' },
      message: 'schema violation (source: required field missing)',
    },
    {
      name: 'a missing handler',
      body: { source: 'crud' },
      fields: { handler: 'required field missing' },
      message: 'schema violation (handler: required field missing)',
    },
    {
      name: 'an unknown handler, without looking at its config',
      body: { source: 'crud', handler: 'email', config: { anything: 1 } },
      fields: { handler: 'expected one of: webhook, webhook-custom, log, lambda' },
      message: 'schema violation (handler: expected one of: webhook, webhook-custom, log, lambda)',
    },
    {
      name: 'an unknown top-level field',
      body: { source: 'crud', handler: 'log', name: 'x' },
      fields: { name: 'unknown field' },
      message: 'schema violation (name: unknown field)',
    },
    {
      name: 'an unknown webhook config field',
      body: webhook({ url: 'https://example.com', verify: true }),
      fields: { config: { verify: 'unknown field' } },
      message: 'schema violation (config.verify: unknown field)',
    },
    {
      name: 'any log config field',
      body: { source: 'crud', handler: 'log', config: { level: 'info' } },
      fields: { config: { level: 'unknown field' } },
      message: 'schema violation (config.level: unknown field)',
    },
    {
      name: 'a negative snooze',
      body: { source: 'crud', handler: 'log', snooze: -1 },
      fields: { snooze: 'value should be between 0 and 31536000' },
      message: 'schema violation (snooze: value should be between 0 and 31536000)',
    },
    {
      name: 'a snooze over a year',
      body: { source: 'crud', handler: 'log', snooze: 31536001 },
      fields: { snooze: 'value should be between 0 and 31536000' },
      message: 'schema violation (snooze: value should be between 0 and 31536000)',
    },
    {
      name: 'a non-integer snooze',
      body: { source: 'crud', handler: 'log', snooze: 1.5 },
      fields: { snooze: 'expected an integer' },
      message: 'schema violation (snooze: expected an integer)',
    },
    {
      name: 'an unregistered source',
      body: { source: 'foo', handler: 'log' },
      fields: { '@entity': ["source 'foo' is not registered"] },
      message: "schema violation (source 'foo' is not registered)",
    },
    {
      name: 'an event the source does not have',
      body: { source: 'crud', event: 'nope', handler: 'log' },
      fields: { '@entity': ["source 'crud' has no 'nope' event"] },
      message: "schema violation (source 'crud' has no 'nope' event)",
    },
    {
      name: 'a built-in event given for a user-defined source',
      body: { source: 'billing', event: 'consumers', handler: 'log' },
      fields: { '@entity': ["source 'billing' has no 'consumers' event"] },
      message: "schema violation (source 'billing' has no 'consumers' event)",
    },
    {
      name: 'a badly typed event, skipping the registration check as Kong does',
      body: { source: 'foo', event: 7, handler: 'log' },
      fields: { event: 'expected a string' },
      message: 'schema violation (event: expected a string)',
    },
    {
      name: 'an empty source',
      body: { source: '', handler: 'log' },
      fields: { source: 'length must be at least 1' },
      message: 'schema violation (source: length must be at least 1)',
    },
    {
      name: 'an id that is not a UUID and a negative created_at',
      body: { id: 'hook-1', created_at: -5, source: 'crud', handler: 'log' },
      fields: { id: 'expected a valid UUID', created_at: 'value should be between 0 and 9007199254740991' },
      message:
        '2 schema violations (id: expected a valid UUID; created_at: value should be between 0 and 9007199254740991)',
    },
    {
      name: 'a config that is not an object',
      body: { source: 'crud', handler: 'log', config: ['a'] },
      fields: { config: 'expected a record' },
      message: 'schema violation (config: expected a record)',
    },
    {
      name: 'a null config',
      body: { source: 'crud', handler: 'log', config: null },
      fields: { config: 'required field missing' },
      message: 'schema violation (config: required field missing)',
    },
    {
      name: 'a webhook without config',
      body: { source: 'crud', handler: 'webhook' },
      fields: { config: { url: 'required field missing' } },
      message: 'schema violation (config.url: required field missing)',
    },
    {
      name: 'a webhook-custom without url and method',
      body: { source: 'crud', handler: 'webhook-custom', config: {} },
      fields: { config: { url: 'required field missing', method: 'required field missing' } },
      message: '2 schema violations (config.url: required field missing; config.method: required field missing)',
    },
    {
      name: 'an ftp URL',
      body: webhook({ url: 'ftp://example.com/file' }),
      fields: { config: { url: "unsupported scheme 'ftp' (expected http or https)" } },
      message: "schema violation (config.url: unsupported scheme 'ftp' (expected http or https))",
    },
    {
      name: 'a URL that is not one',
      body: webhook({ url: 'not a url' }),
      fields: { config: { url: 'invalid url' } },
      message: 'schema violation (config.url: invalid url)',
    },
    {
      name: 'a URL with a space in its host',
      body: webhook({ url: 'https://exa mple.com/' }),
      fields: { config: { url: 'invalid url' } },
      message: 'schema violation (config.url: invalid url)',
    },
    {
      name: 'a URL with a broken IPv6 host',
      body: webhook({ url: 'https://[::1/' }),
      fields: { config: { url: 'invalid url' } },
      message: 'schema violation (config.url: invalid url)',
    },
    {
      name: 'a URL without //host',
      body: webhook({ url: 'http:example.com' }),
      fields: { config: { url: 'missing host in url' } },
      message: 'schema violation (config.url: missing host in url)',
    },
    {
      name: 'a URL longer than 2048 characters',
      body: webhook({ url: `https://example.com/${'a'.repeat(2029)}` }),
      fields: { config: { url: 'length must be at most 2048' } },
      message: 'schema violation (config.url: length must be at most 2048)',
    },
    {
      name: 'an unsupported method',
      body: webhookCustom({ method: 'TRACE' }),
      fields: { config: { method: 'expected one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS' } },
      message: 'schema violation (config.method: expected one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)',
    },
    {
      name: 'a malformed payload template',
      body: webhookCustom({ payload: { text: '{{#a}}x', ok: '{{ a }}' } }),
      fields: { config: { payload: { text: 'invalid template: Unclosed section "a" at 7' } } },
      message: 'schema violation (config.payload.text: invalid template: Unclosed section "a" at 7)',
    },
    {
      name: 'a malformed body template',
      body: webhookCustom({ body: '{{#a}}x' }),
      fields: { config: { body: 'invalid template: Unclosed section "a" at 7' } },
      message: 'schema violation (config.body: invalid template: Unclosed section "a" at 7)',
    },
    {
      name: 'a malformed header template when headers_format is true',
      body: webhookCustom({ headers: { 'x-user': '{{#a}}x' }, headers_format: true }),
      fields: { config: { headers: { 'x-user': 'invalid template: Unclosed section "a" at 7' } } },
      message: 'schema violation (config.headers.x-user: invalid template: Unclosed section "a" at 7)',
    },
    {
      name: 'header names that are not tokens and values that would split the request',
      body: webhook({ url: 'https://example.com', headers: { 'bad name': 'x', 'x-a': 'a\r\nx-b: b' } }),
      fields: { config: { headers: { 'bad name': 'invalid header name', 'x-a': 'invalid header value' } } },
      message:
        '2 schema violations (config.headers.bad name: invalid header name; config.headers.x-a: invalid header value)',
    },
    {
      name: 'more than 50 headers',
      body: webhook({
        url: 'https://example.com',
        headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v'])),
      }),
      fields: { config: { headers: 'length must be at most 50' } },
      message: 'schema violation (config.headers: length must be at most 50)',
    },
    {
      name: 'a config too large to store',
      body: webhookCustom({
        payload: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, 'p'.repeat(4096)])),
        headers: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x-h${i}`, 'h'.repeat(4096)])),
      }),
      fields: { config: 'encoded size must be at most 262144 bytes' },
      message: 'schema violation (config: encoded size must be at most 262144 bytes)',
    },
    {
      name: 'a lambda hook without functions',
      body: { source: 'crud', handler: 'lambda', config: {} },
      fields: { config: { functions: 'required field missing' } },
      message: 'schema violation (config.functions: required field missing)',
    },
    {
      name: 'a lambda hook with an empty functions list',
      body: lambda([]),
      fields: { config: { functions: 'length must be at least 1' } },
      message: 'schema violation (config.functions: length must be at least 1)',
    },
    {
      name: 'lambda functions that are empty or not strings, by 1-based index',
      body: lambda(['return function (data) { return data }', '', 42]),
      fields: { config: { functions: { '2': 'length must be at least 1', '3': 'expected a string' } } },
      message:
        '2 schema violations (config.functions.2: length must be at least 1; config.functions.3: expected a string)',
    },
  ];

  it.each(bad)('rejects $name', ({ body, fields, message }) => {
    // Act
    const error = violation(body);

    // Assess
    expect(error.fields).toStrictEqual(fields);
    expect(error.message).toBe(message);
    expect(error.status).toBe(400);
  });

  it('rejects JavaScript that does not compile, with the checker message under its index', () => {
    // Prepare
    const broken = 'return function (data) { return data';
    const expected = compileError(broken);

    // Act
    const error = violation(lambda([LAMBDA_CODE, broken]));

    // Assess
    expect(expected).toMatch(/^invalid code: /);
    expect(error.fields).toStrictEqual({ config: { functions: { '2': expected } } });
    expect(error.message).toBe(`schema violation (config.functions.2: ${expected})`);
  });

  it('collects the errors of every field, wrong types included, in one answer', () => {
    // Prepare
    const body = {
      source: 1,
      event: true,
      on_change: 'yes',
      snooze: '60',
      handler: 'webhook-custom',
      config: {
        url: 5,
        method: 1,
        payload: 'x',
        payload_format: 'true',
        body: {},
        headers: { a: 1 },
        secret: 2,
        ssl_verify: 'no',
      },
      extra: null,
    };

    // Act
    const error = violation(body);

    // Assess
    expect(error.fields).toStrictEqual({
      source: 'expected a string',
      event: 'expected a string',
      on_change: 'expected a boolean',
      snooze: 'expected an integer',
      config: {
        url: 'expected a string',
        method: 'expected a string',
        payload: 'expected a map',
        payload_format: 'expected a boolean',
        body: 'expected a string',
        headers: { a: 'expected a string' },
        secret: 'expected a string',
        ssl_verify: 'expected a boolean',
      },
      extra: 'unknown field',
    });
    expect(error.message).toBe(
      '13 schema violations (source: expected a string; event: expected a string; on_change: expected a boolean; ' +
        'snooze: expected an integer; config.url: expected a string; config.method: expected a string; ' +
        'config.payload: expected a map; config.payload_format: expected a boolean; config.body: expected a string; ' +
        'config.headers.a: expected a string; config.secret: expected a string; config.ssl_verify: expected a boolean; ' +
        'extra: unknown field)',
    );
  });

  it('rejects a wrongly typed handler and functions that are not a list', () => {
    // Act
    const handler = violation({ source: 'crud', handler: 5 });
    const functions = violation(lambda('return 1'));

    // Assess
    expect(handler.fields).toStrictEqual({ handler: 'expected a string' });
    expect(functions.fields).toStrictEqual({ config: { functions: 'expected an array' } });
  });

  it('reports an unknown field named __proto__ as an own key', () => {
    // Act
    const error = violation(JSON.parse('{"source":"crud","handler":"log","__proto__":{"polluted":true}}'));

    // Assess
    expect(Object.entries(error.fields)).toStrictEqual([['__proto__', 'unknown field']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['an array', []],
    ['a string', 'source=crud'],
    ['null', null],
    ['a number', 42],
  ])('rejects a body that is %s', (_name, body) => {
    // Act
    const error = violation(body);

    // Assess
    expect(error.fields).toStrictEqual({ '@entity': ['expected a record'] });
    expect(error.message).toBe('schema violation (expected a record)');
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

describe('validateHook: functions the service deploys itself', () => {
  const options: ValidateOptions = { ...OPTIONS, reservedFunctionPrefix: 'event-hooks-user' };

  it.each([
    'event-hooks-user-0123456789abcdef-0123',
    'arn:aws:lambda:eu-west-1:123456789012:function:event-hooks-user-0123456789abcdef-0123',
    'arn:aws:lambda:eu-west-1:123456789012:function:event-hooks-user-0123456789abcdef-0123:live',
  ])('refuses a hook naming %s, which would run another hook’s code', (name) => {
    expect(violation(lambda(['return function (d) { return d }', name]), options).fields).toEqual({
      config: { functions: { 2: 'names a function this service deploys for user code' } },
    });
  });

  it('accepts the user’s own functions, by name or ARN', () => {
    const names = ['enrich', 'arn:aws:lambda:eu-west-1:123456789012:function:event-hooks-userland'];
    expect(validateHook(lambda(names), options).fields.config).toEqual({ functions: names });
  });
});

describe('mergePatch', () => {
  const stored: EventHook = deepFreeze({
    id: HOOK_ID,
    created_at: 1627581575,
    source: 'crud',
    event: 'consumers',
    handler: 'webhook',
    on_change: true,
    snooze: 60,
    config: { url: 'https://example.com/hook', headers: { 'x-a': '1' }, secret: 'old', ssl_verify: true },
  });

  it('merges config key by key and keeps the other fields', () => {
    // Act
    const merged = mergePatch(stored, { config: { secret: 'hunter2' } });
    const result = validateHook(merged, OPTIONS);

    // Assess
    expect(result).toStrictEqual({
      id: HOOK_ID,
      created_at: 1627581575,
      fields: {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        on_change: true,
        snooze: 60,
        filter: null,
        threshold: null,
        enabled: true,
        config: { url: 'https://example.com/hook', headers: { 'x-a': '1' }, secret: 'hunter2', ssl_verify: true },
      },
    });
  });

  it('replaces a map such as headers as a whole', () => {
    // Act
    const { fields } = validateHook(mergePatch(stored, { config: { headers: { 'x-b': '2' } } }), OPTIONS);

    // Assess
    expect(fields.config).toStrictEqual({
      url: 'https://example.com/hook',
      headers: { 'x-b': '2' },
      secret: 'old',
      ssl_verify: true,
    });
  });

  it('clears optional fields given as null, to null or to their default', () => {
    // Act
    const merged = mergePatch(stored, {
      event: null,
      on_change: null,
      snooze: null,
      config: { secret: null, ssl_verify: null, headers: null },
    });
    const { fields } = validateHook(merged, OPTIONS);

    // Assess
    expect(fields).toStrictEqual({
      source: 'crud',
      event: null,
      handler: 'webhook',
      on_change: null,
      snooze: null,
      filter: null,
      threshold: null,
      enabled: true,
      config: { url: 'https://example.com/hook', headers: {}, secret: null, ssl_verify: false },
    });
  });

  it('takes the config from the patch alone when the handler changes', () => {
    // Act
    const merged = mergePatch(stored, {
      handler: 'webhook-custom',
      config: { url: 'https://other.example/x', method: 'PUT' },
    });
    const { fields } = validateHook(merged, OPTIONS);

    // Assess
    expect(fields.config).toStrictEqual({
      url: 'https://other.example/x',
      method: 'PUT',
      payload: null,
      payload_format: true,
      body: null,
      body_format: true,
      headers: null,
      headers_format: false,
      secret: null,
      ssl_verify: false,
    });
  });

  it('drops the old config when the handler changes without one', () => {
    // Act
    const toLog = validateHook(mergePatch(stored, { handler: 'log' }), OPTIONS);
    const toCustom = violation(mergePatch(stored, { handler: 'webhook-custom' }));

    // Assess
    expect(toLog.fields.config).toStrictEqual({});
    expect(toCustom.fields).toStrictEqual({
      config: { url: 'required field missing', method: 'required field missing' },
    });
  });

  it('still merges when the patch repeats the same handler', () => {
    // Act
    const { fields } = validateHook(mergePatch(stored, { handler: 'webhook', config: { ssl_verify: false } }), OPTIONS);

    // Assess
    expect(fields.config).toStrictEqual({
      url: 'https://example.com/hook',
      headers: { 'x-a': '1' },
      secret: 'old',
      ssl_verify: false,
    });
  });

  it('passes a null or non-object config through for validation to reject', () => {
    // Act
    const nulled = violation(mergePatch(stored, { config: null }));
    const text = violation(mergePatch(stored, { config: 'x' }));

    // Assess
    expect(nulled.fields).toStrictEqual({ config: 'required field missing' });
    expect(text.fields).toStrictEqual({ config: 'expected a record' });
  });

  it('lets the caller see an id the patch tries to change', () => {
    // Act
    const result = validateHook(mergePatch(stored, { id: '00000000-0000-4000-8000-000000000000' }), OPTIONS);

    // Assess
    expect(result.id).toBe('00000000-0000-4000-8000-000000000000');
  });

  it.each([
    ['an array', [{ snooze: 1 }]],
    ['null', null],
    ['a string', 'snooze=1'],
  ])('rejects a patch that is %s', (_name, patch) => {
    // Act
    const act = () => mergePatch(stored, patch);

    // Assess
    expect(act).toThrow(SchemaViolationError);
    expect(act).toThrow('schema violation (expected a record)');
  });
});

describe('isUuid', () => {
  it.each([HOOK_ID, HOOK_ID.toUpperCase(), '00000000-0000-0000-0000-000000000000'])('accepts %s', (value) => {
    expect(isUuid(value)).toBe(true);
  });

  it.each([
    '937df1753db24e6d8aa1d95c94a76089',
    '937df175-3db2-4e6d-8aa1-d95c94a7608',
    '937df175-3db2-4e6d-8aa1-d95c94a76089a',
    'g37df175-3db2-4e6d-8aa1-d95c94a76089',
    ` ${HOOK_ID}`,
    '',
    42,
    null,
  ])('rejects %s', (value) => {
    expect(isUuid(value)).toBe(false);
  });
});

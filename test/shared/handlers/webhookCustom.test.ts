import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, TemplateError } from '../../../shared/errors.ts';
import type { HandlerEvent } from '../../../shared/handlers/types.ts';
import { webhookCustom } from '../../../shared/handlers/webhookCustom.ts';
import type { WebhookCustomConfig } from '../../../shared/hooks/hook.ts';
import { type Receiver, startReceiver } from '../../support/rawReceiver.ts';
import { hookOf, type TestDeps, testDeps } from './fixtures.ts';

let remote: Receiver;
let deps: TestDeps;
beforeAll(async () => {
  remote = await startReceiver((_req, res) => {
    res.writeHead(202, { 'x-receiver': 'yes' });
    res.end('ok');
  });
  deps = testDeps();
});
afterAll(async () => {
  deps.http.close();
  await remote.close();
});

/** An `admins` create, as in the seed's Slack example; the values need HTML escaping. */
const adminCreated = {
  source: 'crud',
  event: 'admins',
  data: { operation: 'create', entity: { username: 'bob<admin>', email: 'bob&co@example.com' } },
};
const SLACK_TEXT = 'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`';

function config(overrides: Partial<WebhookCustomConfig>): WebhookCustomConfig {
  return {
    url: `${remote.url}/services/foo/bar/baz`,
    method: 'POST',
    payload: null,
    payload_format: true,
    body: null,
    body_format: true,
    headers: null,
    headers_format: false,
    secret: null,
    ssl_verify: false,
    ...overrides,
  };
}

async function run(overrides: Partial<WebhookCustomConfig>, event: HandlerEvent = adminCreated) {
  const result = await webhookCustom(hookOf('webhook-custom', config(overrides)), deps).callback(event);
  const seen = remote.requests.at(-1);
  if (!seen) throw new Error('the receiver saw no request');
  return { result, seen };
}

async function formData(body: Buffer, contentType: string | undefined): Promise<Record<string, string>> {
  const parsed = await new Response(new Uint8Array(body), {
    headers: { 'content-type': contentType ?? '' },
  }).formData();
  return Object.fromEntries([...parsed.entries()].map(([key, value]) => [key, String(value)]));
}

describe('webhook-custom handler', () => {
  it('renders the seed’s Slack payload with HTML escaping and posts it as JSON', async () => {
    // Act
    const { result, seen } = await run({
      payload: { text: SLACK_TEXT },
      headers: { 'content-type': 'application/json' },
    });

    // Assess
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/services/foo/bar/baz');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({
      text: 'Admin account `bob&lt;admin&gt;` created; email address set to `bob&amp;co@example.com`',
    });
    expect(result).toEqual({ status: 202, headers: expect.objectContaining({ 'x-receiver': 'yes' }), body: 'ok' });
  });

  it('inserts {{{ raw }}} values unescaped', async () => {
    // Act
    const { seen } = await run({
      payload: { text: 'by {{{ entity.username }}} <{{{entity.email}}}>' },
      headers: { 'content-type': 'application/json' },
    });

    // Assess
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ text: 'by bob<admin> <bob&co@example.com>' });
  });

  it('sends the payload as is when payload_format is false', async () => {
    // Act
    const { seen } = await run({
      payload: { text: SLACK_TEXT },
      payload_format: false,
      headers: { 'content-type': 'application/json' },
    });

    // Assess
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ text: SLACK_TEXT });
  });

  it('sends a GET payload as the query string, after the query the URL already has', async () => {
    // Act
    const { seen } = await run({
      method: 'GET',
      url: `${remote.url}/notify?token=a%20b&x=1`,
      payload: { who: '{{{ entity.username }}}', what: '{{ operation }} & more' },
    });

    // Assess
    expect(seen.method).toBe('GET');
    expect(seen.url.startsWith('/notify?token=a%20b&x=1&')).toBe(true);
    const query = new URL(seen.url, remote.url).searchParams;
    expect(Object.fromEntries(query)).toEqual({ token: 'a b', x: '1', who: 'bob<admin>', what: 'create & more' });
    expect(seen.body.length).toBe(0);
  });

  it('form-encodes the payload for application/x-www-form-urlencoded', async () => {
    // Act
    const { seen } = await run({
      payload: { user: '{{{ entity.username }}}', op: '{{ operation }}' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });

    // Assess
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen.body.toString('utf8')))).toEqual({
      user: 'bob<admin>',
      op: 'create',
    });
  });

  it('sends multipart/form-data with a boundary when no content type is given', async () => {
    // Act
    const { seen } = await run({ method: 'PUT', payload: { user: '{{{ entity.username }}}', 'odd "name"': 'x\r\ny' } });

    // Assess
    expect(seen.method).toBe('PUT');
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=[\w-]+$/);
    expect(await formData(seen.body, seen.headers['content-type'])).toEqual({
      user: 'bob<admin>',
      'odd "name"': 'x\r\ny',
    });
  });

  it('replaces a declared multipart content type by one that names the boundary', async () => {
    // Act
    const { seen } = await run({
      method: 'PATCH',
      payload: { a: '1' },
      headers: { 'CONTENT-TYPE': 'Multipart/Form-Data' },
    });

    // Assess
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(await formData(seen.body, seen.headers['content-type'])).toEqual({ a: '1' });
  });

  it('finds the content type whatever its case and parameters', async () => {
    // Act
    const { seen } = await run({ payload: { a: '1' }, headers: { 'Content-Type': 'Application/JSON; charset=utf-8' } });

    // Assess
    expect(seen.headers['content-type']).toBe('Application/JSON; charset=utf-8');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ a: '1' });
  });

  it('sends body as is when body_format is false, ignoring the payload', async () => {
    // Prepare
    const body = '{"text":"{{ operation }} by {{ entity.username }}"}';

    // Act
    const { seen } = await run({ body, body_format: false, payload: { ignored: 'yes' } });

    // Assess
    expect(seen.body.toString('utf8')).toBe(body);
  });

  it('renders body when body_format is true', async () => {
    // Act
    const { seen } = await run({ method: 'DELETE', body: '{{ operation }} by {{ entity.username }}' });

    // Assess
    expect(seen.method).toBe('DELETE');
    expect(seen.body.toString('utf8')).toBe('create by bob&lt;admin&gt;');
  });

  it('renders header values only when headers_format is true', async () => {
    // Act
    const formatted = await run({ body: 'x', headers: { 'x-user': '{{{ entity.username }}}' }, headers_format: true });
    const literal = await run({ body: 'x', headers: { 'x-user': '{{{ entity.username }}}' }, headers_format: false });

    // Assess
    expect(formatted.seen.headers['x-user']).toBe('bob<admin>');
    expect(literal.seen.headers['x-user']).toBe('{{{ entity.username }}}');
  });

  it('signs the final body bytes, boundary included', async () => {
    // Act
    const { seen } = await run({ payload: { user: '{{ entity.username }}' }, secret: 'hunter2' });

    // Assess
    const expected = `sha1=${createHmac('sha1', 'hunter2').update(seen.body).digest('hex')}`;
    expect(seen.body.length).toBeGreaterThan(0);
    expect(seen.headers['x-kong-signature']).toBe(expected);
  });

  it('does not sign a GET, which has no body (as Kong signs only a body)', async () => {
    // Act
    const { seen } = await run({ method: 'GET', payload: { a: '1' }, secret: 'hunter2' });

    // Assess
    expect(seen.headers['x-kong-signature']).toBeUndefined();
  });

  it('escapes as Kong does: & < > " \' / only, and / as &#47;', async () => {
    // Act
    const { seen } = await run(
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        payload: { t: '{{ v }}' },
      },
      { source: 'crud', event: 'admins', data: { v: `a=b/c\`d<e>&"f'` } } as unknown as typeof adminCreated,
    );

    // Assess
    expect(JSON.parse(seen.body.toString()).t).toBe('a=b&#47;c`d&lt;e&gt;&amp;&quot;f&#39;');
  });

  it('keeps rendered header values sendable: no line breaks, UTF-8 bytes beyond Latin-1', async () => {
    // Act
    const { seen } = await run(
      { method: 'POST', body: 'x', headers: { 'x-user': '{{{ v }}}' }, headers_format: true },
      { source: 'crud', event: 'admins', data: { v: '李雷\r\nX-Injected: yes' } } as unknown as typeof adminCreated,
    );

    // Assess
    expect(seen.headers['x-injected']).toBeUndefined();
    expect(Buffer.from(String(seen.headers['x-user']), 'latin1').toString('utf8')).toBe('李雷  X-Injected: yes');
  });

  it('form-encodes spaces as %20, as Kong does', async () => {
    // Act
    const { seen } = await run({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: { t: 'a b+c' },
      payload_format: false,
    });

    // Assess
    expect(seen.body.toString()).toBe('t=a%20b%2Bc');
  });

  it('carries the delivery id and attempt', async () => {
    // Prepare
    const hook = hookOf('webhook-custom', config({ body: 'x' }));

    // Act
    await webhookCustom(hook, deps).callback(adminCreated, { deliveryId: 'dlv-7', attempt: 1 });

    // Assess
    const seen = remote.requests.at(-1);
    expect(seen?.headers['x-event-hooks-delivery']).toBe('dlv-7');
    expect(seen?.headers['x-event-hooks-attempt']).toBe('1');
  });

  it('refuses, without sending, a payload for a content type it cannot encode', async () => {
    // Prepare
    const before = remote.requests.length;
    const hook = hookOf('webhook-custom', config({ payload: { a: '1' }, headers: { 'content-type': 'text/plain' } }));

    // Act
    const error = await webhookCustom(hook, deps)
      .callback(adminCreated)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect(remote.requests.length).toBe(before);
  });

  it('has no ping, as in Kong', () => {
    expect(webhookCustom(hookOf('webhook-custom', config({})), deps).ping).toBeUndefined();
  });
});

describe('webhook-custom handler, template budget', () => {
  /** Issue 8, defect 3: a raw `{{{big}}}` over 2,000 items sent a 200 MB request. */
  const amplifying = {
    source: 'crud',
    event: 'admins',
    data: { items: Array.from({ length: 2000 }, (_, i) => i), big: 'a'.repeat(100_000) },
  };

  it('refuses a 200 MB rendering fast with a final TemplateError, and sends nothing', async () => {
    // Prepare
    const before = remote.requests.length;
    const hook = hookOf('webhook-custom', config({ body: '{{#items}}{{{big}}}{{/items}}' }));

    // Act
    const started = performance.now();
    const thrown = await webhookCustom(hook, deps)
      .callback(amplifying)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const elapsed = performance.now() - started;

    // Assess
    expect(thrown).toBeInstanceOf(TemplateError);
    expect(thrown).toMatchObject({
      retryable: false,
      message: 'config.body: the rendered templates pass 1048576 bytes (TEMPLATE_MAX_BYTES); nothing was sent',
    });
    expect(elapsed).toBeLessThan(1000);
    expect(remote.requests.length).toBe(before);
  });

  it('shares the cap given in its deps between the body and the headers', async () => {
    // Prepare: the body renders 60 bytes, the header 60 more, with a cap of 100.
    const before = remote.requests.length;
    const hook = hookOf(
      'webhook-custom',
      config({ body: '{{{text}}}', headers: { 'x-text': '{{{text}}}' }, headers_format: true }),
    );
    const event = { source: 'crud', event: 'admins', data: { text: 'x'.repeat(60) } };

    // Act
    const thrown = await webhookCustom(hook, { ...deps, templateMaxBytes: 100 })
      .callback(event)
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    // Assess
    expect(thrown).toBeInstanceOf(TemplateError);
    expect((thrown as Error).message).toMatch(/^config\.headers\.x-text: the rendered templates pass 100 bytes/);
    expect(remote.requests.length).toBe(before);
    const sent = await webhookCustom(hook, { ...deps, templateMaxBytes: 120 }).callback(event);
    expect(sent).toMatchObject({ status: 202 });
  });

  it('does not render, or count, a payload that a body replaces', async () => {
    // Act
    const { seen } = await run({ body: 'fixed', payload: { big: '{{#items}}{{{big}}}{{/items}}' } }, amplifying);

    // Assess
    expect(seen.body.toString('utf8')).toBe('fixed');
  });

  it('inserts an object from the event as JSON in the body', async () => {
    // Act
    const { seen } = await run({ body: '{"entity":{{{ entity }}},"op":"{{ operation }}"}' });

    // Assess
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ entity: adminCreated.data.entity, op: 'create' });
  });
});

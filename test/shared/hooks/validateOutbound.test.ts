import { describe, expect, it } from 'vitest';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { mergeCatalog } from '../../../shared/hooks/catalog.ts';
import { type ValidateOptions, validateHook } from '../../../shared/hooks/validate.ts';
import { createDestinationPolicy } from '../../../shared/http/addressPolicy.ts';

/** What a webhook's config may say about where and how it is sent: framing headers and destinations. */

const policy = createDestinationPolicy({ ownEndpoints: ['http://127.0.0.1:8000', 'http://127.0.0.1:8001'] });
const OPTIONS: ValidateOptions = {
  catalog: mergeCatalog({}),
  destinationRefusal: (url) => policy.urlRefusal(url)?.message,
};

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

describe('framing and hop-by-hop headers in hook config', () => {
  it.each([
    'Host',
    'content-length',
    'Transfer-Encoding',
    'CONNECTION',
    'Upgrade',
    'TE',
    'Trailer',
    'Keep-Alive',
    'Proxy-Authorization',
    'proxy-connection',
  ])('refuses %s in webhook-custom headers, under its own name', (name) => {
    const error = violation(webhookCustom({ headers: { [name]: 'x', 'x-fine': 'y' } }));
    expect(error.status).toBe(400);
    const headers = (error.fields.config as { headers: Record<string, string> }).headers;
    expect(Object.keys(headers)).toStrictEqual([name]);
    expect(headers[name]).toMatch(/set by the sender and cannot be configured/);
    expect(error.message).toContain(`config.headers.${name}: framing and hop-by-hop headers`);
  });

  it('refuses them in webhook headers and with headers_format too', () => {
    expect(violation(webhook({ url: 'https://example.com', headers: { host: 'evil' } })).fields).toMatchObject({
      config: { headers: { host: expect.stringMatching(/cannot be configured/) } },
    });
    expect(
      violation(webhookCustom({ headers: { 'Transfer-Encoding': '{{ te }}' }, headers_format: true })).fields,
    ).toMatchObject({ config: { headers: { 'Transfer-Encoding': expect.stringMatching(/cannot be configured/) } } });
  });

  it('accepts ordinary headers, including ones that merely look alike', () => {
    const { fields } = validateHook(
      webhookCustom({ headers: { 'x-host': 'a', 'content-type': 'application/json', 'x-proxy-id': 'b', tea: 'c' } }),
      OPTIONS,
    );
    expect(fields.config).toMatchObject({ headers: { 'x-host': 'a', 'x-proxy-id': 'b', tea: 'c' } });
  });
});

describe('destinations refused at create and update', () => {
  it("refuses the service's own listeners in webhook and webhook-custom urls", () => {
    expect(violation(webhook({ url: 'http://localhost:8000/' })).fields).toStrictEqual({
      config: { url: "url points at this service's own listener (port 8000); a hook may not call the service itself" },
    });
    expect(violation(webhookCustom({ url: 'http://[::ffff:127.0.0.1]:8001/' })).fields).toMatchObject({
      config: { url: expect.stringMatching(/this service's own listener \(port 8001\)/) },
    });
  });

  it('refuses private addresses when blocking is on, and accepts them when it is off', () => {
    const blocking = createDestinationPolicy({ blockPrivateNetworks: true });
    const options = { ...OPTIONS, destinationRefusal: (url: string) => blocking.urlRefusal(url)?.message };
    for (const url of ['http://127.0.0.1:9999/', 'http://localhost/', 'http://169.254.169.254/', 'http://[fd00::1]/']) {
      expect(violation(webhook({ url }), options).fields, url).toMatchObject({
        config: { url: expect.stringMatching(/BLOCK_PRIVATE_NETWORKS/) },
      });
    }
    expect(validateHook(webhook({ url: 'http://127.0.0.1:9999/' }), OPTIONS).fields.config).toMatchObject({
      url: 'http://127.0.0.1:9999/',
    });
  });
});

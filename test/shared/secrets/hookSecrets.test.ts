import { describe, expect, it } from 'vitest';
import { createLocalSecretCipher } from '../../../shared/adapters/local/secretCipher.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { createHookSecrets, hookOpener } from '../../../shared/secrets/hookSecrets.ts';

const base = { created_at: 1, source: 'balancer', event: 'health', on_change: null, snooze: null };
const webhook = (config: Record<string, unknown>) =>
  ({
    ...base,
    id: '6f0b1c2e-0000-4000-8000-000000000001',
    handler: 'webhook',
    config: { url: 'https://example.com/x', headers: {}, secret: null, ssl_verify: false, ...config },
  }) as EventHook;

describe('hook secrets', () => {
  const secrets = createHookSecrets(createLocalSecretCipher());

  it('seals exactly the secret, the previous secret and credential-named headers, and opens them back', async () => {
    const headers = JSON.parse(
      '{"Authorization":"Bearer a","X-API-KEY":"b","Cookie":"c","x-auth-token":"d","x-team":"e","__proto__":"f"}',
    );
    const hook = webhook({ secret: 's1', previous_secret: { secret: 's0', expires_at: 9 }, headers });
    const sealed = await secrets.seal('acme', hook);
    const config = sealed.config as unknown as Record<string, Record<string, unknown> & { secret: string }>;
    expect(config.secret).toMatch(/^enc:v1:/);
    expect(config.previous_secret).toEqual({ secret: expect.stringMatching(/^enc:v1:/), expires_at: 9 });
    for (const name of ['Authorization', 'X-API-KEY', 'Cookie', 'x-auth-token']) {
      expect(config.headers?.[name], name).toMatch(/^enc:v1:/);
    }
    // Names that do not say credential stay readable, and a `__proto__` name stays a plain own key.
    expect(config.headers?.['x-team']).toBe('e');
    expect(Object.getOwnPropertyDescriptor(config.headers, '__proto__')?.value).toBe('f');
    expect(config.url).toBe('https://example.com/x');
    // The hook given is left as it was: the Admin API answers it.
    expect(hook.config).toMatchObject({ secret: 's1', headers: { Authorization: 'Bearer a' } });
    expect(await secrets.open('acme', sealed)).toEqual(hook);
  });

  it('seals the same fields of a handler that does not sign: the fields decide, not the handler', async () => {
    const relay = {
      ...base,
      id: '6f0b1c2e-0000-4000-8000-000000000002',
      handler: 'relay',
      config: { target: 'queue-1', secret: 'r1', headers: { Authorization: 'Bearer r', 'x-team': 't' } },
    } as unknown as EventHook;
    const sealed = await secrets.seal('acme', relay);
    const config = sealed.config as unknown as { target: string; secret: string; headers: Record<string, string> };
    expect(config.secret).toMatch(/^enc:v1:/);
    expect(config.headers.Authorization).toMatch(/^enc:v1:/);
    expect(config.headers['x-team']).toBe('t');
    expect(config.target).toBe('queue-1');
    expect(await secrets.open('acme', sealed)).toEqual(relay);
  });

  it('leaves hooks without secrets as they are (the same object)', async () => {
    const log = { ...base, id: 'x', handler: 'log', config: {} } as EventHook;
    const noSecret = webhook({});
    const custom = {
      ...base,
      id: 'y',
      handler: 'webhook-custom',
      config: { url: 'https://example.com', method: 'GET', headers: null, secret: null },
    } as unknown as EventHook;
    for (const hook of [log, noSecret, custom]) expect(await secrets.seal('acme', hook)).toBe(hook);
  });

  it('opens each sealed version of a hook once for the delivery worker, and again after a failure', async () => {
    let opens = 0;
    const counting = {
      seal: secrets.seal,
      open: async (tenant: string, hook: EventHook) => {
        opens++;
        if (opens === 1) throw new Error('kms is unwell');
        return secrets.open(tenant, hook);
      },
    };
    const open = hookOpener(counting);
    const sealed = await secrets.seal('acme', webhook({ secret: 's1' }));
    await expect(open('acme', sealed)).rejects.toThrow('kms is unwell');
    const first = await open('acme', sealed);
    expect(await open('acme', sealed)).toBe(first);
    expect(opens).toBe(2);
    expect(first.config).toMatchObject({ secret: 's1' });
  });
});

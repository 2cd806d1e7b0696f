import { describe, expect, it } from 'vitest';
import { createLocalSecretCipher } from '../../../shared/adapters/local/secretCipher.ts';
import { SecretDecryptionError } from '../../../shared/errors.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { redactConfig } from '../../../shared/logger.ts';
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

  it('seals every string the read scope masks: secret-named keys at any depth, and a URL with credentials', async () => {
    const custom = {
      ...base,
      id: '6f0b1c2e-0000-4000-8000-000000000003',
      handler: 'webhook-custom',
      config: {
        url: 'https://bot:pw-51ac@example.com/in?token=tk-0e3b&team=payments',
        method: 'POST',
        headers: { 'X-Auth-Token': 'h-1', 'x-team': 'payments' },
        payload: { token: 'p-tok-7', password: 'p-pw-8', user: 'bot' },
        payload_format: false,
        nested: { deeper: { api_key: 'n-key-9', list: [{ credentials: ['c-1', 'c-2'] }] }, plain: 'kept' },
        secret: null,
      },
    } as unknown as EventHook;
    const sealed = await secrets.seal('acme', custom);
    const text = JSON.stringify(sealed);
    for (const value of ['pw-51ac', 'tk-0e3b', 'h-1', 'p-tok-7', 'p-pw-8', 'n-key-9', 'c-1', 'c-2']) {
      expect(text, value).not.toContain(value);
    }
    const config = sealed.config as unknown as Record<string, Record<string, unknown>>;
    expect(config.url).toMatch(/^enc:v1:/);
    expect(config.payload).toEqual({
      token: expect.stringMatching(/^enc:v1:/),
      password: expect.stringMatching(/^enc:v1:/),
      user: 'bot',
    });
    expect(config.headers?.['x-team']).toBe('payments');
    expect(config.nested?.plain).toBe('kept');
    expect(config.secret).toBeNull();
    expect(await secrets.open('acme', sealed)).toEqual(custom);
    // A hook written before these fields were sealed opens as it is.
    expect(await secrets.open('acme', custom)).toEqual(custom);

    // The one rule: every value the read scope masks is sealed, and nothing it leaves readable is.
    const masked = redactConfig(custom.config);
    const walk = (original: unknown, redacted: unknown, stored: unknown, path: string): void => {
      if (typeof original === 'string') {
        if (redacted === original) expect(stored, path).toBe(original);
        else expect(stored, path).toMatch(/^enc:v1:/);
        return;
      }
      if (original === null || typeof original !== 'object') return;
      for (const [key, value] of Object.entries(original)) {
        // A masked object is masked whole; its strings are each sealed.
        const inner = redacted === '[redacted]' ? '[redacted]' : (redacted as Record<string, unknown>)[key];
        walk(value, inner, (stored as Record<string, unknown>)[key], `${path}.${key}`);
      }
    };
    walk(custom.config, masked, sealed.config, 'config');
  });

  it("seals a payload value that looks sealed as text: a copied ciphertext never opens to another hook's value", async () => {
    const custom = (id: string, token: string) =>
      ({
        ...base,
        id,
        handler: 'webhook-custom',
        config: { url: 'https://example.com/in', method: 'POST', payload: { token } },
      }) as unknown as EventHook;
    const victim = await secrets.seal('acme', custom('6f0b1c2e-0000-4000-8000-000000000004', 'victim-tok'));
    const copied = (victim.config as unknown as { payload: { token: string } }).payload.token;
    expect(copied).toMatch(/^enc:v1:/);
    const attacker = custom('6f0b1c2e-0000-4000-8000-000000000005', copied);
    const stored = await secrets.seal('acme', attacker);
    expect((stored.config as unknown as { payload: { token: string } }).payload.token).not.toBe(copied);
    expect(await secrets.open('acme', stored)).toEqual(attacker);
    // Even stored as is (written before payloads were sealed), it is bound to the victim's hook id.
    await expect(secrets.open('acme', attacker)).rejects.toThrow(SecretDecryptionError);
  });

  it('leaves a URL without credentials readable, and seals by the same names the logs redact', async () => {
    const plain = webhook({ url: 'https://user@example.com/in?team=payments&page=2' });
    expect(await secrets.seal('acme', plain)).toBe(plain);
    const withKey = webhook({ url: 'https://example.com/in?api_key=k1' });
    const sealed = await secrets.seal('acme', withKey);
    expect((sealed.config as { url: string }).url).toMatch(/^enc:v1:/);
    expect(await secrets.open('acme', sealed)).toEqual(withKey);
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

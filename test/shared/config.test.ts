import { describe, expect, it } from 'vitest';
import { ConfigError, checkExposure, loadConfig } from '../../shared/config.ts';
import { DEFAULT_TEMPLATE_MAX_BYTES } from '../../shared/hooks/templates.ts';

describe('loadConfig', () => {
  it('caps template output at 1 MiB unless TEMPLATE_MAX_BYTES says otherwise', () => {
    expect(DEFAULT_TEMPLATE_MAX_BYTES).toBe(1024 * 1024);
    expect(loadConfig({}).templateMaxBytes).toBe(DEFAULT_TEMPLATE_MAX_BYTES);
    expect(loadConfig({ TEMPLATE_MAX_BYTES: '65536' }).templateMaxBytes).toBe(65536);
  });

  it.each(['0', '-1', '1.5', 'lots'])('refuses TEMPLATE_MAX_BYTES=%s, naming the variable', (raw) => {
    expect(() => loadConfig({ TEMPLATE_MAX_BYTES: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPLATE_MAX_BYTES: raw })).toThrow(/TEMPLATE_MAX_BYTES must be an integer >= 1/);
  });

  it('defaults DELIVERY_CONCURRENCY_PER_HOOK to a quarter of DELIVERY_CONCURRENCY', () => {
    expect(loadConfig({}).deliveryConcurrencyPerHook).toBe(16);
    expect(loadConfig({ DELIVERY_CONCURRENCY: '10' }).deliveryConcurrencyPerHook).toBe(3);
  });

  it('takes DELIVERY_CONCURRENCY_PER_HOOK, and refuses one below 1', () => {
    expect(loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '4' }).deliveryConcurrencyPerHook).toBe(4);
    expect(() => loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '0' })).toThrow(/DELIVERY_CONCURRENCY_PER_HOOK/);
  });
});

describe('the delivery log and auto-disable settings', () => {
  it('default to the log on with bodies, 7 days, and 50 failures over 5 days', () => {
    expect(loadConfig({})).toMatchObject({
      deliveryLog: true,
      deliveryLogRetentionDays: 7,
      deliveryLogMaxRecords: 50_000,
      autoDisableFailures: 50,
      autoDisableWindowMs: 5 * 24 * 3600 * 1000,
    });
  });

  it('take their variables, and refuse values that mean nothing', () => {
    const config = loadConfig({
      DELIVERY_LOG: 'false',
      DELIVERY_LOG_RETENTION_DAYS: '1',
      AUTO_DISABLE_FAILURES: '0',
      AUTO_DISABLE_WINDOW_SECONDS: '60',
    });
    expect(config).toMatchObject({
      deliveryLog: false,
      deliveryLogRetentionDays: 1,
      autoDisableFailures: 0,
      autoDisableWindowMs: 60_000,
    });
    expect(() => loadConfig({ DELIVERY_LOG_RETENTION_DAYS: '0' })).toThrow(/DELIVERY_LOG_RETENTION_DAYS/);
    expect(() => loadConfig({ DELIVERY_LOG: 'maybe' })).toThrow(/DELIVERY_LOG must be true or false/);
    expect(() => loadConfig({ AUTO_DISABLE_FAILURES: '-1' })).toThrow(/AUTO_DISABLE_FAILURES/);
  });
});

describe('tenancy and authentication settings', () => {
  const operatorKey = 'o'.repeat(32);

  it('defaults to one tenant without auth locally, and to IAM on AWS', () => {
    expect(loadConfig({})).toMatchObject({ tenancy: 'single', authMode: 'none', operatorKey: undefined });
    expect(loadConfig({ RUNTIME: 'aws' })).toMatchObject({ tenancy: 'single', authMode: 'iam' });
  });

  it('takes multi-tenant api-keys mode with an operator key', () => {
    expect(loadConfig({ TENANCY: 'multi', AUTH_MODE: 'api-keys', OPERATOR_KEY: operatorKey })).toMatchObject({
      tenancy: 'multi',
      authMode: 'api-keys',
      operatorKey,
    });
    expect(loadConfig({ AUTH_MODE: 'api-keys', OPERATOR_KEY: operatorKey }).tenancy).toBe('single');
  });

  it.each([
    [{ TENANCY: 'many' }, /TENANCY must be single or multi, got 'many'/],
    [{ AUTH_MODE: 'keys' }, /AUTH_MODE must be none or api-keys, got 'keys'/],
    [{ AUTH_MODE: 'iam' }, /AUTH_MODE=iam is for AWS deployments/],
    [{ TENANCY: 'multi' }, /TENANCY=multi requires AUTH_MODE=api-keys \(got none\)/],
    [{ TENANCY: 'multi', RUNTIME: 'aws' }, /TENANCY=multi requires AUTH_MODE=api-keys \(got iam\)/],
    [{ AUTH_MODE: 'api-keys' }, /AUTH_MODE=api-keys requires OPERATOR_KEY/],
    [{ AUTH_MODE: 'api-keys', OPERATOR_KEY: 'short' }, /OPERATOR_KEY must be at least 32 characters/],
  ])('refuses %o with a ConfigError saying why', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses a non-loopback HOST without auth, and allows it with api-keys', () => {
    const none = loadConfig({});
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      expect(() => checkExposure(host, none)).not.toThrow();
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      expect(() => checkExposure(host, none)).toThrow(ConfigError);
      expect(() => checkExposure(host, none)).toThrow(/HOST=.* exposes the API .* AUTH_MODE=none/);
    }
    const keys = loadConfig({ AUTH_MODE: 'api-keys', OPERATOR_KEY: operatorKey });
    expect(() => checkExposure('0.0.0.0', keys)).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/config.ts';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { effectiveQuotas, multiTenantDefaults, parseQuotaOverrides } from '../../../shared/quotas/quotas.ts';

// A multi-tenant deployment needs api-keys and an operator key (loadConfig refuses it otherwise).
const quotaDefaultsFromEnv = (env: NodeJS.ProcessEnv, concurrency: number) =>
  loadConfig({
    ...env,
    ...(env.TENANCY === 'multi' ? { AUTH_MODE: 'api-keys', OPERATOR_KEY: 'o'.repeat(32) } : {}),
    DELIVERY_CONCURRENCY: String(concurrency),
  }).quotas;

describe('quota defaults', () => {
  it('sets no limit on a single-tenant deployment, where there is no one to be fair to', () => {
    expect(loadConfig({}).quotas).toEqual({
      events_per_second: null,
      hooks: null,
      user_functions: null,
      body_bytes: null,
      deliveries_in_flight: null,
    });
  });

  it('gives every tenant of a multi-tenant deployment a share, half the queue workers in flight', () => {
    expect(quotaDefaultsFromEnv({ TENANCY: 'multi' }, 64)).toEqual(multiTenantDefaults(64));
    expect(multiTenantDefaults(64).deliveries_in_flight).toBe(32);
    expect(quotaDefaultsFromEnv({ TENANCY: 'multi' }, 10).deliveries_in_flight).toBe(5);
  });

  it('takes each QUOTA_* setting over the default, and none for no limit', () => {
    const quotas = quotaDefaultsFromEnv(
      { TENANCY: 'multi', QUOTA_EVENTS_PER_SECOND: '500', QUOTA_HOOKS: 'none', QUOTA_BODY_BYTES: '0' },
      64,
    );
    expect(quotas).toMatchObject({ events_per_second: 500, hooks: null, body_bytes: 0, user_functions: 20 });
  });

  it('refuses a setting that is not a count, saying which', () => {
    for (const raw of ['-1', '1.5', 'lots', '1e3', '2000000000']) {
      expect(() => quotaDefaultsFromEnv({ QUOTA_HOOKS: raw }, 64), raw).toThrow(ConfigError);
      expect(() => quotaDefaultsFromEnv({ QUOTA_HOOKS: raw }, 64), raw).toThrow(/QUOTA_HOOKS/);
    }
  });
});

describe('quota overrides', () => {
  it('lays a tenant’s overrides over the defaults; null lifts a limit, a name left out keeps the default', () => {
    const defaults = multiTenantDefaults(64);
    expect(effectiveQuotas(defaults, { hooks: 5, user_functions: null })).toEqual({
      ...defaults,
      hooks: 5,
      user_functions: null,
    });
  });

  it('accepts integers and null for known names', () => {
    expect(parseQuotaOverrides({ events_per_second: 500, hooks: null, body_bytes: 0 })).toEqual({
      events_per_second: 500,
      hooks: null,
      body_bytes: 0,
    });
    expect(parseQuotaOverrides({})).toEqual({});
  });

  it('refuses unknown names and bad values with every problem in Kong’s fields', () => {
    let error: unknown;
    try {
      parseQuotaOverrides({ events_per_second: -1, hooks: '5', nope: 1, user_functions: 1.5, __proto__x: 1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SchemaViolationError);
    expect((error as SchemaViolationError).fields).toEqual({
      events_per_second: expect.stringMatching(/integer/),
      hooks: expect.stringMatching(/integer/),
      nope: 'unknown field',
      user_functions: expect.stringMatching(/integer/),
      __proto__x: 'unknown field',
    });
    for (const body of [null, [], 'x', 5]) expect(() => parseQuotaOverrides(body)).toThrow(SchemaViolationError);
  });
});

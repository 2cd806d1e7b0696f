import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { tenancyFromEnv, toHookEvent } from '../../functions/dispatcher.ts';

function busEvent(resources: string[]): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'consumers',
    source: 'crud',
    account: '123456789012',
    time: '2026-11-29T10:00:00Z',
    region: 'eu-west-1',
    resources,
    detail: { operation: 'create' },
  };
}

describe('toHookEvent', () => {
  const single = { tenancy: 'single', tenant: 'default' } as const;
  const multi = { tenancy: 'multi', tenant: 'default' } as const;

  it('single tenant: always the configured tenant, whatever a direct producer put in resources', () => {
    expect(toHookEvent(busEvent([]), single)).toMatchObject({ tenant: 'default', source: 'crud', event: 'consumers' });
    expect(toHookEvent(busEvent(['event-hooks:tenant/acme']), single)?.tenant).toBe('default');
    expect(toHookEvent(busEvent(['arn:aws:x', 'event-hooks:tenant/beta']), single)?.tenant).toBe('default');
  });

  it('multi tenant: the tenant resource that ingest set', () => {
    expect(toHookEvent(busEvent(['arn:aws:x', 'event-hooks:tenant/acme']), multi)).toEqual({
      id: 'e-1',
      time: '2026-11-29T10:00:00Z',
      tenant: 'acme',
      source: 'crud',
      event: 'consumers',
      data: { operation: 'create' },
    });
  });

  it('multi tenant: an event without a tenant is nobody’s, never the configured tenant’s', () => {
    expect(toHookEvent(busEvent([]), multi)).toBeUndefined();
    expect(toHookEvent(busEvent(['event-hooks:tenant/']), multi)).toBeUndefined();
  });
});

describe('tenancyFromEnv', () => {
  it('is multi only when the stack says so', () => {
    expect(tenancyFromEnv({ TENANCY: 'multi' })).toBe('multi');
    expect(tenancyFromEnv({ TENANCY: 'single' })).toBe('single');
    expect(tenancyFromEnv({})).toBe('single');
  });
});

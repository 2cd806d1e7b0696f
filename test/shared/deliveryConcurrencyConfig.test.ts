import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';

describe('delivery concurrency settings', () => {
  it('defaults the per-hook share to a quarter of DELIVERY_CONCURRENCY', () => {
    expect(loadConfig({}).deliveryConcurrencyPerHook).toBe(16);
    expect(loadConfig({ DELIVERY_CONCURRENCY: '10' }).deliveryConcurrencyPerHook).toBe(3);
  });

  it('takes DELIVERY_CONCURRENCY_PER_HOOK, and refuses one below 1', () => {
    expect(loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '4' }).deliveryConcurrencyPerHook).toBe(4);
    expect(() => loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ DELIVERY_CONCURRENCY_PER_HOOK: '0' })).toThrow(/DELIVERY_CONCURRENCY_PER_HOOK/);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';
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

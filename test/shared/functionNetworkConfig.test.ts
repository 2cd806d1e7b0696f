import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';

describe('FUNCTION_NETWORK', () => {
  it('gives user code no network unless the operator allows it', () => {
    expect(loadConfig({}).functionNetwork).toBe('none');
    expect(loadConfig({ FUNCTION_NETWORK: '' }).functionNetwork).toBe('none');
    expect(loadConfig({ FUNCTION_NETWORK: 'none' }).functionNetwork).toBe('none');
    expect(loadConfig({ FUNCTION_NETWORK: 'allow' }).functionNetwork).toBe('allow');
  });

  it('refuses any other value rather than guessing', () => {
    expect(() => loadConfig({ FUNCTION_NETWORK: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ FUNCTION_NETWORK: 'yes' })).toThrow(/FUNCTION_NETWORK must be none or allow, got 'yes'/);
  });
});

import { describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../../infra/cdk/cdkApp.ts';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { synth } from './synth.ts';

describe('quota defaults on AWS', () => {
  it('reads them from context as JSON, checked as the quotas route checks them', () => {
    const props = stackPropsFromContext((key) =>
      key === 'quotas' ? '{"events_per_second":500,"hooks":null}' : undefined,
    );
    expect(props).toEqual({ quotas: { events_per_second: 500, hooks: null } });
    expect(() => stackPropsFromContext((key) => (key === 'quotas' ? '{"speed":1}' : undefined))).toThrow(
      SchemaViolationError,
    );
  });

  it('hands them to every service function as QUOTA_* variables, none for no limit', () => {
    const { json } = synth({ quotas: { events_per_second: 500, hooks: null } });
    const functions = Object.values(json.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' &&
        typeof resource.Properties.FunctionName === 'string' &&
        resource.Properties.FunctionName.startsWith('event-hooks-') &&
        (resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.TABLE_NAME,
    );
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const fn of functions) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.QUOTA_EVENTS_PER_SECOND, String(fn.Properties.FunctionName)).toBe('500');
      expect(env.QUOTA_HOOKS).toBe('none');
      expect(env.QUOTA_USER_FUNCTIONS).toBeUndefined();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { BUILTIN_CATALOG } from '../../../shared/hooks/catalog.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { mergePatch, validateHook } from '../../../shared/hooks/validate.ts';

const OPTIONS = { catalog: BUILTIN_CATALOG };
const base = { source: 'crud', event: 'consumers', handler: 'log' };

function violation(body: unknown): SchemaViolationError {
  try {
    validateHook(body, OPTIONS);
  } catch (error) {
    if (error instanceof SchemaViolationError) return error;
    throw error;
  }
  throw new Error(`expected a schema violation for ${JSON.stringify(body)}`);
}

describe('validateHook: filter and threshold', () => {
  it('defaults both to null', () => {
    const { fields } = validateHook(base, OPTIONS);
    expect(fields.filter).toBeNull();
    expect(fields.threshold).toBeNull();
  });

  it('keeps a valid filter and threshold as given', () => {
    const filter = { entity: { username: [{ prefix: 'svc-' }] } };
    const { fields } = validateHook({ ...base, filter, threshold: { count: 100, window: 300 } }, OPTIONS);
    expect(fields.filter).toEqual(filter);
    expect(fields.threshold).toEqual({ count: 100, window: 300 });
  });

  it('says what is wrong with a filter, and where', () => {
    const error = violation({ ...base, filter: { entity: { username: [{ prefix: 5 }] } } });
    expect(error.fields).toEqual({
      filter: 'entity.username[0]: prefix must be a string or {"equals-ignore-case": string}',
    });
    expect(error.message).toBe(
      'schema violation (filter: entity.username[0]: prefix must be a string or {"equals-ignore-case": string})',
    );
  });

  it.each([
    ['a filter that is not an object', { filter: 'svc-*' }, { filter: 'expected a record' }],
    ['an empty filter', { filter: {} }, { filter: 'empty objects are not allowed' }],
    ['a threshold that is not an object', { threshold: 5 }, { threshold: 'expected a record' }],
    ['a threshold without count', { threshold: { window: 60 } }, { threshold: { count: 'required field missing' } }],
    [
      'a zero count',
      { threshold: { count: 0, window: 60 } },
      { threshold: { count: 'value should be between 1 and 1000000' } },
    ],
    [
      'a window over a year',
      { threshold: { count: 2, window: 31536001 } },
      { threshold: { window: 'value should be between 1 and 31536000' } },
    ],
    [
      'an unknown threshold field',
      { threshold: { count: 2, window: 60, per: 'ip' } },
      { threshold: { per: 'unknown field' } },
    ],
  ])('refuses %s', (_name, extra, fields) => {
    expect(violation({ ...base, ...extra }).fields).toEqual(fields);
  });

  it('replaces filter and threshold as a whole on PATCH, and clears them with null', () => {
    const stored = {
      id: '937df175-3db2-4e6d-8aa1-d95c94a76089',
      created_at: 1,
      ...base,
      on_change: null,
      snooze: null,
      filter: { a: ['x'], b: ['y'] },
      threshold: { count: 5, window: 60 },
      config: {},
    } as EventHook;
    const replaced = validateHook(mergePatch(stored, { filter: { c: ['z'] } }), OPTIONS).fields;
    expect(replaced.filter).toEqual({ c: ['z'] });
    expect(replaced.threshold).toEqual({ count: 5, window: 60 });
    const cleared = validateHook(mergePatch(stored, { filter: null, threshold: null }), OPTIONS).fields;
    expect([cleared.filter, cleared.threshold]).toEqual([null, null]);
  });
});

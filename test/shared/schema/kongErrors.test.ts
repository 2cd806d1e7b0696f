import * as Type from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { addRefinement, compile, kongErrors } from '../../../shared/schema/kongErrors.ts';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const schema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 5 }),
    count: Type.Integer({ minimum: 1, maximum: 10 }),
    kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
    window: Nullable(Type.Object({ size: Type.Integer({ minimum: 1, maximum: 9 }) }, { additionalProperties: false })),
    list: Type.Optional(Type.Array(Type.String({ maxLength: 2 }), { maxItems: 3 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { typeMessage: 'expected a map' })),
  },
  { additionalProperties: false },
);
const check = compile(schema);

describe('kongErrors: schema errors in Kong’s words', () => {
  it('answers {} for a valid value', () => {
    expect(kongErrors(check, { name: 'x', count: 1, kind: 'a', window: null })).toEqual({});
  });

  it('gives one message per field, in Kong’s wording and the schema’s field order, unknown fields last', () => {
    const errors = kongErrors(check, { zzz: 1, kind: 'c', count: 11, name: '', headers: [] });
    expect(errors).toEqual({
      name: 'length must be at least 1',
      count: 'value should be between 1 and 10',
      kind: 'expected one of: a, b',
      window: 'required field missing',
      headers: 'expected a map',
      zzz: 'unknown field',
    });
    expect(Object.keys(errors)).toEqual(['name', 'count', 'kind', 'window', 'headers', 'zzz']);
  });

  it('reports a nullable record’s fields under their own path, and array entries by 1-based index', () => {
    expect(
      kongErrors(check, { name: 'x', count: 1, kind: 5, window: { size: 0, per: 1 }, list: ['ok', 'long'] }),
    ).toEqual({
      kind: 'expected a string',
      window: { size: 'value should be between 1 and 9', per: 'unknown field' },
      list: { 2: 'length must be at most 2' },
    });
  });

  it('keeps a `__proto__` key as a plain field of the answer', () => {
    const value = JSON.parse('{"name":"x","count":1,"kind":"a","window":null,"__proto__":{"polluted":true}}');
    const errors = kongErrors(check, value);
    expect(Object.hasOwn(errors, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(errors)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('adds a refinement only where the schema found nothing, except a map key’s own error', () => {
    const errors = kongErrors(check, { name: 'toolong', count: 1, kind: 'a', window: null });
    addRefinement(errors, ['name'], 'invalid name');
    addRefinement(errors, ['count'], 'count refused');
    expect(errors).toEqual({ name: 'length must be at most 5', count: 'count refused' });
  });
});

describe('compile', () => {
  it('does no work when declared: a schema is only walked when a value is checked (nothing runs as its module loads)', () => {
    // A kind TypeBox does not know fails when walked: declaring the checker must not walk it.
    const unknown = { [Type.Kind]: 'NotAKnownKind' } as unknown as Type.TSchema;
    const lazy = compile(unknown);
    expect(lazy.Schema()).toBe(unknown);
    expect(() => lazy.Check(1)).toThrow(/Unknown type/i);
  });

  it('answers as the compiled schema does', () => {
    const counted = compile(Type.Integer({ minimum: 1 }));
    expect(counted.Check(1)).toBe(true);
    expect(counted.Check(0)).toBe(false);
    expect([...counted.Errors(0)].map((e) => e.message)).toEqual(['Expected integer to be greater or equal to 1']);
  });
});

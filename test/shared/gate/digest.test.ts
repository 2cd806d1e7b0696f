import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventDigest, normalizeForDigest } from '../../../shared/gate/digest.ts';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('eventDigest', () => {
  it('matches Kong for a flat object with two fields', () => {
    expect(eventDigest({ some: 'data', with_more: 'data' })).toBe('80dfae20a5ce00b394c00a4c42658c67');
  });

  it('matches Kong for a flat object with one field', () => {
    expect(eventDigest({ some: 'data' })).toBe('bc31a334fcc4ed689f4ea9ab824f23b3');
  });

  it('does not depend on key order', () => {
    expect(eventDigest({ with_more: 'data', some: 'data' })).toBe(eventDigest({ some: 'data', with_more: 'data' }));
  });

  it('digests only the unique fields when the event declares some', () => {
    // Prepare
    const first = { consumer: 'c1', ip: '10.0.0.1', service: 's', rate: 7, window: 'second' };
    const second = { ...first, rate: 9000, window: 'minute' };

    // Act
    const a = eventDigest(first, ['consumer', 'ip', 'service']);
    const b = eventDigest(second, ['consumer', 'ip', 'service']);

    // Assess
    expect(a).toBe(b);
    expect(a).toBe(md5('consumer:c1:ip:10.0.0.1:service:s'));
    expect(eventDigest({ ...first, ip: '10.0.0.2' }, ['consumer', 'ip', 'service'])).not.toBe(a);
  });

  it('skips unique fields that the data lacks', () => {
    expect(eventDigest({ service: 's', rate: 1 }, ['consumer', 'service'])).toBe(md5('service:s'));
  });

  it('digests the whole data when the unique list is empty', () => {
    expect(eventDigest({ some: 'data' }, [])).toBe('bc31a334fcc4ed689f4ea9ab824f23b3');
  });

  it('changes when a nested value changes', () => {
    const before = { operation: 'update', entity: { id: '1', name: 'a' } };
    expect(eventDigest(before)).not.toBe(eventDigest({ ...before, entity: { id: '1', name: 'b' } }));
  });
});

describe('normalizeForDigest', () => {
  it('writes a nested object as its own normalised string after its key', () => {
    expect(normalizeForDigest({ b: 1, a: { z: 'x', y: 2 } })).toBe('a:y:2:z:x:b:1');
  });

  it('writes arrays with 1-based indexes in order, as Lua tables', () => {
    const items = Array.from({ length: 11 }, (_, i) => `v${i}`);
    expect(normalizeForDigest({ list: ['a', { k: 'v' }] })).toBe('list:1:a:2:k:v');
    // Index order, not string order: 10 and 11 come after 9.
    expect(normalizeForDigest(items).endsWith('9:v8:10:v9:11:v10')).toBe(true);
  });

  it('writes booleans, numbers and null as text', () => {
    expect(normalizeForDigest({ t: true, f: false, n: null, i: 42, d: 1.5 })).toBe('d:1.5:f:false:i:42:n:null:t:true');
  });

  it('writes empty objects and arrays as empty strings and skips undefined values', () => {
    expect(normalizeForDigest({ a: {}, b: [], c: undefined })).toBe('a::b:');
  });
});

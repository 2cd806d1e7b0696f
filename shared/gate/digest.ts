import { createHash } from 'node:crypto';
import { emptyRecord, setOwn } from '../records.ts';

/**
 * Kong's normalised string of a value, the input of the event digest.
 *
 * Kong's rules: object keys sorted, each entry written `key:value`, a nested object replaced by its
 * own normalised string, all entries joined by `:`. Kong's Lua leaves some cases to the runtime;
 * ours are fixed here so every process (and every deployment) computes the same digest:
 * - arrays are tables with keys `1..n` in Lua, so they are written in index order as `1:a:2:b`;
 * - `true` / `false` are written as such, numbers as JavaScript prints them (`1`, `1.5`);
 * - `null` is written `null` (Kong would print its `ngx.null` sentinel);
 * - an empty object or array is written as the empty string;
 * - entries whose value is `undefined` are skipped, as `JSON.stringify` skips them.
 *
 * Like Kong's, the encoding is not injective (`{a:{b:1}}` and `{a:'b:1'}` normalise alike); that
 * only makes the gate treat two such events as repeats, which Kong does as well.
 */
export function normalizeForDigest(value: unknown): string {
  if (Array.isArray(value)) {
    const parts: string[] = [];
    value.forEach((item, index) => {
      if (item !== undefined) parts.push(`${index + 1}:${normalizeForDigest(item)}`);
    });
    return parts.join(':');
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    // Lua's table.sort compares strings bytewise; code-unit order agrees for every key outside the astral planes.
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item !== undefined) parts.push(`${key}:${normalizeForDigest(item)}`);
    }
    return parts.join(':');
  }
  return String(value);
}

/**
 * The digest that `on_change` compares: MD5 (hex) of the data restricted to the event's `unique`
 * fields, or of the whole data when the event declares none (`undefined` or an empty list).
 *
 * @example
 * eventDigest({ some: 'data' }); // 'bc31a334fcc4ed689f4ea9ab824f23b3'
 * eventDigest({ consumer: 'c1', ip: '10.0.0.1', rate: 7 }, ['consumer', 'ip']); // ignores `rate`
 */
export function eventDigest(data: Record<string, unknown>, unique?: string[]): string {
  let subject: Record<string, unknown> = data;
  if (unique && unique.length > 0) {
    // Field names are user-chosen (`__proto__` included): copied as own keys of a prototype-less record.
    subject = emptyRecord();
    for (const field of unique) {
      if (Object.hasOwn(data, field)) setOwn(subject, field, data[field]);
    }
  }
  return createHash('md5').update(normalizeForDigest(subject), 'utf8').digest('hex');
}

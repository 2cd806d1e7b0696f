/**
 * Records keyed by user-chosen strings (source and event names, map keys, form keys). A plain `{}`
 * inherits `constructor`, `toString`, `__proto__`…, so `record[name]` can return or, worse, assign
 * through one of them: `catalog['constructor']['keys'] = …` replaces the global `Object.keys`.
 * Records built from user strings have no prototype; reads and writes go through own properties only.
 */

/** An empty record with no prototype: no inherited key, and `__proto__` is a key like any other. */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `record[key]` if `record` has it as its own property, else `undefined` (never an inherited member). */
export function getOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Assigns without ever touching a prototype, whatever the record's own prototype is. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Names a plain object inherits, plus `prototype`: refused where a user's name becomes an
 * identifier or the key of a stored map, since code or a library reading such a record (the
 * DynamoDB marshaller reads `value.constructor.name`) would take it for the inherited member.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  '__proto__',
  'prototype',
]);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/** The message of a refused reserved name, in Kong's field-error wording. */
export function reservedNameMessage(name: string): string {
  return `'${name}' is a reserved name`;
}

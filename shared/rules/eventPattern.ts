import { getOwn } from '../records.ts';
import { inRange, parseCidr } from './ipRange.ts';
import { InvalidPatternError } from './patternError.ts';
import { compileWildcard } from './wildcard.ts';

/**
 * EventBridge event patterns (a hook's `filter`), matched against an event's `data`. The syntax and
 * semantics are EventBridge's ("Content filtering in Amazon EventBridge event patterns",
 * "Arrays in Amazon EventBridge event patterns"):
 * - a pattern is an object; fields are ANDed; a leaf field holds a non-empty array of match values,
 *   ORed; a nested object matches the nested object of the event;
 * - a match value is a literal (string, number, boolean, `null`: equal, character for character) or
 *   a one-key operator object: `prefix`, `suffix`, `equals-ignore-case`, `anything-but`, `numeric`,
 *   `exists`, `cidr`, `wildcard`; `$or` takes a list of at least two patterns;
 * - when the event's value is an array, the field matches if any element does;
 * - operators work on leaves: an object in the event is no value (only `exists: false` matches it).
 *
 * Patterns are compiled once (per hook version) into closures; matching allocates nothing for
 * scalar values.
 */

/** What this service bounds, as EventBridge bounds a pattern's size and complexity. */
export const PATTERN_LIMITS = {
  /** Length of the pattern's JSON text. */
  characters: 2048,
  /** `$or` alternatives multiply: a pattern may stand for at most this many `$or`-free patterns. */
  combinations: 1000,
  /** Numeric matching works on numbers in ±5.0e9 with at most six decimal places. */
  numericMagnitude: 5e9,
  numericDecimals: 6,
} as const;

export { InvalidPatternError };

export type PatternMatcher = (data: Record<string, unknown>) => boolean;
type ValueTest = (leaf: unknown) => boolean;
type Clause = (node: unknown) => boolean;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * Compiles `pattern` into a matcher of event data.
 *
 * @throws InvalidPatternError naming the place and the problem
 * @example
 * const match = compilePattern({ entity: { username: [{ prefix: 'svc-' }] } });
 * match({ entity: { username: 'svc-billing' } }); // true
 */
export function compilePattern(pattern: unknown): PatternMatcher {
  if (!isObject(pattern)) throw new InvalidPatternError('', 'a pattern must be an object');
  if (jsonLength(pattern) > PATTERN_LIMITS.characters) {
    throw new InvalidPatternError('', `a pattern must be at most ${PATTERN_LIMITS.characters} characters of JSON`);
  }
  const node = compileObject(pattern, '');
  if (node.combinations > PATTERN_LIMITS.combinations) {
    throw new InvalidPatternError(
      '',
      `$or combinations must be at most ${PATTERN_LIMITS.combinations} (this pattern has ${node.combinations})`,
    );
  }
  return node.match as PatternMatcher;
}

/** The length of `value` as JSON, or Infinity when it nests too deep to serialise (the size check comes first). */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value).length;
  } catch (error) {
    if (error instanceof RangeError) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

/** Why `pattern` is refused (`path: problem`), or `undefined` when it compiles. */
export function patternError(pattern: unknown): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidPatternError) return error.message;
    throw error;
  }
}

function compileObject(pattern: Record<string, unknown>, path: string): { match: Clause; combinations: number } {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new InvalidPatternError(path, 'empty objects are not allowed');
  const clauses: Clause[] = [];
  let combinations = 1;
  for (const key of keys) {
    const value = pattern[key];
    const at = join(path, key);
    if (key === '$or') {
      const or = compileOr(value, at);
      clauses.push(or.match);
      combinations *= or.combinations;
    } else if (Array.isArray(value)) {
      clauses.push(fieldClause(key, compileValues(value, at)));
    } else if (isObject(value)) {
      const nested = compileObject(value, at);
      clauses.push(nestedClause(key, nested.match));
      combinations *= nested.combinations;
    } else {
      throw new InvalidPatternError(at, 'must be an array of match values or an object');
    }
  }
  const match: Clause =
    clauses.length === 1 ? (clauses[0] as Clause) : (node) => clauses.every((clause) => clause(node));
  return { match, combinations };
}

function compileOr(value: unknown, path: string): { match: Clause; combinations: number } {
  if (!Array.isArray(value) || value.length < 2) {
    throw new InvalidPatternError(path, 'must be an array of at least 2 patterns');
  }
  let combinations = 0;
  const alternatives = value.map((item, index) => {
    const at = `${path}[${index}]`;
    if (!isObject(item)) throw new InvalidPatternError(at, 'must be a pattern object');
    const compiled = compileObject(item, at);
    combinations += compiled.combinations;
    return compiled.match;
  });
  return { match: (node) => alternatives.some((alternative) => alternative(node)), combinations };
}

/** Whether `value` (an array or object) holds any leaf: a scalar, itself or inside arrays. */
function hasLeaf(value: unknown): boolean {
  if (!Array.isArray(value)) return value !== undefined && !isObject(value);
  return value.some(hasLeaf);
}

/** Whether a scalar of `value`, itself or inside (nested) arrays, passes `test`; objects are no leaves. */
function someLeaf(value: unknown, test: ValueTest): boolean {
  if (Array.isArray(value)) return value.some((item) => someLeaf(item, test));
  return value !== undefined && !isObject(value) && test(value);
}

interface FieldMatcher {
  tests: ValueTest[];
  /** `exists: true` / `exists: false` entries of the list. */
  exists: boolean[];
}

function fieldClause(key: string, field: FieldMatcher): Clause {
  const wantsPresent = field.exists.includes(true);
  const wantsMissing = field.exists.includes(false);
  const { tests } = field;
  const anyTest: ValueTest = tests.length === 1 ? (tests[0] as ValueTest) : (leaf) => tests.some((test) => test(leaf));
  return (node) => {
    const value = isObject(node) ? getOwn(node, key) : undefined;
    if (value === undefined) return wantsMissing;
    // The common case, a scalar, costs one test and no allocation.
    if (value === null || typeof value !== 'object') return wantsPresent || anyTest(value);
    if (hasLeaf(value) ? wantsPresent : wantsMissing) return true;
    return someLeaf(value, anyTest);
  };
}

function nestedClause(key: string, nested: Clause): Clause {
  return (node) => {
    const value = isObject(node) ? getOwn(node, key) : undefined;
    if (Array.isArray(value)) {
      // Arrays are crushed out, at any depth: each object inside stands for the field's value.
      const objects = value.flat(Number.POSITIVE_INFINITY).filter(isObject);
      // A pattern of only `exists: false` fields still matches when nothing is there.
      return objects.length > 0 ? objects.some(nested) : nested(EMPTY);
    }
    return nested(isObject(value) ? value : EMPTY);
  };
}

function compileValues(values: unknown[], path: string): FieldMatcher {
  if (values.length === 0) throw new InvalidPatternError(path, 'must hold at least one match value');
  const field: FieldMatcher = { tests: [], exists: [] };
  values.forEach((value, index) => {
    const at = `${path}[${index}]`;
    if (Array.isArray(value)) throw new InvalidPatternError(at, 'match values cannot be arrays');
    if (!isObject(value)) {
      field.tests.push((leaf) => leaf === value);
      return;
    }
    const keys = Object.keys(value);
    if (keys.length !== 1) throw new InvalidPatternError(at, 'an operator object must have exactly one key');
    const operator = keys[0] as string;
    const operand = value[operator];
    if (operator === 'exists') {
      if (typeof operand !== 'boolean') throw new InvalidPatternError(at, 'exists must be true or false');
      field.exists.push(operand);
      return;
    }
    field.tests.push(compileOperator(operator, operand, at));
  });
  return field;
}

const lower = (text: string) => text.toLowerCase();

function stringOperand(operator: string, operand: unknown, path: string): string {
  if (typeof operand !== 'string') throw new InvalidPatternError(path, `${operator} must be a string`);
  return operand;
}

/** `prefix` / `suffix`: a string, or `{"equals-ignore-case": string}`. */
function affixTest(operator: 'prefix' | 'suffix', operand: unknown, path: string): ValueTest {
  const at =
    operator === 'prefix' ? (s: string, a: string) => s.startsWith(a) : (s: string, a: string) => s.endsWith(a);
  if (isObject(operand) && Object.keys(operand).length === 1 && Object.hasOwn(operand, 'equals-ignore-case')) {
    const affix = lower(stringOperand(`${operator}.equals-ignore-case`, operand['equals-ignore-case'], path));
    return (leaf) => typeof leaf === 'string' && at(lower(leaf), affix);
  }
  if (typeof operand !== 'string') {
    throw new InvalidPatternError(path, `${operator} must be a string or {"equals-ignore-case": string}`);
  }
  return (leaf) => typeof leaf === 'string' && at(leaf, operand);
}

function compileOperator(operator: string, operand: unknown, path: string): ValueTest {
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return affixTest(operator, operand, path);
    case 'equals-ignore-case': {
      const expected = lower(stringOperand(operator, operand, path));
      return (leaf) => typeof leaf === 'string' && lower(leaf) === expected;
    }
    case 'wildcard': {
      const matches = compileWildcard(stringOperand(operator, operand, path), path);
      return (leaf) => typeof leaf === 'string' && matches(leaf);
    }
    case 'cidr': {
      const range = parseCidr(stringOperand(operator, operand, path));
      if (!range) throw new InvalidPatternError(path, `cidr must be an IPv4 or IPv6 CIDR block, like 10.0.0.0/24`);
      return (leaf) => typeof leaf === 'string' && inRange(range, leaf);
    }
    case 'numeric':
      return numericTest(operand, path);
    case 'anything-but':
      return anythingButTest(operand, path);
    default:
      throw new InvalidPatternError(path, `unknown operator '${operator}'`);
  }
}

/** Operators `anything-but` negates, each with one string or a list of strings. */
const ANYTHING_BUT_STRING_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

function anythingButTest(operand: unknown, path: string): ValueTest {
  if (typeof operand === 'string' || typeof operand === 'number') return (leaf) => leaf !== operand;
  if (Array.isArray(operand)) {
    const allStrings = operand.every((item) => typeof item === 'string');
    const allNumbers = operand.every((item) => typeof item === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      throw new InvalidPatternError(path, 'anything-but list must hold only strings or only numbers, at least one');
    }
    const excluded = new Set<unknown>(operand);
    return (leaf) => !excluded.has(leaf);
  }
  if (isObject(operand) && Object.keys(operand).length === 1) {
    const [operator] = Object.keys(operand) as [string];
    const inner = operand[operator];
    const at = `${path}.anything-but`;
    if (ANYTHING_BUT_STRING_OPERATORS.has(operator)) {
      const list = typeof inner === 'string' ? [inner] : inner;
      if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string')) {
        throw new InvalidPatternError(path, `anything-but ${operator} must be a string or a list of strings`);
      }
      const tests = list.map((item) => compileOperator(operator, item, at));
      return (leaf) => typeof leaf === 'string' && !tests.some((test) => test(leaf));
    }
  }
  throw new InvalidPatternError(
    path,
    'anything-but must be a string, a number, a list of them, or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}',
  );
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function numericOperand(value: unknown, path: string): number {
  const { numericMagnitude, numericDecimals } = PATTERN_LIMITS;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidPatternError(path, 'numeric bounds must be numbers');
  }
  if (Math.abs(value) > numericMagnitude) {
    throw new InvalidPatternError(path, `numeric bounds must be between -${numericMagnitude} and ${numericMagnitude}`);
  }
  const decimals = /\.(\d+)$/.exec(String(value))?.[1]?.length ?? (String(value).includes('e-') ? 7 : 0);
  if (decimals > numericDecimals) {
    throw new InvalidPatternError(path, `numeric bounds may have at most ${numericDecimals} decimal places`);
  }
  return value;
}

const NUMERIC_OPERATORS = new Set(['=', '>', '>=', '<', '<=']);

/** `["=", 5]`, `[">", 0]`, `[">", 0, "<=", 5]`: one equality, or up to one lower and one upper bound. */
function numericTest(operand: unknown, path: string): ValueTest {
  const shape = 'numeric must be ["=", n], [op, n] or [lower op, n, upper op, n]';
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new InvalidPatternError(path, shape);
  }
  const pairs: [string, number][] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op)) {
      throw new InvalidPatternError(
        path,
        `numeric operator must be one of =, <, <=, >, >= (got ${JSON.stringify(op)})`,
      );
    }
    pairs.push([op, numericOperand(operand[i + 1], path)]);
  }
  if (pairs.length === 2) {
    const [[op1, n1], [op2, n2]] = pairs as [[string, number], [string, number]];
    const lowerFirst = LOWER_BOUNDS.has(op1) && UPPER_BOUNDS.has(op2);
    const upperFirst = UPPER_BOUNDS.has(op1) && LOWER_BOUNDS.has(op2);
    if (!lowerFirst && !upperFirst)
      throw new InvalidPatternError(path, 'numeric range needs one lower and one upper bound');
    const [low, high] = lowerFirst ? [n1, n2] : [n2, n1];
    if (low >= high) throw new InvalidPatternError(path, 'numeric range lower bound must be below its upper bound');
  }
  const { numericMagnitude } = PATTERN_LIMITS;
  let [low, lowInclusive, high, highInclusive]: [number, boolean, number, boolean] = [
    -numericMagnitude,
    true,
    numericMagnitude,
    true,
  ];
  for (const [op, bound] of pairs) {
    if (op === '=' || LOWER_BOUNDS.has(op)) [low, lowInclusive] = [bound, op !== '>'];
    if (op === '=' || UPPER_BOUNDS.has(op)) [high, highInclusive] = [bound, op !== '<'];
  }
  return (leaf) =>
    typeof leaf === 'number' &&
    leaf >= -numericMagnitude &&
    leaf <= numericMagnitude &&
    (lowInclusive ? leaf >= low : leaf > low) &&
    (highInclusive ? leaf <= high : leaf < high);
}

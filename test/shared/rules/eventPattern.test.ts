/**
 * Each operator is tested with the examples of EventBridge's documentation:
 * - "Content filtering in Amazon EventBridge event patterns",
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 * - "Comparison operators for use in event patterns in Amazon EventBridge",
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * - "Arrays in Amazon EventBridge event patterns",
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
 * The documented patterns sit under `detail`; here they apply to the event's `data` the same way.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, PATTERN_LIMITS, patternError } from '../../../shared/rules/eventPattern.ts';

const matches = (pattern: unknown, data: Record<string, unknown>) => compilePattern(pattern)(data);

describe('compilePattern', () => {
  describe('exact values', () => {
    it('matches equal strings, numbers, booleans and null, character for character', () => {
      const pattern = { Name: ['Alice'], count: [5], ok: [true], responseElements: [null] };
      expect(matches(pattern, { Name: 'Alice', count: 5, ok: true, responseElements: null })).toBe(true);
      expect(matches(pattern, { Name: 'alice', count: 5, ok: true, responseElements: null })).toBe(false);
      expect(matches(pattern, { Name: 'Alice', count: '5', ok: true, responseElements: null })).toBe(false);
      expect(matches(pattern, { Name: 'Alice', count: 5, ok: true })).toBe(false);
    });

    it('matches the empty string ("LastName": [""])', () => {
      expect(matches({ LastName: [''] }, { LastName: '' })).toBe(true);
      expect(matches({ LastName: [''] }, { LastName: 'Doe' })).toBe(false);
    });

    it('ANDs fields and ORs the values of one field (Location and Day)', () => {
      const pattern = { Location: ['New York'], Day: ['Monday', 'Tuesday'] };
      expect(matches(pattern, { Location: 'New York', Day: 'Tuesday' })).toBe(true);
      expect(matches(pattern, { Location: 'New York', Day: 'Friday' })).toBe(false);
      expect(matches(pattern, { Location: 'Boston', Day: 'Monday' })).toBe(false);
    });

    it('matches nested objects field by field, and ignores fields the pattern does not name', () => {
      const pattern = { entity: { username: ['svc-billing'] } };
      expect(matches(pattern, { entity: { username: 'svc-billing', id: 'x' }, operation: 'delete' })).toBe(true);
      expect(matches(pattern, { entity: 'svc-billing' })).toBe(false);
      expect(matches(pattern, {})).toBe(false);
    });
  });

  describe('field names', () => {
    it('reads only own fields: __proto__ and constructor are names like any other', () => {
      const pattern = JSON.parse('{"__proto__": ["x"], "constructor": [{"exists": false}]}');
      expect(matches(pattern, JSON.parse('{"__proto__": "x"}'))).toBe(true);
      expect(matches(pattern, {})).toBe(false);
      expect(matches(pattern, JSON.parse('{"__proto__": "x", "constructor": "y"}'))).toBe(false);
    });
  });

  describe('arrays', () => {
    const resources = [
      'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
    ];
    it('matches when the pattern array and the event array intersect (the resources example)', () => {
      const event = {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        ],
      };
      expect(matches({ resources }, event)).toBe(true);
      expect(matches({ resources }, { resources: ['arn:aws:s3:::bucket'] })).toBe(false);
    });

    // aws/event-ruler's README (the open-source engine of EventBridge's matching), "JSON Array Matching".
    const employees = [
      [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
      [{ firstName: 'Peter', lastName: 'Jones' }],
    ];
    it('crushes arrays of objects, at any depth, out of the pattern (the employees example)', () => {
      expect(matches({ employees: { firstName: ['Anna'] } }, { employees })).toBe(true);
      expect(matches({ employees: { firstName: ['Anna'] } }, { employees: employees.flat() })).toBe(true);
    });

    it('matches the fields of a nested pattern within one array element only', () => {
      expect(matches({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, { employees })).toBe(false);
      expect(matches({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, { employees })).toBe(true);
    });

    it('applies operators to each element and matches nested patterns against any object element', () => {
      expect(matches({ tags: [{ prefix: 'team-' }] }, { tags: ['prod', 'team-a'] })).toBe(true);
      expect(matches({ tags: [{ prefix: 'team-' }] }, { tags: [] })).toBe(false);
      const pattern = { targets: { host: ['a.example'] } };
      expect(matches(pattern, { targets: [{ host: 'b.example' }, { host: 'a.example' }] })).toBe(true);
      expect(matches(pattern, { targets: [{ host: 'b.example' }] })).toBe(false);
    });
  });

  describe('prefix, suffix and equals-ignore-case', () => {
    it('prefix: "time": [{"prefix": "2017-10-02"}]', () => {
      const pattern = { time: [{ prefix: '2017-10-02' }] };
      expect(matches(pattern, { time: '2017-10-02T18:43:48Z' })).toBe(true);
      expect(matches(pattern, { time: '2017-10-03T18:43:48Z' })).toBe(false);
      expect(matches(pattern, { time: 20171002 })).toBe(false);
    });

    it('prefix with equals-ignore-case: "service": [{"prefix": {"equals-ignore-case": "EventB"}}]', () => {
      const pattern = { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] };
      for (const service of ['EventBridge', 'EVENTBRIDGE', 'eventb']) expect(matches(pattern, { service })).toBe(true);
      expect(matches(pattern, { service: 'Lambda' })).toBe(false);
    });

    it('suffix: "FileName": [{"suffix": ".png"}], and with equals-ignore-case', () => {
      expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
      expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' })).toBe(false);
      const ignoring = { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] };
      expect(matches(ignoring, { FileName: 'image.PNG' })).toBe(true);
      expect(matches(ignoring, { FileName: 'image.jpg' })).toBe(false);
    });

    it('equals-ignore-case: "name": [{"equals-ignore-case": "alice"}]', () => {
      const pattern = { name: [{ 'equals-ignore-case': 'alice' }] };
      expect(matches(pattern, { name: 'Alice' })).toBe(true);
      expect(matches(pattern, { name: 'ALICE' })).toBe(true);
      expect(matches(pattern, { name: 'Alicia' })).toBe(false);
    });
  });

  describe('anything-but', () => {
    it('a string or a number: "state": [{"anything-but": "initializing"}], "x-limit": [{"anything-but": 123}]', () => {
      expect(matches({ state: [{ 'anything-but': 'initializing' }] }, { state: 'running' })).toBe(true);
      expect(matches({ state: [{ 'anything-but': 'initializing' }] }, { state: 'initializing' })).toBe(false);
      expect(matches({ 'x-limit': [{ 'anything-but': 123 }] }, { 'x-limit': 456 })).toBe(true);
      expect(matches({ 'x-limit': [{ 'anything-but': 123 }] }, { 'x-limit': 123 })).toBe(false);
    });

    it('needs the field to be there', () => {
      expect(matches({ state: [{ 'anything-but': 'initializing' }] }, {})).toBe(false);
    });

    it('a list: "state": [{"anything-but": ["stopped", "overloaded"]}], "x-limit": [{"anything-but": [100, 200, 300]}]', () => {
      const states = { state: [{ 'anything-but': ['stopped', 'overloaded'] }] };
      expect(matches(states, { state: 'running' })).toBe(true);
      expect(matches(states, { state: 'stopped' })).toBe(false);
      expect(matches(states, { state: 'overloaded' })).toBe(false);
      const limits = { 'x-limit': [{ 'anything-but': [100, 200, 300] }] };
      expect(matches(limits, { 'x-limit': 150 })).toBe(true);
      expect(matches(limits, { 'x-limit': 200 })).toBe(false);
    });

    it('prefix: "state": [{"anything-but": {"prefix": "init"}}]', () => {
      const pattern = { state: [{ 'anything-but': { prefix: 'init' } }] };
      expect(matches(pattern, { state: 'running' })).toBe(true);
      expect(matches(pattern, { state: 'initializing' })).toBe(false);
    });

    it('a prefix or suffix list: {"anything-but": {"prefix": ["init", "error"]}}, {"suffix": ["1234", "6789"]}', () => {
      const prefixes = { state: [{ 'anything-but': { prefix: ['init', 'error'] } }] };
      expect(matches(prefixes, { state: 'running' })).toBe(true);
      expect(matches(prefixes, { state: 'initializing' })).toBe(false);
      expect(matches(prefixes, { state: 'error-42' })).toBe(false);
      const suffixes = { 'instance-id': [{ 'anything-but': { suffix: ['1234', '6789'] } }] };
      expect(matches(suffixes, { 'instance-id': 'i-0000' })).toBe(true);
      expect(matches(suffixes, { 'instance-id': 'i-6789' })).toBe(false);
    });

    it('suffix: "FileName": [{"anything-but": {"suffix": ".txt"}}]', () => {
      const pattern = { FileName: [{ 'anything-but': { suffix: '.txt' } }] };
      expect(matches(pattern, { FileName: 'notes.md' })).toBe(true);
      expect(matches(pattern, { FileName: 'notes.txt' })).toBe(false);
    });

    it('equals-ignore-case, one string or a list', () => {
      const one = { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] };
      expect(matches(one, { state: 'INITIALIZING' })).toBe(false);
      expect(matches(one, { state: 'running' })).toBe(true);
      const list = { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'overloaded'] } }] };
      expect(matches(list, { state: 'STOPPED' })).toBe(false);
      expect(matches(list, { state: 'Overloaded' })).toBe(false);
      expect(matches(list, { state: 'running' })).toBe(true);
    });

    it('wildcard: "FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]', () => {
      const pattern = { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] };
      expect(matches(pattern, { FilePath: '/usr/bin/node' })).toBe(true);
      expect(matches(pattern, { FilePath: '/usr/lib/node' })).toBe(false);
      const list = { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] };
      expect(matches(list, { FilePath: '/usr/bin/node' })).toBe(false);
      expect(matches(list, { FilePath: '/etc/hosts' })).toBe(true);
    });

    it('matches an array when any element is not excluded', () => {
      const pattern = { state: [{ 'anything-but': 'stopped' }] };
      expect(matches(pattern, { state: ['stopped', 'running'] })).toBe(true);
      expect(matches(pattern, { state: ['stopped'] })).toBe(false);
    });
  });

  describe('numeric', () => {
    // The documented example: "c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
    // "x-limit": [{"numeric": ["=", 3.018e2]}], against c-count 5, d-count 3, x-limit 301.8.
    const pattern = {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    };
    it('matches the documented event', () => {
      expect(matches(pattern, { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8 })).toBe(true);
    });

    it('respects each bound', () => {
      expect(matches(pattern, { 'c-count': 0, 'd-count': 3, 'x-limit': 301.8 })).toBe(false);
      expect(matches(pattern, { 'c-count': 5.5, 'd-count': 3, 'x-limit': 301.8 })).toBe(false);
      expect(matches(pattern, { 'c-count': 5, 'd-count': 10, 'x-limit': 301.8 })).toBe(false);
      expect(matches(pattern, { 'c-count': 5, 'd-count': 3, 'x-limit': 301.9 })).toBe(false);
      expect(matches({ n: [{ numeric: ['>=', 1, '<', 2] }] }, { n: 1 })).toBe(true);
      expect(matches({ n: [{ numeric: ['<', 2, '>=', 1] }] }, { n: 2 })).toBe(false);
    });

    it('only matches JSON numbers, within ±5.0e9', () => {
      expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '5' })).toBe(false);
      expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: 6e9 })).toBe(false);
      expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: 5e9 })).toBe(true);
    });
  });

  describe('exists', () => {
    it('"c-count": [{"exists": true}] matches a present field, "exists": false a missing one', () => {
      expect(matches({ 'c-count': [{ exists: true }] }, { 'c-count': 5 })).toBe(true);
      expect(matches({ 'c-count': [{ exists: true }] }, { other: 5 })).toBe(false);
      expect(matches({ 'c-count': [{ exists: false }] }, { other: 5 })).toBe(true);
      expect(matches({ 'c-count': [{ exists: false }] }, { 'c-count': 5 })).toBe(false);
    });

    it('works on leaves only: an object is not an existing leaf', () => {
      expect(matches({ detail: [{ exists: true }] }, { detail: { a: 1 } })).toBe(false);
      expect(matches({ detail: [{ exists: false }] }, { detail: { a: 1 } })).toBe(true);
    });

    it('matches exists: false inside a missing parent', () => {
      expect(matches({ detail: { 'c-count': [{ exists: false }] } }, {})).toBe(true);
    });
  });

  describe('cidr', () => {
    it('"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]', () => {
      const pattern = { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] };
      expect(matches(pattern, { sourceIPAddress: '10.0.0.255' })).toBe(true);
      expect(matches(pattern, { sourceIPAddress: '10.0.1.0' })).toBe(false);
      expect(matches(pattern, { sourceIPAddress: 'not an address' })).toBe(false);
    });

    it('covers whole and single-address blocks, and takes only dotted-decimal IPv4', () => {
      expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '203.0.113.9' })).toBe(true);
      expect(matches({ ip: [{ cidr: '203.0.113.9/32' }] }, { ip: '203.0.113.9' })).toBe(true);
      expect(matches({ ip: [{ cidr: '203.0.113.9/32' }] }, { ip: '203.0.113.8' })).toBe(false);
      expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '010.0.0.1' })).toBe(false);
      expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0.256' })).toBe(false);
    });

    it('IPv6: "sourceIPAddress": [{"cidr": "2001:db8::/32"}]', () => {
      const pattern = { sourceIPAddress: [{ cidr: '2001:db8::/32' }] };
      expect(matches(pattern, { sourceIPAddress: '2001:db8:1234::1' })).toBe(true);
      expect(matches(pattern, { sourceIPAddress: '2001:db9::1' })).toBe(false);
      expect(matches(pattern, { sourceIPAddress: '10.0.0.1' })).toBe(false);
    });
  });

  describe('wildcard', () => {
    it('"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]', () => {
      const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
      expect(matches(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myBus' })).toBe(true);
      expect(matches(pattern, { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/myBus' })).toBe(false);
    });

    it('"FileName": [{"wildcard": "*.png"}] and "dir/*.png"', () => {
      expect(matches({ FileName: [{ wildcard: '*.png' }] }, { FileName: 'cat.png' })).toBe(true);
      expect(matches({ FileName: [{ wildcard: 'dir/*.png' }] }, { FileName: 'dir/cat.png' })).toBe(true);
      expect(matches({ FileName: [{ wildcard: 'dir/*.png' }] }, { FileName: 'dir/cat.jpg' })).toBe(false);
      expect(matches({ FileName: [{ wildcard: 'a*b*a' }] }, { FileName: 'aba' })).toBe(true);
      expect(matches({ FileName: [{ wildcard: 'a*b*a' }] }, { FileName: 'ab' })).toBe(false);
    });

    it('takes \\* as a literal star and \\\\ as a literal backslash', () => {
      expect(matches({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
      expect(matches({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axb' })).toBe(false);
      expect(matches({ f: [{ wildcard: 'a\\\\*' }] }, { f: 'a\\zz' })).toBe(true);
    });
  });

  describe('$or', () => {
    it('matches when any alternative does (the documented metricName / namespace example)', () => {
      const pattern = {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }],
      };
      expect(matches(pattern, { 'c-count': 3 })).toBe(true);
      expect(matches(pattern, { 'd-count': 3 })).toBe(true);
      expect(matches(pattern, { 'c-count': 30, 'd-count': 30 })).toBe(false);
    });

    it('ANDs with the other fields, at any depth', () => {
      const pattern = { source: ['aws.ec2'], detail: { $or: [{ state: ['running'] }, { code: [16] }] } };
      expect(matches(pattern, { source: 'aws.ec2', detail: { code: 16 } })).toBe(true);
      expect(matches(pattern, { source: 'aws.s3', detail: { code: 16 } })).toBe(false);
    });
  });
});

describe('patternError', () => {
  it.each([
    [
      { entity: { username: [{ prefix: 5 }] } },
      'entity.username[0]: prefix must be a string or {"equals-ignore-case": string}',
    ],
    [{ a: [{ 'equals-ignore-case': 1 }] }, 'a[0]: equals-ignore-case must be a string'],
    [{ a: 'x' }, 'a: must be an array of match values or an object'],
    [{ a: [] }, 'a: must hold at least one match value'],
    [{ a: {} }, 'a: empty objects are not allowed'],
    [{ a: [['x']] }, 'a[0]: match values cannot be arrays'],
    [{ a: [{ contains: 'x' }] }, "a[0]: unknown operator 'contains'"],
    [{ a: [{ prefix: 'x', suffix: 'y' }] }, 'a[0]: an operator object must have exactly one key'],
    [{ a: [{ exists: 'yes' }] }, 'a[0]: exists must be true or false'],
    [{ a: [{ cidr: '10.0.0.0/33' }] }, 'a[0]: cidr must be an IPv4 or IPv6 CIDR block, like 10.0.0.0/24'],
    [{ a: [{ cidr: '10.0.0.0' }] }, 'a[0]: cidr must be an IPv4 or IPv6 CIDR block, like 10.0.0.0/24'],
    [{ a: [{ wildcard: 'a**b' }] }, 'a[0]: wildcard cannot hold consecutive * characters'],
    [{ a: [{ wildcard: 'a\\b' }] }, 'a[0]: wildcard escapes are only \\* and \\\\'],
    [{ a: [{ 'anything-but': [] }] }, 'a[0]: anything-but list must hold only strings or only numbers, at least one'],
    [
      { a: [{ 'anything-but': ['x', 1] }] },
      'a[0]: anything-but list must hold only strings or only numbers, at least one',
    ],
    [{ a: [{ 'anything-but': { prefix: 1 } }] }, 'a[0]: anything-but prefix must be a string or a list of strings'],
    [{ a: [{ 'anything-but': { suffix: [] } }] }, 'a[0]: anything-but suffix must be a string or a list of strings'],
    [{ a: [{ 'anything-but': true }] }, expect.stringContaining('a[0]: anything-but must be a string, a number')],
    [{ a: [{ numeric: ['>', 0, '>', 5] }] }, 'a[0]: numeric range needs one lower and one upper bound'],
    [{ a: [{ numeric: ['>', 5, '<', 5] }] }, 'a[0]: numeric range lower bound must be below its upper bound'],
    [{ a: [{ numeric: ['!=', 5] }] }, 'a[0]: numeric operator must be one of =, <, <=, >, >= (got "!=")'],
    [{ a: [{ numeric: ['>', 6e9] }] }, 'a[0]: numeric bounds must be between -5000000000 and 5000000000'],
    [{ a: [{ numeric: ['>', 0.1234567] }] }, 'a[0]: numeric bounds may have at most 6 decimal places'],
    [{ a: [{ numeric: ['>', '5'] }] }, 'a[0]: numeric bounds must be numbers'],
    [{ a: [{ numeric: ['=', 1, '<', 5] }] }, 'a[0]: numeric range needs one lower and one upper bound'],
    [{ $or: [{ a: ['x'] }] }, '$or: must be an array of at least 2 patterns'],
    [{ $or: [{ a: ['x'] }, 'b'] }, '$or[1]: must be a pattern object'],
    [[], 'a pattern must be an object'],
  ])('refuses %j with "%s"', (pattern, message) => {
    expect(patternError(pattern)).toEqual(message);
  });

  it('accepts every documented form', () => {
    expect(
      patternError({
        a: ['x', 1, true, null, ''],
        b: [{ prefix: 'p' }, { suffix: { 'equals-ignore-case': '.PNG' } }, { 'equals-ignore-case': 'x' }],
        c: [{ 'anything-but': { wildcard: '*/lib/*' } }, { numeric: ['>=', -5e9, '<', 0.5] }],
        d: [{ exists: false }, { cidr: '::/0' }, { wildcard: 'a*b' }],
        $or: [{ e: ['1'] }, { f: ['2'] }],
      }),
    ).toBeUndefined();
  });

  it(`bounds the pattern's JSON at ${PATTERN_LIMITS.characters} characters`, () => {
    const big = { a: Array.from({ length: 300 }, (_, i) => `value-${i}`) };
    expect(patternError(big)).toBe(`a pattern must be at most ${PATTERN_LIMITS.characters} characters of JSON`);
  });

  it('refuses a pattern nested too deep to serialise as too large, not with a crash', () => {
    let deep: Record<string, unknown> = { a: ['x'] };
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(patternError(deep)).toBe(`a pattern must be at most ${PATTERN_LIMITS.characters} characters of JSON`);
  });

  it(`bounds $or combinations at ${PATTERN_LIMITS.combinations}`, () => {
    const or = (name: string) => ({
      $or: Array.from({ length: 11 }, (_, i) => ({ [`${name}${i}`]: [i] })),
    });
    // 11 × 11 × 11 = 1331 combinations, within the size limit.
    const pattern = { a: or('a'), b: or('b'), c: or('c') };
    expect(patternError(pattern)).toBe(`$or combinations must be at most 1000 (this pattern has 1331)`);
    expect(patternError({ a: or('a'), b: or('b') })).toBeUndefined();
  });
});

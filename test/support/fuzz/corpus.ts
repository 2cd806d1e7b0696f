import { randomUUID } from 'node:crypto';
import { ADMIN_ROUTES, type RouteSpec } from '../../../shared/admin/router.ts';
import { INGEST_ROUTE, INGEST_ROUTES } from '../../../shared/pipeline/ingest.ts';
import { createPrng, type Prng } from './prng.ts';

/**
 * The fuzz corpus: malformed requests generated from one seed across every route the service
 * declares. Routes come from the router's own table (ADMIN_ROUTES) and the ingest route, so a route
 * added there is fuzzed without anyone touching this file.
 */

/** Every route of the service, as the runtime dispatches them. */
export function serviceRoutes(): RouteSpec[] {
  return [...ADMIN_ROUTES, ...INGEST_ROUTES];
}

/** What exists in the store before the fuzzing starts, so that mutations reach past the 404s. */
export interface FuzzFixtures {
  hookId: string;
  customHookId: string;
  deadLetterIds: string[];
  source: string;
  event: string;
  receiverUrl: string;
}

export interface FuzzCase {
  /** Position in the corpus; with the seed it names the case. */
  n: number;
  /** The mutation, e.g. `param`, `json.deep`, `form.sparse`. */
  kind: string;
  /** The route pattern it targets, e.g. `PUT /event-hooks/{id}` (the method as sent). */
  route: string;
  method: string;
  /** The request target exactly as written on the wire (path and query, not normalised). */
  target: string;
  headers: [string, string][];
  body?: string | Buffer;
  /** Send the body chunked (the headers carry `transfer-encoding: chunked`), with no content-length. */
  chunked?: boolean;
  /**
   * A defect known and fixed elsewhere (issue 8) that this case reproduces: the name of the defect.
   * Failures of such cases are counted apart in the report.
   */
  known?: string;
}

export const DEFAULT_SEED = 0x5eed_2026;

/** Every name `Object.prototype` has, plus `__proto__` and a few that JavaScript code often trusts. */
export const PROTO_NAMES = [
  ...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype', 'then', 'length']),
];

const KNOWN = {
  proto: 'prototype names as keys (sources/catalog)',
  sparse: 'sparse form arrays',
  depth: 'JSON depth',
  idLength: 'id length limits',
  headerKey: "header key 'constructor'",
  framing: 'framing headers in hook config',
} as const;

const JSON_TYPE: [string, string] = ['content-type', 'application/json'];
const FORM_TYPE: [string, string] = ['content-type', 'application/x-www-form-urlencoded'];
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Mutations of the body: sent even with a method that takes none (a GET with a body is odd too). */
const BODY_KINDS = new Set(['json', 'type', 'keys', 'form', 'content-type', 'size']);
const EXTRA_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE'];

/** Path segments as written on the wire (already percent-encoded where needed). */
const BAD_SEGMENTS: { value: string; known?: string }[] = [
  { value: 'a'.repeat(2000), known: KNOWN.idLength },
  { value: 'a'.repeat(300), known: KNOWN.idLength },
  { value: '%00' },
  { value: 'a%00b' },
  { value: '..' },
  { value: '.' },
  { value: '%2e%2e' },
  { value: '%2F..%2F' },
  { value: '%ZZ' },
  { value: '%' },
  { value: '%C0%AF' },
  { value: '%ED%A0%80' },
  { value: encodeURIComponent('☃💥') },
  { value: encodeURIComponent('\u202eevil') },
  { value: encodeURIComponent('e\u0301') },
  { value: '%20' },
  { value: '+' },
  { value: '*' },
  { value: 'null' },
  { value: 'undefined' },
  { value: 'NaN' },
  { value: '-1' },
  { value: '1e309' },
  { value: '%0d%0aX-Injected:%201' },
  { value: '%7B%7Bconstructor.name%7D%7D' },
  { value: encodeURIComponent("'; DROP TABLE hooks; --") },
  { value: encodeURIComponent('a#b?c') },
  { value: encodeURIComponent('T#default#HOOK') },
  ...PROTO_NAMES.map((name) => ({ value: name })),
];

const BAD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000',
  '☃💥\u202e',
  [],
  [null],
  [[[]]],
  {},
  { a: { b: { c: {} } } },
  '{{constructor.name}}',
  '{{#a}}{{/a}}',
  'http://[::1',
  'javascript:alert(1)',
  'http://127.0.0.1:1/',
  'ftp://example.com/',
  Array.from({ length: 1000 }, () => 'a'),
  'constructor',
  '__proto__',
];

const INVALID_JSON: string[] = [
  '{',
  '}',
  '{"a":',
  '{"a":1,}',
  '[1,]',
  "{'a':1}",
  'nul',
  'NaN',
  'undefined',
  '{"a":1}{"b":2}',
  '\uFEFF{"a":1}',
  '{"a":"\\ud800"}',
  '{"a":"\\u00"}',
  '"\u0000"',
  '0',
  '"str"',
  'true',
  'null',
  '[]',
  '[{}]',
  '1e999',
  '{"a":1e999}',
  '-',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  ' '.repeat(1000),
  '{"source":"a","source":"b"}',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json;;;',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=x',
  '*/*',
  '',
  `application/${'a'.repeat(2000)}`,
  'application/json; boundary=x',
  'application/octet-stream',
  'image/png',
  'application/x-www-form-urlencoded; charset=utf-7',
];

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so that `__proto__` becomes an own key that JSON.stringify writes out.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function hookBody(f: FuzzFixtures, prng: Prng): Record<string, unknown> {
  switch (prng.int(4)) {
    case 0:
      return {
        source: f.source,
        event: f.event,
        handler: 'webhook-custom',
        config: {
          url: f.receiverUrl,
          method: 'POST',
          payload: { a: '{{a}}' },
          payload_format: true,
          body: null,
          headers: { 'x-a': '{{a}}' },
          headers_format: true,
        },
      };
    case 1:
      return { source: f.source, event: f.event, handler: 'log', config: {} };
    case 2:
      return {
        source: 'crud',
        event: 'event_hooks',
        handler: 'webhook',
        on_change: true,
        snooze: 10,
        config: { url: f.receiverUrl },
      };
    default:
      return {
        source: f.source,
        event: f.event,
        handler: 'webhook',
        config: { url: f.receiverUrl, headers: { 'x-a': 'b' }, secret: 's' },
      };
  }
}

/** The valid body of a route, which the mutations then break. */
function baseBody(path: string, f: FuzzFixtures, prng: Prng): Record<string, unknown> {
  switch (path) {
    case '/event-hooks':
    case '/event-hooks/{id}':
      return hookBody(f, prng);
    case '/event-hooks/sources/{source}/{event}':
      return { fields: ['a', 'b'], unique: ['a'] };
    case INGEST_ROUTE.path:
      return { source: f.source, event: f.event, data: { a: 1, b: 'x' } };
    case '/event-hooks/{id}/test':
      return { a: 1, b: 'x' };
    default:
      return {};
  }
}

/** Paths (as key lists) of every value inside `value`, objects and arrays included. */
function valuePaths(value: unknown, prefix: string[] = []): string[][] {
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      paths.push(...valuePaths((value as Record<string, unknown>)[key], [...prefix, key]));
    }
  }
  return paths;
}

function objectPaths(value: unknown): string[][] {
  const walk = (v: unknown, prefix: string[]): string[][] =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? [prefix, ...Object.keys(v).flatMap((key) => walk((v as Record<string, unknown>)[key], [...prefix, key]))]
      : [];
  return walk(value, []);
}

function at(root: unknown, path: string[]): Record<string, unknown> {
  let node = root as Record<string, unknown>;
  for (const key of path) node = node[key] as Record<string, unknown>;
  return node;
}

function deep(depth: number, object: boolean): string {
  return object ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Fills the `{params}` of a pattern: valid values from the fixtures unless `bad` is given. */
function fill(path: string, f: FuzzFixtures, prng: Prng, bad?: (name: string) => string | undefined): string {
  const deadLetters = path.startsWith('/dead-letters');
  return path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const replaced = bad?.(name);
    if (replaced !== undefined) return replaced;
    if (name === 'source') return f.source;
    if (name === 'event') return f.event;
    if (deadLetters) return prng.pick([...f.deadLetterIds, randomUUIDFrom(prng)]);
    return prng.pick([f.hookId, f.hookId.toUpperCase(), f.customHookId, randomUUIDFrom(prng)]);
  });
}

/** A UUID from the PRNG, so the corpus repeats. */
function randomUUIDFrom(prng: Prng): string {
  const hex = Array.from({ length: 32 }, () => prng.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

const QUERIES = [
  'size=0',
  'size=-1',
  'size=1001',
  'size=abc',
  'size=1e3',
  'size=1.5',
  'size=',
  'size=99999999999999999999',
  'size=1&size=2',
  'size=%00',
  'size=%ZZ',
  'offset=garbage',
  'offset=',
  'offset=%00',
  `offset=${'A'.repeat(4000)}`,
  `offset=${Buffer.from('{"pk":"T#other#HOOK","sk":"x"}').toString('base64')}`,
  `offset=${Buffer.from('{"__proto__":{"x":1}}').toString('base64url')}`,
  'offset=__proto__',
  'offset=constructor',
  '__proto__=1',
  'constructor=x&hasOwnProperty=1',
  'a=1&'.repeat(2000),
  '%ZZ',
  '&&&=&',
  'size=10&offset=bnVsbA',
];

function formCases(f: FuzzFixtures, prng: Prng): { body: string; known?: string } {
  const name = prng.pick(PROTO_NAMES);
  const options: (() => { body: string; known?: string })[] = [
    () => ({ body: `fields[${prng.pick([2, 10, 1000, 100_000, 1_000_000])}]=a`, known: KNOWN.sparse }),
    () => ({ body: 'fields[]=a&fields[]=b' }),
    () => ({ body: prng.pick(['fields[0]=a', 'fields[-1]=a', 'fields[1e3]=a', 'fields[0x10]=a', 'fields[ 1]=a']) }),
    () => ({ body: `fields[${prng.pick(['4294967295', '99999999999999999999'])}]=a`, known: KNOWN.sparse }),
    () => ({ body: `${name}=x` }),
    () => ({ body: `config.${name}=x`, known: KNOWN.proto }),
    () => ({ body: `config.headers.${name}=x`, known: KNOWN.headerKey }),
    () => ({ body: `${name}.x=1` }),
    () => ({ body: `config[headers][${name}]=x` }),
    () => ({ body: Array.from({ length: prng.pick([1000, 20_000]) }, (_, i) => `k${i}=v`).join('&') }),
    () => ({ body: Array.from({ length: 20_000 }, () => 'fields=a').join('&') }),
    () => ({ body: 'a.b.c.d.e.f.g=1' }),
    () => ({ body: `a${'[b]'.repeat(1000)}=1` }),
    () => ({
      body: `source=${f.source}&event=${f.event}&handler=webhook&config.url=${encodeURIComponent(f.receiverUrl)}`,
    }),
    () => ({ body: prng.pick(['%ZZ=1', 'a=%ZZ', '=', '&&&', 'a', 'a=1=2', 'config=1&config.url=x']) }),
    () => ({
      body: prng.pick(['config.url=x&config=1', 'fields=a&fields[2]=b', 'snooze=99999999999999999', 'on_change=maybe']),
    }),
    () => ({ body: `source=${f.source}&event=${f.event}&handler=lambda&config.functions[1]=1%2B1` }),
  ];
  return prng.pick(options)();
}

function multipart(prng: Prng): { type: string; body: string } {
  const b = 'fuzzboundary';
  const part = (name: string, value: string) =>
    `--${b}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return prng.pick([
    { type: 'multipart/form-data', body: part('source', 'x') },
    { type: `multipart/form-data; boundary=${b}`, body: part('source', 'x') },
    { type: `multipart/form-data; boundary=${b}`, body: `${part(prng.pick(PROTO_NAMES), 'x')}--${b}--\r\n` },
    { type: `multipart/form-data; boundary=${b}`, body: `${part('fields[1000000]', 'a')}--${b}--\r\n` },
    { type: `multipart/form-data; boundary=${b}`, body: `--${b}\r\ngarbage\r\n--${b}--\r\n` },
    { type: `multipart/form-data; boundary="${'b'.repeat(500)}"`, body: 'x' },
  ]);
}

const ODD_HEADER_NAMES = [...PROTO_NAMES, `x-${'a'.repeat(2000)}`, "x-!#$%&'*+.^_`|~", 'content-type', 'x-request-id'];
const ODD_HEADER_VALUES = ['', ' ', 'a'.repeat(8000), '☃💥', 'x\tx', '{{constructor.name}}', '__proto__', 'null'];

function oddHeaders(prng: Prng): { headers: [string, string][]; chunked?: boolean } {
  return prng.pick<() => { headers: [string, string][]; chunked?: boolean }>([
    () => ({ headers: [[prng.pick(ODD_HEADER_NAMES), prng.pick(ODD_HEADER_VALUES)]] }),
    () => ({
      headers: Array.from({ length: 200 }, (_, i): [string, string] => [`x-h${i}`, prng.pick(ODD_HEADER_VALUES)]),
    }),
    () => ({
      headers: [
        ['content-type', 'application/json'],
        ['content-type', 'application/x-www-form-urlencoded'],
      ],
    }),
    () => ({ headers: [['cookie', 'a=b; __proto__=x; constructor=y']] }),
    () => ({ headers: [['authorization', `Bearer ${'a'.repeat(4000)}`]] }),
    () => ({ headers: [['expect', '100-continue']] }),
    () => ({ headers: [['content-encoding', 'gzip']] }),
    () => ({ headers: [['x-forwarded-for', 'garbage, ::1, 10.0.0.1']] }),
    () => ({ headers: [['origin', 'null']] }),
    () => ({ headers: [['transfer-encoding', 'chunked']], chunked: true }),
    () => ({ headers: PROTO_NAMES.map((name): [string, string] => [name, 'x']) }),
  ])();
}

export interface CorpusOptions {
  seed: number;
  count: number;
  routes: readonly RouteSpec[];
  fixtures: FuzzFixtures;
  /** Headers every request carries: where a valid admin key goes once API keys exist. */
  authHeaders?: () => [string, string][];
}

/** `count` cases, round-robin over the routes, each with one kind of mutation chosen by the PRNG. */
export function generateCorpus(options: CorpusOptions): FuzzCase[] {
  const { fixtures: f, routes } = options;
  const prng = createPrng(options.seed);
  const auth = options.authHeaders ?? (() => []);
  const cases: FuzzCase[] = [];
  const KINDS = ['method', 'param', 'query', 'json', 'type', 'keys', 'form', 'content-type', 'header', 'size'] as const;
  for (let n = 0; n < options.count; n++) {
    const route = routes[n % routes.length] as RouteSpec;
    const methods = route.methods.includes('*') ? ['GET'] : route.methods;
    let method = prng.pick(methods);
    let kind: string = prng.pick(KINDS);
    let known: string | undefined;
    let target = fill(route.path, f, prng);
    const headers: [string, string][] = [...auth()];
    const base = baseBody(route.path, f, prng);
    let body: string | Buffer | undefined = JSON.stringify(base);
    let contentType: string | undefined = JSON_TYPE[1];
    let chunked = false;
    const hasParams = route.path.includes('{');
    if (kind === 'param' && !hasParams) kind = 'query';
    switch (kind) {
      case 'method':
        method = prng.pick(EXTRA_METHODS.filter((m) => !methods.includes(m)).concat(prng.chance(0.2) ? ['get'] : []));
        if (!route.methods.includes('*') && methods.includes(method)) method = 'OPTIONS';
        break;
      case 'param': {
        const all = prng.chance(0.3);
        let first = true;
        target = fill(route.path, f, prng, (name) => {
          if (!all && !first) return undefined;
          first = false;
          const segment = prng.pick(BAD_SEGMENTS);
          const protoInCatalog =
            (name === 'source' || name === 'event') && PROTO_NAMES.includes(segment.value) && method !== 'GET';
          known ??= segment.known ?? (protoInCatalog ? KNOWN.proto : undefined);
          return segment.value;
        });
        if (prng.chance(0.3)) method = prng.pick(EXTRA_METHODS);
        break;
      }
      case 'query':
        target += `?${prng.pick(QUERIES)}`;
        break;
      case 'json':
        if (prng.chance(0.3)) {
          const depth = prng.pick([100, 1000, 5000, 20_000]);
          body = deep(depth, prng.chance(0.5));
          if (depth >= 1000) known = KNOWN.depth;
          kind = 'json.deep';
        } else if (prng.chance(0.2)) {
          body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]);
          kind = 'json.bytes';
        } else {
          body = prng.pick(INVALID_JSON);
        }
        break;
      case 'type': {
        const value = clone(base) as Record<string, unknown>;
        const paths = valuePaths(value);
        if (paths.length === 0) {
          body = JSON.stringify(prng.pick(BAD_VALUES));
          break;
        }
        const path = prng.pick(paths);
        const parent = at(value, path.slice(0, -1));
        const bad = prng.pick(BAD_VALUES);
        parent[path.at(-1) as string] = bad;
        if (path.join('.') === 'handler')
          parent[path.at(-1) as string] = prng.pick(['webhook', 'webhook-custom', 'log', 'lambda', bad]);
        body = JSON.stringify(value);
        break;
      }
      case 'keys': {
        const value = clone(base) as Record<string, unknown>;
        const path = prng.pick(objectPaths(value));
        const key = prng.pick([
          ...PROTO_NAMES,
          '',
          ' ',
          'a'.repeat(1000),
          '💥',
          '\u0000',
          'a.b',
          'a[0]',
          'host',
          'transfer-encoding',
        ]);
        setOwn(at(value, path), key, prng.pick([1, 'x', {}, null, '{{constructor.name}}', { polluted: true }]));
        const where = path.join('.');
        if (where === 'config.headers' && key === 'constructor') known = KNOWN.headerKey;
        else if (where === 'config.headers' && (key === 'host' || key === 'transfer-encoding')) known = KNOWN.framing;
        body = JSON.stringify(value);
        break;
      }
      case 'form': {
        if (prng.chance(0.2)) {
          const m = multipart(prng);
          contentType = m.type;
          body = m.body;
          kind = 'form.multipart';
        } else {
          const form = formCases(f, prng);
          contentType = FORM_TYPE[1];
          body = form.body;
          known = form.known;
        }
        break;
      }
      case 'content-type':
        contentType = prng.pick(CONTENT_TYPES);
        if (contentType === 'image/png') body = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00, 0xfe]);
        if (contentType === '' && prng.chance(0.5)) contentType = undefined;
        break;
      case 'header': {
        const odd = oddHeaders(prng);
        headers.push(...odd.headers);
        chunked = odd.chunked ?? false;
        if (odd.headers.some(([name]) => name === 'content-type')) contentType = undefined;
        break;
      }
      case 'size':
        if (n % 97 === 9) {
          // Over the API Gateway stand-in's 6 MiB limit: expensive, so only a few.
          body = JSON.stringify({ a: 'x'.repeat(7 * 1024 * 1024) });
          kind = 'size.gateway';
        } else if (prng.chance(0.3)) {
          body = JSON.stringify({ ...base, pad: 'x'.repeat(300 * 1024) });
          kind = 'size.admin';
        } else {
          const value = clone(base) as Record<string, unknown>;
          const huge = Array.from({ length: prng.pick([10_000, 50_000]) }, (_, i) => (i % 2 ? 'a' : 0));
          const paths = valuePaths(value);
          if (paths.length === 0) body = JSON.stringify(huge);
          else {
            const path = prng.pick(paths);
            at(value, path.slice(0, -1))[path.at(-1) as string] = huge;
            body = JSON.stringify(value);
          }
          kind = 'size.array';
        }
        break;
    }
    // A request without a body where one is expected is a mutation too.
    if (BODY_METHODS.has(method) && kind === 'method' && prng.chance(0.3)) body = undefined;
    if (!BODY_METHODS.has(method) && !BODY_KINDS.has(kind.split('.')[0] as string)) body = undefined;
    if (contentType !== undefined && body !== undefined) headers.push(['content-type', contentType]);
    cases.push({
      n,
      kind,
      route: `${method} ${route.path}`,
      method,
      target,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(known ? { known } : {}),
      ...(chunked ? { chunked } : {}),
    });
  }
  return cases;
}

/**
 * The exact requests of issue 8's known defects, fixed on other branches: they run last, since on
 * a build without the fixes some of them break the service for every later request (the first
 * overwrites `Object.keys`) or freeze it for half a minute.
 */
export function knownDefectCases(f: FuzzFixtures, authHeaders: () => [string, string][] = () => []): FuzzCase[] {
  const long = 'a'.repeat(2000);
  const json = (
    kind: string,
    known: string,
    method: string,
    route: string,
    target: string,
    body?: unknown,
  ): Omit<FuzzCase, 'n'> => ({
    kind,
    known,
    route: `${method} ${route}`,
    method,
    target,
    headers: [...authHeaders(), JSON_TYPE],
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const form = (known: string, method: string, route: string, target: string, body: string): Omit<FuzzCase, 'n'> => ({
    kind: 'form.regression',
    known,
    route: `${method} ${route}`,
    method,
    target,
    headers: [...authHeaders(), FORM_TYPE],
    body,
  });
  const webhook = (headers: Record<string, string>) => ({
    source: f.source,
    event: f.event,
    handler: 'webhook',
    config: { url: f.receiverUrl, headers },
  });
  const list: Omit<FuzzCase, 'n'>[] = [
    json('param.regression', KNOWN.idLength, 'GET', '/event-hooks/{id}', `/event-hooks/${long}`),
    json(
      'param.regression',
      KNOWN.idLength,
      'PUT',
      '/event-hooks/{id}',
      `/event-hooks/${long}`,
      hookBody(f, createPrng(3)),
    ),
    json(
      'param.regression',
      KNOWN.idLength,
      'PUT',
      '/event-hooks/sources/{source}/{event}',
      `/event-hooks/sources/${long}/${long}`,
      { fields: ['a'] },
    ),
    json('param.regression', KNOWN.idLength, 'GET', '/dead-letters/{id}', `/dead-letters/${long}`),
    json('json.regression', KNOWN.depth, 'POST', '/event-hooks', '/event-hooks', deep(5000, false)),
    json('json.regression', KNOWN.depth, 'POST', '/event-hooks', '/event-hooks', deep(5000, true)),
    json('json.regression', KNOWN.depth, 'POST', INGEST_ROUTE.path, INGEST_ROUTE.path, deep(5000, true)),
    json(
      'json.regression',
      KNOWN.depth,
      'PUT',
      '/event-hooks/sources/{source}/{event}',
      `/event-hooks/sources/${f.source}/${f.event}`,
      `{"fields":${deep(5000, false)}}`,
    ),
    json(
      'keys.regression',
      KNOWN.headerKey,
      'POST',
      '/event-hooks',
      '/event-hooks',
      `{"source":"${f.source}","event":"${f.event}","handler":"webhook","config":{"url":"${f.receiverUrl}","headers":{"constructor":"x"}}}`,
    ),
    json(
      'keys.regression',
      KNOWN.framing,
      'POST',
      '/event-hooks',
      '/event-hooks',
      webhook({ 'transfer-encoding': 'chunked', host: 'evil.example' }),
    ),
    json(
      'param.regression',
      KNOWN.proto,
      'GET',
      '/event-hooks/sources/{source}',
      '/event-hooks/sources/hasOwnProperty',
    ),
    form(
      KNOWN.sparse,
      'PUT',
      '/event-hooks/sources/{source}/{event}',
      `/event-hooks/sources/${f.source}/sparse`,
      'fields[300000000]=a',
    ),
    form(KNOWN.sparse, 'POST', '/event-hooks', '/event-hooks', 'config.functions[300000000]=a'),
    // Last: on a build without the fix this overwrites Object.keys, and the probes after it answer 500.
    json(
      'param.regression',
      KNOWN.proto,
      'PUT',
      '/event-hooks/sources/{source}/{event}',
      '/event-hooks/sources/constructor/keys',
      { fields: [] },
    ),
    json('probe.regression', KNOWN.proto, 'GET', '/event-hooks', '/event-hooks'),
    json('probe.regression', KNOWN.proto, 'POST', INGEST_ROUTE.path, INGEST_ROUTE.path, {
      source: f.source,
      event: f.event,
      data: { a: 1 },
    }),
    json('probe.regression', KNOWN.proto, 'GET', '/event-hooks/sources', '/event-hooks/sources'),
  ];
  return list.map((c, i) => ({ ...c, n: 100_000 + i }));
}

/** A fresh random seed, for a local exploratory run (`FUZZ_SEED=random`). */
export function randomSeed(): number {
  return Number.parseInt(randomUUID().slice(0, 8), 16);
}

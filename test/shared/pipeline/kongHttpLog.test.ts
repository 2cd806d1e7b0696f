import { describe, expect, it } from 'vitest';
import { SchemaViolationError } from '../../../shared/errors.ts';
import { BUILTIN_CATALOG, findEvent } from '../../../shared/hooks/catalog.ts';
import { kongHttpLogEvents, limitAndWindow } from '../../../shared/pipeline/kongHttpLog.ts';
import {
  OK_ENTRY,
  RATE_LIMITED_ENTRY,
  SERVICE,
  UPSTREAM_503_ENTRY,
  UPSTREAM_RETRIED_ENTRY,
} from '../../fixtures/kong/httpLog.ts';

describe('Kong http-log entries → events', () => {
  it('turns a rate limiter refusal into rate-limiting-advanced/rate-limit-exceeded, mapped as the plugin maps it', () => {
    expect(kongHttpLogEvents(RATE_LIMITED_ENTRY, 100)).toEqual([
      {
        source: 'rate-limiting-advanced',
        event: 'rate-limit-exceeded',
        id: 'kong.7b0c1e5a9d2f4c3e8a6b5d4c3b2a1f00',
        data: { consumer: 'jane', ip: '203.0.113.7', service: 'orders', limit: 10, window: 'minute' },
      },
    ]);
  });

  it('turns an upstream 5xx into proxy/upstream-error', () => {
    expect(kongHttpLogEvents(UPSTREAM_503_ENTRY, 100)).toEqual([
      {
        source: 'proxy',
        event: 'upstream-error',
        id: 'kong.9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49',
        data: {
          upstream_status: 503,
          status: 503,
          service: 'orders',
          route: 'orders-route',
          ip: '203.0.113.7',
          method: 'GET',
          uri: '/orders/42',
          upstream_uri: '/orders/42',
          target: '10.0.3.7:8080',
          latency: 171,
          started_at: 1726783839538,
        },
      },
    ]);
  });

  it('takes the last upstream status after Kong retried, and the last target', () => {
    const [event] = kongHttpLogEvents(UPSTREAM_RETRIED_ENTRY, 100);
    expect(event?.data).toMatchObject({ upstream_status: 504, status: 504, target: '10.0.3.8:8080', consumer: 'jane' });
  });

  it('gives nothing for ordinary traffic, a 429 without rate-limit headers, or Kong-made 5xx without an upstream', () => {
    const plain429 = { ...RATE_LIMITED_ENTRY, response: { status: 429, headers: { 'retry-after': '1' } } };
    const kong500 = {
      ...OK_ENTRY,
      upstream_status: undefined,
      source: 'kong',
      tries: [],
      response: { status: 500, headers: {} },
    };
    expect(kongHttpLogEvents([OK_ENTRY, plain429, kong500], 100)).toEqual([]);
  });

  it('takes a batch (an array, as http-log sends with max_batch_size > 1) in order', () => {
    const events = kongHttpLogEvents([OK_ENTRY, RATE_LIMITED_ENTRY, UPSTREAM_503_ENTRY], 100);
    expect(events.map((e) => `${e.source}/${e.event}`)).toEqual([
      'rate-limiting-advanced/rate-limit-exceeded',
      'proxy/upstream-error',
    ]);
  });

  it('names consumer and service by id when they have no name, and works without Kong 3.x fields', () => {
    const old = {
      response: { status: 502, headers: {} },
      service: { id: SERVICE.id },
      consumer: { id: 'c-1' },
      tries: [{ ip: '10.0.0.1', port: 80 }],
      client_ip: '198.51.100.2',
    };
    expect(kongHttpLogEvents(old, 100)).toEqual([
      {
        source: 'proxy',
        event: 'upstream-error',
        data: {
          upstream_status: 502,
          status: 502,
          service: SERVICE.id,
          consumer: 'c-1',
          ip: '198.51.100.2',
          target: '10.0.0.1:80',
        },
      },
    ]);
  });

  it('refuses malformed entries with Kong schema-violation fields, keyed by index in a batch', () => {
    const refused = (body: unknown) => {
      try {
        kongHttpLogEvents(body, 100);
      } catch (error) {
        expect(error).toBeInstanceOf(SchemaViolationError);
        return (error as SchemaViolationError).fields;
      }
      throw new Error('accepted');
    };
    expect(refused({ hello: 'world' })).toEqual({ response: 'expected an object with status and headers' });
    expect(refused([OK_ENTRY, { response: { status: '429', headers: [] } }, 7])).toEqual({
      '2': { response: { status: 'expected an integer', headers: 'expected an object' } },
      '3': { '@entity': 'expected an http-log entry (a JSON object)' },
    });
    expect(() => kongHttpLogEvents([], 100)).toThrow('no log entries given');
    expect(() => kongHttpLogEvents([OK_ENTRY, OK_ENTRY], 1)).toThrow('at most 1 log entries per request');
  });

  it('picks the exhausted window, else the shortest, else RateLimit-Limit alone', () => {
    expect(
      limitAndWindow({
        'X-RateLimit-Limit-Second': '5',
        'X-RateLimit-Limit-Minute': '10',
        'X-RateLimit-Remaining-Minute': '0',
      }),
    ).toEqual({ limit: 10, window: 'minute' });
    expect(limitAndWindow({ 'x-ratelimit-limit-hour': '100', 'x-ratelimit-limit-minute': ['10', '10'] })).toEqual({
      limit: 10,
      window: 'minute',
    });
    expect(limitAndWindow({ 'x-ratelimit-limit-30': '3', 'x-ratelimit-limit-minute': '10' })).toEqual({
      limit: 3,
      window: '30',
    });
    expect(limitAndWindow({ 'RateLimit-Limit': '20' })).toEqual({ limit: 20 });
  });

  it('proxy/upstream-error is in the built-in catalog with its fields and unique fields', () => {
    const definition = findEvent(BUILTIN_CATALOG, 'proxy', 'upstream-error');
    expect(definition?.unique).toEqual(['service', 'route', 'upstream_status']);
    for (const field of Object.keys(kongHttpLogEvents(UPSTREAM_RETRIED_ENTRY, 100)[0]?.data ?? {})) {
      expect(definition?.fields).toContain(field);
    }
  });
});

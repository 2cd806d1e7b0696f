import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../shared/auth/principal.ts';
import { mayCall, routeAccess } from '../../../shared/auth/routeAccess.ts';

const key = (...scopes: Principal['scopes']): Principal => ({ tenant: 'acme', scopes, keyId: 'k' });
const OPERATOR: Principal = { tenant: 'default', scopes: [], operator: true };

describe('routeAccess', () => {
  it.each([
    ['GET', '/health', 'public'],
    ['GET', '/openapi.json', 'public'],
    ['GET', '/console/index.html', 'public'],
    ['POST', '/tenants', 'operator'],
    ['DELETE', '/tenants/t1/keys/k1', 'operator'],
    ['GET', '/metrics', 'operator'],
    ['POST', '/events', 'ingest'],
    ['POST', '/ingest/kong-http-log', 'ingest'],
    ['GET', '/event-hooks', 'read'],
    ['GET', '/event-hooks/', 'read'],
    ['GET', '/dead-letters/abc', 'read'],
    ['GET', '/event-hooks/abc/ping', 'admin'],
    ['POST', '/event-hooks', 'admin'],
    ['POST', '/event-hooks/abc/test', 'admin'],
    ['DELETE', '/event-hooks/abc', 'admin'],
    ['GET', '/events', 'read'],
    ['GET', '/audit', 'admin'],
  ])('%s %s is %s', (method, path, access) => {
    expect(routeAccess(method, path)).toBe(access);
  });

  it('judges the path the router serves: percent-encoding and empty segments change nothing', () => {
    // The router decodes each segment and drops empty ones; the access rule must see the same route.
    expect(routeAccess('GET', '/%74enants')).toBe('operator');
    expect(routeAccess('POST', '/%74enants/t1/keys')).toBe('operator');
    expect(routeAccess('GET', '//tenants')).toBe('operator');
    expect(routeAccess('GET', '/tenants//t1//')).toBe('operator');
    expect(routeAccess('GET', '/%6detrics')).toBe('operator');
    expect(routeAccess('GET', '/%61udit')).toBe('admin');
    expect(routeAccess('GET', '/event-hooks/abc/%70ing')).toBe('admin');
    expect(routeAccess('GET', '/event-hooks//abc//ping/')).toBe('admin');
    // A decoded slash stays inside its segment: it never makes a public path.
    expect(routeAccess('GET', '/console%2F..%2Ftenants')).toBe('read');
    // A path the router refuses as malformed needs an admin key, like any unknown path.
    expect(routeAccess('GET', '/%E0%A4%A')).toBe('admin');
  });

  it('does not take a look-alike path for a public or operator one', () => {
    expect(routeAccess('GET', '/healthz')).toBe('read');
    expect(routeAccess('GET', '/tenantsx')).toBe('read');
    expect(routeAccess('POST', '/eventsx')).toBe('admin');
  });
});

describe('routeAccess of a path spelled as the router would still match it', () => {
  // The Admin router drops empty segments and decodes each one: `//audit` and `/%61udit` are /audit.
  it.each([
    ['GET', '//audit', 'admin'],
    ['GET', '/%61udit', 'admin'],
    ['GET', '/event-hooks/abc/%70ing', 'admin'],
    ['GET', '/event-hooks//abc//ping', 'admin'],
    ['POST', '//tenants', 'operator'],
    ['GET', '/%74enants/t1/keys', 'operator'],
    ['GET', '//metrics', 'operator'],
    ['POST', '//events', 'ingest'],
  ])('%s %s needs %s', (method, path, access) => {
    expect(routeAccess(method, path)).toBe(access);
  });

  it('never lets a read or admin key reach the audit log or operator routes by such a spelling', () => {
    expect(mayCall(key('read'), 'GET', '//audit')).toBe(false);
    expect(mayCall(key('read'), 'GET', '/event-hooks/abc/%70ing')).toBe(false);
    expect(mayCall(key('admin'), 'POST', '//tenants')).toBe(false);
    expect(mayCall(key('admin'), 'GET', '/%74enants')).toBe(false);
  });
});

describe('mayCall', () => {
  it('lets an admin key call every tenant route but no operator route', () => {
    expect(mayCall(key('admin'), 'POST', '/event-hooks')).toBe(true);
    expect(mayCall(key('admin'), 'POST', '/events')).toBe(true);
    expect(mayCall(key('admin'), 'GET', '/event-hooks/a/ping')).toBe(true);
    expect(mayCall(key('admin'), 'GET', '/tenants')).toBe(false);
    expect(mayCall(key('admin'), 'GET', '/metrics')).toBe(false);
  });

  it('lets an ingest key send events and nothing else', () => {
    expect(mayCall(key('ingest'), 'POST', '/events')).toBe(true);
    expect(mayCall(key('ingest'), 'POST', '/ingest/kong-http-log')).toBe(true);
    expect(mayCall(key('ingest'), 'GET', '/event-hooks')).toBe(false);
    expect(mayCall(key('ingest'), 'POST', '/event-hooks')).toBe(false);
  });

  it('lets a read key read, but not ping, change or send', () => {
    expect(mayCall(key('read'), 'GET', '/event-hooks')).toBe(true);
    expect(mayCall(key('read'), 'GET', '/event-hooks/a/ping')).toBe(false);
    expect(mayCall(key('read'), 'PATCH', '/event-hooks/a')).toBe(false);
    expect(mayCall(key('read'), 'POST', '/events')).toBe(false);
  });

  it('lets the operator call operator routes, and anyone call public ones', () => {
    expect(mayCall(OPERATOR, 'POST', '/tenants')).toBe(true);
    expect(mayCall(OPERATOR, 'GET', '/event-hooks')).toBe(false);
    expect(mayCall(key(), 'GET', '/health')).toBe(true);
  });
});

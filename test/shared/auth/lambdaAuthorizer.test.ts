import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  AUTHORIZER_CACHE_TTL_MS,
  createLambdaAuthorizer,
  MAX_KEY_LENGTH,
  presentedKey,
  principalFromContext,
  UNAUTHENTICATED_CONTEXT,
} from '../../../shared/auth/lambdaAuthorizer.ts';
import type { ApiKeyResolver, Principal } from '../../../shared/auth/principal.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';

/** Our own interface, so a fake is the real thing: keys in a map, revocable, calls counted. */
class FakeResolver implements ApiKeyResolver {
  readonly keys = new Map<string, Principal>();
  calls = 0;
  async resolve(key: string): Promise<Principal | undefined> {
    this.calls++;
    return this.keys.get(key);
  }
}

function request(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc/$default/GET/event-hooks',
    identitySource: [],
    routeKey: 'ANY /event-hooks',
    rawPath: '/event-hooks',
    rawQueryString: '',
    headers,
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

const ACME: Principal = { tenant: 'acme', scopes: ['admin', 'read'], keyId: 'k1' };

function setup(options: { maxEntries?: number; ttlMs?: number } = {}) {
  const resolver = new FakeResolver();
  resolver.keys.set('eh_acme_secret', ACME);
  const clock = new ManualClock(1_000_000);
  const authorize = createLambdaAuthorizer({ resolver, clock, ...options });
  return { resolver, clock, authorize };
}

describe('presentedKey', () => {
  it('reads a bearer key, or Kong-Admin-Token when there is none', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer   abc ' })).toBe('abc');
    expect(presentedKey({ 'kong-admin-token': 'xyz' })).toBe('xyz');
    expect(presentedKey({ authorization: 'Bearer abc', 'kong-admin-token': 'xyz' })).toBe('abc');
  });

  it('finds nothing in other schemes, empty values or no headers', () => {
    expect(presentedKey({ authorization: 'Basic dXNlcjpwdw==' })).toBeUndefined();
    expect(presentedKey({ authorization: 'Bearer ' })).toBeUndefined();
    expect(presentedKey({ 'kong-admin-token': '  ' })).toBeUndefined();
    expect(presentedKey(undefined)).toBeUndefined();
  });
});

describe('createLambdaAuthorizer', () => {
  it('allows a known key with its tenant, scopes and key id as the context', async () => {
    const { authorize } = setup();
    await expect(authorize(request({ authorization: 'Bearer eh_acme_secret' }))).resolves.toEqual({
      isAuthorized: true,
      context: { authenticated: 'true', tenant: 'acme', scopes: 'admin,read', keyId: 'k1' },
    });
  });

  it('accepts the key as Kong-Admin-Token, as Kong tooling sends it', async () => {
    const { authorize } = setup();
    const result = await authorize(request({ 'kong-admin-token': 'eh_acme_secret' }));
    expect(result.isAuthorized).toBe(true);
    expect(result.context.tenant).toBe('acme');
  });

  it('lets a request without a key, with an unknown key, or with an operator key through marked unauthenticated, so the function answers 401', async () => {
    const { authorize, resolver } = setup();
    resolver.keys.set('operator', { tenant: 'default', scopes: [], operator: true });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { 'kong-admin-token': 'operator' },
      { authorization: `Bearer ${'k'.repeat(MAX_KEY_LENGTH + 1)}` },
    ];
    for (const headers of attempts) {
      const result = await authorize(request(headers));
      // Allowed: an HTTP API's authorizer cannot choose the status, and a deny is API Gateway's 403.
      expect(result).toEqual({ isAuthorized: true, context: UNAUTHENTICATED_CONTEXT });
      expect(principalFromContext(result.context)).toBeUndefined();
    }
  });

  it('resolves a key once per 60 s and keeps a revoked key working no longer than that', async () => {
    const { authorize, resolver, clock } = setup();
    const call = async () =>
      principalFromContext((await authorize(request({ authorization: 'Bearer eh_acme_secret' }))).context);
    expect(await call()).toEqual(ACME);
    resolver.keys.delete('eh_acme_secret'); // revoked
    clock.advance(AUTHORIZER_CACHE_TTL_MS - 1);
    expect(await call()).toEqual(ACME);
    expect(resolver.calls).toBe(1);
    clock.advance(1);
    expect(await call()).toBeUndefined();
    expect(resolver.calls).toBe(2);
  });

  it('caps a longer cache time at 60 s', async () => {
    const { authorize, resolver, clock } = setup({ ttlMs: 10 * 60_000 });
    const call = () => authorize(request({ authorization: 'Bearer eh_acme_secret' }));
    await call();
    resolver.keys.delete('eh_acme_secret');
    clock.advance(AUTHORIZER_CACHE_TTL_MS);
    expect((await call()).context).toEqual(UNAUTHENTICATED_CONTEXT);
  });

  it('refuses a key longer than any minted one without asking the resolver', async () => {
    const { authorize, resolver } = setup();
    const long = 'k'.repeat(MAX_KEY_LENGTH + 1);
    resolver.keys.set(long, ACME);
    expect((await authorize(request({ authorization: `Bearer ${long}` }))).context).toEqual(UNAUTHENTICATED_CONTEXT);
    expect(resolver.calls).toBe(0);
  });

  it('does not cache unknown keys, so a key minted a moment later works at once', async () => {
    const { authorize, resolver } = setup();
    const call = () => authorize(request({ authorization: 'Bearer fresh' }));
    expect((await call()).context).toEqual(UNAUTHENTICATED_CONTEXT);
    resolver.keys.set('fresh', { tenant: 'beta', scopes: ['ingest'], keyId: 'k2' });
    expect((await call()).context.tenant).toBe('beta');
  });

  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const { authorize, resolver } = setup({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) resolver.keys.set(key, { tenant: key, scopes: ['read'], keyId: key });
    const call = (key: string) => authorize(request({ authorization: `Bearer ${key}` }));
    await call('a');
    await call('b');
    await call('c'); // evicts a
    expect(resolver.calls).toBe(3);
    await call('c');
    await call('b');
    expect(resolver.calls).toBe(3);
    await call('a');
    expect(resolver.calls).toBe(4);
  });

  it('creates a resolver given as a factory once, on first use', async () => {
    const resolver = new FakeResolver();
    resolver.keys.set('k', ACME);
    let created = 0;
    const authorize = createLambdaAuthorizer({
      resolver: () => {
        created++;
        return resolver;
      },
      clock: new ManualClock(0),
    });
    expect(created).toBe(0);
    await authorize(request({ authorization: 'Bearer k' }));
    await authorize(request({ authorization: 'Bearer other' }));
    expect(created).toBe(1);
  });

  it('lets a resolver failure through, so API Gateway answers 500 rather than calling a valid key unknown', async () => {
    const authorize = createLambdaAuthorizer({
      resolver: { resolve: () => Promise.reject(new Error('table unavailable')) },
    });
    await expect(authorize(request({ authorization: 'Bearer k' }))).rejects.toThrow('table unavailable');
  });
});

describe('principalFromContext', () => {
  it('is the principal the authorizer described, without scopes it does not know', () => {
    expect(
      principalFromContext({ authenticated: 'true', tenant: 'acme', scopes: 'admin,root,read', keyId: 'k1' }),
    ).toEqual({
      tenant: 'acme',
      scopes: ['admin', 'read'],
      keyId: 'k1',
    });
    expect(principalFromContext({ authenticated: 'true', tenant: 'acme', scopes: '' })).toEqual({
      tenant: 'acme',
      scopes: [],
    });
  });

  it('is undefined for a context the authorizer marked unauthenticated, whatever else it holds', () => {
    expect(principalFromContext({ authenticated: 'false', tenant: 'acme', scopes: 'admin' })).toBeUndefined();
    expect(principalFromContext({ tenant: 'acme', scopes: 'admin' })).toBeUndefined();
  });

  it('is undefined without a tenant', () => {
    expect(principalFromContext(undefined)).toBeUndefined();
    expect(principalFromContext({})).toBeUndefined();
    expect(principalFromContext({ authenticated: 'true', tenant: '' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../shared/auth/authenticate.ts';
import type { ApiKeyResolver, Principal } from '../../../shared/auth/principal.ts';
import { ForbiddenError, UnauthorizedError } from '../../../shared/errors.ts';

/** A resolver over a fixed map: the edge's decisions are what is tested here (the store has its own test). */
function resolver(keys: Record<string, Principal>): ApiKeyResolver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (key) => {
      calls.push(key);
      return keys[key];
    },
  };
}

const OPERATOR = 'o'.repeat(40);
const request = (method: string, path: string, headers: Record<string, string> = {}) => ({ method, path, headers });

describe('the edge key check', () => {
  it('decides 401, 403 or the principal, and never asks the store for public routes', async () => {
    const keys = resolver({
      reader: { tenant: 'a', scopes: ['read'], keyId: 'r' },
      admin: { tenant: 'a', scopes: ['admin'], keyId: 'x' },
    });
    const authenticate = createAuthenticator({ resolver: keys, operatorKey: OPERATOR });
    expect(await authenticate(request('GET', '/health'))).toBeUndefined();
    expect(keys.calls).toEqual([]);
    await expect(authenticate(request('GET', '/event-hooks'))).rejects.toThrow(UnauthorizedError);
    await expect(authenticate(request('GET', '/event-hooks', { authorization: 'Bearer nope' }))).rejects.toThrow(
      UnauthorizedError,
    );
    expect(await authenticate(request('GET', '/event-hooks', { authorization: 'Bearer reader' }))).toEqual({
      tenant: 'a',
      scopes: ['read'],
      keyId: 'r',
    });
    await expect(authenticate(request('POST', '/event-hooks', { authorization: 'Bearer reader' }))).rejects.toThrow(
      ForbiddenError,
    );
    await expect(authenticate(request('GET', '/tenants', { authorization: 'Bearer admin' }))).rejects.toThrow(
      ForbiddenError,
    );
    expect(await authenticate(request('GET', '/tenants', { authorization: `Bearer ${OPERATOR}` }))).toMatchObject({
      operator: true,
    });
    await expect(authenticate(request('GET', '/event-hooks', { authorization: `Bearer ${OPERATOR}` }))).rejects.toThrow(
      ForbiddenError,
    );
    // Kong's own header, and a path no route serves: a key like any other (the router then says 404).
    expect(await authenticate(request('GET', '/nothing', { 'kong-admin-token': 'reader' }))).toMatchObject({
      tenant: 'a',
    });
    await expect(authenticate(request('GET', '/nothing'))).rejects.toThrow(UnauthorizedError);
    // The operator key is never sent to the tenant key store.
    expect(keys.calls).not.toContain(OPERATOR);
  });

  it('opens no operator route to any key when the operator is authenticated elsewhere (IAM on AWS)', async () => {
    const authenticate = createAuthenticator({ resolver: resolver({}) });
    await expect(authenticate(request('GET', '/tenants', { authorization: `Bearer ${OPERATOR}` }))).rejects.toThrow(
      UnauthorizedError,
    );
  });
});

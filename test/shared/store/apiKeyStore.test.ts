import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyResolver } from '../../../functions/authorizer.ts';
import { API_KEY_PATTERN, ApiKeyStore, apiKeyId, hashApiKey, sameDigest } from '../../../shared/auth/apiKeys.ts';
import { createLambdaAuthorizer, UNAUTHENTICATED_CONTEXT } from '../../../shared/auth/lambdaAuthorizer.ts';
import { ConfigError } from '../../../shared/config.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { keys } from '../../../shared/store/table.ts';
import { TenantStore } from '../../../shared/store/tenantStore.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

describe('ApiKeyStore (the ApiKeyResolver the edge and the AWS authorizer use)', () => {
  let store: TestStore;
  let apiKeys: ApiKeyStore;
  const clock = new ManualClock(1_700_000_000_000);
  beforeAll(async () => {
    store = await startTestStore();
    apiKeys = new ApiKeyStore({ client: store.client, tableName: store.tableName, clock });
  });
  afterAll(() => store.close());

  it('mints high-entropy keys with a visible id, and stores only their SHA-256', async () => {
    const minted = await apiKeys.create('t1', ['admin', 'read']);
    expect(minted.key).toMatch(API_KEY_PATTERN);
    expect(minted).toMatchObject({ prefix: `ehk_${minted.id}`, scopes: ['admin', 'read'], created_at: 1_700_000_000 });
    expect(apiKeyId(minted.key)).toBe(minted.id);
    const { Item } = await store.client.send(
      new GetCommand({ TableName: store.tableName, Key: keys.apiKey(minted.id), ConsistentRead: true }),
    );
    expect(Item?.hash).toBe(hashApiKey(minted.key));
    const stored = JSON.stringify(Item);
    expect(stored).not.toContain(minted.key);
    expect(stored).not.toContain(minted.key.slice(-43));
    const another = await apiKeys.create('t1', ['read']);
    expect(another.id).not.toBe(minted.id);
    expect(another.key.slice(-43)).not.toBe(minted.key.slice(-43));
  });

  it('resolves a key to its tenant and scopes, and refuses anything else', async () => {
    const minted = await apiKeys.create('t2', ['ingest']);
    expect(await apiKeys.resolve(minted.key)).toEqual({ tenant: 't2', scopes: ['ingest'], keyId: minted.id });
    // Right id, wrong secret; a malformed key; an unknown id.
    const forged = `${minted.prefix}_${'A'.repeat(43)}`;
    expect(await apiKeys.resolve(forged)).toBeUndefined();
    expect(await apiKeys.resolve(`${minted.key}x`)).toBeUndefined();
    expect(await apiKeys.resolve('')).toBeUndefined();
    expect(await apiKeys.resolve(`ehk_ffffffffffffffff_${'A'.repeat(43)}`)).toBeUndefined();
  });

  it('revokes at once, and only the owning tenant can revoke', async () => {
    const minted = await apiKeys.create('t3', ['admin']);
    expect(await apiKeys.revoke('someone-else', minted.id)).toBe(false);
    expect(await apiKeys.resolve(minted.key)).toBeDefined();
    expect(await apiKeys.revoke('t3', minted.id)).toBe(true);
    expect(await apiKeys.resolve(minted.key)).toBeUndefined();
    expect(await apiKeys.revoke('t3', 'not-an-id')).toBe(false);
    const [listed] = await apiKeys.list('t3');
    expect(listed).toEqual({
      id: minted.id,
      prefix: minted.prefix,
      scopes: ['admin'],
      created_at: 1_700_000_000,
      revoked_at: 1_700_000_000,
    });
  });

  it("lists a tenant's keys only, and deletes them all with the tenant", async () => {
    const a = await apiKeys.create('t4', ['read']);
    clock.advance(1000);
    const b = await apiKeys.create('t4', ['admin']);
    await apiKeys.create('t5', ['admin']);
    expect((await apiKeys.list('t4')).map((k) => k.id)).toEqual([a.id, b.id]);
    await apiKeys.deleteAll('t4');
    expect(await apiKeys.list('t4')).toEqual([]);
    expect(await apiKeys.resolve(a.key)).toBeUndefined();
    expect(await apiKeys.list('t5')).toHaveLength(1);
  });

  it('refuses the keys of a tenant being deleted (marked first), and keeps those of a tenant with no entry', async () => {
    const tenants = new TenantStore({ client: store.client, tableName: store.tableName, clock });
    const tenant = await tenants.create('doomed');
    const minted = await apiKeys.create(tenant.id, ['admin']);
    const other = await apiKeys.create('no-entry', ['read']);
    expect(await apiKeys.resolve(minted.key)).toBeDefined();
    expect(await tenants.markDeleting(tenant.id)).toBe(true);
    expect(await apiKeys.resolve(minted.key)).toBeUndefined();
    expect(await tenants.get(tenant.id)).toEqual({ ...tenant, deleting: true });
    expect(await apiKeys.resolve(other.key)).toEqual({ tenant: 'no-entry', scopes: ['read'], keyId: other.id });
    expect(await tenants.markDeleting('no-such-tenant')).toBe(false);
    expect(await tenants.get('no-such-tenant')).toBeUndefined();
  });

  it('compares digests in constant time, and unequal lengths as different', () => {
    expect(sameDigest('abc', 'abc')).toBe(true);
    expect(sameDigest('abc', 'abd')).toBe(false);
    expect(sameDigest('abc', 'abcd')).toBe(false);
  });

  it('is what the AWS authorizer resolves keys with: tenant, scopes and key id in the context; revoked refused', async () => {
    expect(() => apiKeyResolver({})).toThrow(ConfigError);
    expect(apiKeyResolver({ TABLE_NAME: 't' })).toBeInstanceOf(ApiKeyStore);
    const authorize = createLambdaAuthorizer({ resolver: apiKeys, ttlMs: 0 });
    const event = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayRequestAuthorizerEventV2;
    const minted = await apiKeys.create('t6', ['ingest', 'read']);
    expect(await authorize(event({ authorization: `Bearer ${minted.key}` }))).toEqual({
      isAuthorized: true,
      context: { authenticated: 'true', tenant: 't6', scopes: 'ingest,read', keyId: minted.id },
    });
    expect(await authorize(event({ 'kong-admin-token': minted.key }))).toMatchObject({
      context: { authenticated: 'true', tenant: 't6' },
    });
    await apiKeys.revoke('t6', minted.id);
    // Let through marked unauthenticated: the function behind the route answers 401 in Kong's shape.
    expect(await authorize(event({ authorization: `Bearer ${minted.key}` }))).toEqual({
      isAuthorized: true,
      context: UNAUTHENTICATED_CONTEXT,
    });
  });
});

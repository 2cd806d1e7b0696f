import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type FieldErrors, SchemaViolationError } from '../errors.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { setOwn } from '../records.ts';
import { isConditionalCheckFailed, queryItems } from '../store/dynamo.ts';
import { keys, TABLE_SCHEMA } from '../store/table.ts';
import { isTenantDeleting } from '../store/tenantStore.ts';
import { type ApiKeyResolver, type Principal, SCOPES, type Scope } from './principal.ts';

/**
 * Tenant API keys: `ehk_<id>_<secret>`. The id (16 hex characters) is the visible part and the
 * lookup key; the secret is 32 random bytes. Only the SHA-256 of the whole key is stored: the key
 * has 256 bits of entropy, so a fast hash is enough (no password stretching needed), and the
 * comparison is constant-time so the answer's timing says nothing about the stored hash.
 */
export const API_KEY_PATTERN = /^ehk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A key's id, from the key itself (`undefined` for anything that is not one of our keys). */
export function apiKeyId(key: string): string | undefined {
  return API_KEY_PATTERN.exec(key)?.[1];
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

/** Constant-time equality of two digests (equal lengths by construction; a length mismatch is simply false). */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A key as listed: never its secret nor its hash. */
export interface ApiKeyView {
  id: string;
  /** The visible start of the key (`ehk_<id>`), to recognise it in a password manager or a config. */
  prefix: string;
  scopes: Scope[];
  created_at: number;
  revoked_at: number | null;
}

/** What `POST /tenants/{id}/keys` answers: the key, shown this once. */
export interface NewApiKey {
  id: string;
  key: string;
  prefix: string;
  scopes: Scope[];
  created_at: number;
}

interface ApiKeyItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  tenant: string;
  hash: string;
  scopes: Scope[];
  created_at: number;
  revoked_at?: number;
}

/** `{"scopes":["admin"]}` → the scopes, or a schema violation naming what is wrong. */
export function parseScopes(body: unknown): Scope[] {
  const errors: FieldErrors = {};
  const scopes = body && typeof body === 'object' && !Array.isArray(body) ? (body as { scopes?: unknown }).scopes : [];
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const key of Object.keys(body)) if (key !== 'scopes') setOwn(errors, key, 'unknown field');
  } else {
    errors['@entity'] = ['expected a record'];
  }
  if (scopes === undefined) errors.scopes = 'required field missing';
  else if (!Array.isArray(scopes) || scopes.length === 0)
    errors.scopes = `expected a non-empty array of ${SCOPES.join(', ')}`;
  else if (!scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
    errors.scopes = `expected one or more of ${SCOPES.join(', ')}`;
  }
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return [...new Set(scopes as Scope[])];
}

/**
 * The tenants' keys in the one table, and the resolver the edge asks on every request (the local
 * front, and the Lambda authorizer on AWS). Reads are strongly consistent, so a revoked key stops
 * working at once: nothing here caches.
 */
export class ApiKeyStore implements ApiKeyResolver {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; clock?: Clock }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  /** Mints a key for the tenant; the answer is the only place the key ever appears. */
  async create(tenant: string, scopes: Scope[]): Promise<NewApiKey> {
    const id = randomBytes(8).toString('hex');
    const key = `ehk_${id}_${randomBytes(32).toString('base64url')}`;
    const createdAt = Math.floor(this.clock.now() / 1000);
    const item: ApiKeyItem = {
      ...keys.apiKey(id),
      ...keys.apiKeyByTenant(tenant, id),
      tenant,
      hash: hashApiKey(key),
      scopes,
      created_at: createdAt,
    };
    // 64 random bits make a collision unlikely; the condition makes one harmless.
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return { id, key, prefix: `ehk_${id}`, scopes, created_at: createdAt };
  }

  /** The tenant's keys, revoked ones included (with when), newest last. */
  async list(tenant: string): Promise<ApiKeyView[]> {
    const views: ApiKeyView[] = [];
    for await (const raw of queryItems(this.client, {
      TableName: this.tableName,
      IndexName: TABLE_SCHEMA.bySourceIndex.name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.apiKeysOfTenant(tenant) },
    })) {
      views.push(view(raw as unknown as ApiKeyItem));
    }
    return views.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
  }

  /** Revokes one of the tenant's keys; `false` when the tenant has no such key (another tenant's key is not its). */
  async revoke(tenant: string, id: string): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(id)) return false;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.apiKey(id),
          UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :now)',
          ConditionExpression: 'attribute_exists(pk) AND tenant = :tenant',
          ExpressionAttributeValues: { ':now': Math.floor(this.clock.now() / 1000), ':tenant': tenant },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Removes every key of the tenant (when the tenant is deleted). */
  async deleteAll(tenant: string): Promise<void> {
    for (const { id } of await this.list(tenant)) {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.apiKey(id) }));
    }
  }

  /** The principal of a presented key: `undefined` when it is malformed, unknown, revoked or does not match. */
  async resolve(key: string): Promise<Principal | undefined> {
    const id = apiKeyId(key);
    if (id === undefined) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(id), ConsistentRead: true }),
    );
    const item = Item as ApiKeyItem | undefined;
    // The hash is compared even when the key is revoked, so both refusals take the same time.
    if (!item || !sameDigest(hashApiKey(key), item.hash) || item.revoked_at !== undefined) return undefined;
    // Its keys go one by one as a tenant is deleted, so a deletion cut short would otherwise leave
    // some working on a half-deleted tenant.
    if (await isTenantDeleting(this.client, this.tableName, item.tenant)) return undefined;
    return { tenant: item.tenant, scopes: item.scopes, keyId: id };
  }
}

function view(item: ApiKeyItem): ApiKeyView {
  return {
    id: item.gsi1sk,
    prefix: `ehk_${item.gsi1sk}`,
    scopes: item.scopes,
    created_at: item.created_at,
    revoked_at: item.revoked_at ?? null,
  };
}

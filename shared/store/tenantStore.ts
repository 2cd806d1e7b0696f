import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type FieldErrors, SchemaViolationError } from '../errors.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { setOwn } from '../records.ts';
import { isConditionalCheckFailed, queryItems } from './dynamo.ts';
import { keys } from './table.ts';

/** A tenant as the operator routes show it. */
export interface Tenant {
  id: string;
  name: string;
  created_at: number;
  /**
   * Present (`true`) once `DELETE /tenants/{id}` has started: its keys are refused and no new key is
   * minted for it, so a deletion cut short (a crash) leaves nothing of the tenant usable until a
   * resent `DELETE` finishes it.
   */
  deleting?: true;
}

interface TenantItem extends Omit<Tenant, 'deleting'> {
  pk: string;
  sk: string;
  /** When the deletion started (epoch seconds). */
  deleting_at?: number;
}

export const MAX_NAME_LENGTH = 128;

/**
 * What a tenant id may be: ours are UUIDs, plus the configured single tenant (`default`). Kept to
 * characters that cannot reach into another key of the table (`#` separates key parts).
 */
export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `{"name":"acme"}` → the name, or a schema violation. */
export function parseTenantBody(body: unknown): { name: string } {
  const errors: FieldErrors = {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SchemaViolationError({ '@entity': ['expected a record'] });
  }
  const { name, ...rest } = body as Record<string, unknown>;
  for (const key of Object.keys(rest)) setOwn(errors, key, 'unknown field');
  if (name === undefined) errors.name = 'required field missing';
  else if (typeof name !== 'string' || name.trim() === '') errors.name = 'expected a non-empty string';
  else if (name.length > MAX_NAME_LENGTH) errors.name = `length must be at most ${MAX_NAME_LENGTH}`;
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return { name: name as string };
}

/** The deployment's tenants, one partition of the one table (the operator's, `OP#TENANT`). */
export class TenantStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; clock?: Clock }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  /** A new tenant with a fresh id: ids are never reused, so nothing a deleted tenant left behind is ever seen again. */
  async create(name: string): Promise<Tenant> {
    const tenant: Tenant = { id: randomUUID(), name, created_at: Math.floor(this.clock.now() / 1000) };
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.tenant(tenant.id), ...tenant } }),
    );
    return tenant;
  }

  /** Makes the tenant exist with this id (the single tenant of a deployment); keeps it if it does. */
  async ensure(id: string, name: string): Promise<void> {
    const item = { ...keys.tenant(id), id, name, created_at: Math.floor(this.clock.now() / 1000) };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async get(id: string): Promise<Tenant | undefined> {
    if (!TENANT_ID.test(id)) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.tenant(id), ConsistentRead: true }),
    );
    return Item ? tenantOf(Item as TenantItem) : undefined;
  }

  /** Every tenant, oldest first. */
  async list(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
    for await (const raw of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tenantsPartition },
      ConsistentRead: true,
    })) {
      tenants.push(tenantOf(raw as unknown as TenantItem));
    }
    return tenants.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
  }

  /**
   * Marks the tenant as being deleted, before anything it owns goes (the mark stays until its item
   * goes, last): `ApiKeyStore.resolve` refuses its keys from then on, and the operator routes mint
   * none. A mark kept from an earlier, cut deletion is kept as it is. `false` if there is no tenant.
   */
  async markDeleting(id: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(id),
          UpdateExpression: 'SET deleting_at = if_not_exists(deleting_at, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': Math.floor(this.clock.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Removes the tenant's own item; what it owns is removed by the app's `deleteTenant` (shared/compositionRoot.ts). */
  async delete(id: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.tenant(id) }));
  }
}

/**
 * Whether the tenant is being deleted (`TenantStore.markDeleting`), read alone and strongly
 * consistent: the key resolver asks it on every request. A tenant with no entry (the configured
 * single tenant before its first operator request) is not.
 */
export async function isTenantDeleting(
  client: DynamoDBDocumentClient,
  tableName: string,
  tenant: string,
): Promise<boolean> {
  const { Item } = await client.send(
    new GetCommand({
      TableName: tableName,
      Key: keys.tenant(tenant),
      ProjectionExpression: 'deleting_at',
      ConsistentRead: true,
    }),
  );
  return (Item as Pick<TenantItem, 'deleting_at'> | undefined)?.deleting_at !== undefined;
}

function tenantOf(item: TenantItem): Tenant {
  return {
    id: item.id,
    name: item.name,
    created_at: item.created_at,
    ...(item.deleting_at === undefined ? {} : { deleting: true as const }),
  };
}

/**
 * Deletes every item whose partition key starts with the tenant's prefix: what no query can list
 * (idempotency records and gate windows have a partition each) as well as what one could. A scan of
 * the whole table, so for the rare deletion of a tenant only; a table too large to scan within one
 * request leaves the rest for `DELETE /tenants/{id}` sent again (the tenant item goes last).
 * Resolves with how many items were deleted.
 */
export async function deleteTenantItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  tenant: string,
): Promise<number> {
  const prefix = keys.tenantPrefix(tenant);
  let deleted = 0;
  for await (const page of paginateScan(
    { client },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(pk, :prefix)',
      ExpressionAttributeValues: { ':prefix': prefix },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    },
  )) {
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));
      // Unprocessed deletes (throttling) are sent again, a few times, before giving up.
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt === 5) throw new Error(`could not delete ${requests.length} items of tenant ${tenant}`);
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        const left = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
        deleted += requests.length - left.length;
        requests = left;
        if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }
  return deleted;
}

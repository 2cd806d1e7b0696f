import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { BadRequestError, ConflictError } from '../errors.ts';
import type { EventHook, HookDeployment } from '../hooks/hook.ts';
import type { HookSecrets } from '../secrets/hookSecrets.ts';
import { isConditionalCheckFailed, queryItems } from './dynamo.ts';
import { keys } from './table.ts';

export interface HookStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /**
   * Seals each hook's secret values before it is written (docs/saas.md, "Secrets at rest"). Reads
   * return hooks as stored, sealed: only the paths that need the secrets open them.
   */
  secrets?: HookSecrets;
}

export interface HookPage {
  hooks: EventHook[];
  /** Opaque offset of the next page; absent on the last page. */
  next?: string;
}

/** Kong's "invalid offset" error (code 7). */
export class InvalidOffsetError extends BadRequestError {
  readonly kongCode = 7;
  readonly kongName = 'invalid offset';
}

/** A stored hook with the revision used for optimistic concurrency. */
export interface StoredHook {
  hook: EventHook;
  rev: number;
}

/**
 * The stored item. The hook travels as its JSON text (`hookJson`), never as a marshalled map:
 * DynamoDB marshalling refuses some keys a config can hold (a header named `constructor`). Items
 * written before this change hold the hook as a map (`hook`); they are still read.
 */
interface HookItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  rev: number;
  hookJson?: string;
  hook?: EventHook;
  /** Where the deployment of its user code stands, recorded after the write by the deploy worker. */
  deployment?: HookDeployment;
}

function decodeHook(item: Record<string, unknown>): EventHook {
  const { hookJson, hook, deployment } = item as Partial<HookItem>;
  const decoded = typeof hookJson === 'string' ? (JSON.parse(hookJson) as EventHook) : (hook as EventHook);
  return deployment ? ({ ...decoded, deployment } as EventHook) : decoded;
}

const encodeOffset = (id: string) => Buffer.from(JSON.stringify({ id }), 'utf8').toString('base64url');

function decodeOffset(offset: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(offset, 'base64url').toString('utf8')) as { id?: unknown };
    if (typeof parsed.id === 'string' && parsed.id.length > 0 && parsed.id.length <= 64) return parsed.id;
  } catch {
    // fall through to the error below
  }
  throw new InvalidOffsetError(`'${offset}' is not a valid offset: bad encoding`);
}

/**
 * Hooks in the one table. Every write that must not clobber is conditional: create requires the id
 * to be free, replace requires the revision it read. Each write bumps the tenant's hooks version so
 * the dispatcher's cache can notice changes with one cheap read.
 */
export class HookStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly secrets: HookSecrets | undefined;

  constructor(options: HookStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.secrets = options.secrets;
  }

  async get(tenant: string, id: string): Promise<StoredHook | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.hook(tenant, id), ConsistentRead: true }),
    );
    return Item ? { hook: decodeHook(Item), rev: (Item as HookItem).rev } : undefined;
  }

  async list(tenant: string, options: { size: number; offset?: string }): Promise<HookPage> {
    const startId = options.offset === undefined ? undefined : decodeOffset(options.offset);
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.hooksPartition(tenant) },
        Limit: options.size,
        ConsistentRead: true,
        ...(startId ? { ExclusiveStartKey: keys.hook(tenant, startId) } : {}),
      }),
    );
    const hooks = (Items ?? []).map(decodeHook);
    const last = hooks.at(-1);
    return LastEvaluatedKey && last ? { hooks, next: encodeOffset(last.id) } : { hooks };
  }

  /**
   * Every hook of the tenant, read from the base table with strongly consistent reads (the
   * dispatcher's cache: a hook written a moment ago must be seen, which the index cannot promise).
   */
  async listAll(tenant: string): Promise<EventHook[]> {
    const hooks: EventHook[] = [];
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.hooksPartition(tenant) },
      ConsistentRead: true,
    })) {
      hooks.push(decodeHook(item));
    }
    return hooks;
  }

  /**
   * Every hook of a source, through the `bySource` index, which is eventually consistent: fine for
   * the admin's in-use checks, not for the dispatcher (see `listAll`).
   */
  async listBySource(tenant: string, source: string): Promise<EventHook[]> {
    const hooks: EventHook[] = [];
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      IndexName: 'bySource',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.sourcePartition(tenant, source) },
    })) {
      hooks.push(decodeHook(item));
    }
    return hooks;
  }

  /** Stores a new hook; `ConflictError` if the id is taken. */
  async create(tenant: string, hook: EventHook): Promise<void> {
    await this.write(tenant, hook, 1, 'attribute_not_exists(pk)', {});
  }

  /**
   * Replaces a hook that was read at revision `rev`, or creates it when `rev` is undefined.
   * `ConflictError` when someone else wrote it in between.
   */
  async replace(tenant: string, hook: EventHook, rev: number | undefined): Promise<void> {
    if (rev === undefined) return this.create(tenant, hook);
    await this.write(tenant, hook, rev + 1, 'rev = :rev', { ':rev': rev });
  }

  /** Deletes a hook; resolves with what was deleted. */
  async delete(tenant: string, id: string): Promise<EventHook | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.hook(tenant, id), ReturnValues: 'ALL_OLD' }),
    );
    if (!Attributes) return undefined;
    await this.bumpVersion(tenant);
    return decodeHook(Attributes);
  }

  /** The tenant's hooks version: changes after every hook write (strongly consistent read). */
  async version(tenant: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.hooksVersion(tenant), ConsistentRead: true }),
    );
    return typeof Item?.v === 'number' ? Item.v : 0;
  }

  private async write(
    tenant: string,
    hook: EventHook,
    rev: number,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<void> {
    const item: HookItem = {
      ...keys.hook(tenant, hook.id),
      ...keys.hookBySource(tenant, hook.source, hook.id),
      rev,
      hookJson: JSON.stringify(this.secrets ? await this.secrets.seal(tenant, hook) : hook),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new ConflictError(`event hook ${hook.id} was changed concurrently or already exists`, { cause: error });
      }
      throw error;
    }
    await this.bumpVersion(tenant);
  }
  private bumpVersion(tenant: string): Promise<void> {
    return bumpHooksVersion(this.client, this.tableName, tenant);
  }
}

/** Marks the tenant's hooks (or catalog) as changed, for the dispatcher's cache. */
export async function bumpHooksVersion(
  client: DynamoDBDocumentClient,
  tableName: string,
  tenant: string,
): Promise<void> {
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: keys.hooksVersion(tenant),
      UpdateExpression: 'ADD v :one',
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );
}

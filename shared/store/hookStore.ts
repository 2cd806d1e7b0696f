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

/** What the tenant's usage counter holds: its stored hooks and the user functions they hold. */
export interface HookUsage {
  hooks: number;
  functions: number;
}

/**
 * Keeps hook writes within the tenant's `hooks` and `user_functions` quotas, exactly, whichever
 * process writes. The tenant's usage counter (`keys.hookUsage`) is changed by a conditional update:
 * a write that adds reserves its room first (refused when the counter would pass a bound) and then
 * stores the hook, giving the room back if the store refuses; a write that frees room stores first
 * and counts down after. So the counter is never below what is stored, and what is stored never
 * passes a bound. DynamoDB transactions would make the pair atomic, but the embedded store
 * (dynalite) has none; the price of two writes is a slot counted too many if a process dies between
 * them, never a hook too many.
 */
export interface UsageGuard {
  /** The user functions a hook makes this service deploy (the counter's second figure). */
  functionsOf(hook: EventHook): number;
  /** The bounds in force; `null`: none. A bound below the count refuses growth and keeps what is stored. */
  limits: { hooks: number | null; functions: number | null };
  /** The error a write past a bound rejects with; `made` is the count the write would have made. */
  refuse(quota: 'hooks' | 'user_functions', made: number): Error;
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

  /**
   * Stores a new hook; `ConflictError` if the id is taken. With `guard`, counted against the
   * tenant's quotas (rejects with `guard.refuse` past one).
   */
  async create(tenant: string, hook: EventHook, guard?: UsageGuard): Promise<void> {
    const store = () => this.write(tenant, hook, 1, 'attribute_not_exists(pk)', {});
    if (!guard) return store();
    await this.counted(tenant, guard, { hooks: 1, functions: guard.functionsOf(hook) }, store);
  }

  /**
   * Replaces a hook that was read at revision `rev`, or creates it when `rev` is undefined.
   * `ConflictError` when someone else wrote it in between. With `guard`, `old` is the hook read at
   * `rev`: the write counts by how its user functions differ from those (the revision condition
   * makes that exact).
   */
  async replace(
    tenant: string,
    hook: EventHook,
    rev: number | undefined,
    counted?: { guard: UsageGuard; old: EventHook },
  ): Promise<void> {
    if (rev === undefined) return this.create(tenant, hook, counted?.guard);
    const store = () => this.write(tenant, hook, rev + 1, 'rev = :rev', { ':rev': rev });
    if (!counted) return store();
    const { guard, old } = counted;
    await this.counted(tenant, guard, { hooks: 0, functions: guard.functionsOf(hook) - guard.functionsOf(old) }, store);
  }

  /**
   * Deletes a hook; resolves with what was deleted. With `guard`, the tenant's usage counter
   * counts it down (after the delete, so the counter is never below what is stored).
   */
  async delete(tenant: string, id: string, guard?: Pick<UsageGuard, 'functionsOf'>): Promise<EventHook | undefined> {
    // Counted from here on: a counter first made after this delete must not count the deleted hook.
    if (guard) await this.usage(tenant, guard);
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.hook(tenant, id), ReturnValues: 'ALL_OLD' }),
    );
    if (!Attributes) return undefined;
    const deleted = decodeHook(Attributes);
    if (guard) await this.addUsage(tenant, { hooks: -1, functions: -guard.functionsOf(deleted) });
    await this.bumpVersion(tenant);
    return deleted;
  }

  /**
   * The tenant's usage counter. A tenant whose hooks were stored before the counter existed gets
   * one counted from its stored hooks, written only if absent: of racing first writers one counter
   * wins, and since every counted write needs the counter to exist, none happened while it was counted.
   */
  async usage(tenant: string, guard: Pick<UsageGuard, 'functionsOf'>): Promise<HookUsage> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.hookUsage(tenant), ConsistentRead: true }),
    );
    if (Item) return { hooks: Number(Item.hook_count ?? 0), functions: Number(Item.function_count ?? 0) };
    const stored = await this.listAll(tenant);
    const usage = { hooks: stored.length, functions: stored.reduce((sum, hook) => sum + guard.functionsOf(hook), 0) };
    // (`functions` is a reserved word of DynamoDB's expressions: the attributes say `_count`.)
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.hookUsage(tenant), hook_count: usage.hooks, function_count: usage.functions },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return this.usage(tenant, guard);
    }
    return usage;
  }

  /**
   * Runs `store` within the guard's bounds: growth is reserved on the counter first, room freed is
   * given back once `store` succeeded (see `UsageGuard`).
   */
  private async counted(
    tenant: string,
    guard: UsageGuard,
    delta: HookUsage,
    store: () => Promise<void>,
  ): Promise<void> {
    const growth = { hooks: Math.max(delta.hooks, 0), functions: Math.max(delta.functions, 0) };
    const shrink = { hooks: Math.min(delta.hooks, 0), functions: Math.min(delta.functions, 0) };
    if (growth.hooks > 0 || growth.functions > 0) await this.reserve(tenant, guard, growth);
    try {
      await store();
    } catch (error) {
      if (growth.hooks > 0 || growth.functions > 0) {
        // The caller must see why the write failed; a failed give-back leaves a slot counted too many.
        await this.addUsage(tenant, { hooks: -growth.hooks, functions: -growth.functions }).catch(() => undefined);
      }
      throw error;
    }
    if (shrink.hooks < 0 || shrink.functions < 0) await this.addUsage(tenant, shrink);
  }

  /** Adds `growth` to the counter if it stays within the bounds; else rejects with `guard.refuse`. */
  private async reserve(tenant: string, guard: UsageGuard, growth: HookUsage): Promise<void> {
    const { hooks: maxHooks, functions: maxFunctions } = guard.limits;
    const conditions = ['attribute_exists(pk)'];
    const values: Record<string, number> = { ':hooks': growth.hooks, ':functions': growth.functions };
    if (growth.hooks > 0 && maxHooks !== null) {
      conditions.push('hook_count <= :hookRoom');
      values[':hookRoom'] = maxHooks - growth.hooks;
    }
    if (growth.functions > 0 && maxFunctions !== null) {
      conditions.push('function_count <= :functionRoom');
      values[':functionRoom'] = maxFunctions - growth.functions;
    }
    // A few times at most: again after a counter was made for a tenant that had none, or room was freed.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.hookUsage(tenant),
            UpdateExpression: 'ADD hook_count :hooks, function_count :functions',
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeValues: values,
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      // Refused: past a bound, or no counter yet. The counter read says which.
      const usage = await this.usage(tenant, guard);
      if (growth.hooks > 0 && maxHooks !== null && usage.hooks + growth.hooks > maxHooks) {
        throw guard.refuse('hooks', usage.hooks + growth.hooks);
      }
      if (growth.functions > 0 && maxFunctions !== null && usage.functions + growth.functions > maxFunctions) {
        throw guard.refuse('user_functions', usage.functions + growth.functions);
      }
    }
    // Room was freed between each refusal and its read: the client may try again.
    throw new ConflictError('the event hooks of this tenant were changed concurrently; try again');
  }

  /** Counts the counter down; a counter gone with its tenant is not brought back. */
  private async addUsage(tenant: string, delta: HookUsage): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.hookUsage(tenant),
          UpdateExpression: 'ADD hook_count :hooks, function_count :functions',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':hooks': delta.hooks, ':functions': delta.functions },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
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

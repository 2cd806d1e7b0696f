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
import { type Clock, systemClock } from '../ports/clock.ts';
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
  /** Stamps the usage counter's changes (`updated_at`) and judges when a leaked reservation may be healed. */
  clock?: Clock;
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
 * How long the usage counter must have stood unchanged before a refusal may correct it down to what
 * is stored (see `HookStore.reserve`). Every counted write changes the counter before it stores, so
 * a counter unchanged this long has no write in flight: it must be longer than any write can take,
 * which the admin Lambda's timeout bounds (29 s, infra/cdk/functions.ts). Five minutes leaves room for clock
 * skew between instances and a later, longer timeout.
 */
export const USAGE_HEAL_GRACE_MS = 5 * 60 * 1000;

/** Adds `:hooks` and `:functions` to the usage counter. */
const ADD_USAGE = 'ADD hook_count :hooks, function_count :functions SET updated_at = :now';

/**
 * A counter corrected to what is stored, each figure only down: one above what is stored is a leak;
 * one below is not a heal's to raise.
 */
function healedUsage(counted: HookUsage, stored: HookUsage): HookUsage {
  return { hooks: Math.min(counted.hooks, stored.hooks), functions: Math.min(counted.functions, stored.functions) };
}

/** The counter as read: its figures and when it last changed (absent on counters older than the stamp). */
interface CounterRead {
  usage: HookUsage;
  updatedAt: number | undefined;
}

/**
 * Keeps hook writes within the tenant's `hooks` and `user_functions` quotas, exactly, whichever
 * process writes. The tenant's usage counter (`keys.hookUsage`) is changed by a conditional update:
 * a write that adds reserves its room first (refused when the counter would pass a bound) and then
 * stores the hook, giving the room back if the store refuses; a write that frees room stores first
 * and counts down after. So the counter is never below what is stored, and what is stored never
 * passes a bound. DynamoDB transactions would make the pair atomic, but the embedded store
 * (dynalite) has none; the price of two writes is a slot counted too many if a process dies between
 * them (or a give-back fails), never a hook too many. Such a leaked slot heals itself: a refusal
 * recounts what is stored and corrects a counter left unchanged for `USAGE_HEAL_GRACE_MS`.
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
  private readonly clock: Clock;

  constructor(options: HookStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.secrets = options.secrets;
    this.clock = options.clock ?? systemClock;
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
    if (guard) await this.counted(tenant, guard, { hooks: 1, functions: guard.functionsOf(hook) }, store);
    else await store();
    await this.bumpVersion(tenant);
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
    if (counted) {
      const { guard, old } = counted;
      const delta = { hooks: 0, functions: guard.functionsOf(hook) - guard.functionsOf(old) };
      await this.counted(tenant, guard, delta, store);
    } else {
      await store();
    }
    await this.bumpVersion(tenant);
  }

  /**
   * Deletes a hook; resolves with what was deleted. With `guard`, the tenant's usage counter
   * counts it down (after the delete, so the counter is never below what is stored).
   */
  async delete(tenant: string, id: string, guard?: Pick<UsageGuard, 'functionsOf'>): Promise<EventHook | undefined> {
    // Counted from here on (a counter first made after this delete must not count the deleted hook),
    // and marked as changing, so that no heal corrects the counter while this delete is under way.
    if (guard) await this.touch(tenant, guard);
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.hook(tenant, id), ReturnValues: 'ALL_OLD' }),
    );
    if (!Attributes) return undefined;
    const deleted = decodeHook(Attributes);
    try {
      if (guard) await this.addUsage(tenant, { hooks: -1, functions: -guard.functionsOf(deleted) });
    } finally {
      // The hook is gone whatever the counter did: the dispatcher must learn it.
      await this.bumpVersion(tenant);
    }
    return deleted;
  }

  /**
   * The tenant's usage counter. A tenant whose hooks were stored before the counter existed gets
   * one counted from its stored hooks, written only if absent: of racing first writers one counter
   * wins, and since every counted write needs the counter to exist, none happened while it was counted.
   */
  async usage(tenant: string, guard: Pick<UsageGuard, 'functionsOf'>): Promise<HookUsage> {
    return (await this.counter(tenant, guard)).usage;
  }

  /**
   * Throws `guard.refuse` if a write adding `growth` would now be refused, reserving nothing (a dry
   * run). It judges as `reserve` does, a counter that would heal included, but writes no counter.
   */
  async checkRoom(tenant: string, guard: UsageGuard, growth: HookUsage): Promise<void> {
    if (growth.hooks <= 0 && growth.functions <= 0) return;
    const read = await this.readCounter(tenant);
    let usage = read?.usage ?? (await this.storedUsage(tenant, guard));
    if (read && this.refusal(guard, usage, growth) && this.stale(read)) {
      const stored = await this.storedUsage(tenant, guard);
      usage = healedUsage(usage, stored);
    }
    const refusal = this.refusal(guard, usage, growth);
    if (refusal) throw refusal;
  }

  /** The counter, made from the stored hooks first if the tenant has none (see `usage`). */
  private async counter(tenant: string, guard: Pick<UsageGuard, 'functionsOf'>): Promise<CounterRead> {
    const read = await this.readCounter(tenant);
    if (read) return read;
    const usage = await this.storedUsage(tenant, guard);
    const now = this.clock.now();
    // (`functions` is a reserved word of DynamoDB's expressions: the attributes say `_count`.)
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.hookUsage(tenant),
            hook_count: usage.hooks,
            function_count: usage.functions,
            updated_at: now,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return this.counter(tenant, guard);
    }
    return { usage, updatedAt: now };
  }

  private async readCounter(tenant: string): Promise<CounterRead | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.hookUsage(tenant), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      usage: { hooks: Number(Item.hook_count ?? 0), functions: Number(Item.function_count ?? 0) },
      updatedAt: typeof Item.updated_at === 'number' ? Item.updated_at : undefined,
    };
  }

  /** What the stored hooks add up to (strongly consistent). */
  private async storedUsage(tenant: string, guard: Pick<UsageGuard, 'functionsOf'>): Promise<HookUsage> {
    const stored = await this.listAll(tenant);
    return { hooks: stored.length, functions: stored.reduce((sum, hook) => sum + guard.functionsOf(hook), 0) };
  }

  /** The error a write adding `growth` to `usage` is refused with; `undefined` if it fits. */
  private refusal(guard: UsageGuard, usage: HookUsage, growth: HookUsage): Error | undefined {
    const { hooks: maxHooks, functions: maxFunctions } = guard.limits;
    if (growth.hooks > 0 && maxHooks !== null && usage.hooks + growth.hooks > maxHooks) {
      return guard.refuse('hooks', usage.hooks + growth.hooks);
    }
    if (growth.functions > 0 && maxFunctions !== null && usage.functions + growth.functions > maxFunctions) {
      return guard.refuse('user_functions', usage.functions + growth.functions);
    }
    return undefined;
  }

  /** Unchanged for longer than any counted write can be in flight (a counter without a stamp never is). */
  private stale(read: CounterRead): boolean {
    return read.updatedAt !== undefined && this.clock.now() - read.updatedAt > USAGE_HEAL_GRACE_MS;
  }

  /**
   * Runs `store` (the one Put of the hook) within the guard's bounds: growth is reserved on the
   * counter first and given back only if the Put failed; room freed is counted down once it
   * succeeded (see `UsageGuard`). What follows the Put (the version bump) is the caller's: once the
   * hook is stored, its count stands whatever fails after.
   */
  private async counted(
    tenant: string,
    guard: UsageGuard,
    delta: HookUsage,
    store: () => Promise<void>,
  ): Promise<void> {
    const growth = { hooks: Math.max(delta.hooks, 0), functions: Math.max(delta.functions, 0) };
    const shrink = { hooks: Math.min(delta.hooks, 0), functions: Math.min(delta.functions, 0) };
    const grows = growth.hooks > 0 || growth.functions > 0;
    const shrinks = shrink.hooks < 0 || shrink.functions < 0;
    if (grows) await this.reserve(tenant, guard, growth);
    // A write that only frees room marks the counter as changing, so no heal runs while it is under way.
    else if (shrinks) await this.touch(tenant, guard);
    try {
      await store();
    } catch (error) {
      if (grows) {
        // The caller must see why the write failed; a failed give-back leaves a slot counted too
        // many, which `reserve` heals once the counter has stood still for the grace period.
        await this.addUsage(tenant, { hooks: -growth.hooks, functions: -growth.functions }).catch(() => undefined);
      }
      throw error;
    }
    if (shrinks) await this.addUsage(tenant, shrink);
  }

  /** Stamps the counter as changed now, making it first if the tenant has none. */
  private async touch(tenant: string, guard: Pick<UsageGuard, 'functionsOf'>): Promise<void> {
    if (!(await this.updateCounter(tenant, 'SET updated_at = :now', 'attribute_exists(pk)'))) {
      await this.counter(tenant, guard);
    }
  }

  /**
   * Adds `growth` to the counter if it stays within the bounds; else rejects with `guard.refuse`.
   * A refusal of a counter that has stood still for `USAGE_HEAL_GRACE_MS` but counts more than is
   * stored (a leaked reservation: a process died between reserving and storing, or a give-back
   * failed) corrects the counter to what is stored first, then tries again.
   */
  private async reserve(tenant: string, guard: UsageGuard, growth: HookUsage): Promise<void> {
    const { hooks: maxHooks, functions: maxFunctions } = guard.limits;
    const conditions = ['attribute_exists(pk)'];
    const values: Record<string, number> = { ':hooks': growth.hooks, ':functions': growth.functions };
    let healed = false;
    if (growth.hooks > 0 && maxHooks !== null) {
      conditions.push('hook_count <= :hookRoom');
      values[':hookRoom'] = maxHooks - growth.hooks;
    }
    if (growth.functions > 0 && maxFunctions !== null) {
      conditions.push('function_count <= :functionRoom');
      values[':functionRoom'] = maxFunctions - growth.functions;
    }
    // A few times at most: again after a counter was made for a tenant that had none, room was
    // freed, or a leaked reservation healed.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.updateCounter(tenant, ADD_USAGE, conditions.join(' AND '), values)) return;
      // Refused: past a bound, or no counter yet. The counter read says which.
      const read = await this.counter(tenant, guard);
      const refusal = this.refusal(guard, read.usage, growth);
      if (!refusal) continue;
      if (healed || !(await this.heal(tenant, guard, read))) throw refusal;
      healed = true;
    }
    // Room was freed between each refusal and its read: the client may try again.
    throw new ConflictError('the event hooks of this tenant were changed concurrently; try again');
  }

  /**
   * Corrects a counter that has stood still past the grace period to what is stored, on the
   * condition that it still holds what was read: a reservation made since changed it, so it is never
   * erased. True if the counter was corrected down.
   */
  private async heal(tenant: string, guard: UsageGuard, read: CounterRead): Promise<boolean> {
    if (read.updatedAt === undefined) {
      // A counter from before the stamp: stamped now, so that it may heal once the grace has passed.
      await this.updateCounter(tenant, 'SET updated_at = if_not_exists(updated_at, :now)', 'attribute_exists(pk)');
      return false;
    }
    if (!this.stale(read)) return false;
    const stored = await this.storedUsage(tenant, guard);
    if (stored.hooks >= read.usage.hooks && stored.functions >= read.usage.functions) return false;
    const healed = healedUsage(read.usage, stored);
    // Refused if changed since it was read: someone is writing, so it is not stale; the next attempt rereads.
    await this.updateCounter(
      tenant,
      'SET hook_count = :healedHooks, function_count = :healedFunctions, updated_at = :now',
      'hook_count = :readHooks AND function_count = :readFunctions AND updated_at = :readAt',
      {
        ':healedHooks': healed.hooks,
        ':healedFunctions': healed.functions,
        ':readHooks': read.usage.hooks,
        ':readFunctions': read.usage.functions,
        ':readAt': read.updatedAt,
      },
    );
    return true;
  }

  /**
   * Counts the counter down (never below zero: a refused count-down is a drift, not the client's
   * error); a counter gone with its tenant is not brought back.
   */
  private async addUsage(tenant: string, delta: HookUsage): Promise<void> {
    await this.updateCounter(
      tenant,
      ADD_USAGE,
      'attribute_exists(pk) AND hook_count >= :hookFloor AND function_count >= :functionFloor',
      {
        ':hooks': delta.hooks,
        ':functions': delta.functions,
        ':hookFloor': -delta.hooks,
        ':functionFloor': -delta.functions,
      },
    );
  }

  /**
   * One conditional update of the tenant's usage counter, stamped with `:now`; `false` when its
   * condition refused it (what a refusal means is the caller's).
   */
  private async updateCounter(
    tenant: string,
    update: string,
    condition: string,
    values: Record<string, number> = {},
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.hookUsage(tenant),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values, ':now': this.clock.now() },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
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

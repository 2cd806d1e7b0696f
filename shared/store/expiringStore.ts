import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Clock, systemClock } from '../ports/clock.ts';
import { InvalidOffsetError } from './hookStore.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** An item of a partition sorted by time, with its TTL (seconds since the epoch). */
export interface ExpiringItem {
  sk: string;
  expires_at?: number;
}

export interface ExpiringStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  retentionDays?: number;
  clock?: Clock;
}

export interface PageRequest {
  /** The full key of the item with sort key `sk`; its `pk` is the partition read. */
  keyOf: (sk: string) => Record<string, string> & { pk: string };
  /** What a valid `offset` (a sort key) looks like; any other is an InvalidOffsetError (a 400). */
  offsetPattern: RegExp;
  size: number;
  /** The `next` of the previous page. */
  offset?: string | undefined;
  /** Only sort keys from this one on. */
  from?: string | undefined;
  newestFirst?: boolean;
  consistentRead?: boolean;
}

/**
 * A tenant's items in a partition sorted by time (sort keys begin with the time) that expire through
 * DynamoDB TTL after a retention. TTL deletes late (up to about two days on AWS, never in the
 * embedded store without its sweeper), so every read also drops items whose expiry has passed.
 */
export abstract class ExpiringStore {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly tableName: string;
  protected readonly retentionMs: number;
  protected readonly clock: Clock;

  protected constructor(options: ExpiringStoreOptions, defaultRetentionDays: number) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionMs = (options.retentionDays ?? defaultRetentionDays) * DAY_MS;
    this.clock = options.clock ?? systemClock;
  }

  /** The TTL attribute's value for an item written at `at` (ms). */
  protected expiresAt(at: number): number {
    return Math.ceil((at + this.retentionMs) / 1000);
  }

  protected expired(item: ExpiringItem): boolean {
    return typeof item.expires_at === 'number' && item.expires_at * 1000 <= this.clock.now();
  }

  /**
   * One page of unexpired items: expired ones are skipped, so a page is filled from as many queries
   * as it takes. `next` is the sort key to go on after, given only when more may follow.
   */
  protected async page<T extends ExpiringItem>(request: PageRequest): Promise<{ items: T[]; next?: string }> {
    const { offset, size } = request;
    if (offset !== undefined && !request.offsetPattern.test(offset)) {
      throw new InvalidOffsetError(`'${offset}' is not a valid offset`);
    }
    const from = request.from !== undefined ? { ':from': request.from } : undefined;
    const items: T[] = [];
    let start = offset;
    for (;;) {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: from ? 'pk = :pk AND sk >= :from' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': request.keyOf('').pk, ...from },
          ...(request.newestFirst ? { ScanIndexForward: false } : {}),
          Limit: size - items.length,
          ...(request.consistentRead ? { ConsistentRead: true } : {}),
          ...(start ? { ExclusiveStartKey: request.keyOf(start) } : {}),
        }),
      );
      for (const item of (Items ?? []) as T[]) if (!this.expired(item)) items.push(item);
      if (!LastEvaluatedKey) return { items };
      start = String(LastEvaluatedKey.sk);
      if (items.length >= size) return { items, next: start };
    }
  }
}

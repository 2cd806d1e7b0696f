import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ports/clock.ts';
import { InvalidOffsetError } from './hookStore.ts';

/** An item of a partition sorted by time, with its TTL (seconds since the epoch). */
export interface ExpiringItem {
  sk: string;
  expires_at?: number;
}

/** Whether the item's TTL has passed: DynamoDB's TTL deletes late (the embedded store only when swept). */
export const isExpiredItem = (item: ExpiringItem, now: number): boolean =>
  typeof item.expires_at === 'number' && item.expires_at * 1000 <= now;

export interface UnexpiredPageRequest {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /** The partition's `pk`. */
  partition: string;
  /** The full key of the item with sort key `sk`, where the next query starts after it. */
  keyOf: (sk: string) => Record<string, string>;
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
 * One page of a tenant's partition whose sort keys begin with the time: expired items are skipped,
 * so a page is filled from as many queries as it takes. `next` is the sort key to go on after,
 * given only when more may follow.
 */
export async function unexpiredPage<T extends ExpiringItem>(
  request: UnexpiredPageRequest,
): Promise<{ items: T[]; next?: string }> {
  const { offset, size } = request;
  if (offset !== undefined && !request.offsetPattern.test(offset)) {
    throw new InvalidOffsetError(`'${offset}' is not a valid offset`);
  }
  const items: T[] = [];
  let start = offset;
  for (;;) {
    const { Items, LastEvaluatedKey } = await request.client.send(
      new QueryCommand({
        TableName: request.tableName,
        KeyConditionExpression: request.from !== undefined ? 'pk = :pk AND sk >= :from' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': request.partition,
          ...(request.from !== undefined ? { ':from': request.from } : {}),
        },
        ...(request.newestFirst ? { ScanIndexForward: false } : {}),
        Limit: size - items.length,
        ...(request.consistentRead ? { ConsistentRead: true } : {}),
        ...(start ? { ExclusiveStartKey: request.keyOf(start) } : {}),
      }),
    );
    const now = request.clock.now();
    for (const item of (Items ?? []) as T[]) if (!isExpiredItem(item, now)) items.push(item);
    if (!LastEvaluatedKey) return { items };
    start = String(LastEvaluatedKey.sk);
    if (items.length >= size) return { items, next: start };
  }
}

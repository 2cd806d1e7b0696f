import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ports/clock.ts';
import { isConditionalCheckFailed } from '../store/dynamo.ts';
import { keys } from '../store/table.ts';

/** Counts a tenant's events per second against its quota. */
export interface RateCounter {
  /**
   * Counts `count` events for `tenant` in the current second when they fit under `limit`, and
   * resolves with whether they did (nothing is counted when they do not).
   */
  take(tenant: string, count: number, limit: number): Promise<boolean>;
}

/** Windows kept in memory at most; past this the old ones are dropped. */
const MAX_TENANTS = 10_000;

/**
 * One process holds every request (the local runtime): a counter per tenant and second in memory,
 * no store write at all.
 */
export function memoryRateCounter(clock: Clock): RateCounter {
  const windows = new Map<string, { second: number; count: number }>();
  return {
    async take(tenant, count, limit) {
      const second = Math.floor(clock.now() / 1000);
      let window = windows.get(tenant);
      if (!window || window.second !== second) {
        if (windows.size >= MAX_TENANTS) {
          for (const [key, old] of windows) if (old.second !== second) windows.delete(key);
        }
        window = { second, count: 0 };
        windows.set(tenant, window);
      }
      if (window.count + count > limit) return false;
      window.count += count;
      return true;
    },
  };
}

/** How long a window item outlives its second before TTL removes it. */
const WINDOW_TTL_SECONDS = 60;

/**
 * Many Lambda instances share a tenant's quota on AWS, so the count lives in the table: one item per
 * tenant and second, raised with an atomic `ADD` on the condition that it stays within the limit.
 * A fixed window, not a token bucket: a bucket needs its level and time read and written back under
 * a condition (a retry loop under contention, two round trips), where the window is one
 * conditional write per request and needs no read. Its cost is a burst of up to twice the limit
 * across a second's edge, which a per-second quota tolerates.
 *
 * Writes: one per accepted request (a batch of events is one write), plus one per instance and
 * second once the window is full: after its first refusal in a second, an instance refuses the
 * rest of that second without writing (a refused conditional write is billed too).
 */
export function tableRateCounter(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}): RateCounter {
  const fullUntil = new Map<string, number>();
  return {
    async take(tenant, count, limit) {
      if (count > limit) return false;
      const second = Math.floor(options.clock.now() / 1000);
      if (fullUntil.get(tenant) === second) return false;
      try {
        await options.client.send(
          new UpdateCommand({
            TableName: options.tableName,
            Key: keys.rateWindow(tenant, second),
            UpdateExpression: 'ADD #count :count SET expires_at = :expires',
            ConditionExpression: 'attribute_not_exists(#count) OR #count <= :room',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':count': count,
              ':room': limit - count,
              ':expires': second + WINDOW_TTL_SECONDS,
            },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        if (fullUntil.size >= MAX_TENANTS) fullUntil.clear();
        fullUntil.set(tenant, second);
        return false;
      }
    },
  };
}

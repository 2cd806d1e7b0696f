import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ports/clock.ts';
import { queryItems } from '../store/dynamo.ts';
import { keys } from '../store/table.ts';

/** What is counted per tenant and day (docs/saas.md § Metering). */
export const USAGE_COUNTERS = [
  'events_accepted',
  'deliveries_attempted',
  'deliveries_delivered',
  'deliveries_failed',
  'function_invocations',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];
export type UsageCounts = Record<UsageCounter, number>;

/** One tenant's usage on one UTC day. */
export interface UsageDay extends UsageCounts {
  day: string;
}

/** How long a day's counters are kept: over a year, so a year can be billed or compared. */
export const USAGE_RETENTION_DAYS = 400;

const DAY_MS = 86_400_000;

/** The UTC day of an epoch-ms time, `YYYY-MM-DD`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function zeroCounts(): UsageCounts {
  return {
    events_accepted: 0,
    deliveries_attempted: 0,
    deliveries_delivered: 0,
    deliveries_failed: 0,
    function_invocations: 0,
  };
}

/**
 * Usage items on the one table: one per tenant and day, the counters raised with `ADD` (so writers
 * never read, and any number of them can add at once), with a TTL after `USAGE_RETENTION_DAYS`.
 */
export class UsageStore {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string; clock: Clock }) {}

  /** Adds `counts` (the non-zero ones) to the tenant's day, in one write. */
  async add(tenant: string, day: string, counts: Partial<UsageCounts>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds: string[] = [];
    USAGE_COUNTERS.forEach((counter, i) => {
      const n = counts[counter] ?? 0;
      if (n === 0) return;
      names[`#c${i}`] = counter;
      values[`:c${i}`] = n;
      adds.push(`#c${i} :c${i}`);
    });
    if (adds.length === 0) return;
    values[':expires'] = Math.floor((Date.parse(`${day}T00:00:00Z`) + (USAGE_RETENTION_DAYS + 1) * DAY_MS) / 1000);
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: keys.usageDay(tenant, day),
        UpdateExpression: `ADD ${adds.join(', ')} SET expires_at = :expires`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** The tenant's days from `from` to `to` (inclusive, either open when absent), oldest first. */
  async list(tenant: string, range: { from?: string; to?: string }): Promise<UsageDay[]> {
    const days: UsageDay[] = [];
    const nowSeconds = Math.floor(this.options.clock.now() / 1000);
    for await (const item of queryItems(this.options.client, {
      TableName: this.options.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': keys.usagePartition(tenant),
        ':from': range.from ?? '0000-00-00',
        ':to': range.to ?? '9999-99-99',
      },
      ConsistentRead: true,
    })) {
      // TTL deletes late (and the embedded store's sweeper only every so often): expired is gone.
      if (typeof item.expires_at === 'number' && item.expires_at <= nowSeconds) continue;
      const day: UsageDay = { day: String(item.sk), ...zeroCounts() };
      for (const counter of USAGE_COUNTERS) if (typeof item[counter] === 'number') day[counter] = item[counter];
      days.push(day);
    }
    return days;
  }
}

import { DeleteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError } from '../../shared/config.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { isConditionalCheckFailed } from '../../shared/store/dynamo.ts';
import { TABLE_SCHEMA } from '../../shared/store/table.ts';

/** How often the local store is swept by default: expired items are hidden by every read anyway. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
const PARALLEL_DELETES = 8;

export interface Sweeper {
  /** One pass now; resolves with how many items it deleted. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a running pass. */
  stop(): Promise<void>;
}

/** `SWEEP_INTERVAL_MS`: milliseconds between passes, `0` for none. */
export function sweepIntervalFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.SWEEP_INTERVAL_MS;
  if (raw === undefined || raw === '') return DEFAULT_SWEEP_INTERVAL_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`SWEEP_INTERVAL_MS must be an integer >= 0, got '${raw}'`);
  }
  return value;
}

/**
 * Deletes every item whose TTL attribute (`expires_at`, epoch seconds) has passed: what DynamoDB TTL
 * does on AWS, which the embedded store lacks. It covers every item kind that carries the attribute
 * (gate windows, dead letters, idempotency records, and whatever later keeps one). Each delete is
 * conditional on the item still being expired, so an item renewed since the scan stays.
 */
export async function sweepExpired(client: DynamoDBDocumentClient, tableName: string, nowMs: number): Promise<number> {
  const now = Math.floor(nowMs / 1000);
  const names = { '#exp': TABLE_SCHEMA.ttlAttribute, '#pk': TABLE_SCHEMA.partitionKey, '#sk': TABLE_SCHEMA.sortKey };
  let deleted = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#exp <= :now',
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':now': now },
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = (page.Items ?? []) as Record<string, unknown>[];
    for (let i = 0; i < keys.length; i += PARALLEL_DELETES) {
      const results = await Promise.all(
        keys.slice(i, i + PARALLEL_DELETES).map(async (key) => {
          try {
            await client.send(
              new DeleteCommand({
                TableName: tableName,
                Key: key,
                ConditionExpression: '#exp <= :now',
                ExpressionAttributeNames: { '#exp': TABLE_SCHEMA.ttlAttribute },
                ExpressionAttributeValues: { ':now': now },
              }),
            );
            return 1;
          } catch (error) {
            if (isConditionalCheckFailed(error)) return 0;
            throw error;
          }
        }),
      );
      deleted += results.reduce<number>((a, b) => a + b, 0);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return deleted;
}

/** Sweeps every `intervalMs` (none with 0); a pass never overlaps the previous one. */
export function startSweeper(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
}): Sweeper {
  let running: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const sweep = () => {
    running ??= sweepExpired(options.client, options.tableName, options.clock.now()).finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (stopped || options.intervalMs <= 0) return;
    timer = setTimeout(() => {
      sweep()
        .then((deleted) => {
          if (deleted > 0) options.logger.debug('swept expired items', { deleted });
        })
        .catch((error) => options.logger.warn('sweeping expired items failed', { error }))
        .finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

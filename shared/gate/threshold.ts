import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EventHooksError } from '../errors.ts';
import type { EventHook } from '../hooks/hook.ts';
import type { Clock } from '../ports/clock.ts';
import { isConditionalCheckFailed } from '../store/dynamo.ts';
import { keys, TABLE_SCHEMA } from '../store/table.ts';
import { eventDigest } from './digest.ts';

export interface ThresholdOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}

export interface ThresholdInput {
  tenant: string;
  hook: Pick<EventHook, 'id' | 'threshold'>;
  source: string;
  event: string;
  data: Record<string, unknown>;
  /** The event's unique fields from the catalog; without them, events are counted per hook, source and event. */
  unique?: string[];
  /** The event's id: the event that reached the count fires again when its dispatch is retried. */
  eventId?: string;
}

export interface ThresholdCounter {
  /** Counts the event; `true` when it is the one that reaches the hook's count in the current window. */
  reached(input: ThresholdInput): Promise<boolean>;
}

const COUNT = 'event_count';
const WINDOW_END = 'window_end';
const FIRED_BY = 'fired_by';
const TTL = TABLE_SCHEMA.ttlAttribute;

/** Attempts before giving up when other workers keep reopening the window under us (never in practice). */
const MAX_ATTEMPTS = 5;

/**
 * Threshold rules: a hook fires once when `count` matching events arrive within one tumbling window
 * of `window` seconds. The first counted event opens the window, the event that reaches the count
 * fires, later ones in the window are suppressed; the next event after the window ends opens a new one.
 *
 * Exact under concurrency, like the gate: an event is counted by ONE atomic conditional update
 * (`ADD` to the count while the stored window end is after now), so of N concurrent events each
 * sees a distinct count and exactly one sees `count`. Only the first event after a window ended
 * writes twice: its update fails on the expiry and it opens the next window with a conditional Put
 * (of concurrent openers one wins; the others count in the new window). The event that fires also
 * records its id (one more write per window) so that a retried dispatch fires it again.
 * `expires_at` lets DynamoDB TTL remove old windows; expiry is always compared with now.
 *
 * @example
 * const counter = createThresholdCounter({ client, tableName, clock: systemClock });
 * if (await counter.reached({ tenant, hook, source: 'rate-limiting', event: 'exceeded', data, unique })) fire();
 */
export function createThresholdCounter(options: ThresholdOptions): ThresholdCounter {
  const { client, tableName, clock } = options;

  /** The write's answer, or `undefined` when its condition failed. */
  const conditional = async <T>(send: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await send();
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  };

  return {
    async reached({ tenant, hook, source, event, data, unique, eventId }) {
      const threshold = hook.threshold;
      if (!threshold) return true;
      const countKey =
        unique && unique.length > 0
          ? `${hook.id}:${source}:${event}:${eventDigest(data, unique)}`
          : `${hook.id}:${source}:${event}`;
      // Keyed by the rule too: after a hook's threshold changes, counting starts over under the new rule.
      const Key = keys.threshold(tenant, countKey, `${threshold.count}/${threshold.window}`);

      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = clock.now();
        const windowEnd = now + threshold.window * 1000;
        // Counts in the open window, or opens the first one when there is no item yet.
        const counted = await conditional(() =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key,
              UpdateExpression:
                'SET #end = if_not_exists(#end, :end), #ttl = if_not_exists(#ttl, :ttl) ADD #count :one',
              ConditionExpression: 'attribute_not_exists(#end) OR #end > :now',
              ExpressionAttributeNames: { '#end': WINDOW_END, '#ttl': TTL, '#count': COUNT },
              ExpressionAttributeValues: {
                ':end': windowEnd,
                ':ttl': Math.ceil(windowEnd / 1000),
                ':one': 1,
                ':now': now,
              },
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        if (counted) {
          const item = counted.Attributes ?? {};
          if (eventId !== undefined && item[FIRED_BY] === eventId) return true;
          if (item[COUNT] !== threshold.count) return false;
          if (eventId !== undefined) await recordFiring(Key, item[WINDOW_END] as number, eventId);
          return true;
        }
        // The stored window has ended: open the next one, unless another event just did.
        const opened = await conditional(() =>
          client.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...Key,
                [COUNT]: 1,
                [WINDOW_END]: windowEnd,
                [TTL]: Math.ceil(windowEnd / 1000),
                ...(threshold.count === 1 && eventId !== undefined ? { [FIRED_BY]: eventId } : {}),
              },
              ConditionExpression: '#end <= :now',
              ExpressionAttributeNames: { '#end': WINDOW_END },
              ExpressionAttributeValues: { ':now': now },
            }),
          ),
        );
        if (opened) return threshold.count === 1;
      }
      throw new EventHooksError(`threshold window of hook ${hook.id} kept changing; the event is retried`);
    },
  };

  async function recordFiring(Key: Record<string, string>, windowEnd: number, eventId: string): Promise<void> {
    // Only within the same window: a late write must not mark a window the event did not fire in.
    await conditional(() =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key,
          UpdateExpression: 'SET #by = :by',
          ConditionExpression: '#end = :end',
          ExpressionAttributeNames: { '#by': FIRED_BY, '#end': WINDOW_END },
          ExpressionAttributeValues: { ':by': eventId, ':end': windowEnd },
        }),
      ),
    );
  }
}

import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
const COUNTED_IDS = 'counted_ids';
const TTL = TABLE_SCHEMA.ttlAttribute;

/**
 * Up to this count, a window keeps the ids of the events it counted (until it fires), so that a
 * retried dispatch (the bus delivering the same event again after a failure mid-dispatch) is not
 * counted twice. 16 ids (UUIDs, 36 characters) and the key keep the item under one 1 KB write
 * unit: a count costs what it cost before. Above it the item, rewritten whole by every count, would
 * cost one write unit more per 1 KB of ids (1,000 ids: about 37 units a count instead of 1; the
 * 400 KB item limit ends it near 10,000, and counts go up to 1,000,000), while a retry counted
 * twice moves a firing forward by one event in more than 16. A marker item per event instead would
 * double the writes of every count.
 */
export const IDEMPOTENT_MAX_COUNT = 16;

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
 * records its id (one more write per window) so that a retried dispatch fires it again; up to
 * {@link IDEMPOTENT_MAX_COUNT}, the window also keeps the ids it counted, so that a retried dispatch
 * is counted once.
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

      // With an event id and a small count, each event is counted once per window (see IDEMPOTENT_MAX_COUNT).
      const once = eventId !== undefined && threshold.count <= IDEMPOTENT_MAX_COUNT ? eventId : undefined;

      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = clock.now();
        const windowEnd = now + threshold.window * 1000;
        // Counts in the open window, or opens the first one when there is no item yet. Counting once,
        // only an event not counted yet, and only before the firing: the ids stop growing then (what
        // follows in the window is suppressed whatever its count).
        const counted = await conditional(() =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key,
              UpdateExpression: `SET #end = if_not_exists(#end, :end), #ttl = if_not_exists(#ttl, :ttl) ADD #count :one${once === undefined ? '' : ', #ids :ids'}`,
              ConditionExpression:
                once === undefined
                  ? 'attribute_not_exists(#end) OR #end > :now'
                  : '(attribute_not_exists(#end) OR #end > :now) AND (attribute_not_exists(#count) OR #count < :target) AND NOT contains(#ids, :id)',
              ExpressionAttributeNames: {
                '#end': WINDOW_END,
                '#ttl': TTL,
                '#count': COUNT,
                ...(once === undefined ? {} : { '#ids': COUNTED_IDS }),
              },
              ExpressionAttributeValues: {
                ':end': windowEnd,
                ':ttl': Math.ceil(windowEnd / 1000),
                ':one': 1,
                ':now': now,
                ...(once === undefined ? {} : { ':ids': new Set([once]), ':id': once, ':target': threshold.count }),
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
        if (once !== undefined) {
          // Refused: the window ended, or it has fired, or this event was counted in it already. One
          // read tells which: an event that counts costs one write, as without ids; one suppressed
          // after the firing, a write and a read.
          const { Item: item } = await client.send(new GetCommand({ TableName: tableName, Key, ConsistentRead: true }));
          const open = item !== undefined && (item[WINDOW_END] as number) > now;
          if (open && (item[COUNT] >= threshold.count || (item[COUNTED_IDS] as Set<string> | undefined)?.has(once))) {
            // Fires again only for the event that fired (its dispatch retried).
            return item[FIRED_BY] === once;
          }
          // Changed under us (reopened, or the item expired away): count again.
          if (open || item === undefined) continue;
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
                ...(once !== undefined && threshold.count > 1 ? { [COUNTED_IDS]: new Set([once]) } : {}),
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

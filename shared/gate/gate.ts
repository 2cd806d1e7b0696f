import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventHook } from '../hooks/hook.ts';
import type { Clock } from '../ports/clock.ts';
import { isConditionalCheckFailed } from '../store/dynamo.ts';
import { keys, TABLE_SCHEMA } from '../store/table.ts';
import { eventDigest } from './digest.ts';

export interface GateOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}

export interface GateInput {
  tenant: string;
  hook: Pick<EventHook, 'id' | 'snooze' | 'on_change'>;
  source: string;
  event: string;
  data: Record<string, unknown>;
  /** The event's unique fields from the catalog; the whole data is digested when absent. */
  unique?: string[];
  /**
   * The event's id. The gate item remembers which event opened it, and that same event is let
   * through again: a dispatch retried after it admitted but failed to enqueue loses nothing.
   */
  eventId?: string;
}

/**
 * What the gate decided, naming the rule that held an event back. With both `snooze` and
 * `on_change`, an unchanged event inside the window is held by `snooze`: after the window the same
 * data passes again, and changed data passes at once.
 */
export type GateDecision = 'admitted' | 'snooze' | 'on_change';

export interface Gate {
  /** `'admitted'` when the event must be delivered to the hook, else the rule that drops it. */
  decide(input: GateInput): Promise<GateDecision>;
  /** `true` when the event must be delivered to the hook, `false` when `on_change`/`snooze` drops it. */
  admit(input: GateInput): Promise<boolean>;
}

/** Attribute names of a gate item (besides the keys and `expires_at`). */
const WINDOW_END = 'window_end';
const DIGEST = 'digest';
const ADMITTED_BY = 'admitted_by';

/**
 * The `on_change` / `snooze` gate (docs/reference.md §3), exact under concurrency: each decision is one
 * conditional Put on the gate item, so of N workers admitting the same event at once exactly one
 * wins. `snooze` windows are compared against the stored window end (epoch ms) in the condition;
 * `expires_at` (epoch seconds) only lets DynamoDB TTL clean up, since TTL deletion can lag by days.
 *
 * A `snooze` of `0` or `null` means no snooze (Kong's `0` would mean "forever", an accident of its
 * cache's TTL semantics); `on_change` of `false` or `null` means no `on_change`.
 *
 * @example
 * const gate = createGate({ client, tableName, clock: systemClock });
 * if (await gate.admit({ tenant, hook, source: 'balancer', event: 'health', data })) enqueue();
 */
export function createGate(options: GateOptions): Gate {
  const { client, tableName, clock } = options;

  const conditionalPut = async (item: Record<string, unknown>, condition: Condition): Promise<boolean> => {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ExpressionAttributeValues: condition.values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  };

  const decide = async ({ tenant, hook, source, event, data, unique, eventId }: GateInput): Promise<GateDecision> => {
    const snoozeMs = hook.snooze && hook.snooze > 0 ? hook.snooze * 1000 : 0;
    const onChange = hook.on_change === true;
    if (!snoozeMs && !onChange) return 'admitted';

    const baseKey = `${hook.id}:${source}:${event}`;
    const now = clock.now();

    const admittedBy = eventId === undefined ? {} : { [ADMITTED_BY]: eventId };
    if (!snoozeMs) {
      const digest = eventDigest(data, unique);
      const passed = await conditionalPut(
        { ...keys.gate(tenant, baseKey), [DIGEST]: digest, ...admittedBy },
        orSameEvent(changedDigest(digest), eventId),
      );
      return passed ? 'admitted' : 'on_change';
    }

    const gateKey = onChange ? `${baseKey}:${eventDigest(data, unique)}` : baseKey;
    const windowEnd = now + snoozeMs;
    const passed = await conditionalPut(
      {
        ...keys.gate(tenant, gateKey),
        [WINDOW_END]: windowEnd,
        [TABLE_SCHEMA.ttlAttribute]: Math.ceil(windowEnd / 1000),
        ...admittedBy,
      },
      orSameEvent(windowOver(now), eventId),
    );
    return passed ? 'admitted' : 'snooze';
  };

  return {
    decide,
    admit: async (input) => (await decide(input)) === 'admitted',
  };
}

interface Condition {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** No item (or one written by an `on_change`-only configuration), or its window has ended. */
function windowOver(now: number): Condition {
  return {
    expression: 'attribute_not_exists(#end) OR #end <= :now',
    names: { '#end': WINDOW_END },
    values: { ':now': now },
  };
}

/** No item (or one written by a `snooze` configuration), or the last digest that passed differs. */
function changedDigest(digest: string): Condition {
  return {
    expression: 'attribute_not_exists(#digest) OR #digest <> :digest',
    names: { '#digest': DIGEST },
    values: { ':digest': digest },
  };
}

/** Also lets through the event that opened the gate item, so a retried dispatch is admitted again. */
function orSameEvent(condition: Condition, eventId: string | undefined): Condition {
  if (eventId === undefined) return condition;
  return {
    expression: `(${condition.expression}) OR #by = :by`,
    names: { ...condition.names, '#by': ADMITTED_BY },
    values: { ...condition.values, ':by': eventId },
  };
}

import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parseDeliveryId } from '../deliveryLog/deliveryId.ts';
import {
  type AttemptOutcome,
  type DeliveryLog,
  type DeliveryLogSettings,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryRecord,
  replayed,
  withAttempt,
} from '../deliveryLog/record.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { isConditionalCheckFailed } from './dynamo.ts';
import { InvalidOffsetError } from './hookStore.ts';
import { TABLE_SCHEMA } from './table.ts';

/**
 * The delivery log in the table (AWS): one item per delivery (docs/storage.md), the record, in its
 * hook's partition `T#<tenant>#HDLV#<hook id>`, sorted by `<event time ms, 13 digits>#<id>`, so a
 * hook's deliveries are one `Query`, newest first, and `since` is a key condition. The delivery id
 * names the hook and the event's time (shared/deliveryLog/deliveryId.ts), so `GET /deliveries/{id}`
 * is one `GetItem` of the record; a secondary index would copy every rewrite of the record
 * (attempts and bodies included) and double the log's cost.
 *
 * Old-shape ids (name-based UUIDs, before the id named its hook) were found through a pointer
 * `T#<tenant>#DLV#<id>` → hook and sort key (`<created ms>#<id>`). Records with such ids (still
 * within their retention, or a dead letter replayed) keep their pointer and are read through it.
 */
const keys = {
  record: (tenant: string, hookId: string, sk: string) => ({ pk: `T#${tenant}#HDLV#${hookId}`, sk }),
  hookPartition: (tenant: string, hookId: string) => `T#${tenant}#HDLV#${hookId}`,
  pointer: (tenant: string, id: string) => ({ pk: `T#${tenant}#DLV#${id}`, sk: 'DLV' }),
};

const sortKeyAt = (ms: number, id: string) => `${String(ms).padStart(13, '0')}#${id}`;

/** Where a new-shape id's record is (its hook and sort key); undefined for an old-shape id. */
function locate(id: string, hookId?: string): { hookId: string; sk: string } | undefined {
  const parsed = parseDeliveryId(id);
  if (!parsed || (hookId !== undefined && parsed.hookId !== hookId)) return undefined;
  return { hookId: parsed.hookId, sk: sortKeyAt(parsed.time, id) };
}

const sortKey = (record: Pick<DeliveryRecord, 'createdAt' | 'id' | 'hookId'>) =>
  locate(record.id, record.hookId)?.sk ?? sortKeyAt(record.createdAt, record.id);
/** Ids a pointer can name (old-shape ids are UUIDs); the same as an offset's id part. */
const POINTER_ID = /^[0-9A-Za-z_-]{1,128}$/;
const OFFSET = /^\d{13}#[0-9A-Za-z_-]{1,128}$/;

interface RecordItem {
  pk: string;
  sk: string;
  /** The record as JSON text (event data can hold what DynamoDB marshalling refuses). */
  rec: string;
  expires_at: number;
}

export class DeliveryLogStore implements DeliveryLog {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly settings: DeliveryLogSettings;
  private readonly clock: Clock;

  constructor(options: {
    client: DynamoDBDocumentClient;
    tableName: string;
    settings: DeliveryLogSettings;
    clock?: Clock;
  }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.settings = options.settings;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * A first attempt writes the record only if it is new (a conditional write, no read: most
   * deliveries have one attempt; an old-shape id claims its pointer that way, then writes the record);
   * a later attempt, or the first attempt of a replay (the record exists), reads the record and
   * writes it back.
   */
  async record(outcome: AttemptOutcome): Promise<DeliveryRecord> {
    const { job } = outcome;
    const located = locate(job.deliveryId, job.hookId) !== undefined;
    if (job.attempt === 1) {
      const record = withAttempt(undefined, outcome, this.settings);
      try {
        if (located) {
          await this.putRecord(record, true);
        } else {
          await this.putPointer(record, true);
          await this.putRecord(record);
        }
        return record;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    const previous = await this.get(job.tenant, job.deliveryId);
    const record = withAttempt(previous, outcome, this.settings);
    await this.putRecord(record);
    if (!previous && !located) await this.putPointer(record, false);
    return record;
  }

  async save(record: DeliveryRecord): Promise<void> {
    await this.putRecord(record);
  }

  /**
   * A conditional write on the record's text as read (`rec`): a concurrent replay, or an attempt
   * written meanwhile, fails it, and that replay answers `undefined` rather than marking it twice.
   */
  async replay(
    tenant: string,
    id: string,
    expected?: Pick<DeliveryRecord, 'status' | 'updatedAt'>,
  ): Promise<DeliveryRecord | undefined> {
    const read = await this.read(tenant, id);
    if (!read) return undefined;
    const { record: previous, rec } = read;
    if (expected && (previous.status !== expected.status || previous.updatedAt !== expected.updatedAt))
      return undefined;
    const record = replayed(previous, this.clock.now(), this.settings);
    try {
      await this.putRecord(record, { rec });
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
    // An old-shape id's pointer is renewed with its record, so the replayed delivery stays reachable.
    if (!locate(record.id, record.hookId)) await this.putPointer(record, false);
    return record;
  }

  /** The tenant comes from the caller, never from the id: another tenant's id names no item here. */
  async get(tenant: string, id: string): Promise<DeliveryRecord | undefined> {
    return (await this.read(tenant, id))?.record;
  }

  /** The record and its stored text. */
  private async read(tenant: string, id: string): Promise<{ record: DeliveryRecord; rec: string } | undefined> {
    // Any other id has no pointer, and a long one (a key over 2 KB) would make DynamoDB refuse the read.
    const located = locate(id) ?? (POINTER_ID.test(id) ? await this.pointerOf(tenant, id) : undefined);
    if (!located) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.record(tenant, located.hookId, located.sk),
        ConsistentRead: true,
      }),
    );
    const record = Item ? this.decode(Item as RecordItem) : undefined;
    return record?.id === id ? { record, rec: (Item as RecordItem).rec } : undefined;
  }

  /** An old-shape id's pointer: its record's hook and sort key. */
  private async pointerOf(tenant: string, id: string): Promise<{ hookId: string; sk: string } | undefined> {
    const { Item: pointer } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.pointer(tenant, id) }),
    );
    if (!pointer || typeof pointer.hookId !== 'string' || typeof pointer.recordSk !== 'string') return undefined;
    return { hookId: pointer.hookId, sk: pointer.recordSk };
  }

  async list(tenant: string, hookId: string, query: DeliveryQuery): Promise<DeliveryPage> {
    if (query.offset !== undefined && !OFFSET.test(query.offset)) {
      throw new InvalidOffsetError(`'${query.offset}' is not a valid offset`);
    }
    const records: DeliveryRecord[] = [];
    let start = query.offset;
    // A status filter and expired items thin pages out; a page is filled from as many queries as it
    // takes, each reading at most one page of items.
    for (;;) {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...this.keyCondition(tenant, hookId, query.since),
          ScanIndexForward: false,
          Limit: query.size - records.length,
          ...(start ? { ExclusiveStartKey: keys.record(tenant, hookId, start) } : {}),
        }),
      );
      for (const item of Items ?? []) {
        const record = this.decode(item as RecordItem);
        if (record && (!query.status || record.status === query.status)) records.push(record);
      }
      if (!LastEvaluatedKey) return { records };
      start = String(LastEvaluatedKey.sk);
      if (records.length >= query.size) return { records, next: start };
    }
  }

  async recent(tenant: string, hookId: string, options: { since: number; limit: number }): Promise<DeliveryRecord[]> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ...this.keyCondition(tenant, hookId, options.since),
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    return (Items ?? []).flatMap((item) => this.decode(item as RecordItem) ?? []);
  }

  private keyCondition(tenant: string, hookId: string, since: number | undefined) {
    const pk = keys.hookPartition(tenant, hookId);
    if (since === undefined) {
      return { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } };
    }
    return {
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ExpressionAttributeValues: { ':pk': pk, ':since': String(Math.max(0, since)).padStart(13, '0') },
    };
  }

  /** `condition`: `true`, the item must be new; `{ rec }`, it must still hold exactly that record text. */
  private putRecord(record: DeliveryRecord, condition: boolean | { rec: string } = false): Promise<unknown> {
    const item: RecordItem = {
      ...keys.record(record.tenant, record.hookId, sortKey(record)),
      rec: JSON.stringify(record),
      [TABLE_SCHEMA.ttlAttribute]: Math.ceil(record.expiresAt / 1000),
    };
    return this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ...(condition === true ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        ...(typeof condition === 'object'
          ? { ConditionExpression: 'rec = :rec', ExpressionAttributeValues: { ':rec': condition.rec } }
          : {}),
      }),
    );
  }

  private putPointer(record: DeliveryRecord, onlyIfNew: boolean): Promise<unknown> {
    return this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.pointer(record.tenant, record.id),
          hookId: record.hookId,
          recordSk: sortKey(record),
          // Written once, while the record is rewritten by later attempts: it outlives the record's
          // first expiry by a retention, so a delivery retried for days stays reachable by id.
          [TABLE_SCHEMA.ttlAttribute]: Math.ceil((2 * record.expiresAt - record.updatedAt) / 1000),
        },
        ...(onlyIfNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
      }),
    );
  }

  /** TTL deletes up to two days late: expired records are not answered. */
  private decode(item: RecordItem): DeliveryRecord | undefined {
    if (typeof item.rec !== 'string') return undefined;
    const record = JSON.parse(item.rec) as DeliveryRecord;
    return record.expiresAt > this.clock.now() ? record : undefined;
  }
}

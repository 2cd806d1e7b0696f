import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DeadLetter } from '../ports/deliveryQueue.ts';
import { InvalidOffsetError } from './hookStore.ts';
import { keys, TABLE_SCHEMA } from './table.ts';

/** A dead letter as the Admin API shows it. `id` sorts by the time of dead-lettering. */
export interface StoredDeadLetter extends DeadLetter {
  id: string;
}

export interface DeadLetterPage {
  deadLetters: StoredDeadLetter[];
  next?: string;
}

interface DeadLetterItem extends StoredDeadLetter {
  pk: string;
  sk: string;
  expires_at: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const ID = /^\d{13}-[0-9a-zA-Z-]{1,64}$/;

/**
 * Deliveries that failed for good, kept in the table where the Admin API can list, replay and
 * drop them. Items expire through DynamoDB TTL after the retention period (14 days by default, as
 * long as SQS keeps a message at most).
 */
export class DeadLetterStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionMs: number;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; retentionDays?: number }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionMs = (options.retentionDays ?? 14) * DAY_MS;
  }

  /** Stores a dead letter; the id is the time (ms, 13 digits) and the delivery id. */
  async put(entry: DeadLetter): Promise<StoredDeadLetter> {
    const id = `${String(entry.deadLetteredAt).padStart(13, '0')}-${entry.job.deliveryId}`;
    const item: DeadLetterItem = {
      ...keys.deadLetter(entry.job.tenant, id),
      id,
      ...entry,
      [TABLE_SCHEMA.ttlAttribute]: Math.ceil((entry.deadLetteredAt + this.retentionMs) / 1000),
    };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { id, job: entry.job, reason: entry.reason, deadLetteredAt: entry.deadLetteredAt };
  }

  /** Oldest first; `offset` is the opaque `next` of the previous page. */
  async list(tenant: string, options: { size: number; offset?: string }): Promise<DeadLetterPage> {
    if (options.offset !== undefined && !ID.test(options.offset)) {
      throw new InvalidOffsetError(`'${options.offset}' is not a valid offset`);
    }
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.deadLettersPartition(tenant) },
        Limit: options.size,
        ConsistentRead: true,
        ...(options.offset ? { ExclusiveStartKey: keys.deadLetter(tenant, options.offset) } : {}),
      }),
    );
    const deadLetters = (Items ?? []).map((item) => strip(item as DeadLetterItem));
    const last = deadLetters.at(-1);
    return LastEvaluatedKey && last ? { deadLetters, next: last.id } : { deadLetters };
  }

  async get(tenant: string, id: string): Promise<StoredDeadLetter | undefined> {
    if (!ID.test(id)) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.deadLetter(tenant, id), ConsistentRead: true }),
    );
    return Item ? strip(Item as DeadLetterItem) : undefined;
  }

  /** Removes a dead letter; resolves with what was removed (nothing when two replays race). */
  async delete(tenant: string, id: string): Promise<StoredDeadLetter | undefined> {
    if (!ID.test(id)) return undefined;
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.deadLetter(tenant, id), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes ? strip(Attributes as DeadLetterItem) : undefined;
  }
}

function strip(item: DeadLetterItem): StoredDeadLetter {
  return { id: item.id, job: item.job, reason: item.reason, deadLetteredAt: item.deadLetteredAt };
}

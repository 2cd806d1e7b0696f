import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeadLetter } from '../ports/deliveryQueue.ts';
import { ExpiringStore, type ExpiringStoreOptions } from './expiringStore.ts';
import { keys, TABLE_SCHEMA } from './table.ts';

/** A dead letter as the Admin API shows it. `id` sorts by the time of dead-lettering. */
export interface StoredDeadLetter extends DeadLetter {
  id: string;
}

export interface DeadLetterPage {
  deadLetters: StoredDeadLetter[];
  next?: string;
}

/**
 * The stored item. The entry travels as its JSON text (`entry`), never as a marshalled map:
 * DynamoDB marshalling refuses some of what an event can carry (numbers above 2^53, `Infinity`, a key
 * named `constructor`), and a dead letter that cannot be stored is a delivery retried for nothing.
 * Items written before this change hold `job`/`reason` as attributes; they are still read.
 */
interface DeadLetterItem {
  pk: string;
  sk: string;
  id: string;
  deadLetteredAt: number;
  entry?: string;
  /** The entry's JSON text gzipped, when as text it would not fit in an item (400 KB). */
  entryGz?: Uint8Array;
  job?: DeadLetter['job'];
  reason?: string;
  expires_at: number;
}

/** Above this, the entry is stored gzipped: DynamoDB items hold at most 400 KB, keys and names included. */
const MAX_TEXT_BYTES = 350 * 1024;
/** `<dead-lettered ms>-<delivery id>`: delivery ids name their hook, `_`-separated (shared/deliveryLog/deliveryId.ts). */
const ID = /^\d{13}-[0-9a-zA-Z_-]{1,128}$/;

/** A dead letter's id: the time it was dead-lettered (ms, 13 digits) and the delivery id. */
export const deadLetterId = (deadLetteredAt: number, deliveryId: string) =>
  `${String(deadLetteredAt).padStart(13, '0')}-${deliveryId}`;

/**
 * Deliveries that failed for good, kept in the table where the Admin API can list, replay and
 * drop them. Items expire through DynamoDB TTL after the retention period (14 days by default, as
 * long as SQS keeps a message at most). TTL deletes late, so every read also drops items whose
 * expiry has passed.
 */
export class DeadLetterStore extends ExpiringStore {
  constructor(options: ExpiringStoreOptions) {
    super(options, 14);
  }

  /** Stores a dead letter; its id is {@link deadLetterId}. */
  async put(entry: DeadLetter): Promise<StoredDeadLetter> {
    const id = deadLetterId(entry.deadLetteredAt, entry.job.deliveryId);
    const stored: DeadLetter = { job: entry.job, reason: entry.reason, deadLetteredAt: entry.deadLetteredAt };
    const item: DeadLetterItem = {
      ...keys.deadLetter(entry.job.tenant, id),
      id,
      deadLetteredAt: entry.deadLetteredAt,
      [TABLE_SCHEMA.ttlAttribute]: this.expiresAt(entry.deadLetteredAt),
    };
    // JSON.stringify writes what a receiver got: a non-finite number (`1e400` parses to Infinity) is `null`.
    const text = JSON.stringify(stored);
    if (Buffer.byteLength(text) <= MAX_TEXT_BYTES) item.entry = text;
    else item.entryGz = gzipSync(text);
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { id, ...(JSON.parse(text) as DeadLetter) };
  }

  /** Oldest first, unexpired only; `offset` is the opaque `next` of the previous page. */
  async list(tenant: string, options: { size: number; offset?: string }): Promise<DeadLetterPage> {
    const { items, next } = await this.page<DeadLetterItem>({
      ...options,
      keyOf: (sk) => keys.deadLetter(tenant, sk),
      offsetPattern: ID,
      consistentRead: true,
    });
    return { deadLetters: items.map(decode), ...(next ? { next } : {}) };
  }

  async get(tenant: string, id: string): Promise<StoredDeadLetter | undefined> {
    if (!ID.test(id)) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.deadLetter(tenant, id), ConsistentRead: true }),
    );
    return Item && !this.expired(Item as DeadLetterItem) ? decode(Item as DeadLetterItem) : undefined;
  }

  /** Removes a dead letter; resolves with what was removed (nothing when two replays race, or it had expired). */
  async delete(tenant: string, id: string): Promise<StoredDeadLetter | undefined> {
    if (!ID.test(id)) return undefined;
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.deadLetter(tenant, id), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes && !this.expired(Attributes as DeadLetterItem) ? decode(Attributes as DeadLetterItem) : undefined;
  }
}

function decode(item: DeadLetterItem): StoredDeadLetter {
  const text = item.entryGz ? gunzipSync(item.entryGz).toString('utf8') : item.entry;
  if (typeof text === 'string') {
    const { job, reason, deadLetteredAt } = JSON.parse(text) as DeadLetter;
    return { id: item.id, job, reason, deadLetteredAt };
  }
  // The format before event data was kept as JSON text.
  return {
    id: item.id,
    job: item.job as DeadLetter['job'],
    reason: item.reason ?? '',
    deadLetteredAt: item.deadLetteredAt,
  };
}

import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type EventRecord, type EventRecords, isExpired } from '../events/eventRecord.ts';
import type { Clock } from '../ports/clock.ts';
import { keys, TABLE_SCHEMA } from './table.ts';

export interface EventRecordStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}

/**
 * Event records in the table, one item per event holding its outcomes (docs/storage.md): one Put per
 * dispatch, one Get per `GET /events/{id}`. The record travels as JSON text, as hooks and dead
 * letters do: event data may hold keys and numbers DynamoDB marshalling refuses.
 */
export class EventRecordStore implements EventRecords {
  constructor(private readonly options: EventRecordStoreOptions) {}

  async put(record: EventRecord): Promise<void> {
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...keys.eventRecord(record.event.tenant, record.event.id),
          recordJson: JSON.stringify(record),
          [TABLE_SCHEMA.ttlAttribute]: record.expires_at,
        },
      }),
    );
  }

  async get(tenant: string, eventId: string): Promise<EventRecord | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: keys.eventRecord(tenant, eventId) }),
    );
    if (typeof Item?.recordJson !== 'string') return undefined;
    const record = JSON.parse(Item.recordJson) as EventRecord;
    return isExpired(record, this.options.clock.now()) ? undefined : record;
  }
}

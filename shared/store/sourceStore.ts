import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { addEvent, type EventDefinition, type SourceCatalog } from '../hooks/catalog.ts';
import { emptyRecord } from '../records.ts';
import { queryItems } from './dynamo.ts';
import { bumpHooksVersion } from './hookStore.ts';
import { keys } from './table.ts';

interface UserEventItem {
  pk: string;
  sk: string;
  source: string;
  event: string;
  definition: EventDefinition;
}

/** User-defined sources and events (docs/reference.md §4, beyond Kong). Built-ins are never stored here. */
export class SourceStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  /** Every user-defined event of the tenant, as a catalog. */
  async list(tenant: string): Promise<SourceCatalog> {
    const catalog: SourceCatalog = emptyRecord();
    for await (const raw of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.userEventsPartition(tenant) },
      ConsistentRead: true,
    })) {
      const item = raw as unknown as UserEventItem;
      addEvent(catalog, item.source, item.event, item.definition);
    }
    return catalog;
  }

  async put(tenant: string, source: string, event: string, definition: EventDefinition): Promise<void> {
    const item: UserEventItem = { ...keys.userEvent(tenant, source, event), source, event, definition };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    await bumpHooksVersion(this.client, this.tableName, tenant);
  }

  /** Resolves with whether the event existed. */
  async delete(tenant: string, source: string, event: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.userEvent(tenant, source, event),
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (Attributes) await bumpHooksVersion(this.client, this.tableName, tenant);
    return Attributes !== undefined;
  }
}

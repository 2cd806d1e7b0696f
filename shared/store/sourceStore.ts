import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { addEvent, type EventDefinition, type SourceCatalog } from '../hooks/catalog.ts';
import { emptyRecord } from '../records.ts';
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
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.userEventsPartition(tenant) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = raw as UserEventItem;
        addEvent(catalog, item.source, item.event, item.definition);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
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
